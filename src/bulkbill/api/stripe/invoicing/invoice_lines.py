"""Stripe's bulk line endpoints (add_lines, update_lines, remove_lines) and invoice line listing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.invoicing.invoice_lines as service
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import (
    AMOUNT,
    EXPAND,
    LIST_PARAMS,
    PERCENTAGE,
    Array,
    Bool,
    Enum,
    Int,
    Metadata,
    Obj,
    Str,
    Unsettable,
    parse,
)
from bulkbill.api.stripe.edge.render import check_expand, check_list_expand, list_of_rendered
from bulkbill.api.stripe.invoicing.expansions import expand_line_subscriptions
from bulkbill.api.stripe.invoicing.invoice_render import INVOICE_EXPANDABLE, LINE_EXPANDABLE, render_line
from bulkbill.api.stripe.invoicing.invoices import invoice_response, preview_line
from bulkbill.api.stripe.invoicing.line_params import ADD_LINE, LINE_FIELDS, REMOVE_LINE, UPDATE_LINE, to_changes
from bulkbill.core.errors import FieldError, InvalidInput, NotFound
from bulkbill.core.invoicing.commands import AddLine, RemoveBehavior, RemoveLine, UpdateLine
from bulkbill.core.metadata import Clear
from bulkbill.core.money import MAX_AMOUNT
from bulkbill.services.catalog.tax_rates import TAX_TYPES, TaxRateFields
from bulkbill.services.invoicing.invoice_totals import load_lines
from bulkbill.services.invoicing.invoice_views import load_related
from bulkbill.services.invoicing.manual_taxes import ManualTax, set_lines_manual_taxes, set_manual_taxes
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.upcoming import PreviewRequest, preview_upcoming
from bulkbill.storage.tables import Invoice

router = APIRouter()


def _bulk(line_spec: Obj) -> Obj:
    # The per-call cap is a core rule (LineLimits); the array bound here only stops abuse early.
    return Obj(
        {"lines": Array(line_spec, max_items=1000), "invoice_metadata": Metadata(), "expand": EXPAND},
        required=frozenset({"lines"}),
    )


REMOVE = _bulk(REMOVE_LINE)
_REASONS = (
    "customer_exempt",
    "not_collecting",
    "not_subject_to_tax",
    "not_supported",
    "portion_product_exempt",
    "portion_reduced_rated",
    "portion_standard_rated",
    "product_exempt",
    "product_exempt_holiday",
    "proportionally_rated",
    "reduced_rated",
    "reverse_charge",
    "standard_rated",
    "taxable_basis_reduced",
    "zero_rated",
)
_TAX_RATE_DATA = Obj(
    {
        "display_name": Str(50),
        "inclusive": Bool(),
        "percentage": PERCENTAGE,
        "country": Str(2),
        "state": Str(8),
        "jurisdiction": Str(200),
        "jurisdiction_level": Enum(("city", "country", "county", "district", "multiple", "state")),
        "description": Str(),
        "tax_type": Enum(TAX_TYPES),
    },
    required=frozenset({"display_name", "inclusive", "percentage"}),
)
# Tax amounts computed elsewhere (Stripe: "if you calculate taxes on your own"): the line's taxes, exactly.
TAX_AMOUNTS = Unsettable(
    Array(
        Obj(
            {
                "amount": Int(0, MAX_AMOUNT),
                "taxable_amount": AMOUNT,
                "tax_rate_data": _TAX_RATE_DATA,
                "taxability_reason": Enum(_REASONS),
            },
            required=frozenset({"amount", "taxable_amount", "tax_rate_data"}),
        ),
        max_items=10,
    )
)
ADD = _bulk(Obj({**ADD_LINE.fields, "tax_amounts": TAX_AMOUNTS}))
SINGLE_UPDATE = Obj({**LINE_FIELDS, "tax_amounts": TAX_AMOUNTS, "expand": EXPAND})
UPDATE = _bulk(Obj({**UPDATE_LINE.fields, "tax_amounts": TAX_AMOUNTS}, required=UPDATE_LINE.required))
LIST = Obj(LIST_PARAMS)


def _bulk_call(invoice_id: str, call: StripeRequest, spec: Obj, apply: Any) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(spec, params)
        expand = check_expand(p, INVOICE_EXPANDABLE)
        edited = apply(uow, p["lines"], p.get("invoice_metadata"))
        return invoice_response(uow, edited.invoice, expand)

    return execute(call, run)


@router.post("/v1/invoices/{invoice_id}/add_lines", openapi_extra=body_params(ADD))
def add_lines(invoice_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def apply(uow: UnitOfWork, lines: list[dict[str, Any]], metadata: Any) -> Any:
        taxes = _given_taxes(lines)
        before = {entry.line_id for entry in load_lines(uow, invoice_id)} if taxes else set()
        adds = [AddLine(to_changes(line, ("lines", i)), line.get("invoice_item")) for i, line in enumerate(lines)]
        edited = service.add_lines(uow, invoice_id, adds, invoice_metadata=metadata)
        if taxes:
            # The new lines, in the order they were given (each add is one line, placed after the others).
            added = [e.line_id for e in load_lines(uow, invoice_id) if e.line_id not in before]
            set_lines_manual_taxes(uow, invoice_id, {added[i]: given for i, given in taxes.items()})
        return edited

    return _bulk_call(invoice_id, call, ADD, apply)


@router.post("/v1/invoices/{invoice_id}/update_lines", openapi_extra=body_params(UPDATE))
def update_lines(invoice_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def apply(uow: UnitOfWork, lines: list[dict[str, Any]], metadata: Any) -> Any:
        taxes = {lines[i]["id"]: given for i, given in _given_taxes(lines).items()}
        updates = [UpdateLine(line["id"], to_changes(line, ("lines", i))) for i, line in enumerate(lines)]
        edited = service.update_lines(uow, invoice_id, updates, invoice_metadata=metadata)
        if taxes:
            # After the lines' own changes (a line given tax_rates in this call takes no tax_amounts); a
            # refusal rolls the whole call back.
            set_lines_manual_taxes(uow, invoice_id, taxes)
        return edited

    return _bulk_call(invoice_id, call, UPDATE, apply)


@router.post("/v1/invoices/{invoice_id}/remove_lines", openapi_extra=body_params(REMOVE))
def remove_lines(invoice_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def apply(uow: UnitOfWork, lines: list[dict[str, Any]], metadata: Any) -> Any:
        removes = [RemoveLine(line["id"], RemoveBehavior(line["behavior"])) for line in lines]
        return service.remove_lines(uow, invoice_id, removes, invoice_metadata=metadata)

    return _bulk_call(invoice_id, call, REMOVE, apply)


@router.post("/v1/invoices/{invoice_id}/lines/{line_id}", openapi_extra=body_params(SINGLE_UPDATE))
def update_line(invoice_id: str, line_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(SINGLE_UPDATE, params)
        expand = check_expand(p, LINE_EXPANDABLE)
        tax_amounts = p.pop("tax_amounts", None)
        try:
            entry = service.update_line(uow, invoice_id, UpdateLine(line_id, to_changes(p)))
        except InvalidInput as exc:
            if exc.first.path == ("lines", 0, "id") and exc.first.code == "resource_missing":
                # The line id is in the URL here: a missing one is a 404, like any path id.
                raise NotFound("invoice line item", line_id) from exc
            # The single-line form names fields without the bulk call's lines[0] prefix.
            raise InvalidInput([FieldError(_unprefixed(e.path), e.code, e.message) for e in exc.errors]) from exc
        if tax_amounts is not None:
            entry = set_manual_taxes(uow, invoice_id, line_id, _manual_taxes(tax_amounts))
        related = load_related(uow, [], [entry.item], with_prices="pricing.price_details.price" in expand)
        body = render_line(entry, related, expand)
        if "subscription" in expand:
            expand_line_subscriptions(uow, [body])
        return body

    return execute(call, run)


def _given_taxes(lines: list[dict[str, Any]]) -> dict[int, tuple[tuple[str | int, ...], list[ManualTax] | None]]:
    """Each line's `tax_amounts` (taken out of its other changes), by its index, with the path it came from."""
    return {
        i: (("lines", i, "tax_amounts"), _manual_taxes(line.pop("tax_amounts")))
        for i, line in enumerate(lines)
        if line.get("tax_amounts") is not None
    }


def _manual_taxes(value: list[dict[str, Any]] | Clear) -> list[ManualTax] | None:
    if isinstance(value, Clear):
        return None
    return [
        ManualTax(
            amount=t["amount"],
            taxable_amount=t["taxable_amount"],
            rate=TaxRateFields(
                display_name=t["tax_rate_data"]["display_name"],
                percentage=t["tax_rate_data"]["percentage"],
                inclusive=t["tax_rate_data"]["inclusive"],
                **{
                    k: t["tax_rate_data"].get(k)
                    for k in ("country", "state", "jurisdiction", "description", "tax_type")
                },
            ),
            taxability_reason=t.get("taxability_reason"),
        )
        for t in value
    ]


def _unprefixed(path: tuple[str | int, ...]) -> tuple[str | int, ...]:
    return path[2:] if path[:2] == ("lines", 0) and len(path) > 2 else path


@router.get("/v1/invoices/{invoice_id}/lines", openapi_extra=query_params(LIST))
def list_lines(invoice_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        expand = check_list_expand(p, LINE_EXPANDABLE)
        if invoice_id.startswith(PREVIEW_PREFIX):
            return _preview_lines(uow, invoice_id, p, expand)
        page = service.list_lines(
            uow,
            invoice_id,
            limit=p.get("limit") or 10,
            starting_after=p.get("starting_after"),
            ending_before=p.get("ending_before"),
        )
        related = load_related(
            uow, [], [e.item for e in page.lines], with_prices="pricing.price_details.price" in expand
        )
        data = [render_line(e, related, expand) for e in page.lines]
        if "subscription" in expand:
            expand_line_subscriptions(uow, data)
        return {
            "object": "list",
            "data": data,
            "has_more": page.has_more,
            "url": f"/v1/invoices/{invoice_id}/lines",
        }

    return execute(call, run)


PREVIEW_PREFIX = "upcoming_"


def _preview_lines(uow: UnitOfWork, preview_id: str, p: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    """The lines of a customer's or subscription's upcoming invoice, made again (nothing written) and paged
    by their temporary ids (`il_tmp_NNNN`, their place on the preview)."""
    owner = preview_id.removeprefix(PREVIEW_PREFIX)
    request = PreviewRequest(subscription=owner) if owner.startswith("sub_") else PreviewRequest(customer=owner)

    def lines(invoice: Invoice) -> list[dict[str, Any]]:
        entries = load_lines(uow, invoice.id)
        related = load_related(uow, [], [e.item for e in entries], with_prices="pricing.price_details.price" in expand)
        data = [render_line(e, related, expand) for e in entries]
        if "subscription" in expand:
            expand_line_subscriptions(uow, data)
        for k, line in enumerate(data):
            preview_line(line, preview_id, k)
        return data

    try:
        data = preview_upcoming(uow, request, lines)
    except (NotFound, InvalidInput) as exc:
        raise NotFound("invoice", preview_id) from exc
    return list_of_rendered(f"/v1/invoices/{preview_id}/lines", data, p)
