"""/v1/subscription_items create, update and delete through stripe-python 16.1.0: seat changes as integrations
make them. Each is the subscription update with one items[] entry, so the prorations (worked out by hand from
Stripe's classic rule, as in test_prorations.py) and the events are the update's. Responses are validated by the
subscriptions client (SDK attributes for subscription items, Stripe's schema for the deleted stub and errors)."""

from __future__ import annotations

import pytest
import stripe

from tests.helpers.sdk import SdkTenant
from tests.sdk.stripe.test_prorations import Story, _events, _rows, at
from tests.sdk.stripe.test_subscriptions import billing, monthly

__all__ = ["billing"]

pytestmark = pytest.mark.sdk


def test_adding_seats_as_a_new_item_charges_the_rest_of_the_period_and_tells_it(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 1, 1), 1500)
    support = monthly(billing, 310, "Support")
    story.advance(at(2025, 1, 21))  # 11 of 31 days left
    item = story.client.v1.subscription_items.create(
        {"subscription": story.sub.id, "price": support.id, "quantity": 3, "metadata": {"team": "ops"}}
    )
    assert (item.subscription, item.price.id, item.quantity, item.metadata.to_dict()) == (
        story.sub.id,
        support.id,
        3,
        {"team": "ops"},
    )
    # 930 × 11/31 = 330 exactly
    assert [(i.amount, i.description) for i in story.pending()] == [
        (330, "Remaining time on 3 × Support after 21 Jan 2025")
    ]
    listed = story.client.v1.subscription_items.list({"subscription": story.sub.id}).data
    assert sorted(i.id for i in listed) == sorted([story.item, item.id])
    assert story.client.v1.subscription_items.retrieve(item.id).quantity == 3
    updated = _events(billing, "customer.subscription.updated")
    assert updated and item.id in {i["id"] for i in updated[0]["items"]["data"]}
    assert [o["amount"] for o in _events(billing, "invoiceitem.created")] == [330]


def test_a_quantity_change_on_the_item_prorates_as_the_subscription_update_does(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 4, 1), 1001)
    story.advance(at(2025, 4, 20))
    item = story.client.v1.subscription_items.update(
        story.item,
        {
            "quantity": 3,
            "proration_behavior": "always_invoice",
            "proration_date": at(2025, 4, 16),
            "payment_behavior": "error_if_incomplete",
            "off_session": True,
        },
    )
    assert item.quantity == 3
    now = story.latest()
    # 1001 × 1/2 = 500.5 → -501; 3003 × 1/2 = 1501.5 → 1502 (as test_prorations' subscription update)
    assert now.billing_reason == "subscription_update"
    assert sorted(line.amount for line in now.lines.data) == [-501, 1502]


def test_deleting_an_item_credits_its_unused_time_and_the_last_item_stays(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 1, 1), 1500, quantity=2)
    support = monthly(billing, 310, "Support")
    extra = story.client.v1.subscription_items.create(
        {"subscription": story.sub.id, "price": support.id, "proration_behavior": "none"}
    )
    assert story.pending() == []
    story.advance(at(2025, 1, 21))
    gone = story.client.v1.subscription_items.delete(story.item, {"clear_usage": True})
    assert (gone.id, gone.deleted) == (story.item, True)
    # 3000 × 11/31 = 1064.52 → -1065
    assert [(i.amount, i.description) for i in story.pending()] == [
        (-1065, "Unused time on 2 × Seat after 21 Jan 2025")
    ]
    before = _rows(billing)
    with pytest.raises(stripe.InvalidRequestError) as error:
        story.client.v1.subscription_items.delete(extra.id)
    assert error.value.http_status == 400 and "cancel" in str(error.value.user_message)
    assert _rows(billing) == before
    remaining = story.client.v1.subscriptions.retrieve(story.sub.id)["items"].data
    assert [i.id for i in remaining] == [extra.id]
    with pytest.raises(stripe.InvalidRequestError) as missing:
        story.client.v1.subscription_items.retrieve(story.item)
    assert missing.value.http_status == 404


def test_bad_input_names_the_parameter_and_changes_nothing(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 1, 1), 1000)
    other = monthly(billing, 700, "Other")
    story.advance(at(2025, 1, 10))
    before = _rows(billing)
    cases: list[tuple[dict[str, object], str, int]] = [
        ({"subscription": story.sub.id, "price": "price_nope"}, "price", 400),
        ({"subscription": story.sub.id, "price": story.price.id}, "price", 400),  # a price appears once
        ({"subscription": story.sub.id, "price": other.id, "quantity": -1}, "quantity", 400),
        ({"subscription": story.sub.id, "price": other.id, "proration_date": at(2025, 3, 1)}, "proration_date", 400),
        ({"subscription": story.sub.id}, "price", 400),
        ({"price": other.id}, "subscription", 400),
        ({"subscription": story.sub.id, "price": other.id, "plan": other.id}, "plan", 400),
        ({"subscription": story.sub.id, "price": other.id, "tax_rates": ["txr_nope"]}, "tax_rates[0]", 400),
    ]
    for params, param, status in cases:
        with pytest.raises(stripe.StripeError) as error:
            story.client.v1.subscription_items.create(params)  # type: ignore[arg-type]
        assert (error.value.http_status, getattr(error.value, "param", None)) == (status, param), params
    for update, param in (({"quantity": "x"}, "quantity"), ({"proration_behavior": "later"}, "proration_behavior")):
        with pytest.raises(stripe.InvalidRequestError) as bad:
            story.client.v1.subscription_items.update(story.item, update)  # type: ignore[arg-type]
        assert (bad.value.http_status, bad.value.param) == (400, param)
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        story.client.v1.subscription_items.delete(story.item, {"proration_date": "soon"})  # type: ignore[typeddict-item]
    assert (unknown.value.http_status, unknown.value.param) == (400, "proration_date")
    assert _rows(billing) == before
    assert story.pending() == []
