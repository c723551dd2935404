"""POST /v1/subscriptions/{id}/migrate (classic → flexible billing mode, for good) and POST
/v1/subscriptions/{id}/pause (flexible mode only: no invoices until resumed, the unused time credited)
through stripe-python 16.1, on a test clock; responses checked as every subscription response is."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.helpers.sdk import SdkTenant
from tests.sdk.stripe.test_subscription_terms import Clocked, at, share
from tests.sdk.stripe.test_subscriptions import billing

__all__ = ["billing"]

pytestmark = pytest.mark.sdk

FLEXIBLE = {"billing_mode": {"type": "flexible"}}


def _status_details_shape(sub: stripe.Subscription) -> None:
    """status_details carries exactly what stripe-python declares for it."""
    details = sub.to_dict()["status_details"]
    cls = stripe.Subscription.StatusDetails
    assert set(details) == {k for k in cls.__annotations__ if not k.startswith("_")}
    assert set(details["paused"]) == {k for k in cls.Paused.__annotations__ if not k.startswith("_")}


def _pending(billing: SdkTenant, customer: str) -> list[stripe.InvoiceItem]:
    return list(billing.client.v1.invoice_items.list({"customer": customer, "pending": True}).data)


def _unchanged(billing: SdkTenant, story: Clocked, sub_id: str, call: Any, param: str | None) -> None:
    """A refused call answers 400 naming `param` (or none, for a state), and nothing changes."""
    before = story.sub(sub_id).to_dict()
    invoices, pending = len(story.invoices()), len(_pending(billing, story.customer.id))
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    assert (caught.value.http_status, caught.value.param) == (400, param)
    assert story.sub(sub_id).to_dict() == before
    assert (len(story.invoices()), len(_pending(billing, story.customer.id))) == (invoices, pending)


def test_migrating_makes_a_classic_subscription_flexible_for_good(billing: SdkTenant) -> None:
    story = Clocked(billing, at(2025, 1, 1))
    sub = story.subscribe()
    assert (sub.billing_mode.type, sub.billing_mode.updated_at) == ("classic", None)
    story.advance(at(2025, 1, 10))
    migrated = billing.client.v1.subscriptions.migrate(
        sub.id, {"billing_mode": {"type": "flexible", "flexible": {"proration_discounts": "itemized"}}}
    )
    assert (migrated.billing_mode.type, migrated.billing_mode.updated_at) == ("flexible", at(2025, 1, 10))
    assert (
        migrated.billing_mode.flexible is not None and migrated.billing_mode.flexible.proration_discounts == "itemized"
    )
    assert story.sub(sub.id).billing_mode.type == "flexible"
    again = lambda: billing.client.v1.subscriptions.migrate(sub.id, {"billing_mode": {"type": "flexible"}})  # noqa: E731
    _unchanged(billing, story, sub.id, again, None)
    classic = lambda: billing.client.v1.subscriptions.migrate(sub.id, {"billing_mode": {"type": "classic"}})  # type: ignore[typeddict-item]  # noqa: E731
    _unchanged(billing, story, sub.id, classic, "billing_mode[type]")
    missing = lambda: billing.client.v1.subscriptions.migrate(sub.id, {})  # type: ignore[typeddict-item]  # noqa: E731
    _unchanged(billing, story, sub.id, missing, "billing_mode")


def test_a_canceled_subscription_cannot_migrate(billing: SdkTenant) -> None:
    story = Clocked(billing, at(2025, 1, 1))
    sub = story.subscribe()
    billing.client.v1.subscriptions.cancel(sub.id)
    call = lambda: billing.client.v1.subscriptions.migrate(sub.id, {"billing_mode": {"type": "flexible"}})  # noqa: E731
    _unchanged(billing, story, sub.id, call, None)


def test_pausing_credits_the_unused_time_and_stops_invoices_until_resumed(billing: SdkTenant) -> None:
    story = Clocked(billing, at(2025, 1, 1))
    sub = story.subscribe(**FLEXIBLE)
    story.advance(at(2025, 1, 21))
    paused = billing.client.v1.subscriptions.pause(sub.id, {"type": "subscription"})
    assert paused.status == "paused"
    _status_details_shape(paused)
    assert paused.status_details is not None
    assert (paused.status_details.paused.subscription.type, paused.status_details.paused.transitioned_at) == (
        "pause_requested",
        at(2025, 1, 21),
    )
    [credit] = _pending(billing, story.customer.id)
    left, whole = at(2025, 2, 1) - at(2025, 1, 21), at(2025, 2, 1) - at(2025, 1, 1)
    assert (credit.amount, credit.period.start) == (-share(1500, left, whole), at(2025, 1, 21))
    assert credit.parent is not None and credit.parent.subscription_details is not None
    assert credit.parent.subscription_details.subscription == sub.id
    story.advance(at(2025, 3, 15))  # two period ends pass: nothing is invoiced while paused
    assert len(story.invoices()) == 1 and story.sub(sub.id).status == "paused"
    plain = stripe.StripeClient(billing.key, base_addresses={"api": billing.server.stripe_base}, max_network_retries=0)
    events = plain.v1.events.list({"type": "customer.subscription.paused"})  # events: not in the schema copies
    assert [e.data.object.id for e in events.data] == [sub.id]
    resumed = billing.client.v1.subscriptions.resume(sub.id)
    assert (resumed.status, resumed.status_details) == ("active", None)
    invoice = billing.client.v1.invoices.retrieve(resumed.latest_invoice)
    assert invoice.total == 1500 - share(1500, left, whole)  # the new period, less the credit
    assert _pending(billing, story.customer.id) == []


@pytest.mark.parametrize(
    ("unused_time_from", "credited"),
    [("none", None), ("item_current_period_start", 1500), ("now", share(1500, 10 * 86400, 31 * 86400))],
)
def test_what_a_pause_credits(billing: SdkTenant, unused_time_from: str, credited: int | None) -> None:
    story = Clocked(billing, at(2025, 1, 1))
    sub = story.subscribe(**FLEXIBLE)
    story.advance(at(2025, 1, 22))
    billing.client.v1.subscriptions.pause(sub.id, {"bill_for": {"unused_time_from": {"type": unused_time_from}}})  # type: ignore[typeddict-item]
    assert [-i.amount for i in _pending(billing, story.customer.id)] == ([] if credited is None else [credited])


def test_invoicing_behavior_invoice_puts_the_credit_on_an_invoice_at_once(billing: SdkTenant) -> None:
    story = Clocked(billing, at(2025, 1, 1))
    sub = story.subscribe(**FLEXIBLE)
    story.advance(at(2025, 1, 22))
    paused = billing.client.v1.subscriptions.pause(
        sub.id, {"invoicing_behavior": "invoice", "bill_for": {"outstanding_usage_through": {"type": "now"}}}
    )
    invoice = billing.client.v1.invoices.retrieve(paused.latest_invoice)
    assert (invoice.billing_reason, invoice.status) == ("subscription_update", "paid")
    assert invoice.total == -share(1500, 10 * 86400, 31 * 86400)
    assert _pending(billing, story.customer.id) == []


def test_only_an_active_flexible_subscription_pauses(billing: SdkTenant) -> None:
    story = Clocked(billing, at(2025, 1, 1))
    classic = story.subscribe()
    _unchanged(billing, story, classic.id, lambda: billing.client.v1.subscriptions.pause(classic.id), None)
    flexible = story.subscribe(**FLEXIBLE)
    billing.client.v1.subscriptions.pause(flexible.id)
    _unchanged(billing, story, flexible.id, lambda: billing.client.v1.subscriptions.pause(flexible.id), None)
    bad = {"bill_for": {"unused_time_from": {"type": "later"}}}
    other = story.subscribe(**FLEXIBLE)
    call = lambda: billing.client.v1.subscriptions.pause(other.id, bad)  # type: ignore[arg-type]  # noqa: E731
    _unchanged(billing, story, other.id, call, "bill_for[unused_time_from][type]")
    trialing = story.subscribe(trial_period_days=7, **FLEXIBLE)
    _unchanged(billing, story, trialing.id, lambda: billing.client.v1.subscriptions.pause(trialing.id), None)
