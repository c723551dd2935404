"""Core rules of accounting periods: closed periods refuse dates in them, transitions, overlaps, due dates."""

from __future__ import annotations

import datetime as dt

import pytest

from bulkbill.core.accounting.periods import (
    PeriodAction,
    PeriodSpan,
    PeriodStatus,
    check_date_open,
    check_new_period,
    ensure_date_open,
    ensure_period_transition,
)
from bulkbill.core.customers.terms import due_date_for
from bulkbill.core.errors import InputCollector, InvalidStateError, RuleViolation

D = dt.date
JULY = PeriodSpan("Jul", D(2024, 7, 1), D(2024, 7, 31), PeriodStatus.CLOSED)


class TestAccounting:
    @pytest.mark.parametrize(
        ("day", "closed"),
        [(D(2024, 6, 30), False), (D(2024, 7, 1), True), (D(2024, 7, 31), True), (D(2024, 8, 1), False)],
    )
    def test_closed_period_bounds_are_inclusive(self, day: dt.date, closed: bool) -> None:
        errors = InputCollector()
        check_date_open(day, [JULY], ("invoiceDate",), errors)
        assert bool(errors.errors) is closed
        if closed:
            with pytest.raises(RuleViolation):
                ensure_date_open(day, [JULY])
        else:
            ensure_date_open(day, [JULY])

    def test_open_periods_forbid_nothing(self) -> None:
        ensure_date_open(D(2024, 7, 15), [PeriodSpan("Jul", D(2024, 7, 1), D(2024, 7, 31))])

    def test_transitions(self) -> None:
        assert ensure_period_transition(PeriodAction.CLOSE, "Open") == PeriodStatus.CLOSED
        assert ensure_period_transition(PeriodAction.REOPEN, "Closed") == PeriodStatus.OPEN
        for action, status in ((PeriodAction.CLOSE, "Closed"), (PeriodAction.REOPEN, "Open")):
            with pytest.raises(InvalidStateError):
                ensure_period_transition(action, status)

    def test_new_periods(self) -> None:
        errors = InputCollector()
        check_new_period("Jul", D(2024, 8, 1), D(2024, 8, 31), [JULY], errors)
        check_new_period("Q3", D(2024, 7, 31), D(2024, 9, 30), [JULY], errors)
        check_new_period("bad", D(2024, 9, 2), D(2024, 9, 1), [JULY], errors)
        assert [e.code for e in errors.errors] == ["duplicate", "overlap", "invalid_value"]

    def test_due_dates(self) -> None:
        assert due_date_for(D(2024, 7, 11), "Net 30") == D(2024, 8, 10)
        assert due_date_for(D(2024, 7, 11), None) == D(2024, 7, 11)
