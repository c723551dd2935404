"""POST /v1/subscriptions/{id}/resume through stripe-python 16.1.0: a subscription paused when its trial ended
without a payment method (the one way bulkbill pauses one) bills again."""

from __future__ import annotations

import pytest
import stripe

from tests.helpers.sdk import SdkTenant
from tests.sdk.stripe.test_subscription_terms import Clocked, at
from tests.sdk.stripe.test_subscriptions import billing

__all__ = ["billing"]

pytestmark = pytest.mark.sdk

PAUSE_AT_TRIAL_END = {"trial_period_days": 7, "trial_settings": {"end_behavior": {"missing_payment_method": "pause"}}}


def _paused(billing: SdkTenant) -> tuple[Clocked, stripe.Subscription]:
    story = Clocked(billing, at(2025, 1, 1))
    sub = story.subscribe(**PAUSE_AT_TRIAL_END)
    story.advance(at(2025, 1, 20))
    sub = story.sub(sub.id)
    assert sub.status == "paused" and len(story.invoices()) == 1
    return story, sub


def test_resuming_restarts_billing_now_by_default(billing: SdkTenant) -> None:
    story, sub = _paused(billing)
    resumed = billing.client.v1.subscriptions.resume(sub.id, {"payment_behavior": "resume_on_payment_success"})
    assert (resumed.status, resumed.billing_cycle_anchor) == ("active", at(2025, 1, 20))
    assert (resumed.items.data[0].current_period_start, resumed.items.data[0].current_period_end) == (
        at(2025, 1, 20),
        at(2025, 2, 20),
    )
    invoice = billing.client.v1.invoices.retrieve(resumed.latest_invoice)
    assert (invoice.status, invoice.total, invoice.billing_reason) == ("open", 1500, "subscription_cycle")
    [line] = billing.lines(invoice.id)
    assert (line.period.start, line.period.end) == (at(2025, 1, 20), at(2025, 2, 20))
    # It renews from the new anchor as usual.
    story.advance(at(2025, 2, 20))
    assert len(story.invoices()) == 3
    events = stripe.StripeClient(
        billing.key, base_addresses={"api": billing.server.stripe_base}, max_network_retries=0
    ).v1.events.list({"type": "customer.subscription.resumed"})
    assert [e.data.object.id for e in events.data] == [sub.id]


def test_resuming_with_the_anchor_unchanged_and_no_prorations_bills_from_the_next_boundary(
    billing: SdkTenant,
) -> None:
    story, sub = _paused(billing)
    anchor = sub.billing_cycle_anchor
    resumed = billing.client.v1.subscriptions.resume(
        sub.id, {"billing_cycle_anchor": "unchanged", "proration_behavior": "none"}
    )
    assert (resumed.status, resumed.billing_cycle_anchor) == ("active", anchor)
    assert resumed.items.data[0].current_period_end == at(2025, 2, 8)  # the trial's end anchors the cycle
    assert len(story.invoices()) == 1
    assert billing.client.v1.invoice_items.list({"customer": sub.customer, "pending": True}).data == []
    story.advance(at(2025, 2, 8))
    assert len(story.invoices()) == 2


def test_resuming_with_the_anchor_unchanged_charges_the_rest_of_the_period(billing: SdkTenant) -> None:
    story, sub = _paused(billing)
    # Stripe's default there is create_prorations: Jan 20 → Feb 8 is 19 of the period's 31 days,
    # 1500 × 19/31 = 919.35 → 919, pending for the next invoice.
    billing.client.v1.subscriptions.resume(sub.id, {"billing_cycle_anchor": "unchanged"})
    (charge,) = billing.client.v1.invoice_items.list({"customer": sub.customer, "pending": True}).data
    assert (charge.amount, charge.proration, charge.period.start, charge.period.end) == (
        919,
        True,
        at(2025, 1, 20),
        at(2025, 2, 8),
    )
    assert charge.description is not None and charge.description.startswith("Remaining time on 1 × ")
    assert len(story.invoices()) == 1
    story.advance(at(2025, 2, 8))
    renewal = billing.client.v1.invoices.retrieve(str(story.sub(sub.id).latest_invoice))
    assert sorted(line.amount for line in billing.lines(renewal.id)) == [919, 1500]


def test_resuming_with_always_invoice_bills_the_rest_at_once_from_the_proration_date(billing: SdkTenant) -> None:
    story, sub = _paused(billing)
    with pytest.raises(stripe.InvalidRequestError) as outside:
        billing.client.v1.subscriptions.resume(
            sub.id, {"billing_cycle_anchor": "unchanged", "proration_date": at(2025, 2, 9)}
        )
    assert (outside.value.http_status, outside.value.param) == (400, "proration_date")
    assert story.sub(sub.id).status == "paused" and len(story.invoices()) == 1
    resumed = billing.client.v1.subscriptions.resume(
        sub.id,
        {
            "billing_cycle_anchor": "unchanged",
            "proration_behavior": "always_invoice",
            "proration_date": at(2025, 1, 24),
        },
    )
    # Jan 24 → Feb 8: 15 of 31 days, 1500 × 15/31 = 725.81 → 726, on an invoice finalized at once.
    invoice = billing.client.v1.invoices.retrieve(str(resumed.latest_invoice))
    assert (invoice.billing_reason, invoice.status, invoice.total) == ("subscription_update", "open", 726)
    assert len(story.invoices()) == 2


def test_only_a_paused_subscription_resumes(billing: SdkTenant) -> None:
    story = Clocked(billing, at(2025, 1, 1))
    active = story.subscribe()
    with pytest.raises(stripe.InvalidRequestError) as refused:
        billing.client.v1.subscriptions.resume(active.id)
    assert refused.value.http_status == 400 and "this subscription is active" in str(refused.value.user_message)
    canceled = billing.client.v1.subscriptions.cancel(story.subscribe().id)
    with pytest.raises(stripe.InvalidRequestError):
        billing.client.v1.subscriptions.resume(canceled.id)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        billing.client.v1.subscriptions.resume("sub_missing")
    assert missing.value.http_status == 404
    assert len(story.invoices()) == 2
