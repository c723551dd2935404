"""The plugin's fixtures as a user's test sees them: bulkbill's own suite loads the plugin through its entry
point, and these tests take the fixtures with the defaults a user gets (SQLite in a temporary folder)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe
import zuora_sdk

from bulkbill.testing import BulkbillServer, Clocks, Tenant, WebhookReceiver, WebhookTimeout

pytestmark = pytest.mark.sdk
JAN1 = datetime(2025, 1, 1, tzinfo=UTC)
FEB1 = int(datetime(2025, 2, 1, tzinfo=UTC).timestamp())


def test_the_server_uses_sqlite_in_a_temporary_folder_by_default(
    bulkbill_database_url: str, bulkbill_server: BulkbillServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The plugin's own default (bulkbill's tests/sdk override it with their two databases, and a
    # session-scoped server started there may be the one this worker shares).
    assert bulkbill_database_url.startswith("sqlite:///")
    assert bulkbill_database_url.removeprefix("sqlite:///").startswith(str(tmp_path_factory.getbasetemp()))
    assert bulkbill_server.stripe_base == bulkbill_server.url + "/stripe"


def test_stripe_client_speaks_for_the_tests_own_tenant(
    stripe_client: stripe.StripeClient, bulkbill_tenant: Tenant, bulkbill_server: BulkbillServer
) -> None:
    mine = stripe_client.v1.customers.create({"name": "Ada"})
    other = bulkbill_server.new_tenant("other").stripe_client()
    theirs = other.v1.customers.create({"name": "Grace"})
    assert [c.id for c in stripe_client.v1.customers.list().data] == [mine.id]
    assert [c.id for c in other.v1.customers.list().data] == [theirs.id]
    assert bulkbill_tenant.url == bulkbill_server.url
    assert bulkbill_tenant.stripe_secret_key.startswith("sk_test_")


def test_stripe_client_does_not_retry(stripe_client: stripe.StripeClient, bulkbill_tenant: Tenant) -> None:
    # A test must see every answer as the server gave it: a 409 retried by the SDK would hide a conflict.
    requestor: Any = stripe_client._requestor
    assert requestor._options.max_network_retries == 0
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.customers.retrieve("cus_missing")
    assert refused.value.http_status == 404


def test_zuora_api_client_holds_a_token_of_the_tests_tenant(zuora_api_client: zuora_sdk.ApiClient) -> None:
    created = zuora_sdk.AccountsApi(zuora_api_client).create_account(
        zuora_sdk.CreateAccountRequest(
            name="Acme",
            currency="USD",
            bill_to_contact=zuora_sdk.CreateAccountContact(first_name="Ada", last_name="Lovelace"),
        )
    )
    assert created.success and created.account_number
    assert zuora_api_client.configuration.access_token


def test_a_clock_advances_and_renews_its_customers_subscription(
    bulkbill_clock: Clocks, stripe_client: stripe.StripeClient
) -> None:
    clock = bulkbill_clock.create(JAN1, name="renewal")
    customer = clock.customer(name="Ada")
    product = stripe_client.v1.products.create({"name": "Seat"})
    price = stripe_client.v1.prices.create(
        {"product": product.id, "currency": "usd", "unit_amount": 1500, "recurring": {"interval": "month"}}
    )
    stripe_client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})

    advanced = clock.advance(days=31)

    assert (advanced.status, advanced.frozen_time, clock.frozen_time) == ("ready", FEB1, FEB1)
    drafts = stripe_client.v1.invoices.list({"customer": customer.id, "status": "draft"}).data
    assert [d.billing_reason for d in drafts] == ["subscription_cycle"]
    assert clock.advance(to=FEB1 + 3600).frozen_time == FEB1 + 3600


def test_a_clock_refuses_an_unclear_move(bulkbill_clock: Clocks) -> None:
    clock = bulkbill_clock.create(JAN1)
    with pytest.raises(ValueError, match="one of the two"):
        clock.advance()
    with pytest.raises(ValueError, match="one of the two"):
        clock.advance(to=FEB1, days=1)
    with pytest.raises(ValueError, match="aware datetime"):
        bulkbill_clock.create(datetime(2025, 1, 1))  # naive: the mistake under test


def test_stripe_webhooks_hands_over_the_tenants_events_verified(
    stripe_webhooks: WebhookReceiver, stripe_client: stripe.StripeClient
) -> None:
    customer = stripe_client.v1.customers.create({"name": "Ada"})
    event = stripe_webhooks.wait_for("customer.created", lambda e: e.data.object.id == customer.id)
    assert isinstance(event, stripe.Event) and event.data.object.name == "Ada"
    # a delivery not signed with the endpoint's secret is answered 400 and kept out
    forged = urllib.request.Request(
        stripe_webhooks.url,
        data=json.dumps(event.to_dict()).encode(),
        headers={"Stripe-Signature": "t=1,v1=00"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=10)
    assert refused.value.code == 400 and stripe_webhooks.refused == 1
    with pytest.raises(WebhookTimeout, match=r"no invoice\.created event"):
        stripe_webhooks.wait_for("invoice.created", timeout=0.2)
