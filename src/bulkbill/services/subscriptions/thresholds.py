"""Billing thresholds acting on metered usage: an invoice as soon as unbilled usage reaches one.

Checked when a meter event is recorded, for the customer's active subscriptions with a metered item on a
meter of that event: an item's `billing_thresholds[usage_gte]` against its unbilled usage, the subscription's
`billing_thresholds[amount_gte]` against what that usage bills (core.subscriptions.usage.threshold_reached).
The invoice (`billing_reason: subscription_threshold`) bills the usage so far and is finalized at once; the
period goes on, and its renewal bills only the usage after. `reset_billing_cycle_anchor` is stored, not acted on.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from bulkbill.core.invoicing.items import priced_line
from bulkbill.core.subscriptions.rules import BillingReason, SubscriptionStatus
from bulkbill.core.subscriptions.usage import USAGE_GTE, threshold_reached
from bulkbill.services.invoicing.invoice_totals import load_lines, recalculate
from bulkbill.services.invoicing.invoices import finalize_invoice
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.item_prices import prices_by_id, recurring
from bulkbill.services.subscriptions.subscriptions import (
    _subscription_invoice,
    at_time,
    catch_up,
    items_of,
    now_for,
)
from bulkbill.services.subscriptions.usage import bill_usage, unbilled_usage
from bulkbill.storage.tables_subscriptions import Subscription


def invoice_reached_thresholds(uow: UnitOfWork, customer_id: str) -> None:
    """Each active subscription of the customer whose unbilled usage reached a threshold is invoiced now."""
    subs = list(
        uow.session.scalars(
            select(Subscription)
            .where(
                Subscription.tenant_id == uow.tenant_id,
                Subscription.customer_id == customer_id,
                Subscription.status == SubscriptionStatus.ACTIVE.value,
            )
            .order_by(Subscription.id)
            .with_for_update()
            .execution_options(populate_existing=True)  # a concurrent event's threshold invoice is seen
        )
    )
    catch_up(uow, subs)  # a real-time subscription renews first if its period is over (there is no scheduler)
    for sub in subs:
        if sub.status != SubscriptionStatus.ACTIVE:
            continue
        amount_gte = ((sub.terms or {}).get("billing_thresholds") or {}).get("amount_gte")
        items = items_of(uow, [sub.id])[sub.id]
        if amount_gte is None and not any((i.usage or {}).get(USAGE_GTE) for i in items):
            continue
        now = now_for(uow, sub.test_clock_id)
        work = at_time(uow, now)
        until = min(now + 1, sub.current_period_end)  # events stamped up to now, within the period
        found = unbilled_usage(work, sub, items, sub.current_period_start, until)
        if not found:
            continue
        prices = prices_by_id(work, {si.price_id for si, _, _ in found})
        amount = 0
        for si, _, used in found:
            price = recurring(prices[si.price_id])
            unit = price.unit_amount_decimal if price.unit_amount_decimal is not None else Decimal(0)
            amount += priced_line(price.scheme, sub.currency, unit, Decimal(used))[1]
        usages = [(used, (si.usage or {}).get(USAGE_GTE)) for si, _, used in found]
        if not threshold_reached(usages, amount, amount_gte):
            continue
        invoice = _subscription_invoice(work, sub, BillingReason.THRESHOLD, (sub.current_period_start, now))
        bill_usage(work, sub, invoice, items, (sub.current_period_start, until), billed_until=until)
        recalculate(work, invoice, load_lines(work, invoice.id))
        sub.latest_invoice_id = invoice.id
        finalize_invoice(work, invoice.id)
