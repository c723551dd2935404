"""Metered subscription items: their usage billed in arrears at renewal, or at once when a threshold is reached.

The rules are core.subscriptions.usage's (what bills, thresholds) and core.catalog.meters' (aggregation); this
module reads the meter's events for the customer and writes the usage lines (one per metered item and stretch
of usage, its source `<si id>:<usage start>:usage`, so the database refuses to bill one stretch twice).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bulkbill.core.invoicing.items import evolve
from bulkbill.core.subscriptions.rules import (
    LINE_SOURCE_TYPE,
    Cadence,
    Interval,
    line_description,
    subscription_line,
)
from bulkbill.core.subscriptions.usage import BILLED_UNTIL, USAGE_GTE, billable_usage, usage_start
from bulkbill.services.catalog.meters import usage
from bulkbill.services.invoicing.invoices import attach_item
from bulkbill.services.invoicing.item_rows import new_item_row
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.item_prices import prices_by_id, product_names, recurring
from bulkbill.storage.tables import Invoice
from bulkbill.storage.tables_subscriptions import Subscription, SubscriptionItem
from bulkbill.storage.tables_usage import BillingMeter


def item_usage(current: dict[str, Any] | None, usage_gte: int | None, *, metered: bool) -> dict[str, Any] | None:
    """An item's stored usage settings after a change: its threshold, and what a threshold invoice billed."""
    if not metered:
        return None
    stored = {**(current or {}), USAGE_GTE: usage_gte}
    return stored if stored != (current or {}) else current


def unbilled_usage(
    uow: UnitOfWork, sub: Subscription, items: Sequence[SubscriptionItem], start: int, end: int
) -> list[tuple[SubscriptionItem, int, int]]:
    """Each metered item with the start of its unbilled usage in [start, end) and that usage, by its meter."""
    prices = prices_by_id(uow, {i.price_id for i in items})
    out = []
    for si in items:
        price = prices[si.price_id]
        if price.usage_type != "metered" or price.meter_id is None:
            continue
        meter = uow.session.get(BillingMeter, (uow.tenant_id, price.meter_id))
        if meter is None:
            continue
        begins = usage_start(start, (si.usage or {}).get(BILLED_UNTIL))
        out.append((si, begins, billable_usage(usage(uow, meter, sub.customer_id, begins, end))))
    return out


def bill_usage(
    uow: UnitOfWork,
    sub: Subscription,
    invoice: Invoice,
    items: Sequence[SubscriptionItem],
    period: tuple[int, int],
    *,
    billed_until: int | None = None,
) -> int:
    """One line per metered item for its usage of `period` not yet billed; returns the lines' total.

    `billed_until` marks how far a threshold invoice billed (the period goes on); None at renewal, when
    the next period starts with nothing billed.
    """
    cadence = Cadence(Interval(sub.interval), sub.interval_count)
    found = unbilled_usage(uow, sub, items, *period)
    prices = prices_by_id(uow, {si.price_id for si, _, _ in found})
    names = product_names(uow, {p.product_id for p in prices.values()})
    total = 0
    for si, begins, used in found:
        price = recurring(prices[si.price_id])
        name = names.get(price.product_id, price.product_id)
        values = subscription_line(
            currency=sub.currency,
            price=price,
            quantity=used,
            bills=(begins, period[1]),
            description=None,
            tax_rates=tuple(si.tax_rates) if si.tax_rates is not None else None,
            discounts=tuple(si.discounts),
            metadata=sub.metadata_,
        )
        described = line_description(used, name, values.unit_amount_decimal, sub.currency, cadence)
        values = evolve(values, description=described)
        row = new_item_row(
            uow,
            customer_id=sub.customer_id,
            invoice_id=invoice.id,
            values=values,
            subscription_id=sub.id,
            subscription_item_id=si.id,
            source_type=LINE_SOURCE_TYPE,
            source_id=f"{si.id}:{begins}:usage",
        )
        attach_item(uow, invoice, row)
        total += values.amount
        si.usage = {**(si.usage or {}), BILLED_UNTIL: billed_until}
    return total
