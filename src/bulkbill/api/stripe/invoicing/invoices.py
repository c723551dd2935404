"""Stripe /v1/invoices: create, retrieve, update, delete, list, finalize, pay, void, mark_uncollectible."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.invoicing.invoices as service
from bulkbill.api.stripe.catalog.price_params import CurrencyMap
from bulkbill.api.stripe.customers.customers import ADDRESS, CUSTOM_FIELDS, NO_TEMPLATES
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.filters import CREATED_LIST_PARAMS, RANGE, bounds
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import (
    AMOUNT,
    AUTOMATIC_TAX,
    EXPAND,
    Array,
    Bool,
    Currency,
    Enum,
    Int,
    Metadata,
    Obj,
    Refused,
    Str,
    Time,
    Unsettable,
    parse,
)
from bulkbill.api.stripe.edge.render import check_expand, check_list_expand, cursor_from
from bulkbill.api.stripe.invoicing.expansions import expand_line_subscriptions
from bulkbill.api.stripe.invoicing.invoice_render import INVOICE_EXPANDABLE, render_invoice
from bulkbill.api.stripe.invoicing.line_params import DISCOUNTS, TAX_RATES
from bulkbill.api.stripe.subscriptions.test_clocks import expanded_clock
from bulkbill.core.documents.display import AmountTaxDisplay, PageSize, RenderingChange
from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput
from bulkbill.core.invoicing.commands import DiscountRef
from bulkbill.core.metadata import Clear
from bulkbill.services.invoicing.invoice_totals import LoadedLine
from bulkbill.services.invoicing.invoice_views import invoice_view, invoice_views
from bulkbill.services.invoicing.revisions import revise_invoice
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Invoice

router = APIRouter()
_REVISION_ONLY = (
    "from_invoice creates a revision that copies the invoice it revises (with metadata); "
    "update the new draft for any other change."
)
# Stripe shows invoices only: Zuora credit memos (document_type "credit_memo") do not exist here.
INVOICE = "invoice"

# Stripe's shipping_rate_data: bulkbill serves no shipping-rate objects, so a rate is given by its data only.
_DELIVERY_BOUND = Obj(
    {"unit": Enum(("business_day", "day", "hour", "month", "week")), "value": Int(1, 1000)},
    required=frozenset({"unit", "value"}),
)
_TAX_BEHAVIOR = Enum(("exclusive", "inclusive", "unspecified"))
_SHIPPING_RATE_DATA = Obj(
    {
        "display_name": Str(100),
        "type": Enum(("fixed_amount",)),
        "fixed_amount": Obj(
            {
                "amount": Int(0, AMOUNT.maximum),
                "currency": Currency(),
                "currency_options": CurrencyMap(
                    Obj({"amount": Int(0, AMOUNT.maximum), "tax_behavior": _TAX_BEHAVIOR}, frozenset({"amount"}))
                ),
            },
            required=frozenset({"amount", "currency"}),
        ),
        "tax_behavior": _TAX_BEHAVIOR,
        "tax_code": Str(),
        "metadata": Metadata(),
        "delivery_estimate": Obj({"maximum": _DELIVERY_BOUND, "minimum": _DELIVERY_BOUND}),
    },
    required=frozenset({"display_name"}),
)
SHIPPING_COST = Unsettable(Obj({"shipping_rate": Str(), "shipping_rate_data": _SHIPPING_RATE_DATA}))
SHIPPING_DETAILS = Unsettable(
    Obj({"address": ADDRESS, "name": Str(), "phone": Unsettable(Str())}, required=frozenset({"address", "name"}))
)
# Stripe's rendering: the tax display and the page size act on the PDF and the hosted page; templates
# are refused (customers.NO_TEMPLATES says why).
RENDERING = Obj(
    {
        "amount_tax_display": Unsettable(Enum(tuple(v.value for v in AmountTaxDisplay))),
        "pdf": Obj({"page_size": Enum(tuple(v.value for v in PageSize))}),
        "template": Refused(NO_TEMPLATES),
        "template_version": Unsettable(Refused(NO_TEMPLATES, {"type": "integer"})),
    }
)

_EDIT = {
    "auto_advance": Bool(),
    "collection_method": Enum(("charge_automatically", "send_invoice")),
    "days_until_due": Int(0, 3650),
    "due_date": Time(),
    "default_tax_rates": TAX_RATES,
    "discounts": DISCOUNTS,
    "description": Unsettable(Str(1500)),
    "footer": Unsettable(Str(5000)),
    "custom_fields": CUSTOM_FIELDS,
    "rendering": RENDERING,
    "metadata": Metadata(),
    "automatic_tax": AUTOMATIC_TAX,
    "expand": EXPAND,
    "number": Unsettable(Str(26)),
    "effective_at": Unsettable(Time()),
    "statement_descriptor": Unsettable(Str(22)),
    "shipping_cost": SHIPPING_COST,
    "shipping_details": SHIPPING_DETAILS,
    "account_tax_ids": Unsettable(Array(Str(), max_items=25)),
    "automatically_finalizes_at": Time(),
}
CREATE = Obj(
    {
        **_EDIT,
        "customer": Str(),
        "currency": Currency(),
        "pending_invoice_items_behavior": Enum(("exclude", "include")),
        "subscription": Str(),
        "from_invoice": Obj(
            {"action": Enum(("revision",)), "invoice": Str()}, required=frozenset({"action", "invoice"})
        ),
    },
)
UPDATE = Obj(_EDIT)
EXPAND_ONLY = Obj({"expand": EXPAND})
PAY = Obj({"paid_out_of_band": Bool(), "expand": EXPAND})
FINALIZE = Obj({"auto_advance": Bool(), "expand": EXPAND})
LIST = Obj(
    {
        **CREATED_LIST_PARAMS,
        "customer": Str(),
        "subscription": Str(),
        "due_date": RANGE,
        "status": Enum(("draft", "open", "paid", "uncollectible", "void")),
        "collection_method": Enum(("charge_automatically", "send_invoice")),
    }
)


def _fields(p: dict[str, Any]) -> service.InvoiceFields:
    discounts = p.get("discounts")
    if isinstance(discounts, list):
        discounts = tuple(DiscountRef(d.get("coupon"), d.get("discount"), d.get("promotion_code")) for d in discounts)
    rates = p.get("default_tax_rates")
    if isinstance(rates, list):
        rates = tuple(rates)
    tax_ids = p.get("account_tax_ids")
    return service.InvoiceFields(
        customer=p.get("customer"),
        currency=p.get("currency"),
        collection_method=p.get("collection_method"),
        days_until_due=p.get("days_until_due"),
        due_date=p.get("due_date"),
        auto_advance=p.get("auto_advance"),
        description=p.get("description"),
        footer=p.get("footer"),
        custom_fields=p.get("custom_fields"),
        rendering=_rendering(p.get("rendering")),
        metadata=p.get("metadata"),
        default_tax_rates=rates if rates is None or isinstance(rates, tuple | Clear) else None,
        discounts=discounts if discounts is None or isinstance(discounts, tuple | Clear) else None,
        pending_invoice_items_behavior=p.get("pending_invoice_items_behavior"),
        number=p.get("number"),
        effective_at=p.get("effective_at"),
        statement_descriptor=p.get("statement_descriptor"),
        shipping_cost=p.get("shipping_cost"),
        shipping_details=p.get("shipping_details"),
        account_tax_ids=tuple(tax_ids) if isinstance(tax_ids, list) else tax_ids,
        automatically_finalizes_at=p.get("automatically_finalizes_at"),
        subscription=p.get("subscription"),
        given=frozenset(k for k in p if k not in ("expand", "automatic_tax")),
    )


def _rendering(p: dict[str, Any] | None) -> RenderingChange | None:
    if p is None:
        return None
    display, page_size = p.get("amount_tax_display"), (p.get("pdf") or {}).get("page_size")
    return RenderingChange(
        amount_tax_display=display if isinstance(display, Clear) or display is None else AmountTaxDisplay(display),
        page_size=PageSize(page_size) if page_size is not None else None,
    )


def invoice_response(
    uow: UnitOfWork, invoice: Invoice, expand: set[str], lines: list[LoadedLine] | None = None
) -> dict[str, Any]:
    """The invoice as Stripe shows it, with the requested expansions (reusing lines already loaded)."""
    view = invoice_view(uow, invoice, lines=lines, with_prices="lines.data.pricing.price_details.price" in expand)
    return _expanded(uow, render_invoice(view, expand), expand)


def _expanded(uow: UnitOfWork, body: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    if "lines.data.subscription" in expand:
        expand_line_subscriptions(uow, body["lines"]["data"])
    if "test_clock" in expand and body["test_clock"]:
        body["test_clock"] = expanded_clock(uow, body["test_clock"])
    return body


@router.post("/v1/invoices", openapi_extra=body_params(CREATE))
def create_invoice(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        expand = check_expand(p, INVOICE_EXPANDABLE)
        source = p.get("from_invoice")
        if source is not None:
            others = sorted(set(p) - {"from_invoice", "expand", "metadata"})
            if others:  # a revision copies the invoice it revises; edit it afterwards
                raise InvalidInput([FieldError((others[0],), ErrorCode.PARAMETERS_EXCLUSIVE, _REVISION_ONLY)])
            revision = revise_invoice(uow, source["invoice"], metadata=p.get("metadata"))
            return invoice_response(uow, revision, expand)
        if p.get("customer") is None:
            raise InvalidInput(
                [FieldError(("customer",), ErrorCode.PARAMETER_MISSING, "Missing required param: customer.")]
            )
        return invoice_response(uow, service.create_invoice(uow, _fields(p)), expand)

    return execute(call, run)


def preview_body(uow: UnitOfWork, invoice: Invoice, expand: set[str]) -> dict[str, Any]:
    """The upcoming invoice as Stripe shows a preview: `upcoming_…` id, `il_tmp_…` lines, no number."""
    body = invoice_response(uow, invoice, expand)
    preview_id = f"upcoming_{invoice.subscription_id or invoice.customer_id}"
    body["id"] = preview_id
    body["lines"]["url"] = f"/v1/invoices/{preview_id}/lines"
    for k, line in enumerate(body["lines"]["data"]):
        preview_line(line, preview_id, k)
    return body


def preview_line(line: dict[str, Any], preview_id: str, position: int) -> None:
    """A preview's line: it belongs to the preview and has a temporary id (its place on the preview)."""
    line["id"], line["invoice"] = f"il_tmp_{position:04d}", preview_id


@router.get("/v1/invoices/{invoice_id}", openapi_extra=query_params(EXPAND_ONLY))
def retrieve_invoice(invoice_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        expand = check_expand(parse(EXPAND_ONLY, params), INVOICE_EXPANDABLE)
        return invoice_response(uow, service.get_invoice(uow, invoice_id, document_type=INVOICE), expand)

    return execute(call, run)


@router.post("/v1/invoices/{invoice_id}", openapi_extra=body_params(UPDATE))
def update_invoice(invoice_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        expand = check_expand(p, INVOICE_EXPANDABLE)
        service.get_invoice(uow, invoice_id, document_type=INVOICE)
        return invoice_response(uow, service.update_invoice(uow, invoice_id, _fields(p)), expand)

    return execute(call, run)


@router.delete("/v1/invoices/{invoice_id}")
def delete_invoice(invoice_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        parse(Obj({}), params)
        service.get_invoice(uow, invoice_id, document_type=INVOICE)
        service.delete_invoice(uow, invoice_id)
        return {"id": invoice_id, "object": "invoice", "deleted": True}

    return execute(call, run)


@router.get("/v1/invoices", openapi_extra=query_params(LIST))
def list_invoices(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        expand = check_list_expand(p, INVOICE_EXPANDABLE)
        page = service.list_invoices(
            uow,
            cursor_from(p),
            customer=p.get("customer"),
            status=p.get("status"),
            collection_method=p.get("collection_method"),
            subscription=p.get("subscription"),
            due_date=bounds(p, "due_date"),
            document_type=INVOICE,
        )
        views = invoice_views(uow, page.data, with_prices="lines.data.pricing.price_details.price" in expand)
        return {
            "object": "list",
            "data": [_expanded(uow, render_invoice(v, expand), expand) for v in views],
            "has_more": page.has_more,
            "url": "/v1/invoices",
        }

    return execute(call, run)


def _action(invoice_id: str, call: StripeRequest, spec: Obj, act: Any) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(spec, params)
        expand = check_expand(p, INVOICE_EXPANDABLE)
        service.get_invoice(uow, invoice_id, document_type=INVOICE)
        return invoice_response(uow, act(uow, p), expand)

    return execute(call, run)


@router.post("/v1/invoices/{invoice_id}/finalize", openapi_extra=body_params(FINALIZE))
def finalize_invoice(invoice_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def act(uow: UnitOfWork, p: dict[str, Any]) -> Invoice:
        if p.get("auto_advance") is not None:
            service.get_invoice(uow, invoice_id).auto_advance = p["auto_advance"]
        return service.finalize_invoice(uow, invoice_id)

    return _action(invoice_id, call, FINALIZE, act)


@router.post("/v1/invoices/{invoice_id}/pay", openapi_extra=body_params(PAY))
def pay_invoice(invoice_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    return _action(
        invoice_id,
        call,
        PAY,
        lambda uow, p: service.pay_invoice(uow, invoice_id, paid_out_of_band=bool(p.get("paid_out_of_band"))),
    )


@router.post("/v1/invoices/{invoice_id}/send", openapi_extra=body_params(EXPAND_ONLY))
def send_invoice(invoice_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    return _action(invoice_id, call, EXPAND_ONLY, lambda uow, p: service.send_invoice(uow, invoice_id))


@router.post("/v1/invoices/{invoice_id}/void", openapi_extra=body_params(EXPAND_ONLY))
def void_invoice(invoice_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    return _action(invoice_id, call, EXPAND_ONLY, lambda uow, p: service.void_invoice(uow, invoice_id))


@router.post("/v1/invoices/{invoice_id}/mark_uncollectible", openapi_extra=body_params(EXPAND_ONLY))
def mark_uncollectible(invoice_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    return _action(invoice_id, call, EXPAND_ONLY, lambda uow, p: service.mark_uncollectible(uow, invoice_id))
