"""Recompute an invoice's line figures and totals from its lines, after every change.

Two ways in: `recalculate` with fully loaded lines (ORM objects), and `recalculate_rows` with the
narrow rows a bulk edit reads for every line of the invoice (plain tuples, no ORM objects for lines
the call does not touch). Both end in the same arithmetic (core.totals.compute_invoice), and only
line figures that changed are written, in one statement.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Text, bindparam, cast, select, type_coerce, update
from sqlalchemy.orm.util import identity_key

from bulkbill.core.invoicing.totals import LineTerms, TaxAmount, TaxExempt, TaxRateTerms, compute_invoice
from bulkbill.services.catalog.discounts import coupon_terms
from bulkbill.services.invoicing.invoice_rows import discount_amounts_column, figure_columns, taxes_column
from bulkbill.services.invoicing.item_rows import APPLIED_TO
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.bulk import driver_rows
from bulkbill.storage.rows import stored_json
from bulkbill.storage.tables import Customer, Invoice, InvoiceItem, TaxRate
from bulkbill.storage.types import IdString

# An item on an invoice always carries its line's id (the table's CHECK): selected as a str.
LINE_ID = type_coerce(InvoiceItem.line_id, IdString)


@dataclass
class LoadedLine:
    """An invoice line: the row of its item, which carries the line's id, position and figures."""

    item: InvoiceItem

    @property
    def line_id(self) -> str:
        line_id = self.item.line_id
        assert line_id is not None, "an item on an invoice is a line"
        return line_id

    @property
    def invoice_id(self) -> str:
        invoice_id = self.item.invoice_id
        assert invoice_id is not None, "a line is on an invoice"
        return invoice_id

    @property
    def discount_amounts(self) -> list[dict[str, Any]]:
        return self.item.discount_amounts or []

    @property
    def taxes(self) -> list[dict[str, Any]]:
        return self.item.taxes or []


@dataclass(slots=True)
class FigureRow:
    """One line's inputs to the invoice arithmetic, and the figures it shows now."""

    line_id: str
    item_id: str
    kind: str
    amount: int
    discountable: bool
    discounts: list[str]
    tax_rates: list[str] | None
    # The figures the line shows now: lists, or the stored JSON text when read by load_figure_rows.
    discount_amounts: list[dict[str, Any]] | str
    taxes: list[dict[str, Any]] | str
    # What a coupon's applies_to[products] compares with.
    product_id: str | None = None
    # Tax amounts given by hand (InvoiceItem.manual_taxes), or None.
    manual_taxes: list[dict[str, Any]] | None = None

    def take_item(self, item: InvoiceItem) -> None:
        """Refresh the inputs from an item the call has just changed."""
        self.amount, self.discountable = item.amount, item.discountable
        self.discounts, self.tax_rates = list(item.discounts), item.tax_rates
        self.product_id, self.manual_taxes = item.product_id, item.manual_taxes


# The hot reads below are built once: building a statement (and its cache key) cost more than running it.
_THE_INVOICE = (InvoiceItem.tenant_id == bindparam("tenant_id")) & (InvoiceItem.invoice_id == bindparam("invoice_id"))
_LINES = (
    select(InvoiceItem).where(_THE_INVOICE).order_by(InvoiceItem.position).execution_options(populate_existing=True)
)
_FIRST_LINES = _LINES.limit(bindparam("limit", type_=Integer))


def load_lines(uow: UnitOfWork, invoice_id: str, *, limit: int | None = None) -> list[LoadedLine]:
    """The invoice's lines, in display order, in one query (the first `limit` only): one index range, no join."""
    params = {"tenant_id": uow.tenant_id, "invoice_id": invoice_id, "limit": limit}
    return [LoadedLine(item) for item in uow.session.scalars(_LINES if limit is None else _FIRST_LINES, params)]


def load_lines_of(uow: UnitOfWork, invoice_ids: set[str]) -> dict[str, list[LoadedLine]]:
    """The lines of several invoices, in display order, in one query."""
    by_invoice: dict[str, list[LoadedLine]] = {i: [] for i in invoice_ids}
    if not invoice_ids:
        return by_invoice
    items = uow.session.scalars(
        select(InvoiceItem)
        .where(InvoiceItem.tenant_id == uow.tenant_id, InvoiceItem.invoice_id.in_(invoice_ids))
        .order_by(InvoiceItem.invoice_id, InvoiceItem.position)
        .execution_options(populate_existing=True)
    )
    for entry in map(LoadedLine, items):
        by_invoice[entry.invoice_id].append(entry)
    return by_invoice


def load_lines_by_id(uow: UnitOfWork, invoice_id: str, line_ids: set[str]) -> dict[str, LoadedLine]:
    """Just the named lines of an invoice (a bulk call's targets)."""
    if not line_ids:
        return {}
    items = uow.session.scalars(
        select(InvoiceItem).where(
            InvoiceItem.tenant_id == uow.tenant_id,
            InvoiceItem.invoice_id == invoice_id,
            InvoiceItem.line_id.in_(line_ids),
        )
    )
    return {entry.line_id: entry for entry in map(LoadedLine, items)}


def load_figure_rows(uow: UnitOfWork, invoice_id: str) -> list[FigureRow]:
    """Every line's arithmetic inputs, in display order, as plain rows (no ORM objects).

    JSON columns are read as their stored text: the line figures are only compared with freshly
    computed ones (stored text is what json.dumps wrote), which spares hundreds of decodes.
    """
    # Straight from the driver: every column is text or an integer (discountable made a bool below), and
    # SQLAlchemy's result processing of 200 rows cost as much as the driver's reading them.
    return _figure_rows(driver_rows(uow.session, _FIGURES, {"tenant_id": uow.tenant_id, "invoice_id": invoice_id}))


def load_figures_and_applied_to(uow: UnitOfWork, invoice_id: str) -> tuple[list[FigureRow], dict[str, str]]:
    """load_figure_rows, and the invoice's discount items each with the item it applies to (what
    item_rows.applied_to_of reads), in one query: every item on an invoice is one of its lines."""
    rows = driver_rows(uow.session, _FIGURES_APPLIED_TO, {"tenant_id": uow.tenant_id, "invoice_id": invoice_id})
    applied_to = {row[1]: row[-1] for row in rows if row[-1] is not None}
    return _figure_rows(rows), applied_to


def _figure_rows(rows: list[tuple[Any, ...]]) -> list[FigureRow]:
    # By position (a query may read more columns after these: _FIGURES_APPLIED_TO), and the stored JSON
    # most lines carry ("[]", null) without a call: this runs for every line of the invoice.
    return [
        FigureRow(
            r[0],
            r[1],
            r[2],
            r[3],
            bool(r[4]),
            [] if r[5] == "[]" else stored_json(r[5]) or [],
            None if r[6] is None or r[6] == "null" else stored_json(r[6]),
            r[7] or "[]",
            r[8] or "[]",
            r[9],
            None if r[10] is None or r[10] == "null" else stored_json(r[10]),
        )
        for r in rows
    ]


_FIGURE_COLUMNS = (
    LINE_ID,
    InvoiceItem.id,
    InvoiceItem.kind,
    InvoiceItem.amount,
    InvoiceItem.discountable,
    cast(InvoiceItem.discounts, Text),
    cast(InvoiceItem.tax_rates, Text),
    cast(InvoiceItem.discount_amounts, Text),
    cast(InvoiceItem.taxes, Text),
    InvoiceItem.product_id,
    cast(InvoiceItem.manual_taxes, Text),
)
_FIGURES = select(*_FIGURE_COLUMNS).where(_THE_INVOICE).order_by(InvoiceItem.position)
_FIGURES_APPLIED_TO = select(*_FIGURE_COLUMNS, APPLIED_TO).where(_THE_INVOICE).order_by(InvoiceItem.position)


def figure_row(entry: LoadedLine) -> FigureRow:
    item = entry.item
    return FigureRow(
        entry.line_id,
        item.id,
        item.kind,
        item.amount,
        item.discountable,
        list(item.discounts),
        item.tax_rates,
        entry.discount_amounts,
        entry.taxes,
        item.product_id,
        item.manual_taxes,
    )


def tax_terms(uow: UnitOfWork, ids: set[str]) -> dict[str, TaxRateTerms]:
    """The terms (percentage, inclusive) of the tenant's tax rates among `ids`."""
    if not ids:
        return {}
    rows = uow.session.scalars(select(TaxRate).where(TaxRate.tenant_id == uow.tenant_id, TaxRate.id.in_(ids)))
    return {r.id: TaxRateTerms(r.id, r.percentage, r.inclusive) for r in rows}


def recalculate(uow: UnitOfWork, invoice: Invoice, lines: list[LoadedLine]) -> None:
    """Line discounts and taxes, then invoice totals, always equal to the sum of the lines."""
    recalculate_many(uow, [(invoice, lines)])


def recalculate_many(uow: UnitOfWork, documents: Sequence[tuple[Invoice, list[LoadedLine]]]) -> None:
    """recalculate() for several invoices after one flush: their changes are written together afterwards."""
    uow.session.flush()  # new discounts and lines must be visible to the queries below
    customers = _hold_customers(uow, {invoice.customer_id for invoice, _ in documents})
    for invoice, lines in documents:
        _recalculate_loaded(uow, invoice, lines)
    del customers


def _hold_customers(uow: UnitOfWork, ids: set[str]) -> list[Customer | None]:
    """The invoices' customers (tax exemption) in one query, held by the caller: the session's identity
    map keeps only weak references, and a re-read per invoice would also flush the totals apart."""
    customer_ids = sorted(ids)
    customers = [uow.session.identity_map.get(identity_key(Customer, (uow.tenant_id, c))) for c in customer_ids]
    missing = [c for c, held in zip(customer_ids, customers, strict=True) if held is None]
    if missing:
        customers += uow.session.scalars(
            select(Customer).where(Customer.tenant_id == uow.tenant_id, Customer.id.in_(missing))
        ).all()
    return customers


def _recalculate_loaded(uow: UnitOfWork, invoice: Invoice, lines: list[LoadedLine]) -> None:
    rows = [figure_row(e) for e in lines]
    changed = _compute(uow, invoice, rows)
    by_id = {e.item.id: e.item for e in lines}
    for row in changed:
        by_id[row.item_id].discount_amounts = _fresh(row.discount_amounts)
        by_id[row.item_id].taxes = _fresh(row.taxes)


def recalculate_rows_many(uow: UnitOfWork, documents: Sequence[tuple[Invoice, list[FigureRow]]]) -> None:
    """recalculate_rows for several invoices: their changed line figures are written in one executemany."""
    uow.session.flush()
    customers = _hold_customers(uow, {invoice.customer_id for invoice, _ in documents})
    changed = [row for invoice, rows in documents for row in _compute(uow, invoice, rows)]
    del customers
    _write_figures(uow, changed)


def recalculate_rows(uow: UnitOfWork, invoice: Invoice, rows: list[FigureRow]) -> None:
    """The same rule from narrow rows; changed line figures are written in one executemany."""
    uow.session.flush()
    _write_figures(uow, _compute(uow, invoice, rows))


def _write_figures(uow: UnitOfWork, changed: list[FigureRow]) -> None:
    if changed:
        uow.session.execute(
            update(InvoiceItem),
            [
                {"tenant_id": uow.tenant_id, "id": r.item_id, "discount_amounts": r.discount_amounts, "taxes": r.taxes}
                for r in changed
            ],
        )


def _compute(uow: UnitOfWork, invoice: Invoice, rows: list[FigureRow]) -> list[FigureRow]:
    """Run the core arithmetic; set invoice totals; return the rows whose line figures changed."""
    discount_ids = set(invoice.discounts)
    rate_ids = set(invoice.default_tax_rates)
    for row in rows:
        if row.discounts:  # most lines carry none: no call for them
            discount_ids.update(row.discounts)
        if row.tax_rates:
            rate_ids.update(row.tax_rates)
    coupons = coupon_terms(uow, discount_ids, invoice.currency)
    rates = tax_terms(uow, rate_ids)
    # Most lines of a bulk call carry no discounts, rates or manual taxes: no comprehension for those.
    terms: list[LineTerms] = []
    for r in rows:
        if r.discounts or r.tax_rates or r.manual_taxes is not None:
            terms.append(
                LineTerms(
                    r.amount,
                    r.discountable,
                    tuple([coupons[d] for d in r.discounts if d in coupons]),
                    None if r.tax_rates is None else tuple([rates[t] for t in r.tax_rates if t in rates]),
                    r.product_id,
                    stored_taxes(r.manual_taxes),
                )
            )
        else:
            terms.append(LineTerms(r.amount, r.discountable, (), None if r.tax_rates is None else (), r.product_id))
    figures = compute_invoice(
        terms,
        invoice_discounts=[coupons[d] for d in invoice.discounts if d in coupons],
        default_tax_rates=[rates[r] for r in invoice.default_tax_rates if r in rates],
        tax_exempt=tax_exempt_of(uow, invoice.customer_id),
    )
    changed: list[FigureRow] = []
    for row, fig in zip(rows, figures.lines, strict=True):
        if not fig.discount_amounts and not fig.taxes and row.discount_amounts in _NONE and row.taxes in _NONE:
            continue  # no figures, as before (most lines): nothing to build or compare
        discount_amounts = discount_amounts_column(fig.discount_amounts)
        taxes = taxes_column(fig.taxes)
        if not (_same(row.discount_amounts, discount_amounts) and _same(row.taxes, taxes)):
            row.discount_amounts, row.taxes = discount_amounts, taxes
            changed.append(row)
    columns = figure_columns(figures, starting_balance=invoice.starting_balance, shipping=invoice.amount_shipping or 0)
    for name, value in columns.items():
        setattr(invoice, name, value)
    return changed


_NONE: tuple[str, list[Any]] = ("[]", [])  # a line's empty figures, as stored text or as a list


def stored_taxes(stored: list[dict[str, Any]] | None) -> tuple[TaxAmount, ...] | None:
    """Tax amounts as a line stores them (taxes_column's rows), back as the core's TaxAmounts."""
    if stored is None:
        return None
    return tuple(
        TaxAmount(t["tax_rate"], t["inclusive"], t["amount"], t["taxable_amount"], reason=t.get("taxability_reason"))
        for t in stored
    )


def tax_exempt_of(uow: UnitOfWork, customer_id: str) -> TaxExempt:
    """The customer's tax status (none when the customer has none)."""
    customer = uow.session.get(Customer, (uow.tenant_id, customer_id))  # usually in the session already
    return TaxExempt(customer.tax_exempt) if customer is not None and customer.tax_exempt else TaxExempt.NONE


def _fresh(value: list[dict[str, Any]] | str) -> list[dict[str, Any]]:
    assert not isinstance(value, str), "changed rows carry freshly computed figures"
    return value


def _same(stored: list[dict[str, Any]] | str, fresh: list[dict[str, Any]]) -> bool:
    if isinstance(stored, str):
        if not fresh:
            return stored == "[]"
        return stored == json.dumps(fresh)  # the same serializer SQLAlchemy's JSON type writes with
    return stored == fresh
