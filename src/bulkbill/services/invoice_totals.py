"""Recompute an invoice's line figures and totals from its lines, after every change."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bulkbill.core.totals import LineTerms, TaxRateTerms, amount_due, compute_invoice
from bulkbill.services.discounts import coupon_terms
from bulkbill.services.uow import UnitOfWork
from bulkbill.storage.tables import Invoice, InvoiceItem, InvoiceLine, TaxRate


@dataclass
class LoadedLine:
    line: InvoiceLine
    item: InvoiceItem


def load_lines(uow: UnitOfWork, invoice_id: str) -> list[LoadedLine]:
    """The invoice's lines with their items, in display order, in one query."""
    rows = uow.session.execute(
        select(InvoiceLine, InvoiceItem)
        .join(InvoiceItem, (InvoiceItem.tenant_id == InvoiceLine.tenant_id) & (InvoiceItem.id == InvoiceLine.item_id))
        .where(InvoiceLine.tenant_id == uow.tenant_id, InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.position)
    )
    return [LoadedLine(line, item) for line, item in rows]


def _tax_terms(uow: UnitOfWork, ids: set[str]) -> dict[str, TaxRateTerms]:
    if not ids:
        return {}
    rows = uow.session.scalars(select(TaxRate).where(TaxRate.tenant_id == uow.tenant_id, TaxRate.id.in_(ids)))
    return {r.id: TaxRateTerms(r.id, r.percentage, r.inclusive) for r in rows}


def recalculate(uow: UnitOfWork, invoice: Invoice, lines: list[LoadedLine]) -> None:
    """Line discounts and taxes, then invoice totals, always equal to the sum of the lines."""
    uow.session.flush()  # new discounts and lines must be visible to the queries below
    discount_ids = set(invoice.discounts)
    rate_ids = set(invoice.default_tax_rates)
    for entry in lines:
        discount_ids.update(entry.item.discounts)
        rate_ids.update(entry.item.tax_rates or ())
    coupons = coupon_terms(uow, discount_ids)
    rates = _tax_terms(uow, rate_ids)
    terms = [
        LineTerms(
            amount=e.item.amount,
            discountable=e.item.discountable,
            discounts=tuple(coupons[d] for d in e.item.discounts if d in coupons),
            tax_rates=tuple(rates[r] for r in e.item.tax_rates if r in rates) if e.item.tax_rates is not None else None,
        )
        for e in lines
    ]
    figures = compute_invoice(
        terms,
        invoice_discounts=[coupons[d] for d in invoice.discounts if d in coupons],
        default_tax_rates=[rates[r] for r in invoice.default_tax_rates if r in rates],
    )
    for entry, fig in zip(lines, figures.lines, strict=True):
        discount_amounts = [{"amount": d.amount, "discount": d.discount_id} for d in fig.discount_amounts]
        taxes = [_tax_json(t.tax_rate_id, t.inclusive, t.amount, t.taxable_amount) for t in fig.taxes]
        if entry.line.discount_amounts != discount_amounts:
            entry.line.discount_amounts = discount_amounts
        if entry.line.taxes != taxes:
            entry.line.taxes = taxes
    invoice.subtotal = figures.subtotal
    invoice.subtotal_excluding_tax = figures.subtotal_excluding_tax
    invoice.total = figures.total
    invoice.total_excluding_tax = figures.total_excluding_tax
    invoice.total_discount_amounts = [
        {"amount": d.amount, "discount": d.discount_id} for d in figures.total_discount_amounts
    ]
    invoice.total_taxes = [
        _tax_json(t.tax_rate_id, t.inclusive, t.amount, t.taxable_amount) for t in figures.total_taxes
    ]
    invoice.amount_due = amount_due(figures.total, starting_balance=invoice.starting_balance)
    invoice.line_count = len(lines)


def _tax_json(rate_id: str, inclusive: bool, amount: int, taxable: int) -> dict[str, object]:
    return {"tax_rate": rate_id, "inclusive": inclusive, "amount": amount, "taxable_amount": taxable}
