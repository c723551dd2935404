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
    # and each move was told: created (started in the same call: one event), the phase change, the release
    told = [
        (e.type, e.data.object["status"])
        for e in story.client.v1.events.list({"limit": 100}).auto_paging_iter()
        if e.type.startswith("subscription_schedule.") and e.data.object["id"] == schedule.id
    ]
    assert sorted(told) == [
        ("subscription_schedule.created", "active"),
        ("subscription_schedule.released", "released"),
        ("subscription_schedule.updated", "active"),
    ]


def test_a_schedule_starting_later_creates_its_subscription_then_cancels_it_at_its_end(billing: SdkTenant) -> None:
    story = Story(billing)
    vat = billing.tax_rate(10.0)
    # given: a schedule starting on FEB1, one month on send_invoice with VAT, canceled when it ends
    schedule = story.schedule(
        start_date=FEB1,
        end_behavior="cancel",
        default_settings={"collection_method": "send_invoice", "invoice_settings": {"days_until_due": 14}},
        phases=[{"items": [{"price": story.basic.id, "tax_rates": [vat.id]}], "end_date": MAR1}],
    )
    # then: nothing runs yet
    assert (schedule.status, schedule.subscription, schedule.current_phase) == ("not_started", None, None)
    assert schedule.default_settings.invoice_settings.days_until_due == 14
    assert schedule.phases[0]["items"][0].tax_rates[0].id == vat.id
    listed = story.client.v1.subscription_schedules.list({"customer": story.customer.id, "scheduled": True}).data
    assert [s.id for s in listed] == [schedule.id]
    assert story.client.v1.subscription_schedules.list({"customer": story.customer.id, "scheduled": False}).data == []
    assert story.invoices() == []

    # when: the clock passes the start
    story.advance(FEB1 + DAY)
    # then: the subscription was made at the start, billed on send_invoice terms with the phase's tax rate
    schedule = story.get(schedule.id)
    assert schedule.status == "active"
    sub = story.client.v1.subscriptions.retrieve(schedule.subscription)
    assert (sub.start_date, sub.collection_method, sub.days_until_due, sub.schedule) == (
        FEB1,
        "send_invoice",
        14,
        schedule.id,
    )
    assert sub.cancel_at == MAR1  # the schedule ends it then
    (first,) = story.invoices()
    assert (first.created, first.subtotal, first.total, first.due_date) == (FEB1, 1500, 1650, FEB1 + 14 * DAY)

    # when: the last phase ends
    story.advance(MAR1)
    # then: the schedule is completed and the subscription canceled, with no renewal
    schedule = story.get(schedule.id)
    assert (schedule.status, schedule.completed_at) == ("completed", MAR1)
    sub = story.client.v1.subscriptions.retrieve(sub.id)
    assert (sub.status, sub.ended_at) == ("canceled", MAR1)
    assert len(story.invoices()) == 1


@pytest.mark.parametrize("behavior", ["create_prorations", "none", "always_invoice"])
def test_a_phase_boundary_inside_a_period_is_prorated_as_the_phase_says(billing: SdkTenant, behavior: str) -> None:
    story = Story(billing)
    boundary = JAN1 + 15 * DAY
    schedule = story.schedule(
        phases=[
            {"items": [{"price": story.basic.id}], "end_date": boundary},
            {"items": [{"price": story.basic.id, "quantity": 2}], "proration_behavior": behavior, "iterations": 2},
        ],
    )
    sub_id = schedule.subscription
    assert [(p.start_date, p.end_date) for p in schedule.phases] == [(JAN1, boundary), (boundary, at(2025, 3, 16))]
    story.advance(boundary)
    assert story.items(sub_id) == {story.basic.id: 2}
    left, whole = FEB1 - boundary, FEB1 - JAN1
    expected = [-share(1500, left, whole), share(3000, left, whole)]
    pending = story.client.v1.invoice_items.list({"customer": story.customer.id, "pending": True}).data
    invoices = story.invoices()
    if behavior == "none":
        assert pending == [] and len(invoices) == 1
    elif behavior == "create_prorations":
        assert sorted(i.amount for i in pending) == sorted(expected)
        assert all(i.proration for i in pending) and len(invoices) == 1
    else:
        assert pending == []
        assert (invoices[-1].billing_reason, invoices[-1].total) == ("subscription_update", sum(expected))


def test_billing_cycle_anchor_phase_start_resets_the_cycle_at_the_boundary(billing: SdkTenant) -> None:
    story = Story(billing)
    boundary = JAN1 + 10 * DAY
    schedule = story.schedule(
        phases=[
            {"items": [{"price": story.basic.id}], "end_date": boundary},
            {"items": [{"price": story.pro.id}], "billing_cycle_anchor": "phase_start", "proration_behavior": "none"},
        ],
    )
    story.advance(boundary)
    sub = story.client.v1.subscriptions.retrieve(schedule.subscription)
    assert sub.billing_cycle_anchor == boundary
    assert (sub["items"].data[0].current_period_start, sub["items"].data[0].current_period_end) == (
        boundary,
        at(2025, 2, 11),
    )
    latest = story.client.v1.invoices.retrieve(sub.latest_invoice)
    assert latest.total == 2500 and latest.period_end == boundary


def test_a_trial_phase_bills_nothing_then_the_next_phase_bills_in_full(billing: SdkTenant) -> None:
    story = Story(billing)
    schedule = story.schedule(
        phases=[
            {"items": [{"price": story.pro.id}], "trial": True, "end_date": FEB1},
            {"items": [{"price": story.pro.id}], "iterations": 1},
        ],
    )
    assert schedule.phases[0].trial is True and schedule.phases[0].trial_end == FEB1
    sub = story.client.v1.subscriptions.retrieve(schedule.subscription)
    assert (sub.status, sub.trial_end) == ("trialing", FEB1)
    assert story.invoices()[0].total == 0
    story.advance(FEB1)
    sub = story.client.v1.subscriptions.retrieve(schedule.subscription)
    assert sub.status == "active"
    assert story.client.v1.invoices.retrieve(sub.latest_invoice).total == 2500


def test_add_invoice_items_discounts_and_description_of_a_phase_reach_its_invoice(billing: SdkTenant) -> None:
    story = Story(billing)
    coupon = story.client.v1.coupons.create({"percent_off": 10, "duration": "forever"})
    product = story.client.v1.products.create({"name": "Setup"})
    schedule = story.schedule(
        phases=[
            {
                "items": [{"price": story.basic.id}],
                "discounts": [{"coupon": coupon.id}],
                "description": "Starter",
                "add_invoice_items": [{"price_data": {"currency": "usd", "product": product.id, "unit_amount": 700}}],
                "invoice_settings": {"footer": "Thanks"},
            }
        ],
    )
    phase = schedule.phases[0]
    assert phase.discounts[0].coupon == coupon.id and phase.description == "Starter"
    assert phase.add_invoice_items[0].quantity == 1 and phase.invoice_settings.footer == "Thanks"
    sub = story.client.v1.subscriptions.retrieve(schedule.subscription)
    assert sub.description == "Starter" and len(sub.discounts) == 1
    first = story.client.v1.invoices.retrieve(sub.latest_invoice)
    assert (first.subtotal, first.total, first.footer) == (2200, 1980, "Thanks")


def test_updating_the_current_phase_changes_the_subscription_at_once_later_phases_at_their_start(
    billing: SdkTenant,
) -> None:
    story = Story(billing)
    schedule = story.schedule(phases=[{"items": [{"price": story.basic.id}], "iterations": 1}])
    sub_id = schedule.subscription
    story.advance(JAN1 + 10 * DAY)
    # when: the current phase gets two seats (no prorations asked) and a Pro phase follows
    updated = story.client.v1.subscription_schedules.update(
        schedule.id,
        {
            "proration_behavior": "none",
            "end_behavior": "cancel",
            "metadata": {"owner": "ops"},
            "phases": [
                {"items": [{"price": story.basic.id, "quantity": 2}], "start_date": JAN1, "end_date": FEB1},
                {"items": [{"price": story.pro.id}], "iterations": 1},
            ],
        },
    )
    check_shape(updated)
    # then
    assert [(p.start_date, p.end_date) for p in updated.phases] == [(JAN1, FEB1), (FEB1, MAR1)]
    assert (updated.end_behavior, updated.metadata.to_dict()) == ("cancel", {"owner": "ops"})
    assert story.items(sub_id) == {story.basic.id: 2}
    assert story.client.v1.invoice_items.list({"customer": story.customer.id, "pending": True}).data == []
    story.advance(FEB1)
    assert story.items(sub_id) == {story.pro.id: 1}
    assert story.client.v1.subscriptions.retrieve(sub_id).cancel_at == MAR1

    # when: a phase names a price that does not exist
    before = story.get(schedule.id).to_dict()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        story.client.v1.subscription_schedules.update(
            schedule.id, {"phases": [{"items": [{"price": story.pro.id}]}, {"items": [{"price": "price_nope"}]}]}
        )
    # then: refused, naming the phase's item, and nothing changed
    assert (caught.value.http_status, caught.value.param) == (400, "phases[1][items][0][price]")
    assert story.get(schedule.id).to_dict() == before
    assert story.items(sub_id) == {story.pro.id: 1}


def test_cancel_ends_the_schedule_and_its_subscription_crediting_the_unused_time(billing: SdkTenant) -> None:
    story = Story(billing)
    schedule = story.schedule(phases=[{"items": [{"price": story.basic.id}], "iterations": 3}])
    story.advance(JAN1 + 10 * DAY)
    canceled = story.client.v1.subscription_schedules.cancel(schedule.id)
    check_shape(canceled)
    assert (canceled.status, canceled.canceled_at) == ("canceled", JAN1 + 10 * DAY)
    sub = story.client.v1.subscriptions.retrieve(schedule.subscription)
    assert sub.status == "canceled"
    final = story.client.v1.invoices.retrieve(sub.latest_invoice)
    assert final.total == -share(1500, FEB1 - JAN1 - 10 * DAY, FEB1 - JAN1)
    # a canceled schedule takes no more moves, and says so with nothing changed
    for call in (
        lambda: story.client.v1.subscription_schedules.cancel(schedule.id),
        lambda: story.client.v1.subscription_schedules.release(schedule.id),
        lambda: story.client.v1.subscription_schedules.update(schedule.id, {"metadata": {"a": "b"}}),
    ):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            call()
        assert caught.value.http_status == 400
    assert story.get(schedule.id).to_dict() == canceled.to_dict()


def test_cancel_without_invoice_now_or_prorate_just_ends_it(billing: SdkTenant) -> None:
    story = Story(billing)
    schedule = story.schedule(phases=[{"items": [{"price": story.basic.id}]}])
    canceled = story.client.v1.subscription_schedules.cancel(schedule.id, {"invoice_now": False, "prorate": False})
    assert canceled.status == "canceled"
    assert len(story.invoices()) == 1


@pytest.mark.parametrize("preserve", [False, True])
def test_release_leaves_the_subscription_alone_keeping_the_cancel_date_only_when_asked(
    billing: SdkTenant, preserve: bool
) -> None:
    story = Story(billing)
    schedule = story.schedule(end_behavior="cancel", phases=[{"items": [{"price": story.basic.id}], "iterations": 2}])
    sub_id = schedule.subscription
    assert story.client.v1.subscriptions.retrieve(sub_id).cancel_at == MAR1
    released = story.client.v1.subscription_schedules.release(schedule.id, {"preserve_cancel_date": preserve})
    check_shape(released)
    assert (released.status, released.released_subscription, released.subscription) == ("released", sub_id, None)
    sub = story.client.v1.subscriptions.retrieve(sub_id)
    assert (sub.schedule, sub.status, sub.cancel_at) == (None, "active", MAR1 if preserve else None)


def test_from_subscription_takes_over_the_current_period_as_its_phase(billing: SdkTenant) -> None:
    story = Story(billing)
    sub = story.client.v1.subscriptions.create(
        {"customer": story.customer.id, "items": [{"price": story.basic.id, "quantity": 3}]}
    )
    schedule = story.client.v1.subscription_schedules.create(
        {"from_subscription": sub.id}, {"expand": ["subscription"]}
    )
    check_shape(schedule)
    assert (schedule.status, schedule.customer, schedule.end_behavior) == ("active", story.customer.id, "release")
    (phase,) = schedule.phases
    assert (phase.start_date, phase.end_date, phase["items"][0].price, phase["items"][0].quantity) == (
        JAN1,
        FEB1,
        story.basic.id,
        3,
    )
    assert story.client.v1.subscriptions.retrieve(sub.id).schedule == schedule.id
    # a subscription is driven by one schedule at a time
    with pytest.raises(stripe.InvalidRequestError) as caught:
        story.client.v1.subscription_schedules.create({"from_subscription": sub.id})
    assert caught.value.param == "from_subscription"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        story.client.v1.subscription_schedules.create({"from_subscription": sub.id, "customer": story.customer.id})
    assert caught.value.param == "customer"


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"phases": [{"items": [{"price": "PRICE"}], "end_date": JAN1 - 1}]}, "phases[0][end_date]", None),
        (
            {"phases": [{"items": [{"price": "PRICE"}], "end_date": FEB1, "duration": {"interval": "week"}}]},
            "phases[0][duration]",
            "parameters_exclusive",
        ),
        ({"phases": [{"items": [{"price": "price_nope"}]}]}, "phases[0][items][0][price]", "resource_missing"),
        ({"phases": []}, "phases", "parameter_missing"),
        ({"phases": [{"items": [{"price": "PRICE"}]}], "end_behavior": "renew"}, "end_behavior", None),
        ({"phases": [{"items": [{"price": "PRICE"}]}], "start_date": JAN1 - DAY}, "start_date", None),
        ({"phases": [{"items": [{"price": "PRICE"}], "trial_end": MAR1}]}, "phases[0][trial_end]", None),
        ({"phases": [{"items": [{"price": "PRICE"}], "colour": "red"}]}, "phases[0][colour]", "parameter_unknown"),
        ({"phases": [{"items": [{"price": "PRICE", "price_data": {"currency": "usd"}}]}]}, None, None),
        ({"pause_schedules": [{"key": "x"}]}, "pause_schedules", None),
    ],
)
def test_bad_schedules_are_refused_naming_the_parameter_and_nothing_is_written(
    billing: SdkTenant, params: dict[str, Any], param: str | None, code: str | None
) -> None:
    story = Story(billing)
    body = {k: v for k, v in params.items()}
    for phase in body.get("phases", []):
        for item in phase["items"]:
            if item["price"] == "PRICE":
                item["price"] = story.basic.id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        story.schedule(**body)
    assert caught.value.http_status == 400
    if param is not None:
        assert caught.value.param == param
    else:
        assert caught.value.param and caught.value.param.startswith(("phases[0][items][0]", "pause_schedules"))
    if code is not None:
        assert caught.value.code == code
    assert story.client.v1.subscription_schedules.list({"customer": story.customer.id}).data == []
    assert story.client.v1.subscriptions.list({"customer": story.customer.id, "status": "all"}).data == []
    assert story.invoices() == []


def test_payments_parameters_on_a_phase_answer_the_moves_no_money_400(billing: SdkTenant) -> None:
    story = Story(billing)
    for extra in ({"default_payment_method": "pm_1"}, {"transfer_data": {"destination": "acct_1"}}):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            story.schedule(phases=[{"items": [{"price": story.basic.id}], **extra}])
        assert caught.value.param == f"phases[0][{next(iter(extra))}]"
        assert "moves no money" in str(caught.value.user_message)


def test_list_filters_by_customer_status_times_and_pages(billing: SdkTenant) -> None:
    story = Story(billing)
    later = story.schedule(start_date=FEB1, phases=[{"items": [{"price": story.basic.id}]}])
    now = story.schedule(phases=[{"items": [{"price": story.pro.id}]}])
    gone = story.schedule(phases=[{"items": [{"price": story.basic.id}]}])
    story.client.v1.subscription_schedules.cancel(gone.id)
    schedules = story.client.v1.subscription_schedules
    assert {s.id for s in schedules.list({"customer": story.customer.id}).data} == {later.id, now.id, gone.id}
    assert [s.id for s in schedules.list({"customer": story.customer.id, "canceled_at": {"gte": JAN1}}).data] == [
        gone.id
    ]
    assert schedules.list({"customer": story.customer.id, "released_at": {"gte": JAN1}}).data == []
    assert schedules.list({"customer": story.customer.id, "completed_at": {"lt": JAN1}}).data == []
    page = schedules.list({"customer": story.customer.id, "limit": 2})
    assert len(page.data) == 2 and page.has_more
    all_ids = [s.id for s in page.auto_paging_iter()]
    assert sorted(all_ids) == sorted([later.id, now.id, gone.id])
    expanded = schedules.retrieve(now.id, {"expand": ["customer", "subscription"]})
    assert expanded.customer.id == story.customer.id and expanded.subscription.id == now.subscription
    with pytest.raises(stripe.InvalidRequestError) as caught:
        schedules.retrieve("sub_sched_nope")
    assert caught.value.http_status == 404


def test_create_preview_of_a_schedule_shows_its_next_invoice_with_the_phase_then_and_writes_nothing(
    billing: SdkTenant,
) -> None:
    story = Story(billing)
    preview = story.client.v1.invoices.create_preview
    schedule = story.schedule(
        phases=[
            {"items": [{"price": story.basic.id}], "iterations": 1},
            {"items": [{"price": story.pro.id, "quantity": 3}], "iterations": 1},
        ]
    )
    before = story.get(schedule.id).to_dict()
    invoices = [i.id for i in story.invoices()]
    # the next invoice is FEB1's renewal, in the second phase
    upcoming = preview({"schedule": schedule.id})
    assert (upcoming.total, upcoming.billing_reason) == (7500, "upcoming")
    assert [(ln.period.start, ln.period.end) for ln in upcoming.lines.data] == [(FEB1, MAR1)]
    # with a change: the second phase at one seat
    changed = preview(
        {
            "schedule": schedule.id,
            "customer": story.customer.id,
            "schedule_details": {
                "phases": [
                    {"items": [{"price": story.basic.id}], "start_date": JAN1, "end_date": FEB1},
                    {"items": [{"price": story.pro.id}], "iterations": 1},
                ]
            },
        }
    )
    assert changed.total == 2500
    # a new schedule for the customer: its first invoice, when it starts
    fresh = preview(
        {
            "customer": story.customer.id,
            "schedule_details": {"phases": [{"items": [{"price": story.pro.id, "quantity": 2}], "start_date": FEB1}]},
        }
    )
    assert (fresh.total, fresh.status) == (5000, "draft")
    assert [(ln.period.start, ln.period.end) for ln in fresh.lines.data] == [(FEB1, MAR1)]
    # nothing was written
    assert story.get(schedule.id).to_dict() == before
    assert [i.id for i in story.invoices()] == invoices
    assert len(story.client.v1.subscription_schedules.list({"customer": story.customer.id}).data) == 1
    # refusals name the parameter
    for params, param in (
        ({"schedule": "sub_sched_nope"}, "schedule"),
        (
            {"customer": story.customer.id, "schedule_details": {"phases": [{"items": [{"price": "price_nope"}]}]}},
            "schedule_details[phases][0][items][0][price]",
        ),
        ({"schedule": schedule.id, "subscription": schedule.subscription}, "subscription"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            preview(params)  # type: ignore[arg-type]
        assert caught.value.param == param, params


def test_deleting_the_clock_cancels_its_schedules(billing: SdkTenant) -> None:
    story = Story(billing)
    running = story.schedule(phases=[{"items": [{"price": story.basic.id}]}])
    waiting = story.schedule(start_date=FEB1, phases=[{"items": [{"price": story.basic.id}]}])
    story.client.v1.test_helpers.test_clocks.delete(story.clock.id)
    for schedule_id in (running.id, waiting.id):
        schedule = story.get(schedule_id)
        assert (schedule.status, schedule.canceled_at) == ("canceled", JAN1)


def test_a_schedule_on_real_time_starts_now_or_waits_for_its_start(billing: SdkTenant) -> None:
    client = billing.client
    customer = client.v1.customers.create({"name": "Real time"})
    price = monthly(billing, 1500, "Basic")
    now = client.v1.subscription_schedules.create(
        {"customer": customer.id, "phases": [{"items": [{"price": price.id}], "iterations": 12}]}
    )
    check_shape(now)
    sub = client.v1.subscriptions.retrieve(now.subscription)
    assert (now.status, now.test_clock, sub.schedule, sub.status) == ("active", None, now.id, "active")
    far = sub["items"].data[0].current_period_end + 365 * DAY
    later = client.v1.subscription_schedules.create(
        {"customer": customer.id, "start_date": far, "phases": [{"items": [{"price": price.id}]}]}
    )
    assert later.status == "not_started" and later.phases[0].start_date == far
    assert client.v1.subscription_schedules.retrieve(later.id).status == "not_started"
    assert client.v1.subscription_schedules.retrieve(now.id).current_phase.end_date == now.phases[0].end_date


def test_canceling_the_subscription_on_its_own_cancels_its_schedule(billing: SdkTenant) -> None:
    story = Story(billing)
    schedule = story.schedule(phases=[{"items": [{"price": story.basic.id}], "iterations": 2}])
    story.advance(JAN1 + 3 * DAY)
    story.client.v1.subscriptions.cancel(schedule.subscription)
    schedule = story.get(schedule.id)
    assert (schedule.status, schedule.canceled_at) == ("canceled", JAN1 + 3 * DAY)


def test_an_update_mid_phase_keeps_the_cycle_a_phase_start_anchor_resets_only_at_the_boundary(
    billing: SdkTenant,
) -> None:
    story = Story(billing)
    schedule = story.schedule(
        phases=[{"items": [{"price": story.basic.id}], "billing_cycle_anchor": "phase_start", "iterations": 2}]
    )
    story.advance(JAN1 + 5 * DAY)
    story.client.v1.subscription_schedules.update(
        schedule.id,
        {
            "phases": [{"items": [{"price": story.basic.id}], "billing_cycle_anchor": "phase_start", "iterations": 2}],
            "proration_behavior": "none",
        },
    )
    sub = story.client.v1.subscriptions.retrieve(schedule.subscription)
    assert sub.billing_cycle_anchor == JAN1 and len(story.invoices()) == 1
