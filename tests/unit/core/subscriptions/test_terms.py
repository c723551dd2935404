"""core.subscriptions.terms: trials, anchors, partial periods and their proration, cancel_at, paused collection."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bulkbill.core.errors import InputCollector, InvalidTransition
from bulkbill.core.subscriptions.rules import (
    Cadence,
    DraftTiming,
    EventKind,
    Interval,
    SubscriptionTiming,
    next_event,
)
from bulkbill.core.subscriptions.terms import (
    TRANSITIONS,
    AnchorConfig,
    Move,
    PauseBehavior,
    Period,
    anchor_from_config,
    cycle_boundary,
    index_at,
    pause_in_effect,
    period_from,
    prorated_amount,
    transition,
    trial_end_move,
    trial_end_of,
)

MONTH = Cadence(Interval.MONTH)
WEEK = Cadence(Interval.WEEK)
DAY = 86400


def at(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp())


def paths(errors: InputCollector) -> list[str]:
    return ["/".join(map(str, e.path)) for e in errors.errors]


class TestTransitions:
    def test_every_status_but_canceled_can_be_canceled_and_canceled_is_final(self) -> None:
        for status in ("trialing", "active", "paused"):
            assert transition(status, Move.CANCEL) == "canceled"
        assert not [key for key in TRANSITIONS if key[0] == "canceled"]
        with pytest.raises(InvalidTransition):
            transition("canceled", Move.START_TRIAL)

    def test_only_a_trial_ends_or_pauses(self) -> None:
        assert transition("trialing", Move.END_TRIAL) == "active"
        assert transition("trialing", Move.PAUSE) == "paused"
        for move in (Move.END_TRIAL, Move.PAUSE):
            with pytest.raises(InvalidTransition):
                transition("active", move)

    @pytest.mark.parametrize(
        ("behavior", "method", "move"),
        [
            ("create_invoice", "charge_automatically", Move.END_TRIAL),
            ("cancel", "charge_automatically", Move.CANCEL),
            ("pause", "charge_automatically", Move.PAUSE),
            ("cancel", "send_invoice", Move.END_TRIAL),
            ("pause", "send_invoice", Move.END_TRIAL),
        ],
    )
    def test_a_trial_end_without_a_payment_method(self, behavior: str, method: str, move: Move) -> None:
        assert trial_end_move(behavior, method) == move


class TestTrialEnd:
    def test_days_or_a_time_or_none(self) -> None:
        now, errors = at(2025, 1, 1), InputCollector()

        def trial(end: int | str | None, days: int | None) -> int | None:
            return trial_end_of(now, trial_end=end, trial_period_days=days, trial_from_plan=None, errors=errors)

        assert trial(None, 14) == now + 14 * DAY
        assert trial(now + 5, None) == now + 5
        assert trial("now", None) is None
        assert trial(None, 0) is None
        assert errors.errors == []

    def test_refusals_name_the_parameter(self) -> None:
        now = at(2025, 1, 1)
        for trial_end, days, from_plan, named in [
            (now + 5, 3, None, "trial_period_days"),
            (now, None, None, "trial_end"),
            (now + 731 * DAY, None, None, "trial_end"),
            (None, 3, True, "trial_from_plan"),
        ]:
            errors = InputCollector()
            trial_end_of(now, trial_end=trial_end, trial_period_days=days, trial_from_plan=from_plan, errors=errors)
            assert paths(errors) == [named]


class TestPeriods:
    def test_before_the_anchor_a_period_runs_to_it_prorated(self) -> None:
        assert period_from(at(2025, 1, 15), at(2025, 2, 1), MONTH) == Period(at(2025, 1, 15), at(2025, 2, 1), True)

    def test_on_the_cycle_a_period_is_full(self) -> None:
        anchor = at(2025, 1, 31)
        assert period_from(at(2025, 2, 28), anchor, MONTH) == Period(at(2025, 2, 28), at(2025, 3, 31), False)

    def test_cancel_at_cuts_the_period(self) -> None:
        cut = period_from(at(2025, 2, 1), at(2025, 1, 1), MONTH, cancel_at=at(2025, 2, 15))
        assert cut == Period(at(2025, 2, 1), at(2025, 2, 15), True)

    def test_a_configured_day_of_month_does_not_drift_after_a_short_month(self) -> None:
        anchor = at(2025, 2, 28)  # from day_of_month=31 in February
        assert cycle_boundary(anchor, MONTH, 1) == at(2025, 3, 28)
        assert cycle_boundary(anchor, MONTH, 1, day_of_month=31) == at(2025, 3, 31)
        assert index_at(anchor, MONTH, at(2025, 3, 30), 31) == 0
        assert index_at(anchor, MONTH, at(2025, 3, 31), 31) == 1
        assert index_at(anchor, WEEK, anchor - 1) == -1

    def test_proration_is_the_share_of_one_interval_from_the_start(self) -> None:
        # Stripe's backdating example: Feb 15 to Mar 1 of a month Feb 15 to Mar 15 is exactly half
        assert prorated_amount(1500, Period(at(2025, 2, 15), at(2025, 3, 1), True), MONTH) == 750
        # Jan 15 to Feb 1 of a 31-day month: 17/31 of 1000 = 548.39
        assert prorated_amount(1000, Period(at(2025, 1, 15), at(2025, 2, 1), True), MONTH) == 548
        assert prorated_amount(1000, Period(at(2025, 1, 1), at(2025, 2, 1), False), MONTH) == 1000


class TestAnchorConfig:
    def test_the_next_such_day_clamped_and_at_the_start_time_unless_given(self) -> None:
        errors = InputCollector()
        start = at(2025, 1, 15, hour=9)
        assert anchor_from_config(start, AnchorConfig(31), MONTH, errors) == at(2025, 1, 31, hour=9)
        assert anchor_from_config(at(2025, 2, 1), AnchorConfig(31, hour=0), MONTH, errors) == at(2025, 2, 28)
        assert anchor_from_config(start, AnchorConfig(1, hour=0), MONTH, errors) == at(2025, 2, 1)
        yearly = Cadence(Interval.YEAR)
        assert anchor_from_config(start, AnchorConfig(1, hour=0, month=1), yearly, errors) == at(2026, 1, 1)
        assert errors.errors == []

    def test_weekly_prices_and_a_month_on_monthly_prices_are_refused(self) -> None:
        errors = InputCollector()
        assert anchor_from_config(at(2025, 1, 1), AnchorConfig(1), WEEK, errors) is None
        assert anchor_from_config(at(2025, 1, 1), AnchorConfig(1, month=2), MONTH, errors) is None
        assert paths(errors) == ["billing_cycle_anchor_config", "billing_cycle_anchor_config/month"]


class TestWhatFallsDue:
    def test_cancel_at_ends_before_the_period_renews(self) -> None:
        sub = SubscriptionTiming("s", "active", at(2025, 2, 15), cancel_at=at(2025, 2, 15))
        event = next_event([sub], [], at(2025, 3, 1))
        assert event is not None and (event.kind, event.at) == (EventKind.END, at(2025, 2, 15))

    def test_a_trial_ends_and_collection_resumes(self) -> None:
        trial = SubscriptionTiming("t", "trialing", at(2025, 1, 15))
        paused = SubscriptionTiming("p", "active", at(2025, 3, 1), resumes_at=at(2025, 1, 10))
        event = next_event([trial, paused], [DraftTiming("d", at(2025, 1, 20))], at(2025, 1, 31))
        assert event is not None and (event.kind, event.target) == (EventKind.RESUME, "p")
        event = next_event([trial], [], at(2025, 1, 31))
        assert event is not None and (event.kind, event.at) == (EventKind.TRIAL_END, at(2025, 1, 15))
        assert next_event([SubscriptionTiming("x", "paused", at(2025, 1, 15))], [], at(2025, 3, 1)) is None

    def test_paused_collection_until_resumes_at(self) -> None:
        pause: dict[str, int | str | None] = {"behavior": "void", "resumes_at": at(2025, 2, 1)}
        assert pause_in_effect(pause, at(2025, 1, 31)) == PauseBehavior.VOID
        assert pause_in_effect(pause, at(2025, 2, 1)) is None
        assert pause_in_effect({"behavior": "keep_as_draft", "resumes_at": None}, at(2030, 1, 1)) is not None
        assert pause_in_effect(None, at(2025, 1, 1)) is None
