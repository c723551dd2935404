"""Stripe /v1/invoiceitems: pending charges and the items behind invoice lines."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.invoicing.invoice_items as service
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.filters import CREATED_LIST_PARAMS
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import AMOUNT_DECIMAL, EXPAND, Bool, Enum, Obj, Str, Unsettable, parse
from bulkbill.api.stripe.edge.render import check_expand, check_list_expand, cursor_from
from bulkbill.api.stripe.invoicing.expansions import expand_item_invoice
from bulkbill.api.stripe.invoicing.invoice_render import ITEM_EXPANDABLE, render_item
from bulkbill.api.stripe.invoicing.line_params import LINE_FIELDS, to_changes
from bulkbill.api.stripe.subscriptions.test_clocks import expanded_clock
from bulkbill.core.errors import NotFound
from bulkbill.core.invoicing.commands import PriceData
from bulkbill.services.invoicing.invoice_views import load_related
from bulkbill.services.invoicing.invoices import get_invoice
from bulkbill.services.platform.pagination import Page
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import InvoiceItem

router = APIRouter()

_ITEM_FIELDS = {k: v for k, v in LINE_FIELDS.items() if k != "price"}
# Stripe Tax's inputs: stored (item extras), used by no tax computation here (taxes come from tax rates).
_TAX_FIELDS = {"tax_behavior": Enum(("exclusive", "inclusive", "unspecified")), "tax_code": Str()}
# What an item takes on create (also a preview's invoice_items[]).
ITEM_FIELDS = {**_ITEM_FIELDS, **_TAX_FIELDS, "unit_amount_decimal": AMOUNT_DECIMAL}
CREATE = Obj(
    {
        **ITEM_FIELDS,
        "customer": Str(),
        "invoice": Str(),
        "subscription": Str(),
        "expand": EXPAND,
    },
    required=frozenset({"customer"}),
)
UPDATE = Obj(
    {
        **{k: v for k, v in _ITEM_FIELDS.items() if k != "currency"},
        **_TAX_FIELDS,
        # Stripe takes "" only (no rules to set): accepted, nothing to unset.
        "invoicing_rules": Unsettable(Obj({})),
        "unit_amount_decimal": AMOUNT_DECIMAL,
        "expand": EXPAND,
    }
)
_NOT_LINE_FIELDS = (
    "customer",
    "invoice",
    "unit_amount_decimal",
    "subscription",
    "invoicing_rules",
    "invoiceitem",
    *_TAX_FIELDS,
)
EXPAND_ONLY = Obj({"expand": EXPAND})
LIST = Obj({**CREATED_LIST_PARAMS, "customer": Str(), "invoice": Str(), "pending": Bool()})


def item_changes(p: dict[str, Any]) -> Any:
    """The line changes an item's parameters make (its own unit_amount_decimal prices it as price_data does)."""
    changes = to_changes({k: v for k, v in p.items() if k not in _NOT_LINE_FIELDS})
    if p.get("unit_amount_decimal") is not None:
        # An item's own unit_amount_decimal prices it like price_data without a product.
        from dataclasses import replace

        data = PriceData(
            currency=p.get("currency"),
            unit_amount_decimal=p["unit_amount_decimal"],
            given=frozenset({"unit_amount_decimal"}),
            product_required=False,
        )
        if changes.price_data is None and changes.price is None:
            changes = replace(changes, price_data=data, given=changes.given | {"price_data"})
        else:
            changes = replace(changes, given=changes.given | {"unit_amount_decimal"})
    return changes


def tax_fields(p: dict[str, Any]) -> dict[str, str]:
    return {name: p[name] for name in _TAX_FIELDS if p.get(name) is not None}


def _is_credit_memo(uow: UnitOfWork, invoice_id: str | None) -> bool:
    """A Zuora credit memo is no Stripe invoice: naming one is naming a missing invoice."""
    if invoice_id is None:
        return False
    try:
        get_invoice(uow, invoice_id, document_type="credit_memo")
    except NotFound:
        return False
    return True


def _render(uow: UnitOfWork, item: InvoiceItem, expand: set[str]) -> dict[str, Any]:
    return _rendered(uow, [item], expand)[0]


def _rendered(uow: UnitOfWork, items: list[InvoiceItem], expand: set[str]) -> list[dict[str, Any]]:
    related = load_related(
        uow, [], items, with_prices="pricing.price_details.price" in expand, with_item_discounts=True
    )
    bodies = [render_item(item, related, expand) for item in items]
    if "invoice" in expand:
        for body in bodies:
            expand_item_invoice(uow, body)
    if "test_clock" in expand:
        for body in bodies:
            if body["test_clock"]:
                body["test_clock"] = expanded_clock(uow, body["test_clock"])
    return bodies


@router.post("/v1/invoiceitems", openapi_extra=body_params(CREATE))
def create_item(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        expand = check_expand(p, ITEM_EXPANDABLE)
        if _is_credit_memo(uow, p.get("invoice")):
            raise NotFound("invoice", p["invoice"], path=("invoice",))
        item = service.create_item(
            uow,
            service.NewItem(p["customer"], item_changes(p), p.get("invoice"), p.get("subscription"), tax_fields(p)),
        )
        return _render(uow, item, expand)

    return execute(call, run)


@router.get("/v1/invoiceitems/{item_id}", openapi_extra=query_params(EXPAND_ONLY))
def retrieve_item(item_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        expand = check_expand(parse(EXPAND_ONLY, params), ITEM_EXPANDABLE)
        return _render(uow, service.get_item(uow, item_id), expand)

    return execute(call, run)


@router.post("/v1/invoiceitems/{item_id}", openapi_extra=body_params(UPDATE))
def update_item(item_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        expand = check_expand(p, ITEM_EXPANDABLE)
        return _render(uow, service.update_item(uow, item_id, item_changes(p), tax_fields(p)), expand)

    return execute(call, run)


@router.delete("/v1/invoiceitems/{item_id}")
def delete_item(item_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        parse(Obj({}), params)
        service.delete_item(uow, item_id)
        return {"id": item_id, "object": "invoiceitem", "deleted": True}

    return execute(call, run)


@router.get("/v1/invoiceitems", openapi_extra=query_params(LIST))
def list_items(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        expand = check_list_expand(p, ITEM_EXPANDABLE)
        page = service.list_items(
            uow, cursor_from(p), customer=p.get("customer"), invoice=p.get("invoice"), pending=p.get("pending")
        )
        if _is_credit_memo(uow, p.get("invoice")):
            page = Page([], False)
        return {
            "object": "list",
            "data": _rendered(uow, page.data, expand),
            "has_more": page.has_more,
            "url": "/v1/invoiceitems",
        }

    return execute(call, run)
