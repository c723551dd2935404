"""Subscription terms: trials, the billing cycle anchor, prorated partial periods, cancel_at, paused collection.

Pure rules over unix seconds (UTC), Stripe's semantics as its documentation states them:
* A trial makes the subscription `trialing` from its start to `trial_end`; its first invoice bills
  each item at 0 for the trial. When the trial ends the first paid period starts there, and the
  billing cycle anchor is the trial end unless one was chosen.
* The billing cycle anchor aligns every period boundary; a period that starts off the cycle (the
  time before a future anchor, a backdated start, the time up to `cancel_at`) is prorated.
* Proration (classic billing mode, one line per item): the item's full amount × the partial
  period's length / the length of one interval counted from the partial period's start — Stripe's
  "imagined interval that starts on the backdated start date" (docs: billing/subscriptions/backdating),
  rounded once, half away from zero.
* `cancel_at` ends the subscription when time reaches it; the period it falls in is billed up to it.
* `pause_collection` keeps billing but changes what happens to invoices made while it lasts.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from bulkbill.core.errors import ErrorCode, InputCollector, InvalidTransition
from bulkbill.core.money import round_half_up
from bulkbill.core.subscriptions.rules import DAY, Cadence, Interval, SubscriptionStatus, boundary

# Stripe caps a trial at two years from now.
MAX_TRIAL_DAYS = 730


# --- status transitions ----------------------------------------------------------------------


class Move(StrEnum):
    START_TRIAL = "start_trial"  # trial_end set on update: trialing until then
    END_TRIAL = "end_trial"  # the trial is over and its first paid period is invoiced
    PAUSE = "pause"  # the trial is over, no payment method, end behavior `pause`
    CANCEL = "cancel"  # now, at cancel_at, at period end, or at trial end with end behavior `cancel`
    RESUME = "resume"  # POST /v1/subscriptions/{id}/resume: a paused subscription bills again
    PAUSE_REQUEST = "pause_request"  # POST /v1/subscriptions/{id}/pause (flexible billing mode): no invoices


_S = SubscriptionStatus
TRANSITIONS: dict[tuple[SubscriptionStatus, Move], SubscriptionStatus] = {
    (_S.ACTIVE, Move.START_TRIAL): _S.TRIALING,
    (_S.TRIALING, Move.START_TRIAL): _S.TRIALING,
    (_S.TRIALING, Move.END_TRIAL): _S.ACTIVE,
    (_S.TRIALING, Move.PAUSE): _S.PAUSED,
    (_S.TRIALING, Move.CANCEL): _S.CANCELED,
    (_S.ACTIVE, Move.CANCEL): _S.CANCELED,
    (_S.PAUSED, Move.CANCEL): _S.CANCELED,
    (_S.PAUSED, Move.RESUME): _S.ACTIVE,
    (_S.ACTIVE, Move.PAUSE_REQUEST): _S.PAUSED,
}


def transition(status: str, move: Move) -> SubscriptionStatus:
    """The status a move leads to from `status`, or InvalidTransition when the table has no such move."""
    target = TRANSITIONS.get((SubscriptionStatus(status), move))
    if target is None:
        if status == _S.CANCELED:
            raise InvalidTransition("This subscription has already been canceled.")
        if move == Move.RESUME:
            raise InvalidTransition(f"Only a paused subscription can be resumed; this subscription is {status}.")
        if move == Move.PAUSE_REQUEST:
            raise InvalidTransition(f"Only an active subscription can be paused; this subscription is {status}.")
        raise InvalidTransition(f"A {status} subscription cannot {move.value.replace('_', ' ')}.")
    return target


class MissingPaymentMethod(StrEnum):
    CANCEL = "cancel"
    CREATE_INVOICE = "create_invoice"
    PAUSE = "pause"


def trial_end_move(behavior: str, collection_method: str) -> Move:
    """What a trial's end does: bulkbill holds no payment methods, so a card-charged subscription always lacks one.

    An invoice sent for payment needs no payment method, so `send_invoice` subscriptions always go on.
    """
    if collection_method == "send_invoice" or behavior == MissingPaymentMethod.CREATE_INVOICE:
        return Move.END_TRIAL
    return Move.CANCEL if behavior == MissingPaymentMethod.CANCEL else Move.PAUSE


# --- trials ----------------------------------------------------------------------------------


NOW = "now"


def trial_end_of(
    now: int,
    *,
    trial_end: int | str | None,
    trial_period_days: int | None,
    trial_from_plan: bool | None,
    errors: InputCollector,
) -> int | None:
    """When a new subscription's trial ends (None: no trial); trial_end and trial_period_days exclude each other.

    `trial_end=now` and `trial_period_days=0` mean no trial. `trial_from_plan` takes the prices'
    trial days, and bulkbill's prices carry none (Stripe's legacy plan field), so it adds no trial.
    """
    if trial_end is not None and trial_period_days is not None:
        errors.add(
            ("trial_period_days",),
            ErrorCode.PARAMETERS_EXCLUSIVE,
            "You may only specify one of these parameters: trial_end, trial_period_days.",
        )
        return None
    if trial_from_plan and (trial_end is not None or trial_period_days is not None):
        errors.add(
            ("trial_from_plan",),
            ErrorCode.PARAMETERS_EXCLUSIVE,
            "trial_from_plan cannot be combined with trial_end or trial_period_days.",
        )
        return None
    if trial_period_days:
        return now + trial_period_days * DAY
    if trial_end is None or trial_end == NOW:
        return None
    assert isinstance(trial_end, int)
    check_trial_end(now, trial_end, errors)
    return trial_end


def check_trial_end(now: int, trial_end: int, errors: InputCollector) -> None:
    """A trial ends in the future, at most 730 days from now."""
    if trial_end <= now:
        errors.add(
            ("trial_end",),
            ErrorCode.PARAMETER_INVALID,
            f"Invalid timestamp: must be in the future (after {now}) or `now`.",
        )
    elif trial_end > now + MAX_TRIAL_DAYS * DAY:
        errors.add(
            ("trial_end",),
            ErrorCode.PARAMETER_INVALID,
            f"Invalid timestamp: a trial can end at most {MAX_TRIAL_DAYS} days from now.",
        )


# --- the billing cycle anchor ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnchorConfig:
    """billing_cycle_anchor_config: the next such day (and month, for yearly prices) at that time, UTC."""

    day_of_month: int
    hour: int | None = None
    minute: int | None = None
    second: int | None = None
    month: int | None = None


def _at(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    day = min(day, calendar.monthrange(year, month)[1])
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def anchor_from_config(start: int, config: AnchorConfig, cadence: Cadence, errors: InputCollector) -> int | None:
    """The first instant after `start` on the config's day (clamped to the month's last day) and time.

    Hour, minute and second default to the start's own (the default anchor is the start itself);
    `month` applies to yearly prices only. Only monthly and yearly prices take a config.
    """
    if cadence.interval not in (Interval.MONTH, Interval.YEAR):
        errors.add(
            ("billing_cycle_anchor_config",),
            ErrorCode.PARAMETER_INVALID,
            "billing_cycle_anchor_config is only valid with monthly and yearly price intervals.",
        )
        return None
    if config.month is not None and cadence.interval != Interval.YEAR:
        errors.add(
            ("billing_cycle_anchor_config", "month"),
            ErrorCode.PARAMETER_INVALID,
            "billing_cycle_anchor_config[month] is only valid with yearly price intervals.",
        )
        return None
    moment = datetime.fromtimestamp(start, UTC)
    hour = moment.hour if config.hour is None else config.hour
    minute = moment.minute if config.minute is None else config.minute
    second = moment.second if config.second is None else config.second
    for months_ahead in range(0, 25):
        index = moment.year * 12 + moment.month - 1 + months_ahead
        year, month = divmod(index, 12)
        if config.month is not None and month + 1 != config.month:
            continue
        candidate = _at(year, month + 1, config.day_of_month, hour, minute, second)
        if candidate > start:
            return candidate
    return None  # unreachable: some month within two years matches


def check_anchor(billing_start: int, anchor: int, cadence: Cadence, errors: InputCollector) -> None:
    """A chosen anchor lies between the start of billing and one interval later (the next natural date)."""
    natural = boundary(billing_start, cadence, 1)
    if not billing_start <= anchor <= natural:
        errors.add(
            ("billing_cycle_anchor",),
            ErrorCode.PARAMETER_INVALID,
            f"billing_cycle_anchor must be between the start of billing ({billing_start}) and the next natural "
            f"billing date ({natural}).",
        )


def index_at(anchor: int, cadence: Cadence, at: int, day_of_month: int | None = None) -> int:
    """The index of the last cycle boundary at or before `at` (negative before the anchor)."""
    if cadence.interval in (Interval.DAY, Interval.WEEK):
        length = cadence.count * DAY * (7 if cadence.interval == Interval.WEEK else 1)
        return (at - anchor) // length
    months = cadence.count * (12 if cadence.interval == Interval.YEAR else 1)
    a, t = datetime.fromtimestamp(anchor, UTC), datetime.fromtimestamp(at, UTC)
    k = ((t.year - a.year) * 12 + t.month - a.month) // months
    while cycle_boundary(anchor, cadence, k, day_of_month) > at:
        k -= 1
    while cycle_boundary(anchor, cadence, k + 1, day_of_month) <= at:
        k += 1
    return k


def cycle_boundary(anchor: int, cadence: Cadence, index: int, day_of_month: int | None = None) -> int:
    """Boundary `index` of the anchor's cycle; a configured day of month keeps month ends from drifting."""
    at = boundary(anchor, cadence, index)
    if day_of_month is None or cadence.interval in (Interval.DAY, Interval.WEEK):
        return at
    moment = datetime.fromtimestamp(at, UTC)
    day = min(day_of_month, calendar.monthrange(moment.year, moment.month)[1])
    return int(moment.replace(day=day).timestamp())


@dataclass(frozen=True, slots=True)
class Period:
    """A billing period and whether it is a partial (prorated) one."""

    start: int
    end: int
    prorated: bool


def period_from(
    start: int, anchor: int, cadence: Cadence, *, cancel_at: int | None = None, day_of_month: int | None = None
) -> Period:
    """The period that starts at `start`: up to the next cycle boundary (or cancel_at, if sooner).

    It is full when it starts on a boundary and runs to the next one; otherwise it is prorated.
    """
    if start < anchor:
        end, on_cycle = anchor, False
    else:
        k = index_at(anchor, cadence, start, day_of_month)
        end = cycle_boundary(anchor, cadence, k + 1, day_of_month)
        on_cycle = cycle_boundary(anchor, cadence, k, day_of_month) == start
    if cancel_at is not None and start < cancel_at < end:
        end, on_cycle = cancel_at, False
    return Period(start, end, not on_cycle)


def prorated_amount(full_amount: int, period: Period, cadence: Cadence) -> int:
    """A partial period's share of an item's full amount: its length over one interval from its start."""
    if not period.prorated:
        return full_amount
    whole = boundary(period.start, cadence, 1) - period.start
    return round_half_up(Decimal(full_amount) * Decimal(period.end - period.start) / Decimal(whole))


def check_backdate(now: int, backdate: int, errors: InputCollector) -> None:
    """A backdated start lies in the past."""
    if backdate > now:
        errors.add(
            ("backdate_start_date",),
            ErrorCode.PARAMETER_INVALID,
            f"backdate_start_date must be in the past (at or before {now}).",
        )


def check_cancel_at(now: int, cancel_at: int, start: int, errors: InputCollector) -> None:
    """A subscription is set to cancel at a time after its start and not in the past."""
    if cancel_at <= max(now, start):
        errors.add(
            ("cancel_at",),
            ErrorCode.PARAMETER_INVALID,
            "cancel_at must be in the future and after the subscription's start.",
        )


# --- paused collection -----------------------------------------------------------------------


class PauseBehavior(StrEnum):
    KEEP_AS_DRAFT = "keep_as_draft"
    MARK_UNCOLLECTIBLE = "mark_uncollectible"
    VOID = "void"


def pause_in_effect(pause: dict[str, int | str | None] | None, at: int) -> PauseBehavior | None:
    """The behavior for an invoice made at `at` while collection is paused (None: not paused then)."""
    if not pause:
        return None
    resumes_at = pause.get("resumes_at")
    if isinstance(resumes_at, int) and at >= resumes_at:
        return None
    return PauseBehavior(str(pause["behavior"]))


def check_resumes_at(now: int, resumes_at: int | None, errors: InputCollector) -> None:
    """Collection resumes in the future."""
    if resumes_at is not None and resumes_at <= now:
        errors.add(
            ("pause_collection", "resumes_at"),
            ErrorCode.PARAMETER_INVALID,
            "pause_collection[resumes_at] must be in the future.",
        )


def check_proration_date(proration_date: int, period_start: int, period_end: int, errors: InputCollector) -> None:
    """A proration date lies within the current period (Stripe's rule)."""
    if not period_start <= proration_date < period_end:
        errors.add(
            ("proration_date",),
            ErrorCode.PARAMETER_INVALID,
            f"proration_date must be within the current period ({period_start} to {period_end}).",
        )
