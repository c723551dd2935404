"""Subscription schedules through stripe-python 16.1.0 and test clocks: phases that change a subscription.

Every response is validated as in test_subscriptions.py: invoices, lines and prices against Stripe's schemas;
the schedule (no schema copy has it: tests/data/README.md) and its nested objects against every attribute
stripe-python declares for them. Proration figures are Stripe's rule written out (core.subscriptions.prorations):
the item's amount × the time left in the period / the period, rounded half up.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import stripe

from tests.helpers.sdk import SdkTenant
from tests.sdk.stripe.test_subscription_terms import at
from tests.sdk.stripe.test_subscriptions import billing, monthly

__all__ = ["billing"]

pytestmark = pytest.mark.sdk

DAY = 86400
JAN1, FEB1, MAR1, APR1 = at(2025, 1, 1), at(2025, 2, 1), at(2025, 3, 1), at(2025, 4, 1)
S = stripe.SubscriptionSchedule
NESTED = {
    "billing_mode": S.BillingMode,
    "current_phase": S.CurrentPhase,
    "default_settings": S.DefaultSettings,
}


def declared(cls: type) -> set[str]:
    return {k for k in cls.__annotations__ if not k.startswith("_")}


def check_shape(schedule: stripe.SubscriptionSchedule) -> None:
    """The schedule's nested objects carry exactly the attributes stripe-python declares for them."""
    body = schedule.to_dict()
    assert set(body) - {"object"} <= declared(S) | {"id", "object"}
    for name, cls in NESTED.items():
        if body[name] is not None:
            assert set(body[name]) == declared(cls), (name, sorted(body[name]), sorted(declared(cls)))
    for phase in body["phases"]:
        assert set(phase) == declared(S.Phase), sorted(set(phase) ^ declared(S.Phase))
        for item in phase["items"]:
            assert set(item) == declared(S.Phase.Item)
        for added in phase["add_invoice_items"]:
            assert set(added) == declared(S.Phase.AddInvoiceItem)
        if phase["invoice_settings"] is not None:
            assert set(phase["invoice_settings"]) == declared(S.Phase.InvoiceSettings)
    assert set(body["default_settings"]["invoice_settings"]) == declared(S.DefaultSettings.InvoiceSettings)


def share(amount: int, part: int, whole: int) -> int:
    return int((Decimal(amount) * part / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class Story:
    """A clock at JAN1, a customer in it, two monthly prices."""

    def __init__(self, sdk: SdkTenant, start: int = JAN1) -> None:
        self.sdk, self.client = sdk, sdk.client
        self.clock = self.client.v1.test_helpers.test_clocks.create({"frozen_time": start})
        self.customer = self.client.v1.customers.create({"name": "Ada", "test_clock": self.clock.id})
        self.basic, self.pro = monthly(sdk, 1500, "Basic"), monthly(sdk, 2500, "Pro")

    def schedule(self, **params: Any) -> stripe.SubscriptionSchedule:
        schedule = self.client.v1.subscription_schedules.create({"customer": self.customer.id, **params})
        check_shape(schedule)
        return schedule

    def get(self, schedule_id: str) -> stripe.SubscriptionSchedule:
        schedule = self.client.v1.subscription_schedules.retrieve(schedule_id)
        check_shape(schedule)
        return schedule

    def advance(self, to: int) -> None:
        self.client.v1.test_helpers.test_clocks.advance(self.clock.id, {"frozen_time": to})

    def items(self, sub_id: str) -> dict[str, int]:
        sub = self.client.v1.subscriptions.retrieve(sub_id)
        return {i.price.id: i.quantity or 0 for i in sub["items"].data}

    def invoices(self) -> list[stripe.Invoice]:
        found = self.client.v1.invoices.list({"customer": self.customer.id, "limit": 100}).data
        return sorted(found, key=lambda i: (i.created, i.id))


def test_a_schedule_moves_its_subscription_through_phases_on_the_clock_then_releases_it(billing: SdkTenant) -> None:
    story = Story(billing)
    # given: one month of Basic, then two months of two Pro seats, then the subscription goes on alone
    schedule = story.schedule(
        start_date="now",
        end_behavior="release",
        metadata={"plan": "upgrade"},
        phases=[
            {"items": [{"price": story.basic.id}], "duration": {"interval": "month"}},
            {
                "items": [{"price": story.pro.id, "quantity": 2, "metadata": {"seat": "pro"}}],
                "duration": {"interval": "month", "interval_count": 2},
                "metadata": {"tier": "pro"},
            },
        ],
    )
    # then: the first phase starts now, creating the subscription
    assert (schedule.status, schedule.end_behavior, schedule.test_clock) == ("active", "release", story.clock.id)
    assert [(p.start_date, p.end_date) for p in schedule.phases] == [(JAN1, FEB1), (FEB1, APR1)]
    assert (schedule.current_phase.start_date, schedule.current_phase.end_date) == (JAN1, FEB1)
    sub = story.client.v1.subscriptions.retrieve(schedule.subscription)
    assert (sub.schedule, sub.status, sub.start_date) == (schedule.id, "active", JAN1)
    assert story.items(sub.id) == {story.basic.id: 1}
    assert story.client.v1.invoices.retrieve(sub.latest_invoice).total == 1500

    # when: the clock reaches the phase boundary
    story.advance(FEB1)
    # then: the subscription took the second phase, and its renewal bills it (no prorations: the periods align)
    assert story.items(sub.id) == {story.pro.id: 2}
    schedule = story.get(schedule.id)
    assert (schedule.current_phase.start_date, schedule.current_phase.end_date) == (FEB1, APR1)
    renewal = story.client.v1.invoices.retrieve(story.client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert (renewal.billing_reason, renewal.total) == ("subscription_cycle", 5000)
    assert story.client.v1.subscriptions.retrieve(sub.id).metadata.to_dict() == {"tier": "pro"}
    assert all(i.total != 0 or i.billing_reason != "subscription_update" for i in story.invoices())

    # when: the last phase ends
    story.advance(APR1)
    # then: the schedule is released and the subscription goes on with the last phase's items
    schedule = story.get(schedule.id)
    assert (schedule.status, schedule.released_at, schedule.released_subscription) == ("released", APR1, sub.id)
    assert schedule.subscription is None and schedule.current_phase is None
    sub = story.client.v1.subscriptions.retrieve(sub.id)
    assert (sub.status, sub.schedule) == ("active", None)
    assert story.items(sub.id) == {story.pro.id: 2}
