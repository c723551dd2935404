"""The one range of every time and date bulkbill takes, and of every time and date it derives.

Unix times (Stripe) run from 0 (1970-01-01T00:00:00Z) to 253402300799 (9999-12-31T23:59:59Z), the
last second a calendar date can show; dates (Zuora) from 1970-01-01 to 9999-12-31. A time that later
ones are counted from (an anchor: a test clock's frozen time, and so a subscription's start) is at
most 9000-01-01, so that what derives from it (the next period's end, at most three years on; a due
date, at most ten years on; a renewal draft's hour) stays inside the range. Derived dates that could
still pass it (a due date of an invoice dated 9999-12-31) stop at its end.
"""

from __future__ import annotations

import datetime as dt

MIN_TIMESTAMP = 0
MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z
MAX_ANCHOR_TIMESTAMP = 221_845_392_000  # 9000-01-01T00:00:00Z
MIN_DATE = dt.date(1970, 1, 1)
MAX_DATE = dt.date(9999, 12, 31)


def iso_time(timestamp: int) -> str:
    """A Unix time as the UTC instant it names (for messages): 253402300799 → 9999-12-31T23:59:59Z."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def timestamp_problem(value: int, *, maximum: int = MAX_TIMESTAMP) -> str | None:
    """Why a Unix time is out of the range (or of an anchor's, with `maximum`), or None when it is in."""
    if MIN_TIMESTAMP <= value <= maximum:
        return None
    return (
        f"must be a Unix time between {MIN_TIMESTAMP} ({iso_time(MIN_TIMESTAMP)}) and {maximum} ({iso_time(maximum)})"
    )


def date_problem(value: dt.date) -> str | None:
    """Why a date is out of the range, or None when it is in."""
    if MIN_DATE <= value <= MAX_DATE:
        return None
    return f"must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}"


def days_after(day: dt.date, days: int) -> dt.date:
    """The date `days` days after `day`, stopping at the range's last day (a due date never overflows)."""
    if (MAX_DATE - day).days <= days:
        return MAX_DATE
    return day + dt.timedelta(days=days)
