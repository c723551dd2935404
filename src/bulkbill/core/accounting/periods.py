"""Accounting periods: named date ranges that can be closed, and what a closed period forbids.

A document date that falls in a closed period (start ≤ date ≤ end, both inclusive) is refused;
dates outside every period are allowed. Periods of one tenant never overlap, names are unique,
and only an open period closes, only a closed one reopens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bulkbill.core.errors import ErrorCode, InputCollector, InvalidStateError, Path, RuleViolation

CLOSED_PERIOD_MESSAGE = "The invoice date cannot be in a closed accounting period."


class PeriodStatus(StrEnum):
    OPEN = "Open"
    CLOSED = "Closed"


class PeriodAction(StrEnum):
    CLOSE = "close"
    REOPEN = "reopen"


_ALLOWED_FROM = {PeriodAction.CLOSE: PeriodStatus.OPEN, PeriodAction.REOPEN: PeriodStatus.CLOSED}


@dataclass(frozen=True, slots=True)
class PeriodSpan:
    """One period as the rules see it."""

    name: str
    start: dt.date
    end: dt.date
    status: PeriodStatus = PeriodStatus.OPEN

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def check_new_period(
    name: str, start: dt.date, end: dt.date, existing: Iterable[PeriodSpan], errors: InputCollector
) -> None:
    """A period ends on or after its start, has a unique name and overlaps no other period."""
    if end < start:
        errors.add(("endDate",), ErrorCode.INVALID_VALUE, "The end date must be on or after the start date.")
        return
    for other in existing:
        if other.name == name:
            errors.add(("name",), ErrorCode.DUPLICATE, f"Accounting period name must be unique: {name!r} exists.")
        if other.start <= end and start <= other.end:
            errors.add(
                ("startDate",),
                ErrorCode.OVERLAP,
                f"The period overlaps the accounting period {other.name!r} "
                f"({other.start.isoformat()} to {other.end.isoformat()}).",
            )


def ensure_period_transition(action: PeriodAction, status: str) -> PeriodStatus:
    """Only an open period can be closed and only a closed one reopened; returns the new status."""
    if status != _ALLOWED_FROM[action]:
        raise InvalidStateError(
            f"Only accounting periods with {_ALLOWED_FROM[action].value} status can be {action.value}d; "
            f"this period is {status}."
        )
    return PeriodStatus.CLOSED if action == PeriodAction.CLOSE else PeriodStatus.OPEN


def closed_period_of(day: dt.date, periods: Iterable[PeriodSpan]) -> PeriodSpan | None:
    """The closed period a date falls in, if any."""
    return next((p for p in periods if p.status == PeriodStatus.CLOSED and p.contains(day)), None)


def check_date_open(day: dt.date, periods: Iterable[PeriodSpan], path: Path, errors: InputCollector) -> None:
    """An invoice date must not fall in a closed accounting period (collected form)."""
    if closed_period_of(day, periods) is not None:
        errors.add(path, ErrorCode.CLOSED_PERIOD, CLOSED_PERIOD_MESSAGE)


def ensure_date_open(day: dt.date, periods: Iterable[PeriodSpan]) -> None:
    """An invoice date must not fall in a closed accounting period."""
    if closed_period_of(day, periods) is not None:
        raise RuleViolation(CLOSED_PERIOD_MESSAGE)
