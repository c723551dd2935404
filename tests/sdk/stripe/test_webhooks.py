"""stripe-python's WebhookEndpoint and Event services work unchanged against bulkbill.

A plain StripeClient: tests/data/stripe_schemas.json holds no `event` or `webhook_endpoint` schema for
the validating client to check against; the shapes are asserted here instead."""

from __future__ import annotations

import stripe

from tests.helpers.sdk import SdkTenant


def test_webhook_endpoints_and_events_through_the_sdk(sdk: SdkTenant) -> None:
    client = stripe.StripeClient(sdk.key, base_addresses={"api": sdk.server.stripe_base}, max_network_retries=0)
    created = client.v1.webhook_endpoints.create(
        {"url": "https://example.com/hook", "enabled_events": ["customer.created"], "metadata": {"team": "crm"}}
    )
    assert isinstance(created, stripe.WebhookEndpoint) and created.secret and created.secret.startswith("whsec_")
    fetched = client.v1.webhook_endpoints.retrieve(created.id)
    assert fetched.url == "https://example.com/hook" and "secret" not in fetched
    updated = client.v1.webhook_endpoints.update(created.id, {"disabled": True, "enabled_events": ["*"]})
    assert updated.status == "disabled" and updated.enabled_events == ["*"]
    assert [e.id for e in client.v1.webhook_endpoints.list().data] == [created.id]

    customer = client.v1.customers.create({"name": "Ada"})
    [event] = client.v1.events.list({"type": "customer.created"}).data
    assert isinstance(event, stripe.Event) and event.data.object.id == customer.id
    assert client.v1.events.retrieve(event.id).type == "customer.created"

    deleted = client.v1.webhook_endpoints.delete(created.id)
    assert deleted.deleted is True
    assert client.v1.webhook_endpoints.list().data == []
