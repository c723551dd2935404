"""Subscription terms through stripe-python 16.1.0 and test clocks: trials, the billing cycle anchor, backdating,
cancel_at, paused collection, add_invoice_items, a currency option, and what is stored and rendered.

Every response is validated as in test_subscriptions.py (invoices and lines against Stripe's schemas, the
subscription against stripe-python's attributes); the terms' nested objects are checked here against the
attributes stripe-python declares for them. Proration figures are Stripe's rule written out: the item's
amount × the partial period / one interval from the partial period's start, rounded half up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import stripe

from tests.helpers.sdk import SdkTenant
from tests.sdk.stripe.test_subscriptions import billing, monthly

__all__ = ["billing"]

pytestmark = pytest.mark.sdk

DAY, HOUR = 86400, 3600


def at(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp())


def share(amount: int, part: int, whole: int) -> int:
    return int((Decimal(amount) * part / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))


NESTED = {
    "billing_cycle_anchor_config": stripe.Subscription.BillingCycleAnchorConfig,
    "billing_mode": stripe.Subscription.BillingMode,
    "billing_thresholds": stripe.Subscription.BillingThresholds,
    "invoice_settings": stripe.Subscription.InvoiceSettings,
    "pause_collection": stripe.Subscription.PauseCollection,
    "pending_invoice_item_interval": stripe.Subscription.PendingInvoiceItemInterval,
    "trial_settings": stripe.Subscription.TrialSettings,
}


def check_terms(sub: stripe.Subscription) -> None:
    """The terms' nested objects carry exactly the attributes stripe-python declares for them."""
    body = sub.to_dict()
    for name, cls in NESTED.items():
        if body[name] is not None:
            declared = {k for k in cls.__annotations__ if not k.startswith("_")}
            assert set(body[name]) == declared, (name, sorted(body[name]), sorted(declared))


class Clocked:
    """A clock, a customer in it and a monthly price: the usual start of these stories."""

    def __init__(self, sdk: SdkTenant, start: int, amount: int = 1500, **customer: Any) -> None:
        self.sdk, self.client = sdk, sdk.client
        self.clock = self.client.v1.test_helpers.test_clocks.create({"frozen_time": start})
        self.customer = self.client.v1.customers.create({"name": "Ada", "test_clock": self.clock.id, **customer})
        self.price = monthly(sdk, amount, "Seat")

    def subscribe(self, **params: Any) -> stripe.Subscription:
        sub = self.client.v1.subscriptions.create(
            {"customer": self.customer.id, "items": [{"price": self.price.id}], **params}
        )
        check_terms(sub)
        return sub

    def advance(self, to: int) -> None:
        self.client.v1.test_helpers.test_clocks.advance(self.clock.id, {"frozen_time": to})

    def sub(self, sub_id: str) -> stripe.Subscription:
        sub = self.client.v1.subscriptions.retrieve(sub_id)
        check_terms(sub)
        return sub

    def invoices(self) -> list[stripe.Invoice]:
        return sorted(self.client.v1.invoices.list({"customer": self.customer.id}).data, key=lambda i: i.created)

    def refused(self, params: dict[str, Any], sub_id: str | None = None) -> stripe.InvalidRequestError:
        before = [s.to_dict() for s in self.client.v1.subscriptions.list({"status": "all"}).data]
        invoices = len(self.invoices())
        with pytest.raises(stripe.InvalidRequestError) as caught:
            if sub_id is None:
                self.client.v1.subscriptions.create(
                    {"customer": self.customer.id, "items": [{"price": self.price.id}], **params}
                )
            else:
                self.client.v1.subscriptions.update(sub_id, params)
        assert caught.value.http_status == 400
        # nothing changed
        assert [s.to_dict() for s in self.client.v1.subscriptions.list({"status": "all"}).data] == before
        assert len(self.invoices()) == invoices
        return caught.value


class TestTrials:
    def test_a_trial_bills_nothing_then_the_first_paid_period_starts_at_its_end(self, billing: SdkTenant) -> None:
        story = Clocked(billing, at(2025, 1, 1))
        trial_end = at(2025, 1, 15)
        sub = story.subscribe(trial_period_days=14)
        assert (sub.status, sub.trial_start, sub.trial_end) == ("trialing", at(2025, 1, 1), trial_end)
        assert sub.billing_cycle_anchor == trial_end
        assert sub["items"].data[0].current_period_end == trial_end
        first = billing.client.v1.invoices.retrieve(sub.latest_invoice)
        # a $0 first invoice, paid at once, one 0 line per item covering the trial
        assert (first.billing_reason, first.total, first.status) == ("subscription_create", 0, "paid")
        (line,) = billing.lines(first.id)
        assert (line.amount, line.description) == (0, "Trial period for Seat")
        assert (line.period.start, line.period.end) == (at(2025, 1, 1), trial_end)

        story.advance(trial_end)
        sub = story.sub(sub.id)
        assert sub.status == "active"
        renewal = billing.client.v1.invoices.retrieve(sub.latest_invoice)
        assert (renewal.billing_reason, renewal.status, renewal.total) == ("subscription_cycle", "draft", 1500)
        (line,) = billing.lines(renewal.id)
        assert (line.period.start, line.period.end) == (trial_end, at(2025, 2, 15))
        story.advance(trial_end + HOUR)
        assert billing.client.v1.invoices.retrieve(renewal.id).status == "open"

    def test_trial_end_now_ends_the_trial_at_once(self, billing: SdkTenant) -> None:
        story = Clocked(billing, at(2025, 1, 1))
        sub = story.subscribe(trial_end=at(2025, 1, 20))
        sub = billing.client.v1.subscriptions.update(sub.id, {"trial_end": "now"})
        assert (sub.status, sub.trial_end, sub.billing_cycle_anchor) == ("active", at(2025, 1, 1), at(2025, 1, 1))
        invoice = billing.client.v1.invoices.retrieve(sub.latest_invoice)
        assert (invoice.billing_reason, invoice.total) == ("subscription_cycle", 1500)

    @pytest.mark.parametrize(
        ("behavior", "method", "status"),
        [
            ("cancel", "charge_automatically", "canceled"),
            ("pause", "charge_automatically", "paused"),
            ("create_invoice", "charge_automatically", "active"),
            # an invoice sent for payment needs no payment method: the trial ends as usual
            ("cancel", "send_invoice", "active"),
        ],
    )
    def test_the_end_behavior_acts_since_no_customer_has_a_payment_method(
        self, billing: SdkTenant, behavior: str, method: str, status: str
    ) -> None:
        story = Clocked(billing, at(2025, 1, 1))
        terms: dict[str, Any] = {"collection_method": method}
        if method == "send_invoice":
            terms["days_until_due"] = 30
        sub = story.subscribe(
            trial_period_days=7, trial_settings={"end_behavior": {"missing_payment_method": behavior}}, **terms
        )
        assert sub.trial_settings.end_behavior.missing_payment_method == behavior
        story.advance(at(2025, 1, 8))
        sub = story.sub(sub.id)
        assert sub.status == status
        assert len(story.invoices()) == (2 if status == "active" else 1)
        if status == "canceled":
            assert sub.ended_at == at(2025, 1, 8)
        if status == "paused":  # nothing more is billed
            story.advance(at(2025, 2, 8))
            assert len(story.invoices()) == 1

    def test_bad_trials_are_refused_naming_the_parameter(self, billing: SdkTenant) -> None:
        story = Clocked(billing, at(2025, 1, 1))
        both = story.refused({"trial_end": at(2025, 2, 1), "trial_period_days": 3})
        assert both.param == "trial_period_days"
        assert story.refused({"trial_end": at(2024, 12, 1)}).param == "trial_end"
        assert story.refused({"trial_end": at(2027, 6, 1)}).param == "trial_end"
        assert story.refused({"trial_from_plan": True, "trial_period_days": 3}).param == "trial_from_plan"
        missing = story.refused({"trial_settings": {"end_behavior": {"missing_payment_method": "shrug"}}})
        assert missing.param == "trial_settings[end_behavior][missing_payment_method]"


class TestBillingCycleAnchor:
    def test_the_first_partial_period_is_prorated_then_periods_follow_the_anchor(self, billing: SdkTenant) -> None:
        story = Clocked(billing, at(2025, 1, 15))
        sub = story.subscribe(billing_cycle_anchor=at(2025, 2, 1))
        assert sub.billing_cycle_anchor == at(2025, 2, 1)
        assert sub["items"].data[0].current_period_end == at(2025, 2, 1)
        first = billing.client.v1.invoices.retrieve(sub.latest_invoice)
        (line,) = billing.lines(first.id)
        # 17 days of an interval that runs Jan 15 to Feb 15 (31 days)
        assert line.amount == first.total == share(1500, 17 * DAY, 31 * DAY)
        assert (line.period.start, line.period.end) == (at(2025, 1, 15), at(2025, 2, 1))
        story.advance(at(2025, 2, 1))
        renewal = billing.client.v1.invoices.retrieve(story.sub(sub.id).latest_invoice)
        (line,) = billing.lines(renewal.id)
        assert (line.amount, line.period.start, line.period.end) == (1500, at(2025, 2, 1), at(2025, 3, 1))

    def test_without_prorations_the_first_partial_period_is_free(self, billing: SdkTenant) -> None:
        story = Clocked(billing, at(2025, 1, 15))
        sub = story.subscribe(billing_cycle_anchor=at(2025, 2, 1), proration_behavior="none")
        assert billing.client.v1.invoices.retrieve(sub.latest_invoice).total == 0

    def test_an_anchor_config_keeps_the_day_of_month_through_short_months(self, billing: SdkTenant) -> None:
        story = Clocked(billing, at(2025, 1, 15, hour=9))
        sub = story.subscribe(billing_cycle_anchor_config={"day_of_month": 31, "hour": 12})
        assert sub.billing_cycle_anchor == at(2025, 1, 31, hour=12)
        assert sub.billing_cycle_anchor_config.day_of_month == 31
        story.advance(at(2025, 1, 31, hour=12))
        assert story.sub(sub.id)["items"].data[0].current_period_end == at(2025, 2, 28, hour=12)
        story.advance(at(2025, 2, 28, hour=12))
        assert story.sub(sub.id)["items"].data[0].current_period_end == at(2025, 3, 31, hour=12)

    def test_bad_anchors_are_refused_naming_the_parameter(self, billing: SdkTenant) -> None:
        story = Clocked(billing, at(2025, 1, 15))
        assert story.refused({"billing_cycle_anchor": at(2025, 3, 1)}).param == "billing_cycle_anchor"
        assert story.refused({"billing_cycle_anchor": at(2025, 1, 1)}).param == "billing_cycle_anchor"
        both = story.refused(
            {"billing_cycle_anchor": at(2025, 2, 1), "billing_cycle_anchor_config": {"day_of_month": 1}}
        )
        assert both.param == "billing_cycle_anchor_config"
        assert story.refused({"billing_cycle_anchor_config": {"day_of_month": 32}}).param == (
            "billing_cycle_anchor_config[day_of_month]"
        )
        assert story.refused({"billing_cycle_anchor_config": {"day_of_month": 1, "month": 3}}).param == (
            "billing_cycle_anchor_config[month]"
        )

    def test_a_backdated_start_bills_the_elapsed_time(self, billing: SdkTenant) -> None:
        # Stripe's example: backdated to Feb 15, anchored on Mar 1: 14 days of a 28-day imagined month
        story = Clocked(billing, at(2025, 2, 20))
        sub = story.subscribe(backdate_start_date=at(2025, 2, 15), billing_cycle_anchor=at(2025, 3, 1))
        assert sub.start_date == at(2025, 2, 15)
        first = billing.client.v1.invoices.retrieve(sub.latest_invoice)
        assert first.total == share(1500, 14, 28) == 750
        assert story.refused({"backdate_start_date": at(2025, 2, 21)}).param == "backdate_start_date"


class TestCancelAt:
    def test_the_last_period_bills_up_to_cancel_at_and_the_subscription_ends_then(self, billing: SdkTenant) -> None:
        story = Clocked(billing, at(2025, 1, 1))
        cancel_at = at(2025, 2, 15)
        sub = story.subscribe(cancel_at=cancel_at)
        assert (sub.cancel_at, sub.status) == (cancel_at, "active")
        story.advance(at(2025, 2, 1))
        renewal = billing.client.v1.invoices.retrieve(story.sub(sub.id).latest_invoice)
        (line,) = billing.lines(renewal.id)
        assert (line.period.start, line.period.end) == (at(2025, 2, 1), cancel_at)
        assert line.amount == share(1500, 14, 28)
        story.advance(cancel_at)
        sub = story.sub(sub.id)
        assert (sub.status, sub.ended_at) == ("canceled", cancel_at)
        story.advance(at(2025, 3, 15))
        assert len(story.invoices()) == 2

    def test_cancel_at_is_set_and_cleared_on_update(self, billing: SdkTenant) -> None:
        story = Clocked(billing, at(2025, 1, 1))
        sub = story.subscribe()
        sub = billing.client.v1.subscriptions.update(sub.id, {"cancel_at": "min_period_end"})
        assert sub.cancel_at == at(2025, 2, 1)
        sub = billing.client.v1.subscriptions.update(sub.id, {"cancel_at": ""})
        assert sub.cancel_at is None
        assert story.refused({"cancel_at": at(2024, 12, 1)}, sub.id).param == "cancel_at"
        both = story.refused({"cancel_at": at(2025, 3, 1), "cancel_at_period_end": True}, sub.id)
        assert both.param == "cancel_at"


class TestPauseCollection:
    @pytest.mark.parametrize(
        ("behavior", "status"), [("keep_as_draft", "draft"), ("mark_uncollectible", "uncollectible"), ("void", "void")]
    )
    def test_invoices_made_while_paused_follow_the_behavior(
        self, billing: SdkTenant, behavior: str, status: str
    ) -> None:
        story = Clocked(billing, at(2025, 1, 1))
        sub = story.subscribe()
        sub = billing.client.v1.subscriptions.update(
            sub.id, {"pause_collection": {"behavior": behavior, "resumes_at": at(2025, 2, 15)}}
        )
        assert (sub.pause_collection.behavior, sub.pause_collection.resumes_at) == (behavior, at(2025, 2, 15))
        assert sub.status == "active"  # collection pauses; the subscription does not
        story.advance(at(2025, 2, 1, hour=2))
        paused = billing.client.v1.invoices.retrieve(story.sub(sub.id).latest_invoice)
        assert (paused.status, paused.auto_advance) == (status, False)
        # collection resumes at resumes_at: the next renewal is finalized as usual
        story.advance(at(2025, 3, 1, hour=2))
        sub = story.sub(sub.id)
        assert sub.pause_collection is None
        assert billing.client.v1.invoices.retrieve(sub.latest_invoice).status == "open"

    def test_a_resume_in_the_past_is_refused(self, billing: SdkTenant) -> None:
        story = Clocked(billing, at(2025, 1, 1))
        sub = story.subscribe()
        error = story.refused({"pause_collection": {"behavior": "void", "resumes_at": at(2024, 1, 1)}}, sub.id)
        assert error.param == "pause_collection[resumes_at]"
        assert story.refused({"pause_collection": {"behavior": "later"}}, sub.id).param == "pause_collection[behavior]"
        sub = billing.client.v1.subscriptions.update(sub.id, {"pause_collection": {"behavior": "void"}})
        assert billing.client.v1.subscriptions.update(sub.id, {"pause_collection": ""}).pause_collection is None


class TestOtherTerms:
    def test_add_invoice_items_reach_the_first_and_the_next_invoice(self, billing: SdkTenant) -> None:
        story = Clocked(billing, at(2025, 1, 1))
        setup = billing.client.v1.products.create({"name": "Setup"})
        sub = story.subscribe(
            add_invoice_items=[{"price_data": {"currency": "usd", "product": setup.id, "unit_amount": 5000}}]
        )
        first = billing.client.v1.invoices.retrieve(sub.latest_invoice)
        assert first.total == 6500
        one_off = billing.price(700)
        billing.client.v1.subscriptions.update(sub.id, {"add_invoice_items": [{"price": one_off.id, "quantity": 2}]})
        story.advance(at(2025, 2, 1))
        renewal = billing.client.v1.invoices.retrieve(story.sub(sub.id).latest_invoice)
        assert renewal.total == 1500 + 1400
        error = story.refused({"add_invoice_items": [{"price": "price_missing"}]}, sub.id)
        assert error.param == "add_invoice_items[0][price]"

    def test_a_currency_option_bills_the_subscription_in_that_currency(self, billing: SdkTenant) -> None:
        story = Clocked(billing, at(2025, 1, 1))
        product = billing.client.v1.products.create({"name": "Seat"})
        price = billing.client.v1.prices.create(
            {
                "product": product.id,
                "currency": "usd",
                "unit_amount": 1500,
                "recurring": {"interval": "month"},
                "currency_options": {"eur": {"unit_amount": 1400}},
            }
        )
        sub = billing.client.v1.subscriptions.create(
            {"customer": story.customer.id, "items": [{"price": price.id}], "currency": "eur"}
        )
        invoice = billing.client.v1.invoices.retrieve(sub.latest_invoice)
        assert (sub.currency, invoice.currency, invoice.total) == ("eur", "eur", 1400)
        assert story.refused({"currency": "jpy"}).param == "currency"

    def test_stored_terms_render_back_and_invoice_settings_reach_invoices(self, billing: SdkTenant) -> None:
        story = Clocked(billing, at(2025, 1, 1))
        sub = story.subscribe(
            billing_thresholds={"amount_gte": 10000, "reset_billing_cycle_anchor": True},
            pending_invoice_item_interval={"interval": "week", "interval_count": 2},
            invoice_settings={"footer": "Thank you", "custom_fields": [{"name": "PO", "value": "42"}]},
            billing_mode={"type": "flexible"},
        )
        assert (sub.billing_thresholds.amount_gte, sub.billing_thresholds.reset_billing_cycle_anchor) == (10000, True)
        assert (sub.pending_invoice_item_interval.interval, sub.pending_invoice_item_interval.interval_count) == (
            "week",
            2,
        )
        assert (sub.billing_mode.type, sub.invoice_settings.footer) == ("flexible", "Thank you")
        invoice = billing.client.v1.invoices.retrieve(sub.latest_invoice)
        assert invoice.footer == "Thank you"
        assert [(f.name, f.value) for f in invoice.custom_fields or []] == [("PO", "42")]
        sub = billing.client.v1.subscriptions.update(
            sub.id, {"billing_thresholds": "", "pending_invoice_item_interval": "", "proration_date": at(2025, 1, 10)}
        )
        check_terms(sub)
        assert (sub.billing_thresholds, sub.pending_invoice_item_interval) == (None, None)
        assert story.refused({"proration_date": at(2025, 3, 1)}, sub.id).param == "proration_date"
        schedules = {"billing_schedules": [{"bill_until": {"type": "timestamp", "timestamp": at(2025, 6, 1)}}]}
        assert story.refused(schedules, sub.id).param == "billing_schedules"
        # an issuer other than the account itself is Connect: refused by design
        issuer = story.refused({"invoice_settings": {"issuer": {"type": "self"}}}, sub.id)
        assert issuer.param == "invoice_settings[issuer]" and "moves no money" in str(issuer.user_message)
