"""What a metered subscription item bills (Stripe's usage-based billing on subscriptions).

* A metered item bills in arrears: the renewal invoice that opens a period bills the usage of the period that
  just ended (core.catalog.meters.aggregate), priced by the item's price (per unit or tiers) as though the
  usage were a quantity. Usage below 0 bills nothing. Nothing is billed for usage in a trial, and nothing in
  advance: a metered item has no quantity.
* `billing_thresholds[usage_gte]` on a metered item: once the period's unbilled usage reaches it, an invoice
  bills that usage at once (`billing_reason: subscription_threshold`); the period goes on, and its renewal
  bills only the usage after.
"""

from __future__ import annotations

from collections.abc import Sequence

# An item's usage settings (subscription_items.usage): its threshold, and how far a threshold invoice billed.
USAGE_GTE = "usage_gte"
BILLED_UNTIL = "usage_billed_until"


def billable_usage(usage: int) -> int:
    """Usage bills as a quantity; below 0 it bills nothing."""
    return max(usage, 0)


def threshold_reached(usages: Sequence[tuple[int, int | None]], amount: int, amount_gte: int | None) -> bool:
    """Unbilled usage is invoiced at once when an item's usage reaches its usage_gte, or when the amount the
    subscription's usage bills reaches its billing_thresholds[amount_gte]."""
    if amount_gte is not None and amount >= amount_gte:
        return True
    return any(gte is not None and used >= gte for used, gte in usages)


def usage_start(period_start: int, billed_until: int | None) -> int:
    """The period's usage still to bill starts where a threshold invoice left off, if one billed part of it."""
    return max(period_start, billed_until) if billed_until is not None else period_start
