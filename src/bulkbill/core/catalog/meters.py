"""Billing meters and their events (Stripe's usage-based billing), the rules the catalog enforces.

* A meter counts the events named by its `event_name`; each event names its customer and value in its
  payload (`stripe_customer_id` and `value` unless the meter maps other keys).
* A period's usage is the meter's aggregation of the customer's events whose timestamp falls in the period
  (start included, end excluded): `sum` of the values, `count` of the events, or the `last` event's value
  (the latest timestamp; of equal timestamps, the one recorded last).
* Event values are whole numbers (at most 12 digits) sent as strings; meters that sum or keep the last value need one.
* Meter events are timestamped within the past 35 days and at most 5 minutes ahead (the customer's time:
  a test clock's frozen time).
* A meter is `active` or `inactive`; only an active meter takes events and can back a new metered price.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bulkbill.core.errors import ErrorCode, InputCollector, InvalidTransition, Path, dotted

# How far back and ahead of the customer's time an event may be stamped (Stripe's limits).
EVENT_PAST_SECONDS = 35 * 86400
EVENT_FUTURE_SECONDS = 5 * 60
# An event's value is at most a quantity's size (core.money.MAX_QUANTITY has 12 digits).
MAX_VALUE_DIGITS = 12
DEFAULT_CUSTOMER_KEY = "stripe_customer_id"
DEFAULT_VALUE_KEY = "value"


class MeterFormula(StrEnum):
    SUM = "sum"
    COUNT = "count"
    LAST = "last"


class MeterStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class MeterMove(StrEnum):
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"


METER_TRANSITIONS: dict[tuple[MeterStatus, MeterMove], MeterStatus] = {
    (MeterStatus.ACTIVE, MeterMove.DEACTIVATE): MeterStatus.INACTIVE,
    (MeterStatus.INACTIVE, MeterMove.REACTIVATE): MeterStatus.ACTIVE,
}


def meter_transition(status: str, move: MeterMove) -> MeterStatus:
    """An active meter can be deactivated and an inactive one reactivated; nothing else moves."""
    target = METER_TRANSITIONS.get((MeterStatus(status), move))
    if target is None:
        raise InvalidTransition(f"This meter is already {status}; it cannot {move.value}.")
    return target


@dataclass(frozen=True, slots=True)
class UsageEvent:
    timestamp: int
    created: int
    value: int | None


def aggregate(formula: MeterFormula, events: Sequence[UsageEvent]) -> int:
    """A period's usage by the meter's formula: sum of values, count of events, or the latest event's value."""
    if formula == MeterFormula.COUNT:
        return len(events)
    if formula == MeterFormula.SUM:
        return sum(e.value or 0 for e in events)
    if not events:
        return 0
    latest = max(events, key=lambda e: (e.timestamp, e.created))
    return latest.value or 0


def check_event_time(now: int, timestamp: int, path: Path, errors: InputCollector) -> None:
    """An event is stamped within the past 35 days and at most 5 minutes after the customer's now."""
    if timestamp < now - EVENT_PAST_SECONDS or timestamp > now + EVENT_FUTURE_SECONDS:
        errors.add(
            path,
            ErrorCode.PARAMETER_INVALID,
            "Meter events must be timestamped within the past 35 days and no more than 5 minutes in the future.",
        )


def parse_value(raw: str | None, *, needed: bool, path: Path, errors: InputCollector) -> int | None:
    """An event's value is a whole number given as a string; meters that sum or keep the last value need one."""
    if raw is None:
        if needed:
            errors.add(path, ErrorCode.PARAMETER_MISSING, f"Missing required param: {dotted(path)}.")
        return None
    text = raw.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isdigit() or not digits.isascii() or len(digits) > MAX_VALUE_DIGITS:
        errors.add(
            path,
            ErrorCode.PARAMETER_INVALID,
            f"{dotted(path)} must be a whole number of at most {MAX_VALUE_DIGITS} digits, as a string.",
        )
        return None
    return int(text)
