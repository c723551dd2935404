"""Everything needed to show invoices, lines and items, loaded in a few set-based queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import aliased

from bulkbill.services.catalog.discounts import get_discounts
from bulkbill.services.customers.customers import get_customers
from bulkbill.services.invoicing.invoice_totals import LoadedLine, load_lines
from bulkbill.services.invoicing.item_rows import ItemFields
from bulkbill.services.platform.uow import UnitOfWork
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


@dataclass
class InvoiceView:
    invoice: Invoice
    lines: list[LoadedLine]
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
    uow: UnitOfWork, invoice: Invoice, *, lines: list[LoadedLine] | None = None, with_prices: bool = False
) -> InvoiceView:
    # Only the embedded first page of lines is shown; `has_more` comes from the invoice's line count.
    lines = lines if lines is not None else load_lines(uow, invoice.id, limit=EMBEDDED_LINES)
    return InvoiceView(invoice, lines, load_related(uow, [invoice], [e.item for e in lines], with_prices=with_prices))


def _shown_lines() -> Select[InvoiceItem]:
    """The first lines of some invoices (each shows EMBEDDED_LINES; `has_more` comes from its line count):
    the lines are ranked per invoice in the database, so only those shown are read."""
    ranked = (
        select(
            InvoiceItem,
            func.row_number().over(partition_by=InvoiceItem.invoice_id, order_by=InvoiceItem.position).label("rank"),
        )
        .where(
            InvoiceItem.tenant_id == bindparam("tenant_id"),
            InvoiceItem.invoice_id.in_(bindparam("invoice_ids", expanding=True)),
        )
        .subquery()
    )
    shown = aliased(InvoiceItem, ranked)
    return select(shown).where(ranked.c.rank <= bindparam("shown")).order_by(shown.invoice_id, shown.position)


# Built once: making the ranked subquery's 30-odd column proxies cost ~2-3 ms on every call (events
# render invoices through this at every commit that changes one).
_SHOWN_LINES = _shown_lines()


def invoice_views(uow: UnitOfWork, invoices: Sequence[Invoice], *, with_prices: bool = False) -> list[InvoiceView]:
    """Views for a page of invoices: the lines they show and related objects in a fixed number of queries."""
    if not invoices:
        return []
    ids = [inv.id for inv in invoices]
    items = uow.session.scalars(_SHOWN_LINES, {"tenant_id": uow.tenant_id, "invoice_ids": ids, "shown": EMBEDDED_LINES})
    by_invoice: dict[str, list[LoadedLine]] = {i: [] for i in ids}
    for entry in map(LoadedLine, items):
        by_invoice[entry.invoice_id].append(entry)
    related = load_related(uow, invoices, [e.item for ls in by_invoice.values() for e in ls], with_prices=with_prices)
    return [InvoiceView(inv, by_invoice[inv.id], related) for inv in invoices]
