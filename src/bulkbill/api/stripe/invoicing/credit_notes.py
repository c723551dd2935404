"""Stripe /v1/credit_notes: credit notes on finalized invoices (the core's credit memos, Zuora's too)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.documents.credit_notes as service
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.expansion import allowed, listed
from bulkbill.api.stripe.edge.filters import CREATED_LIST_PARAMS
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import (
    AMOUNT_DECIMAL,
    EXPAND,
    LIST_PARAMS,
    MAX_INT32,
    Array,
    Enum,
    Int,
    Metadata,
    Obj,
    Str,
    Time,
    Unsettable,
    Zero,
    parse,
)
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object, list_of_rendered
from bulkbill.api.stripe.invoicing.credit_note_render import (
    line_tax_rates,
    render_credit_note_line,
    render_credit_notes,
)
from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput
from bulkbill.core.invoicing.credit_notes import CreditLineInput, GivenTax
from bulkbill.core.metadata import Clear
from bulkbill.core.money import MAX_AMOUNT
from bulkbill.services.invoicing.invoice_totals import load_lines
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Invoice

router = APIRouter()
T = TypeVar("T")

REASONS = ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")
_POSITIVE = Int(0, MAX_AMOUNT)
_LINE = Obj(
    {
        "type": Enum(("invoice_line_item", "custom_line_item")),
        "invoice_line_item": Str(),
        "amount": _POSITIVE,
        "quantity": Int(0, MAX_INT32),
        "unit_amount": _POSITIVE,
        "unit_amount_decimal": AMOUNT_DECIMAL,
        "description": Str(),
        "metadata": Metadata(),
        "tax_rates": Unsettable(Array(Str(), max_items=10)),
        "tax_amounts": Unsettable(
            Array(
                Obj(
                    {"amount": _POSITIVE, "tax_rate": Str(), "taxable_amount": _POSITIVE},
                    required=frozenset({"amount", "tax_rate", "taxable_amount"}),
                ),
                max_items=10,
            )
        ),
    },
    required=frozenset({"type"}),
)
_FIELDS = {
    "invoice": Str(),
    "lines": Array(_LINE, max_items=100),
    "amount": _POSITIVE,
    "credit_amount": _POSITIVE,
    "out_of_band_amount": _POSITIVE,
    "memo": Str(),
    "reason": Enum(REASONS),
    "metadata": Metadata(),
    "effective_at": Time(),
    "expand": EXPAND,
    # bulkbill sends no e-mail: either choice is accepted and nothing is sent.
    "email_type": Enum(("credit_note", "none")),
    "refund_amount": Zero(),
    "shipping_cost": Obj({"shipping_rate": Str()}),
}
CREATE = Obj(_FIELDS, required=frozenset({"invoice"}))
PREVIEW = Obj(_FIELDS, required=frozenset({"invoice"}))
UPDATE = Obj({"memo": Str(), "metadata": Metadata(), "expand": EXPAND})
RETRIEVE = Obj({"expand": EXPAND})
VOID = Obj({"expand": EXPAND})
LIST = Obj({**CREATED_LIST_PARAMS, "invoice": Str(), "customer": Str()})
LINES = Obj(LIST_PARAMS)
PREVIEW_LINES = Obj({**_FIELDS, **LIST_PARAMS}, required=frozenset({"invoice"}))
PREVIEW_LINES_URL = "/v1/credit_notes/preview/lines"


def _given(value: Any, convert: Callable[[list[Any]], T]) -> T | None:
    """A line's tax_rates or tax_amounts: None when not given; "" (Stripe's empty value) gives none."""
    if value is None:
        return None
    return convert([] if isinstance(value, Clear) else value)


def _fields(p: dict[str, Any]) -> service.CreditNoteFields:
    if p.get("shipping_cost") is not None:
        # Stripe credits an invoice's shipping when this names the invoice's shipping rate; bulkbill's
        # invoices carry shipping from rate data, never a shipping-rate object, so no rate can match.
        raise InvalidInput(
            [
                FieldError(
                    ("shipping_cost", "shipping_rate"),
                    ErrorCode.PARAMETER_UNSUPPORTED,
                    "bulkbill serves no shipping rate objects, so the invoice has no shipping rate to credit: "
                    "credit its shipping with a line of type custom_line_item.",
                )
            ]
        )
    lines = p.get("lines")
    return service.CreditNoteFields(
        invoice=p["invoice"],
        lines=tuple(
            CreditLineInput(
                type=line["type"],
                invoice_line_item=line.get("invoice_line_item"),
                amount=line.get("amount"),
                quantity=line.get("quantity"),
                unit_amount=line["unit_amount_decimal"]
                if line.get("unit_amount_decimal") is not None
                else (None if line.get("unit_amount") is None else Decimal(line["unit_amount"])),
                description=line.get("description"),
                tax_rates=_given(line.get("tax_rates"), tuple),
                tax_amounts=_given(
                    line.get("tax_amounts"),
                    lambda given: tuple(GivenTax(t["tax_rate"], t["amount"], t["taxable_amount"]) for t in given),
                ),
            )
            for line in lines
        )
        if lines
        else None,
        amount=p.get("amount"),
        credit_amount=p.get("credit_amount"),
        out_of_band_amount=p.get("out_of_band_amount"),
        memo=p.get("memo"),
        reason=p.get("reason"),
        metadata=p.get("metadata"),
        effective_at=p.get("effective_at"),
    )


def _render(uow: UnitOfWork, note: Invoice) -> dict[str, Any]:
    return render_credit_notes(uow, [note])[0]


@router.post("/v1/credit_notes", openapi_extra=body_params(CREATE))
def create_credit_note(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        check_expand(p, allowed("credit_note"))
        return _render(uow, service.issue_credit_note(uow, _fields(p)))

    return execute(call, run)


def _rendered_lines(uow: UnitOfWork, note: Invoice) -> list[dict[str, Any]]:
    """All of a credit note's lines, rendered in order."""
    entries = load_lines(uow, note.id)
    rates = line_tax_rates(uow, entries)
    return [render_credit_note_line(e, rates) for e in entries]


def _preview_line_ids(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A preview's lines have temporary ids, their place on the preview, so a page's cursor names the same
    line when the preview is made again (nothing of a preview is stored)."""
    for k, line in enumerate(lines):
        line["id"] = f"cnli_tmp_{k:04d}"
    return lines


@router.get("/v1/credit_notes/preview", openapi_extra=query_params(PREVIEW))
def preview_credit_note(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(PREVIEW, params)
        check_expand(p, allowed("credit_note"))

        def render(note: Invoice) -> dict[str, Any]:
            body = _render(uow, note)
            _preview_line_ids(body["lines"]["data"])
            body["lines"]["url"] = PREVIEW_LINES_URL
            return body

        return service.preview_credit_note(uow, _fields(p), render)

    return execute(call, run)


@router.get(PREVIEW_LINES_URL, openapi_extra=query_params(PREVIEW_LINES))
def preview_credit_note_lines(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(PREVIEW_LINES, params)
        check_expand(p, ())
        lines = service.preview_credit_note(uow, _fields(p), lambda note: _preview_line_ids(_rendered_lines(uow, note)))
        return list_of_rendered(PREVIEW_LINES_URL, lines, p)

    return execute(call, run)


@router.get("/v1/credit_notes", openapi_extra=query_params(LIST))
def list_credit_notes(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        check_expand(p, listed("credit_note"))
        page = service.list_credit_notes(uow, cursor_from(p), invoice=p.get("invoice"), customer=p.get("customer"))
        rendered = dict(zip((n.id for n in page.data), render_credit_notes(uow, page.data), strict=True))
        return list_object("/v1/credit_notes", page, lambda note: rendered[note.id])

    return execute(call, run)


@router.get("/v1/credit_notes/{credit_note_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_credit_note(credit_note_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), allowed("credit_note"))
        return _render(uow, service.get_credit_note(uow, credit_note_id))

    return execute(call, run)


@router.post("/v1/credit_notes/{credit_note_id}", openapi_extra=body_params(UPDATE))
def update_credit_note(credit_note_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        check_expand(p, allowed("credit_note"))
        note = service.update_credit_note(uow, credit_note_id, memo=p.get("memo"), metadata=p.get("metadata"))
        return _render(uow, note)

    return execute(call, run)


@router.post("/v1/credit_notes/{credit_note_id}/void", openapi_extra=body_params(VOID))
def void_credit_note(credit_note_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(VOID, params), allowed("credit_note"))
        return _render(uow, service.void_credit_note(uow, credit_note_id))

    return execute(call, run)


@router.get("/v1/credit_notes/{credit_note_id}/lines", openapi_extra=query_params(LINES))
def list_credit_note_lines(credit_note_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LINES, params)
        check_expand(p, ())
        note = service.get_credit_note(uow, credit_note_id)
        return list_of_rendered(f"/v1/credit_notes/{credit_note_id}/lines", _rendered_lines(uow, note), p)

    return execute(call, run)
