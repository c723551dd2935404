"""payment_behavior=pending_if_incomplete through stripe-python 16.1.0: bulkbill takes no payment, so no payment
fails and an update applies at once, as Stripe's does when its invoice is paid (`pending_update` stays null); what
a pending update may carry is Stripe's list (a 400 naming anything else, nothing changed)."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.helpers.sdk import SdkTenant
from tests.sdk.stripe.test_prorations import Story, _rows, at
from tests.sdk.stripe.test_subscriptions import billing, monthly

__all__ = ["billing"]

pytestmark = pytest.mark.sdk
PENDING = {"payment_behavior": "pending_if_incomplete"}


def test_an_update_applies_at_once_and_leaves_nothing_pending(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 4, 1), 1000)
    story.advance(at(2025, 4, 16))
    sub = story.update(items=[{"id": story.item, "quantity": 3}], proration_behavior="always_invoice", **PENDING)
    assert sub.pending_update is None and sub["items"].data[0].quantity == 3
    invoice = story.latest()
    # Half of April: -500 + 1500, invoiced at once (what Stripe would collect before applying it).
    assert (invoice.billing_reason, invoice.total) == ("subscription_update", 1000)
    item = billing.client.v1.subscription_items.update(
        story.item, {"quantity": 2, "proration_behavior": "none", **PENDING}
    )
    assert item.quantity == 2


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"metadata": {"a": "1"}}, "metadata"),
        ({"description": "x"}, "description"),
        ({"items": [{"id": "", "metadata": {"a": "1"}}]}, "items[0][metadata]"),
    ],
)
def test_only_what_a_pending_update_supports_is_taken(billing: SdkTenant, params: dict[str, Any], param: str) -> None:
    story = Story(billing, at(2025, 4, 1), 1000)
    if "items" in params:
        params = {"items": [{**params["items"][0], "id": story.item}]}
    before = _rows(billing)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        story.update(**params, **PENDING)
    assert (refused.value.http_status, refused.value.param) == (400, param)
    assert "pending_if_incomplete" in str(refused.value.user_message)
    assert _rows(billing) == before
    story.update(**params)  # the same without it is an ordinary update


def test_items_endpoints_and_create_follow_the_same_rule(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 4, 1), 1000)
    with pytest.raises(stripe.InvalidRequestError) as on_item:
        billing.client.v1.subscription_items.update(story.item, {"metadata": {"a": "1"}, **PENDING})
    assert on_item.value.param == "metadata"
    extra = monthly(billing, 500, "Extra")
    with pytest.raises(stripe.InvalidRequestError) as on_new_item:
        billing.client.v1.subscription_items.create(
            {"subscription": story.sub.id, "price": extra.id, "metadata": {"a": "1"}, **PENDING}
        )
    assert on_new_item.value.param == "metadata"
    added = billing.client.v1.subscription_items.create({"subscription": story.sub.id, "price": extra.id, **PENDING})
    assert added.price.id == extra.id
    with pytest.raises(stripe.InvalidRequestError) as on_create:
        billing.client.v1.subscriptions.create(
            {"customer": story.customer.id, "items": [{"price": extra.id}], **PENDING}  # type: ignore[typeddict-item]
        )
    assert (on_create.value.http_status, on_create.value.param) == (400, "payment_behavior")
