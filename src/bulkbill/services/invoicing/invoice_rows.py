"""Invoice and invoice-line rows: one factory each, for every path that writes documents.

Stripe invoices, Zuora standalone invoices, runBilling and bill runs all start an invoice with
new_invoice_columns, and make an item a line of it with line_columns (an invoice line is the
columns of its item's row; attribute → Python value, as the ORM takes them; the set-based writer
encodes the same rows for COPY or executemany with storage.rows.RowLayout). The core's figures
land on an invoice through figure_columns, and what finalizing does to it
(core.invoicing.lifecycle.Posting) through posted_columns, whichever path computed them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bulkbill.core.invoicing.lifecycle import InvoiceStatus, Posting, due_date_at_finalization
from bulkbill.core.invoicing.totals import (
    DiscountAmount,
    InvoiceFigures,
    LineFigures,
    TaxAmount,
    TaxExempt,
    amount_due,
)
from bulkbill.storage.tables import new_document_token


def new_invoice_columns(
    tenant_id: str, *, invoice_id: str, customer_id: str, currency: str, created: int, **fields: Any
) -> dict[str, Any]:
    """Every column of a new draft with no lines; `fields` set whatever differs (dates, origin, number, ...)."""
    row: dict[str, Any] = {
        "tenant_id": tenant_id,
        "id": invoice_id,
        "customer_id": customer_id,
        "currency": currency,
        "status": InvoiceStatus.DRAFT.value,
        "collection_method": "charge_automatically",
        "days_until_due": None,
        "due_date": None,
        "auto_advance": False,
        "description": None,
        "footer": None,
        "document_custom_fields": None,
        "rendering": None,
        "metadata_": {},
        "default_tax_rates": [],
        "discounts": [],
        "number": None,
        "billing_reason": "manual",
        "created": created,
        "period_start": created,
        "period_end": created,
        "finalized_at": None,
        "paid_at": None,
        "voided_at": None,
        "marked_uncollectible_at": None,
        "starting_balance": 0,
        "ending_balance": None,
        "amount_paid": 0,
        "paid_out_of_band": False,
        "subtotal": 0,
        "subtotal_excluding_tax": 0,
        "total": 0,
        "total_excluding_tax": 0,
        "amount_due": 0,
        "total_discount_amounts": [],
        "total_taxes": [],
        "line_count": 0,
        "next_line_position": 0,
        "document_type": "invoice",
        "origin": "stripe",
        "invoice_date": None,
        "target_date": None,
        "comments": None,
        "transferred_to_accounting": None,
        "auto_pay": False,
        "custom_fields": {},
        "bill_run_id": None,
        "template_id": None,
        "subscription_id": None,
        "subscription_metadata": None,
        # The public document URLs' secret (shown once the invoice is finalized).
        "document_token": new_document_token(),
        "credited_invoice_id": None,
        "statement_descriptor": None,
        "effective_at": None,
        "chosen_finalizes_at": None,
        "shipping_cost": None,
        "amount_shipping": 0,
        "shipping_details": None,
        "account_tax_ids": None,
        "from_invoice_id": None,
        "latest_revision_id": None,
    }
    unknown = fields.keys() - row.keys()
    if unknown:
        raise TypeError(f"not invoice columns: {sorted(unknown)}")
    row.update(fields)
    return row


def discount_amounts_column(amounts: Iterable[DiscountAmount]) -> list[dict[str, Any]]:
    """Discount amounts as an invoice or a line stores them."""
    return [{"amount": d.amount, "discount": d.discount_id} for d in amounts]


def taxes_column(taxes: Iterable[TaxAmount]) -> list[dict[str, Any]]:
    """Tax amounts as an invoice or a line stores them."""
    rows = []
    for t in taxes:
        row: dict[str, Any] = {
            "tax_rate": t.tax_rate_id,
            "inclusive": t.inclusive,
            "amount": t.amount,
            "taxable_amount": t.taxable_amount,
        }
        if t.exempt is not TaxExempt.NONE:  # the customer's exemption, as its taxability reason shows it
            row["taxability_reason"] = t.exempt.taxability_reason
        elif t.reason is not None:
            row["taxability_reason"] = t.reason
        rows.append(row)
    return rows


def figure_columns(figures: InvoiceFigures, *, starting_balance: int, shipping: int = 0) -> dict[str, Any]:
    """An invoice's totals columns for the core's figures (amount due applies the starting balance).

    Shipping (untaxed: taxes come from tax rates on lines) adds to the totals, not to the subtotals, as
    Stripe's `amount_shipping` does.
    """
    return {
        "subtotal": figures.subtotal,
        "subtotal_excluding_tax": figures.subtotal_excluding_tax,
        "total": figures.total + shipping,
        "total_excluding_tax": figures.total_excluding_tax + shipping,
        "total_discount_amounts": discount_amounts_column(figures.total_discount_amounts),
        "total_taxes": taxes_column(figures.total_taxes),
        "amount_due": amount_due(figures.total + shipping, starting_balance=starting_balance),
        "line_count": len(figures.lines),
    }


def posted_columns(
    posting: Posting, *, collection_method: str, days_until_due: int | None, due_date: int | None, now: int
) -> dict[str, Any]:
    """What finalizing writes on a document: the balance it applied, its due date, status and timestamps."""
    row: dict[str, Any] = {
        "starting_balance": posting.starting_balance,
        "amount_due": posting.amount_due,
        "ending_balance": posting.ending_balance,
        "finalized_at": now,
        "due_date": due_date_at_finalization(collection_method, days_until_due, due_date, finalized_at=now),
        "status": posting.status.value,
    }
    if posting.status == InvoiceStatus.PAID:
        row["paid_at"] = now
    return row


def line_columns(*, line_id: str, position: int, figures: LineFigures | None = None) -> dict[str, Any]:
    """What makes an item a line of its invoice: the line's id, its position, and its discount and tax
    figures (none yet: empty). An item on an invoice carries all four (the table's CHECK)."""
    return {
        "line_id": line_id,
        "position": position,
        "discount_amounts": discount_amounts_column(figures.discount_amounts) if figures is not None else [],
        "taxes": taxes_column(figures.taxes) if figures is not None else [],
    }


# A pending item's line columns: it is on no invoice, so it is no line.
NO_LINE: dict[str, Any] = {"line_id": None, "position": None, "discount_amounts": None, "taxes": None}


__all__ = [
    "NO_LINE",
    "discount_amounts_column",
    "figure_columns",
    "line_columns",
    "new_invoice_columns",
    "posted_columns",
    "taxes_column",
]
