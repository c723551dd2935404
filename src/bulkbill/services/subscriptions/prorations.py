"""Proration items of a subscription change (core.subscriptions.prorations): written as pending invoice items.

What each item bills for a full period is priced by the same core function that bills renewals
(rules.subscription_line); the core then says which credits and charges a change makes, and this
module writes them as the subscription's pending invoice items, `proration: true` in their extras,
a credit naming the invoice line whose period it credits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Select, select

from bulkbill.core.events.types import EventType
from bulkbill.core.invoicing.totals import DiscountAmount, LineTerms, compute_invoice
from bulkbill.core.subscriptions.prorations import (
    CREDITED,
    PRORATION,
    PRORATION_DISCOUNTS,
    BilledItem,
    proration_lines,
)
from bulkbill.core.subscriptions.rules import LINE_SOURCE_TYPE, source_id, split_discounts, subscription_line
from bulkbill.services.catalog.discounts import coupon_terms
from bulkbill.services.events.outbox import emit
from bulkbill.services.invoicing.invoice_items import delete_item
from bulkbill.services.invoicing.invoice_rows import discount_amounts_column
from bulkbill.services.invoicing.item_rows import new_item_row
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.held_discounts import discount_terms
from bulkbill.services.subscriptions.item_prices import prices_by_id, product_names, recurring
from bulkbill.storage.tables import InvoiceItem
from bulkbill.storage.tables_subscriptions import Subscription, SubscriptionItem

_IS_PRORATION = InvoiceItem.extras[PRORATION].as_boolean()


def billed_items(uow: UnitOfWork, sub: Subscription, items: Sequence[SubscriptionItem]) -> list[BilledItem]:
    """What a full current period of each item bills, in the items' order, with what the discounts the
    subscription and the item hold now take off it (as its renewal invoice would: full_period_discounts);
    metered items bill usage in arrears, not a period ahead, so none of theirs is prorated (Stripe's rule)."""
    prices = prices_by_id(uow, {i.price_id for i in items})
    names = product_names(uow, {p.product_id for p in prices.values()})
    period = (sub.current_period_start, sub.current_period_end)
    lines = []
    for si in items:
        price = recurring(prices[si.price_id])
        if price.metered:
            continue
        values = subscription_line(
            currency=sub.currency,
            price=price,
            quantity=si.quantity,
            bills=period,
            description=None,
            tax_rates=tuple(si.tax_rates) if si.tax_rates is not None else None,
            discounts=(),
            metadata={},
        )
        lines.append((si, price.product_id, values))
    off = full_period_discounts(uow, sub, [(si, product, values.amount) for si, product, values in lines])
    return [
        BilledItem(si.id, values, names.get(product, product), discounts)
        for (si, product, values), discounts in zip(lines, off, strict=True)
    ]


def full_period_discounts(
    uow: UnitOfWork, sub: Subscription, lines: Sequence[tuple[SubscriptionItem, str, int]]
) -> list[tuple[DiscountAmount, ...]]:
    """Per (item, product, full-period amount): what the discounts due now take off it, by the invoice
    arithmetic a renewal runs (the item's own first, then the subscription's over every item)."""
    held = discount_terms(uow, [*sub.discounts, *(d for si, _, _ in lines for d in si.discounts)])
    if not held:
        return [() for _ in lines]
    by_id = {t.id: t for t in held}

    def due(ids: Sequence[str]) -> tuple[str, ...]:
        return split_discounts([by_id[d] for d in ids if d in by_id], uow.now).applied

    coupons = coupon_terms(uow, by_id, sub.currency)
    figures = compute_invoice(
        [
            LineTerms(amount, discounts=tuple(coupons[d] for d in due(si.discounts) if d in coupons), product_id=p)
            for si, p, amount in lines
        ],
        invoice_discounts=[coupons[d] for d in due(sub.discounts) if d in coupons],
    )
    return [f.discount_amounts for f in figures.lines]


def add_prorations(
    uow: UnitOfWork,
    sub: Subscription,
    before: Sequence[BilledItem],
    after: Sequence[BilledItem],
    at: int,
    period: tuple[int, int],
) -> list[InvoiceItem]:
    """The change's proration lines as pending invoice items of the subscription.

    An item's credit is discounted as the line that billed its period was, when that line billed the same
    full-period amount (a `once` coupon spent on it still discounts the unused time it credits); otherwise
    by the discounts held now (billed_items)."""
    credited = _credited_lines(uow, [b.item_id for b in before], period[0])
    before = [_as_billed(b, credited.get(b.item_id)) for b in before]
    lines = proration_lines(before, after, at, period)
    if not lines:
        return []
    rows = []
    for p in lines:
        extras: dict[str, object] = {PRORATION: True}
        if p.discount_amounts:
            extras[PRORATION_DISCOUNTS] = discount_amounts_column(p.discount_amounts)
        if p.credit and p.item_id in credited:
            line = credited[p.item_id]
            extras[CREDITED] = {"invoice": line.invoice_id, "invoice_line_items": [line.line_id]}
        rows.append(
            new_item_row(
                uow,
                customer_id=sub.customer_id,
                invoice_id=None,
                values=p.values,
                subscription_id=sub.id,
                subscription_item_id=p.item_id,
                extras=extras,
            )
        )
    uow.session.flush()
    for row in rows:
        emit(uow, EventType.INVOICEITEM_CREATED, row.id)
    return rows


@dataclass(frozen=True, slots=True)
class _BilledLine:
    """The invoice line that billed an item's current period, and what its discounts took off it."""

    invoice_id: str
    line_id: str
    amount: int
    discounts: tuple[DiscountAmount, ...]


def _as_billed(billed: BilledItem, line: _BilledLine | None) -> BilledItem:
    """The item's discounts as its period's line had them, when that line billed this full-period amount."""
    if line is None or line.amount != billed.values.amount:
        return billed
    return replace(billed, discounts=line.discounts)


def _credited_lines(uow: UnitOfWork, item_ids: Sequence[str], period_start: int) -> dict[str, _BilledLine]:
    """The invoice line that billed each item's current period: what its credit proration credits."""
    if not item_ids:
        return {}
    sources = {source_id(i, period_start): i for i in item_ids}
    rows = uow.session.execute(
        select(
            InvoiceItem.source_id,
            InvoiceItem.invoice_id,
            InvoiceItem.line_id,
            InvoiceItem.amount,
            InvoiceItem.discount_amounts,
        ).where(
            InvoiceItem.tenant_id == uow.tenant_id,
            InvoiceItem.source_type == LINE_SOURCE_TYPE,
            InvoiceItem.source_id.in_(list(sources)),
        )
    )
    return {
        sources[source]: _BilledLine(
            invoice_id,
            line_id,
            amount,
            tuple(DiscountAmount(d["discount"], int(d["amount"])) for d in discounts or ()),
        )
        for source, invoice_id, line_id, amount, discounts in rows
        if source is not None and invoice_id is not None and line_id is not None
    }


def _pending(uow: UnitOfWork, sub: Subscription) -> Select[str]:
    """The ids of the subscription's pending invoice items."""
    return select(InvoiceItem.id).where(
        InvoiceItem.tenant_id == uow.tenant_id,
        InvoiceItem.customer_id == sub.customer_id,
        InvoiceItem.subscription_id == sub.id,
        InvoiceItem.invoice_id.is_(None),
    )


def has_pending_items(uow: UnitOfWork, sub: Subscription) -> bool:
    """Whether the subscription has pending invoice items (what an invoice made at once would bill)."""
    return uow.session.scalar(_pending(uow, sub).limit(1)) is not None


def drop_pending_prorations(uow: UnitOfWork, sub: Subscription) -> None:
    """A subscription canceled at once without prorate or invoice_now loses its pending prorations (Stripe)."""
    pending = list(uow.session.scalars(_pending(uow, sub).where(_IS_PRORATION).order_by(InvoiceItem.id)))
    for item_id in pending:
        delete_item(uow, item_id)  # as DELETE /v1/invoiceitems/{id} does: locked, and told as an event
