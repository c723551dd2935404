"""core.catalog.meters: how a period's events aggregate, what an event's value and time may be, meter moves."""

from __future__ import annotations

import pytest

from bulkbill.core.catalog.meters import (
    EVENT_FUTURE_SECONDS,
    EVENT_PAST_SECONDS,
    MeterFormula,
    MeterMove,
    MeterStatus,
    UsageEvent,
    aggregate,
    check_event_time,
    meter_transition,
    parse_value,
)
from bulkbill.core.errors import ErrorCode, InputCollector, InvalidTransition

EVENTS = [UsageEvent(100, 5, 4), UsageEvent(300, 1, 9), UsageEvent(300, 2, -2), UsageEvent(200, 9, None)]


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        (MeterFormula.SUM, 11),  # 4 + 9 - 2, a missing value adds nothing
        (MeterFormula.COUNT, 4),
        (MeterFormula.LAST, -2),  # latest timestamp (300); of the two, the one recorded last (created 2)
    ],
)
def test_each_formula_aggregates_the_periods_events(formula: MeterFormula, expected: int) -> None:
    assert aggregate(formula, EVENTS) == expected


@pytest.mark.parametrize("formula", list(MeterFormula))
def test_no_events_is_no_usage(formula: MeterFormula) -> None:
    assert aggregate(formula, []) == 0


@pytest.mark.parametrize(("raw", "value"), [("12", 12), ("-3", -3), ("+7", 7), (" 4 ", 4)])
def test_values_are_whole_numbers_given_as_text(raw: str, value: int) -> None:
    errors = InputCollector()
    assert parse_value(raw, needed=True, path=("payload", "value"), errors=errors) == value
    assert errors.errors == []


@pytest.mark.parametrize(
    ("raw", "needed", "code"),
    [
        ("1.5", True, ErrorCode.PARAMETER_INVALID),
        ("١٢", True, ErrorCode.PARAMETER_INVALID),
        ("", True, ErrorCode.PARAMETER_INVALID),
        ("1" * 13, True, ErrorCode.PARAMETER_INVALID),
        (None, True, ErrorCode.PARAMETER_MISSING),
    ],
)
def test_a_bad_or_missing_value_is_named(raw: str | None, needed: bool, code: ErrorCode) -> None:
    errors = InputCollector()
    assert parse_value(raw, needed=needed, path=("payload", "value"), errors=errors) is None
    assert [(e.path, e.code) for e in errors.errors] == [(("payload", "value"), code)]


def test_a_count_meter_needs_no_value() -> None:
    errors = InputCollector()
    assert parse_value(None, needed=False, path=("payload", "value"), errors=errors) is None
    assert errors.errors == []


@pytest.mark.parametrize(
    ("offset", "ok"),
    [
        (-EVENT_PAST_SECONDS, True),
        (-EVENT_PAST_SECONDS - 1, False),
        (EVENT_FUTURE_SECONDS, True),
        (EVENT_FUTURE_SECONDS + 1, False),
    ],
)
def test_events_are_stamped_within_35_days_back_and_5_minutes_ahead(offset: int, ok: bool) -> None:
    errors = InputCollector()
    check_event_time(1_000_000_000, 1_000_000_000 + offset, ("timestamp",), errors)
    assert (errors.errors == []) is ok


def test_meters_move_between_active_and_inactive_only() -> None:
    assert meter_transition("active", MeterMove.DEACTIVATE) == MeterStatus.INACTIVE
    assert meter_transition("inactive", MeterMove.REACTIVATE) == MeterStatus.ACTIVE
    for status, move in (("active", MeterMove.REACTIVATE), ("inactive", MeterMove.DEACTIVATE)):
        with pytest.raises(InvalidTransition):
            meter_transition(status, move)
