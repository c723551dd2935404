"""The one range of times and dates (core.time_range)."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest

from bulkbill.core.time_range import (
    MAX_ANCHOR_TIMESTAMP,
    MAX_DATE,
    MAX_TIMESTAMP,
    MIN_DATE,
    date_problem,
    days_after,
    timestamp_problem,
)


def test_the_bounds_are_the_instants_they_name() -> None:
    assert calendar.timegm(dt.datetime(9999, 12, 31, 23, 59, 59).timetuple()) == MAX_TIMESTAMP
    assert calendar.timegm(dt.date(9000, 1, 1).timetuple()) == MAX_ANCHOR_TIMESTAMP
    assert dt.datetime.fromtimestamp(MAX_TIMESTAMP, dt.UTC).date() == MAX_DATE


@pytest.mark.parametrize(("value", "ok"), [(-1, False), (0, True), (MAX_TIMESTAMP, True), (MAX_TIMESTAMP + 1, False)])
def test_timestamps(value: int, ok: bool) -> None:
    assert (timestamp_problem(value) is None) == ok


def test_anchors_stop_earlier() -> None:
    assert timestamp_problem(MAX_ANCHOR_TIMESTAMP, maximum=MAX_ANCHOR_TIMESTAMP) is None
    problem = timestamp_problem(MAX_ANCHOR_TIMESTAMP + 1, maximum=MAX_ANCHOR_TIMESTAMP)
    assert problem is not None and "9000-01-01T00:00:00Z" in problem


@pytest.mark.parametrize(
    ("value", "ok"),
    [(MIN_DATE, True), (MIN_DATE - dt.timedelta(days=1), False), (MAX_DATE, True), (dt.date.min, False)],
)
def test_dates(value: dt.date, ok: bool) -> None:
    assert (date_problem(value) is None) == ok


@pytest.mark.parametrize(
    ("day", "days", "expected"),
    [
        (dt.date(2024, 1, 31), 30, dt.date(2024, 3, 1)),
        (dt.date(9999, 12, 1), 30, MAX_DATE),
        (dt.date(9999, 12, 1), 29, dt.date(9999, 12, 30)),
        (MAX_DATE, 10**9, MAX_DATE),
        (MAX_DATE, 0, MAX_DATE),
    ],
)
def test_days_after_stops_at_the_last_day(day: dt.date, days: int, expected: dt.date) -> None:
    assert days_after(day, days) == expected
