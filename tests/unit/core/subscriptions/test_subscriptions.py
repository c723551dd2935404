"""Subscription rules: period arithmetic, what falls due when, the draft hour, items, discounts, lines."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkbill.core.errors import InputCollector, InvalidInput, InvalidTransition
from bulkbill.core.invoicing.commands import DiscountRef, ItemKind, LineChanges
from bulkbill.core.invoicing.items import ItemOwner, TaxRateInfo, apply_changes
from bulkbill.core.metadata import CLEAR
from bulkbill.core.subscriptions.rules import (
    DRAFT_WINDOW_SECONDS,
    Cadence,
    DiscountTerm,
    DraftTiming,
    DueEvent,
    EventKind,
    Interval,
    ItemChange,
    ItemsPlan,
    ItemState,
    RecurringPrice,
    SubscriptionTiming,
    add_months,
    auto_finalizes,
    boundary,
    check_advance,
    ensure_updatable,
    finalizes_at,
    is_due,
    line_description,
    next_event,
    period,
    plan_items,
    source_id,
    split_discounts,
    subscription_line,
)
from bulkbill.core.subscriptions.terms import Move, transition
from tests.helpers.core import CUSTOMER, make_refs


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp())


MONTHLY = Cadence(Interval.MONTH)
OWNER = ItemOwner(CUSTOMER, "usd")


def price(
    price_id: str = "price_m",
    *,
    unit: str | None = "1500",
    cadence: Cadence | None = MONTHLY,
    currency: str = "usd",
    active: bool = True,
) -> RecurringPrice:
    return RecurringPrice(price_id, currency, Decimal(unit) if unit is not None else None, "prod_1", cadence, active)


class TestPeriods:
    def test_month_end_anchor_is_clamped_and_never_drifts(self) -> None:
        anchor = ts(2025, 1, 31, 9, 30)
        ends = [boundary(anchor, MONTHLY, k) for k in range(1, 5)]
        assert ends == [ts(2025, 2, 28, 9, 30), ts(2025, 3, 31, 9, 30), ts(2025, 4, 30, 9, 30), ts(2025, 5, 31, 9, 30)]

    def test_leap_day_yearly(self) -> None:
        anchor = ts(2024, 2, 29)
        yearly = Cadence(Interval.YEAR)
        assert boundary(anchor, yearly, 1) == ts(2025, 2, 28)
        assert boundary(anchor, yearly, 4) == ts(2028, 2, 29)

    def test_leap_year_february_takes_the_29th(self) -> None:
        assert add_months(ts(2024, 1, 30), 1) == ts(2024, 2, 29)
        assert add_months(ts(2023, 12, 31), 2) == ts(2024, 2, 29)

    def test_days_weeks_and_counts(self) -> None:
        anchor = ts(2025, 3, 1)
        assert boundary(anchor, Cadence(Interval.DAY, 3), 2) == ts(2025, 3, 7)
        assert boundary(anchor, Cadence(Interval.WEEK, 2), 1) == ts(2025, 3, 15)
        assert boundary(anchor, Cadence(Interval.MONTH, 3), 1) == ts(2025, 6, 1)
        assert boundary(anchor, Cadence(Interval.MONTH, 18), 1) == ts(2026, 9, 1)

    def test_periods_are_contiguous(self) -> None:
        anchor = ts(2025, 1, 31)
        for k in range(24):
            assert period(anchor, MONTHLY, k)[1] == period(anchor, MONTHLY, k + 1)[0]
        assert period(anchor, MONTHLY, 0) == (anchor, ts(2025, 2, 28))

    @settings(max_examples=200, deadline=None)
    @given(
        anchor=st.integers(min_value=ts(1971, 1, 1), max_value=ts(2090, 1, 1)),
        periods=st.integers(min_value=0, max_value=240),
        count=st.integers(min_value=1, max_value=36),
    )
    def test_month_boundary_keeps_anchor_day_or_month_end(self, anchor: int, periods: int, count: int) -> None:
        start = datetime.fromtimestamp(anchor, UTC)
        end = datetime.fromtimestamp(boundary(anchor, Cadence(Interval.MONTH, count), periods), UTC)
        months = (end.year - start.year) * 12 + end.month - start.month
        assert months == periods * count
        assert end.day == min(start.day, calendar.monthrange(end.year, end.month)[1])
        assert end.time() == start.time()


class TestDue:
    def test_due_exactly_at_period_end(self) -> None:
        assert is_due("active", 100, 100)
        assert not is_due("active", 100, 99)
        assert not is_due("canceled", 100, 200)

    def test_draft_hour(self) -> None:
        assert finalizes_at(1000) == 1000 + DRAFT_WINDOW_SECONDS == 4600
        assert auto_finalizes("draft", True, "subscription_cycle")
        assert not auto_finalizes("draft", False, "subscription_cycle")
        assert not auto_finalizes("open", True, "subscription_cycle")
        assert not auto_finalizes("draft", True, "manual")

    def test_next_event_is_the_earliest_and_finalizes_first_on_ties(self) -> None:
        subs = [SubscriptionTiming("sub_b", "active", 7200), SubscriptionTiming("sub_a", "active", 3600)]
        drafts = [DraftTiming("in_1", 0)]
        assert next_event(subs, drafts, 10_000) == DueEvent(EventKind.FINALIZE, 3600, "in_1")
        assert next_event(subs, [], 10_000) == DueEvent(EventKind.RENEW, 3600, "sub_a")
        assert next_event(subs, [], 3599) is None

    def test_cancel_at_period_end_ends_instead_of_renewing(self) -> None:
        subs = [SubscriptionTiming("sub_a", "active", 3600, cancel_at_period_end=True)]
        assert next_event(subs, [], 3600) == DueEvent(EventKind.END, 3600, "sub_a")

    def test_draft_not_due_before_its_hour(self) -> None:
        assert next_event([], [DraftTiming("in_1", 1000)], 4599) is None
        assert next_event([], [DraftTiming("in_1", 1000)], 4600) == DueEvent(EventKind.FINALIZE, 4600, "in_1")


class TestAdvance:
    def test_forward_within_two_intervals(self) -> None:
        check_advance(ts(2025, 1, 31), ts(2025, 3, 31), [MONTHLY])
        check_advance(ts(2025, 1, 1), ts(2030, 1, 1), [])  # no subscription: no limit
        check_advance(100, 100, [MONTHLY])  # the same time again is a no-op, not an error

    def test_backwards_refused(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            check_advance(200, 100, [])
        assert caught.value.first.path == ("frozen_time",)

    def test_more_than_two_of_the_shortest_interval_refused(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            check_advance(ts(2025, 1, 1), ts(2025, 1, 16), [MONTHLY, Cadence(Interval.WEEK)])
        assert caught.value.first.path == ("frozen_time",)
        assert str(ts(2025, 1, 15)) in caught.value.first.message


class TestDiscounts:
    def test_once_repeating_forever(self) -> None:
        start = ts(2025, 1, 1)
        terms = [
            DiscountTerm("di_once", "once", None, start),
            DiscountTerm("di_rep", "repeating", 2, start),
            DiscountTerm("di_ever", "forever", None, start),
        ]
        first = split_discounts(terms, start)
        assert first.applied == ("di_once", "di_rep", "di_ever")
        assert first.kept == ("di_rep", "di_ever")
        assert split_discounts(terms, ts(2025, 2, 28)).applied == ("di_once", "di_rep", "di_ever")
        later = split_discounts(terms, ts(2025, 3, 1))
        assert later.applied == ("di_once", "di_ever") and later.kept == ("di_ever",)


class TestItems:
    def plan(
        self,
        changes: list[ItemChange],
        *,
        current: list[ItemState] | None = None,
        currency: str | None = None,
        cadence: Cadence | None = None,
    ) -> ItemsPlan:
        prices = {
            p.id: p
            for p in (
                price(),
                price("price_m2", unit="500"),
                price("price_once", cadence=None),
                price("price_off", active=False),
                price("price_eur", currency="eur"),
                price("price_y", cadence=Cadence(Interval.YEAR)),
                price("price_tiered", unit=None),
            )
        }
        errors = InputCollector()
        refs = make_refs(tax_rates=[TaxRateInfo("txr_1")])
        plan = plan_items(current or [], changes, prices, refs, OWNER, errors, currency=currency, cadence=cadence)
        errors.raise_if_any()
        assert plan is not None
        return plan

    def errors_of(
        self,
        changes: list[ItemChange],
        *,
        current: list[ItemState] | None = None,
        currency: str | None = None,
        cadence: Cadence | None = None,
    ) -> list[tuple[object, str]]:
        with pytest.raises(InvalidInput) as caught:
            self.plan(changes, current=current, currency=currency, cadence=cadence)
        return [(e.path, e.code) for e in caught.value.errors]

    def test_two_items_one_cadence(self) -> None:
        plan = self.plan([ItemChange(price="price_m", quantity=2), ItemChange(price="price_m2", tax_rates=("txr_1",))])
        assert plan.currency == "usd" and plan.cadence == MONTHLY
        items = plan.items
        assert [(i.price.id, i.quantity, i.tax_rates) for i in items] == [
            ("price_m", 2, None),
            ("price_m2", 1, ("txr_1",)),
        ]

    def test_every_problem_reported_with_its_item_path(self) -> None:
        problems = self.errors_of(
            [
                ItemChange(price="price_m"),
                ItemChange(price="price_once"),
                ItemChange(price="price_off"),
                ItemChange(price="price_nope"),
                ItemChange(price="price_tiered"),
                ItemChange(quantity=1),
                ItemChange(price="price_m2", quantity=-1, tax_rates=("txr_gone",)),
            ]
        )
        assert problems == [
            (("items", 1, "price"), "price_not_recurring"),
            (("items", 2, "price"), "price_inactive"),
            (("items", 3, "price"), "resource_missing"),
            (("items", 4, "price"), "price_unsupported"),
            (("items", 5, "price"), "parameter_missing"),
            (("items", 6, "quantity"), "invalid_quantity"),
            (("items", 6, "tax_rates", 0), "resource_missing"),
        ]

    def test_one_currency_one_cadence_distinct_prices(self) -> None:
        problems = self.errors_of(
            [ItemChange(price="price_m"), ItemChange(price="price_eur"), ItemChange(price="price_y")]
        )
        assert problems == [(("items", 1, "price"), "currency_mismatch"), (("items", 2, "price"), "interval_mismatch")]
        assert self.errors_of([ItemChange(price="price_m"), ItemChange(price="price_m")]) == [
            (("items", 1, "price"), "duplicate_price")
        ]

    def test_every_item_may_move_to_another_billing_period_but_not_some(self) -> None:
        current = [ItemState("si_1", "price_m", 1, None, ())]
        plan = self.plan([ItemChange(id="si_1", price="price_y")], current=current, cadence=MONTHLY)
        assert plan.cadence == Cadence(Interval.YEAR) and [i.price.id for i in plan.items] == ["price_y"]
        # A new yearly item beside the monthly one would mix periods: refused where it is named.
        assert self.errors_of([ItemChange(price="price_y")], current=current, cadence=MONTHLY) == [
            (("items", 0, "price"), "interval_mismatch")
        ]
        # Replacing the item keeps the subscription's period when the price has it.
        assert self.plan([ItemChange(id="si_1", price="price_m2")], current=current, cadence=MONTHLY).cadence == MONTHLY

    def test_customer_currency_wins(self) -> None:
        assert self.errors_of([ItemChange(price="price_m")], currency="eur") == [
            (("items", 0, "price"), "currency_mismatch")
        ]

    def test_update_delete_and_add(self) -> None:
        current = [ItemState("si_1", "price_m", 2, None, ("di_1",), {"a": "1"})]
        plan = self.plan(
            [ItemChange(id="si_1", quantity=5, metadata={"b": "2"}), ItemChange(price="price_m2")], current=current
        )
        items = plan.items
        assert items[0].id == "si_1" and items[0].quantity == 5 and items[0].metadata == {"a": "1", "b": "2"}
        assert items[0].discounts == (DiscountRef(discount="di_1"),)
        assert items[1].id is None and items[1].price.id == "price_m2"
        plan = self.plan([ItemChange(id="si_1", deleted=True), ItemChange(price="price_m2")], current=current)
        assert plan.deleted == ("si_1",) and [i.price.id for i in plan.items] == ["price_m2"]

    def test_unknown_or_repeated_item_id_and_emptying(self) -> None:
        current = [ItemState("si_1", "price_m", 1, None, ())]
        assert self.errors_of([ItemChange(id="si_x", quantity=1)], current=current) == [
            (("items", 0, "id"), "resource_missing")
        ]
        assert self.errors_of(
            [ItemChange(id="si_1", quantity=1), ItemChange(id="si_1", quantity=2)], current=current
        ) == [(("items", 1, "id"), "resource_missing")]
        assert self.errors_of([ItemChange(id="si_1", deleted=True)], current=current) == [
            (("items",), "parameter_missing")
        ]

    def test_tax_rates_cleared(self) -> None:
        current = [ItemState("si_1", "price_m", 1, ("txr_1",), ())]
        plan = self.plan([ItemChange(id="si_1", tax_rates=CLEAR)], current=current)
        assert plan.items[0].tax_rates is None


class TestTooMany:
    def test_twenty_one_items(self) -> None:
        prices = {f"p{i}": price(f"p{i}") for i in range(21)}
        errors = InputCollector()
        plan_items(
            [], [ItemChange(price=f"p{i}") for i in range(21)], prices, make_refs(), OWNER, errors, currency=None
        )
        assert [(e.path, e.code) for e in errors.errors] == [(("items",), "too_many_items")]


class TestLines:
    def test_amount_is_unit_times_quantity_rounded_once(self) -> None:
        values = subscription_line(
            currency="usd",
            price=price(unit="12.5"),
            quantity=3,
            bills=(100, 200),
            description="3 × Seat",
            tax_rates=None,
            discounts=("di_1",),
            metadata={"plan": "pro"},
        )
        assert values.kind == ItemKind.SUBSCRIPTION
        assert (values.amount, values.quantity, values.period) == (38, Decimal(3), (100, 200))
        assert values.discounts == (DiscountRef(discount="di_1"),) and values.metadata == {"plan": "pro"}

    def test_subscription_lines_take_only_tax_rates_discounts_metadata(self) -> None:
        base = subscription_line(
            currency="usd",
            price=price(),
            quantity=1,
            bills=(100, 200),
            description="1 × Seat",
            tax_rates=None,
            discounts=(),
            metadata={"k": "v"},
        )
        refs = make_refs(tax_rates=[TaxRateInfo("txr_1")])
        errors = InputCollector()
        changed = apply_changes(
            base,
            OWNER,
            LineChanges(given=frozenset({"tax_rates", "metadata"}), tax_rates=("txr_1",), metadata={"n": "1"}),
            refs,
            ("lines", 0),
            errors,
        )
        assert not errors.errors and changed.tax_rates == ("txr_1",) and changed.metadata == {"n": "1"}
        apply_changes(base, OWNER, LineChanges(given=frozenset({"amount"}), amount=1), refs, ("lines", 0), errors)
        assert [(e.path, e.code) for e in errors.errors] == [(("lines", 0, "amount"), "field_not_editable")]

    def test_description_reads_like_stripe(self) -> None:
        assert line_description(2, "Seat", Decimal(1500), "usd", MONTHLY) == "2 × Seat (at $15.00 / month)"
        assert (
            line_description(1, "Plan", Decimal(500), "jpy", Cadence(Interval.MONTH, 3))
            == "1 × Plan (at ¥500 every 3 months)"
        )

    def test_source_id_names_item_and_period(self) -> None:
        assert source_id("si_1", 1700000000) == "si_1:1700000000"


class TestLifecycle:
    def test_canceled_takes_metadata_only(self) -> None:
        ensure_updatable("active", frozenset({"items", "metadata"}))
        ensure_updatable("canceled", frozenset({"metadata"}))
        with pytest.raises(InvalidTransition):
            ensure_updatable("canceled", frozenset({"items"}))

    def test_cancel_once(self) -> None:
        assert transition("active", Move.CANCEL) == "canceled"
        assert transition("trialing", Move.CANCEL) == "canceled"
        with pytest.raises(InvalidTransition):
            transition("canceled", Move.CANCEL)
