"""Billing mode (classic or flexible), its one-way migration, and what pausing a subscription asks of it.

Stripe's rules as documented: a subscription moves from classic to flexible billing mode (POST
/v1/subscriptions/{id}/migrate) and never back; only a flexible one can be paused on request (POST
/v1/subscriptions/{id}/pause), which stops its invoices until it is resumed. bulkbill bills both modes
alike (one line per item and period); the mode decides what may be done, not what is billed.
"""

from __future__ import annotations

from enum import StrEnum

from bulkbill.core.errors import InvalidTransition, RuleViolation


class BillingMode(StrEnum):
    CLASSIC = "classic"
    FLEXIBLE = "flexible"


class ModeMove(StrEnum):
    MIGRATE_TO_FLEXIBLE = "migrate_to_flexible"


MODE_TRANSITIONS: dict[tuple[BillingMode, ModeMove], BillingMode] = {
    (BillingMode.CLASSIC, ModeMove.MIGRATE_TO_FLEXIBLE): BillingMode.FLEXIBLE,
}


def migrated(mode: str) -> BillingMode:
    """The mode a migration leads to: classic becomes flexible; a flexible subscription cannot go back."""
    target = MODE_TRANSITIONS.get((BillingMode(mode), ModeMove.MIGRATE_TO_FLEXIBLE))
    if target is None:
        raise InvalidTransition(
            "This subscription already uses flexible billing mode (a subscription cannot migrate back to classic)."
        )
    return target


def check_pausable(mode: str) -> None:
    """Pausing on request needs flexible billing mode (Stripe's rule)."""
    if BillingMode(mode) is not BillingMode.FLEXIBLE:
        raise RuleViolation(
            "Only a subscription in flexible billing mode can be paused: migrate it first "
            "(POST /v1/subscriptions/{id}/migrate with billing_mode[type]=flexible)."
        )


class UnusedTimeFrom(StrEnum):
    """`bill_for[unused_time_from][type]` on pause: from when the current period's unused time is credited."""

    NOW = "now"
    ITEM_CURRENT_PERIOD_START = "item_current_period_start"
    NONE = "none"


def credit_from(choice: UnusedTimeFrom, now: int, period_start: int) -> int | None:
    """When the credit for a paused period starts (None: nothing is credited)."""
    if choice is UnusedTimeFrom.NONE:
        return None
    return now if choice is UnusedTimeFrom.NOW else period_start
