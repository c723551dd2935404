"""Subscription schedules: phases that change a subscription at set times, then release or cancel it.

Pure rules over unix seconds (UTC), Stripe's semantics as its documentation states them:
* A schedule's phases run back to back from its start: each ends at its `end_date`, after its
  `duration` (n intervals), or after `iterations` billing periods of its prices (one when none is given).
* The schedule is `not_started` until its first phase starts; then it creates its subscription and is
  `active`; at each phase boundary the subscription takes the next phase's items and settings; when the
  last phase ends, `end_behavior` releases the subscription (it goes on alone: `released`) or cancels it
  (`completed`). `cancel` and `release` end a schedule early. The moves are TRANSITIONS below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bulkbill.core.errors import ErrorCode, InputCollector, InvalidTransition, Path
from bulkbill.core.subscriptions.rules import Cadence, Interval, boundary


class ScheduleStatus(StrEnum):
    NOT_STARTED = "not_started"
    ACTIVE = "active"
    COMPLETED = "completed"  # the last phase ended and end_behavior canceled the subscription
    RELEASED = "released"  # released on request, or the last phase ended with end_behavior release
    CANCELED = "canceled"  # canceled on request (its subscription with it)


class ScheduleMove(StrEnum):
    START = "start"  # the first phase starts: the subscription is created
    COMPLETE = "complete"  # the last phase ends with end_behavior cancel
    RELEASE = "release"  # POST .../release, or the last phase ends with end_behavior release
    CANCEL = "cancel"  # POST .../cancel


class EndBehavior(StrEnum):
    RELEASE = "release"
    CANCEL = "cancel"


_S = ScheduleStatus
TRANSITIONS: dict[tuple[ScheduleStatus, ScheduleMove], ScheduleStatus] = {
    (_S.NOT_STARTED, ScheduleMove.START): _S.ACTIVE,
    (_S.NOT_STARTED, ScheduleMove.RELEASE): _S.RELEASED,
    (_S.NOT_STARTED, ScheduleMove.CANCEL): _S.CANCELED,
    (_S.ACTIVE, ScheduleMove.COMPLETE): _S.COMPLETED,
    (_S.ACTIVE, ScheduleMove.RELEASE): _S.RELEASED,
    (_S.ACTIVE, ScheduleMove.CANCEL): _S.CANCELED,
}
# A schedule that ended takes no more changes (Stripe: only not_started and active schedules are updatable).
LIVE = frozenset({_S.NOT_STARTED, _S.ACTIVE})


def schedule_transition(status: str, move: ScheduleMove) -> ScheduleStatus:
    """The status a move leads to from `status`, or InvalidTransition when the table has no such move."""
    target = TRANSITIONS.get((ScheduleStatus(status), move))
    if target is None:
        raise InvalidTransition(
            f"You cannot {move.value} this subscription schedule because it has a status of {status}."
        )
    return target


def ensure_live(status: str) -> None:
    """Only a not_started or active schedule can be updated."""
    if ScheduleStatus(status) not in LIVE:
        raise InvalidTransition(
            f"You cannot update a subscription schedule that is currently in the `{status}` status. "
            "It must be in one of the following statuses: `not_started`, `active`."
        )


# --- phase timing ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhaseLength:
    """How a phase says when it ends; at most one of the three (none: one billing period)."""

    start_date: int | None = None  # given on update only; must be where the phase starts
    end_date: int | None = None
    duration: tuple[Interval, int] | None = None
    iterations: int | None = None
    trial_end: int | None = None
    trial: bool = False


def phase_dates(
    start: int, lengths: Sequence[PhaseLength], cadences: Sequence[Cadence | None], errors: InputCollector
) -> list[tuple[int, int]]:
    """Each phase's (start, end): back to back from `start`, ending at end_date, after duration or iterations."""
    dates: list[tuple[int, int]] = []
    at = start
    for i, (length, cadence) in enumerate(zip(lengths, cadences, strict=True)):
        path: Path = ("phases", i)
        if length.start_date is not None and length.start_date != at:
            errors.add(
                (*path, "start_date"),
                ErrorCode.INVALID_VALUE,
                f"Phase {i} must start when the phase before it ends ({at}), not at {length.start_date}.",
            )
        given = [n for n, v in (("end_date", length.end_date), ("duration", length.duration)) if v is not None]
        if length.iterations is not None:
            given.append("iterations")
        if len(given) > 1:
            errors.add(
                (*path, given[1]),
                ErrorCode.PARAMETERS_EXCLUSIVE,
                f"You may only specify one of these parameters: {', '.join(given)}.",
            )
        if length.end_date is not None:
            end = length.end_date
        elif length.duration is not None:
            end = boundary(at, Cadence(*length.duration), 1)
        else:
            end = boundary(at, cadence, length.iterations or 1) if cadence is not None else at
        if end <= at:
            errors.add(
                (*path, "end_date"),
                ErrorCode.INVALID_VALUE,
                f"Phase {i} must end after it starts ({at}); its end_date is {end}.",
            )
        trial_end = length.trial_end
        if trial_end is not None and not at < trial_end <= end:
            errors.add(
                (*path, "trial_end"),
                ErrorCode.INVALID_VALUE,
                f"A phase's trial_end must fall within the phase ({at} to {end}).",
            )
        if length.trial and trial_end is not None:
            errors.add(
                (*path, "trial"),
                ErrorCode.PARAMETERS_EXCLUSIVE,
                "You may only specify one of these parameters: trial, trial_end.",
            )
        dates.append((at, end))
        at = end
    return dates


# --- what falls due --------------------------------------------------------------------------


class StepKind(StrEnum):
    START = "start"  # the first phase starts: create the subscription
    NEXT_PHASE = "next_phase"  # a phase boundary: the subscription takes the next phase
    END = "end"  # the last phase ended: end_behavior


@dataclass(frozen=True, slots=True)
class ScheduleStep:
    kind: StepKind
    at: int
    phase: int  # the phase that starts (START, NEXT_PHASE) or ends (END)


def next_step(status: str, dates: Sequence[tuple[int, int]], current: int, until: int) -> ScheduleStep | None:
    """The schedule's next move due by `until`: its start, the next phase's start, or the last phase's end."""
    if not dates:
        return None
    step: ScheduleStep | None = None
    if status == ScheduleStatus.NOT_STARTED:
        step = ScheduleStep(StepKind.START, dates[0][0], 0)
    elif status == ScheduleStatus.ACTIVE and current + 1 < len(dates):
        step = ScheduleStep(StepKind.NEXT_PHASE, dates[current + 1][0], current + 1)
    elif status == ScheduleStatus.ACTIVE:
        step = ScheduleStep(StepKind.END, dates[-1][1], current)
    return step if step is not None and step.at <= until else None


def end_move(behavior: str) -> ScheduleMove:
    """The last phase's end releases the subscription or cancels it (the schedule then is completed)."""
    return ScheduleMove.COMPLETE if behavior == EndBehavior.CANCEL else ScheduleMove.RELEASE
