"""How a credit note looks: the one rendering of the core's credit memos, for /v1/credit_notes and for events.

A credit memo made in either dialect (a Stripe credit note, a Zuora return's memo) is shown by these
functions, so `GET /v1/credit_notes/{id}` and an event's `data.object` are the same JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bulkbill.api.stripe.catalog.tax_rates import render_tax_rate
from bulkbill.api.stripe.edge.numbers import decimal_string
from bulkbill.api.stripe.invoicing.invoice_render import tax_entry
from bulkbill.core.documents.display import unit_amount_shown
from bulkbill.core.invoicing.credit_notes import credit_note_status
from bulkbill.core.money import truncate
from bulkbill.services.customers.balance_transactions import credit_note_transactions
from bulkbill.services.documents.credit_notes import credited_discounts_of, gross_amount, info_of
from bulkbill.services.invoicing.invoice_totals import LoadedLine, load_lines_of
from bulkbill.services.invoicing.invoice_views import load_related
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Invoice, TaxRate

# Lines a credit note embeds (`lines.data`), as Stripe: the rest are paged by GET /v1/credit_notes/{id}/lines.
EMBEDDED_LINES = 10


def tax_amount(t: dict[str, Any]) -> dict[str, Any]:
    """A stored tax amount as a credit note shows it in `tax_amounts` (credit_note_tax_amount)."""
    return {
        "amount": t["amount"],
        "inclusive": t["inclusive"],
        "tax_rate": t["tax_rate"],
        "taxability_reason": t.get("taxability_reason", "standard_rated"),
        "taxable_amount": t["taxable_amount"],
    }


def line_tax_rates(uow: UnitOfWork, entries: Sequence[LoadedLine]) -> dict[str, TaxRate]:
    """The tax rates credit note lines name, in one query."""
    return load_related(uow, [], [e.item for e in entries], with_customers=False).tax_rates


def render_credit_note_line(entry: LoadedLine, rates: Mapping[str, TaxRate]) -> dict[str, Any]:
    """One credit note line: `amount` as the invoice line's (inclusive tax inside, exclusive tax not), its taxes."""
    item = entry.item
    extras = item.extras or {}
    unit = item.unit_amount_decimal
    whole = unit == unit.to_integral_value()
    gross = gross_amount(item)  # before the discounts it credits back, as Stripe's line `amount`
    discounts = _discount_amounts(credited_discounts_of(item))
    excluding_tax = gross - sum(int(t["amount"]) for t in entry.taxes if t["inclusive"])
    body: dict[str, Any] = {
        "id": entry.line_id,
        "object": "credit_note_line_item",
        "amount": gross,
        "amount_excluding_tax": excluding_tax,
        "description": item.description,
        "discount_amount": sum(d["amount"] for d in discounts),
        "discount_amounts": discounts,
        "invoice_line_item": extras.get("creditFromLineId"),
        "livemode": False,
        "metadata": dict(item.metadata_),
        "pretax_credit_amounts": [],
        "quantity": truncate(item.quantity_decimal),
        "tax_amounts": [tax_amount(t) for t in entry.taxes],
        "tax_rates": [render_tax_rate(rates[r]) for r in item.tax_rates or () if r in rates],
        "taxes": [tax_entry(t) for t in entry.taxes],
        "type": extras.get("creditNoteLineType", "custom_line_item"),
        "unit_amount": int(unit) if whole else None,
        "unit_amount_decimal": decimal_string(unit),
        "unit_amount_excluding_tax": decimal_string(
            unit_amount_shown(gross, item.quantity_decimal, unit, excluding_tax)
        ),
    }
    if body["invoice_line_item"] is None:
        del body["invoice_line_item"]  # only lines crediting an invoice line name one
    return body


def _discount_amounts(stored: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Credited discounts as `discount_amounts` shows them, summed per discount in first-seen order."""
    sums: dict[str, int] = {}
    for d in stored:
        sums[d["discount"]] = sums.get(d["discount"], 0) + int(d["amount"])
    return [{"amount": amount, "discount": discount} for discount, amount in sums.items()]


def render_credit_note(
    note: Invoice,
    lines: Sequence[LoadedLine] | None,
    rates: Mapping[str, TaxRate],
    balance_transaction: str | None = None,
) -> dict[str, Any]:
    """One credit memo as a `credit_note`; `lines` None shows an empty first page with `has_more`
    (a bill run's many memos in events: their lines are paged by GET .../lines)."""
    info = info_of(note)
    status = credit_note_status(note.status)
    if status is None:
        raise ValueError(f"credit memo {note.id} is a draft: not a credit note yet")
    shown = list(lines[:EMBEDDED_LINES]) if lines is not None else []
    discounts = _discount_amounts(info.discount_amounts)
    # The items credit net of their discounts; Stripe's subtotal leaves out only invoice-level discounts.
    invoice_level = info.invoice_level_discount
    return {
        "id": note.id,
        "object": "credit_note",
        "amount": note.total,
        "amount_shipping": 0,
        "created": note.created,
        "currency": note.currency,
        "customer": note.customer_id,
        "customer_account": None,
        "customer_balance_transaction": balance_transaction,  # the move its credit_amount made, if any
        "discount_amount": sum(d["amount"] for d in discounts),
        "discount_amounts": discounts,
        "effective_at": info.effective_at,
        # A Zuora return's memo credits no invoice: "" (Stripe's field is a string, never null).
        "invoice": info.invoice_id,
        "lines": {
            "object": "list",
            "data": [render_credit_note_line(e, rates) for e in shown],
            "has_more": lines is None or len(lines) > EMBEDDED_LINES,
            "url": f"/v1/credit_notes/{note.id}/lines",
        },
        "livemode": False,
        "memo": note.comments,
        "metadata": dict(note.metadata_),
        "number": note.number or note.id,
        "out_of_band_amount": info.out_of_band_amount,
        "pdf": "",
        "post_payment_amount": info.post_payment,
        "pre_payment_amount": info.pre_payment,
        "pretax_credit_amounts": [],
        "reason": info.reason,
        "refunds": [],
        "shipping_cost": None,
        "status": status.value,
        "subtotal": note.subtotal + invoice_level,
        "subtotal_excluding_tax": note.subtotal_excluding_tax + invoice_level,
        "tax_amounts": [tax_amount(t) for t in note.total_taxes],
        "total": note.total,
        "total_excluding_tax": note.total_excluding_tax,
        "total_taxes": [tax_entry(t) for t in note.total_taxes],
        "type": info.type,
        "voided_at": note.voided_at,
    }


def render_credit_notes(uow: UnitOfWork, notes: Sequence[Invoice], *, with_lines: bool = True) -> list[dict[str, Any]]:
    """Several credit notes, their lines read in one query (none when `with_lines` is false)."""
    lines = load_lines_of(uow, {n.id for n in notes}) if with_lines else {}
    rates = line_tax_rates(uow, [e for shown in lines.values() for e in shown[:EMBEDDED_LINES]])
    moves = credit_note_transactions(uow, [n.id for n in notes])
    return [render_credit_note(n, lines[n.id] if with_lines else None, rates, moves.get(n.id)) for n in notes]
