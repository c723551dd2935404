"""Everything needed to show invoices, lines and items, loaded in a few set-based queries."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from sqlalchemy import ColumnElement, Integer, Select, Table, bindparam, func, select

from bulkbill.services.catalog.discounts import get_discounts
from bulkbill.services.customers.customers import get_customers
from bulkbill.services.invoicing.item_rows import HELD_FIELDS, HeldItem, ItemFields
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.bulk import driver_rows
from bulkbill.storage.rows import as_read, decoded, row_decoders
from bulkbill.storage.tables import Coupon, Customer, Discount, Invoice, InvoiceItem, Price, TaxRate


@dataclass
class Related:
    """Objects referenced by what is being shown, by id."""

    tax_rates: dict[str, TaxRate] = field(default_factory=dict)
    discounts: dict[str, Discount] = field(default_factory=dict)
    coupons: dict[str, Coupon] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    prices: dict[str, Price] = field(default_factory=dict)
    # Invoice item id → the discounts its invoice line shows (for items on an invoice).
    item_discounts: dict[str, int] = field(default_factory=dict)


EMBEDDED_LINES = 10


class ShownLine(Protocol):
    """An invoice line as rendering reads it: a LoadedLine (an ORM item), or a LineRow (a plain row)."""

    @property
    def line_id(self) -> str: ...
    @property
    def invoice_id(self) -> str: ...
    @property
    def discount_amounts(self) -> list[dict[str, Any]]: ...
    @property
    def taxes(self) -> list[dict[str, Any]]: ...
    @property
    def item(self) -> ItemFields: ...


@dataclass(slots=True)  # not frozen: made for every line shown (as HeldItem); nothing changes one
class LineRow:
    """An invoice line read as a plain row: its item's columns that rendering reads, decoded as the ORM
    decodes them (a HeldItem), and its line's id and figures; no ORM object."""

    item: HeldItem
    line_id: str
    invoice_id: str
    discount_amounts: list[dict[str, Any]]
    taxes: list[dict[str, Any]]


@dataclass
class InvoiceView:
    invoice: Invoice
    lines: Sequence[ShownLine]
    related: Related


def load_related(
    uow: UnitOfWork,
    invoices: Sequence[Invoice],
    items: Iterable[ItemFields],
    *,
    with_prices: bool = False,
    with_item_discounts: bool = False,
    with_customers: bool = True,
) -> Related:
    """Tax rates, discounts (with coupons) and customers for invoices and items, one query each
    (no customers for items shown without their customer expanded: `with_customers=False`)."""
    items = list(items)
    rate_ids = {r for inv in invoices for r in inv.default_tax_rates} | {r for i in items for r in i.tax_rates or ()}
    discount_ids = {d for inv in invoices for d in inv.discounts} | {d for i in items for d in i.discounts}
    for inv in invoices:
        discount_ids.update(d["discount"] for d in inv.total_discount_amounts)
    related = Related()
    t = uow.tenant_id
    if rate_ids:
        related.tax_rates = {
            r.id: r
            for r in uow.session.scalars(select(TaxRate).where(TaxRate.tenant_id == t, TaxRate.id.in_(rate_ids)))
        }
    related.discounts = get_discounts(uow, discount_ids)
    coupon_ids = {d.coupon_id for d in related.discounts.values()}
    if coupon_ids:
        related.coupons = {
            c.id: c for c in uow.session.scalars(select(Coupon).where(Coupon.tenant_id == t, Coupon.id.in_(coupon_ids)))
        }
    if with_customers:
        customer_ids = {inv.customer_id for inv in invoices} | {i.customer_id for i in items}
        related.customers = dict(get_customers(uow, customer_ids))
    price_ids = {i.price_id for i in items if i.price_id}
    if with_prices and price_ids:
        related.prices = {
            p.id: p for p in uow.session.scalars(select(Price).where(Price.tenant_id == t, Price.id.in_(price_ids)))
        }
    if with_item_discounts:  # an item on an invoice carries its line's discount amounts
        related.item_discounts = {
            i.id: sum(d["amount"] for d in i.discount_amounts or ()) for i in items if i.invoice_id
        }
    return related


def invoice_view(
    uow: UnitOfWork, invoice: Invoice, *, lines: Sequence[ShownLine] | None = None, with_prices: bool = False
) -> InvoiceView:
    # Only the embedded first page of lines is shown; `has_more` comes from the invoice's line count.
    lines = lines if lines is not None else first_lines(uow, invoice.id)
    return InvoiceView(invoice, lines, load_related(uow, [invoice], [e.item for e in lines], with_prices=with_prices))


_ITEMS: Table = InvoiceItem.__table__  # type: ignore[assignment]
# HeldItem's field → its column's name, where they differ.
_COLUMN_OF = {"metadata_": "metadata"}
# What a LineRow is read from: a HeldItem's fields in their order, then the line's id and taxes. JSON
# columns come as their stored text (decoded below only when not "[]", "{}" or null), so that no
# SQLAlchemy result processing runs on them.
_ROW_COLUMNS = (
    *(_COLUMN_OF.get(name, name) for name in HELD_FIELDS),
    "line_id",
    "taxes",
)


def _selected(table: Table) -> list[ColumnElement[Any]]:
    return [as_read(table.c[name]).label(name) for name in _ROW_COLUMNS]


# How each of them is read from the driver's row (JSON text, decimal text or NUMERIC, SQLite's 0 / 1).
_ROW_DECODERS = row_decoders(_ITEMS.c[name] for name in _ROW_COLUMNS)


def line_row(row: Sequence[Any]) -> LineRow:
    """A LineRow from a row of _ROW_COLUMNS (JSON as text), decoded as the ORM's column types decode it."""
    *held, line_id, taxes = decoded(row, _ROW_DECODERS)
    item = HeldItem(*held)
    # A line's figures as LoadedLine shows them (never null on a line: the table's CHECK).
    return LineRow(item, line_id, cast(str, item.invoice_id), item.discount_amounts or [], taxes or [])


# Built once: the first lines of one invoice, in display order (one index range), read from the driver.
_FIRST_LINES = (
    select(*_selected(_ITEMS))
    .where(_ITEMS.c.tenant_id == bindparam("tenant_id"), _ITEMS.c.invoice_id == bindparam("invoice_id"))
    .order_by(_ITEMS.c.position)
    .limit(bindparam("limit", type_=Integer))
)


def first_lines(uow: UnitOfWork, invoice_id: str, limit: int = EMBEDDED_LINES) -> list[LineRow]:
    """The invoice's first lines as plain rows (what its response embeds), in one statement."""
    params = {"tenant_id": uow.tenant_id, "invoice_id": invoice_id, "limit": limit}
    return [line_row(row) for row in driver_rows(uow.session, _FIRST_LINES, params)]


@functools.cache
def _shown_lines(width: int) -> Select[Any]:
    """The first lines of up to `width` invoices (each shows EMBEDDED_LINES; `has_more` comes from its line
    count): the lines are ranked per invoice in the database on their keys alone (an index-only read of
    tenant, invoice and position), and only the rows of those shown are read."""
    ranked = (
        select(
            _ITEMS.c.invoice_id,
            _ITEMS.c.position,
            func.row_number().over(partition_by=_ITEMS.c.invoice_id, order_by=_ITEMS.c.position).label("rank"),
        )
        .where(
            _ITEMS.c.tenant_id == bindparam("tenant_id"),
            # One bound parameter per invoice (not an expanding IN): the statement compiles once.
            _ITEMS.c.invoice_id.in_([bindparam(f"invoice_{k}") for k in range(width)]),
        )
        .subquery()
    )
    shown = (
        (_ITEMS.c.tenant_id == bindparam("tenant_id"))
        & (_ITEMS.c.invoice_id == ranked.c.invoice_id)
        & (_ITEMS.c.position == ranked.c.position)
    )
    return (
        select(*_selected(_ITEMS))
        .select_from(ranked.join(_ITEMS, shown))
        .where(ranked.c.rank <= bindparam("shown", type_=Integer))
        .order_by(ranked.c.invoice_id, ranked.c.position)
    )


def _shown_rows(uow: UnitOfWork, invoice_ids: Sequence[str]) -> list[tuple[Any, ...]]:
    """The rows of _shown_lines, from the driver: built and compiled once per power of two of invoices (the
    last id repeats to fill it), since making the ranked subquery cost ~2-3 ms (events render invoices
    through this at every commit that changes one)."""
    width = 1 << (len(invoice_ids) - 1).bit_length()
    params: dict[str, Any] = {"tenant_id": uow.tenant_id, "shown": EMBEDDED_LINES}
    params.update((f"invoice_{k}", invoice_ids[min(k, len(invoice_ids) - 1)]) for k in range(width))
    return driver_rows(uow.session, _shown_lines(width), params)


def invoice_views(uow: UnitOfWork, invoices: Sequence[Invoice], *, with_prices: bool = False) -> list[InvoiceView]:
    """Views for a page of invoices: the lines they show (plain rows) and related objects in a fixed number
    of queries."""
    if not invoices:
        return []
    ids = [inv.id for inv in invoices]
    by_invoice: dict[str, list[LineRow]] = {i: [] for i in ids}
    for entry in map(line_row, _shown_rows(uow, ids)):
        by_invoice[entry.invoice_id].append(entry)
    related = load_related(uow, invoices, [e.item for ls in by_invoice.values() for e in ls], with_prices=with_prices)
    return [InvoiceView(inv, by_invoice[inv.id], related) for inv in invoices]
