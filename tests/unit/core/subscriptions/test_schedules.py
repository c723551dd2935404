"""The schedule rules of the core: the status moves, phase timing, and what falls due when."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bulkbill.core.errors import ErrorCode, InputCollector, InvalidTransition
from bulkbill.core.subscriptions.rules import Cadence, Interval
from bulkbill.core.subscriptions.schedules import (
    TRANSITIONS,
    PhaseLength,
    ScheduleMove,
    ScheduleStatus,
    StepKind,
    end_move,
    ensure_live,
    next_step,
    phase_dates,
    schedule_transition,
)


def at(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, tzinfo=UTC).timestamp())


MONTHLY = Cadence(Interval.MONTH)
JAN31 = at(2025, 1, 31)


@pytest.mark.parametrize("status", list(ScheduleStatus))
@pytest.mark.parametrize("move", list(ScheduleMove))
def test_every_move_is_in_the_table_or_refused(status: ScheduleStatus, move: ScheduleMove) -> None:
    target = TRANSITIONS.get((status, move))
    if target is None:
        with pytest.raises(InvalidTransition, match=status.value):
            schedule_transition(status.value, move)
    else:
        assert schedule_transition(status.value, move) == target


def test_only_not_started_and_active_schedules_move_or_change() -> None:
    movable = {status for status, _ in TRANSITIONS}
    assert movable == {ScheduleStatus.NOT_STARTED, ScheduleStatus.ACTIVE}
    for status in ScheduleStatus:
        if status in movable:
            ensure_live(status.value)
        else:
            with pytest.raises(InvalidTransition):
                ensure_live(status.value)


def test_the_last_phase_releases_or_completes() -> None:
    assert end_move("release") == ScheduleMove.RELEASE
    assert end_move("cancel") == ScheduleMove.COMPLETE


def test_phases_run_back_to_back_by_end_date_duration_or_iterations_counted_from_their_start() -> None:
    errors = InputCollector()
    lengths = [
        PhaseLength(),  # one period of its price
        PhaseLength(duration=(Interval.WEEK, 2)),
        PhaseLength(iterations=2),
        PhaseLength(end_date=at(2025, 12, 1)),
    ]
    dates = phase_dates(JAN31, lengths, [MONTHLY] * 4, errors)
    assert not errors.errors
    feb28 = at(2025, 2, 28)  # month ends do not drift past the month
    mar14 = feb28 + 14 * 86400
    assert dates == [(JAN31, feb28), (feb28, mar14), (mar14, at(2025, 5, 14)), (at(2025, 5, 14), at(2025, 12, 1))]


@pytest.mark.parametrize(
    ("length", "path", "code"),
    [
        (PhaseLength(end_date=JAN31), ("phases", 0, "end_date"), ErrorCode.INVALID_VALUE),
        (
            PhaseLength(end_date=at(2025, 3, 1), iterations=1),
            ("phases", 0, "iterations"),
            ErrorCode.PARAMETERS_EXCLUSIVE,
        ),
        (PhaseLength(trial_end=at(2025, 4, 1)), ("phases", 0, "trial_end"), ErrorCode.INVALID_VALUE),
        (PhaseLength(trial=True, trial_end=at(2025, 2, 10)), ("phases", 0, "trial"), ErrorCode.PARAMETERS_EXCLUSIVE),
    ],
)
def test_a_phase_that_cannot_be_placed_is_named(
    length: PhaseLength, path: tuple[str | int, ...], code: ErrorCode
) -> None:
    errors = InputCollector()
    phase_dates(JAN31, [length], [MONTHLY], errors)
    assert [(e.path, e.code) for e in errors.errors] == [(path, code)]


def test_a_later_phase_must_start_where_the_one_before_ends() -> None:
    errors = InputCollector()
    phase_dates(JAN31, [PhaseLength(), PhaseLength(start_date=at(2025, 3, 1))], [MONTHLY] * 2, errors)
    assert [e.path for e in errors.errors] == [("phases", 1, "start_date")]


def test_the_next_step_is_the_start_then_each_boundary_then_the_end_each_only_once_due() -> None:
    dates = [(10, 20), (20, 30)]
    assert next_step("not_started", dates, -1, 9) is None
    assert next_step("not_started", dates, -1, 10) == (step := next_step("not_started", dates, -1, 99))
    assert step is not None and (step.kind, step.at, step.phase) == (StepKind.START, 10, 0)
    boundary = next_step("active", dates, 0, 25)
    assert boundary is not None and (boundary.kind, boundary.at, boundary.phase) == (StepKind.NEXT_PHASE, 20, 1)
    assert next_step("active", dates, 1, 29) is None
    end = next_step("active", dates, 1, 30)
    assert end is not None and (end.kind, end.at) == (StepKind.END, 30)
    for ended in ("released", "completed", "canceled"):
        assert next_step(ended, dates, 1, 99) is None
