"""Tests against bulkbill, a Stripe and Zuora stand-in running inside pytest: `pip install "bulkbill[stripe,zuora]"`.

Every test gets a tenant of its own (a clean account); the server starts once per session (per
pytest-xdist worker) on SQLite in a temporary folder, or on `--bulkbill-database-url`.
"""

from datetime import UTC, datetime

import pytest
import stripe
import zuora_sdk


def test_an_invoice_with_lines(stripe_client):
    customer = stripe_client.v1.customers.create({"name": "Ada", "email": "ada@example.com"})
    invoice = stripe_client.v1.invoices.create({"customer": customer.id, "currency": "usd"})
    invoice = stripe_client.v1.invoices.add_lines(
        invoice.id, {"lines": [{"amount": 7500, "description": "Setup fee"}, {"amount": 3000, "description": "Seat"}]}
    )
    invoice = stripe_client.v1.invoices.finalize_invoice(invoice.id)
    assert (invoice.status, invoice.total) == ("open", 10500)


def test_each_test_starts_with_an_empty_account(stripe_client):
    assert stripe_client.v1.customers.list().data == []


def test_errors_come_back_as_the_sdks_exceptions(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.customers.retrieve("cus_missing")
    assert error.value.http_status == 404


def test_a_subscription_renews_when_its_test_clock_moves(stripe_client, bulkbill_clock):
    clock = bulkbill_clock.create(datetime(2025, 1, 1, tzinfo=UTC))
    customer = clock.customer(name="Ada")
    price = stripe_client.v1.prices.create(
        {"currency": "usd", "unit_amount": 1500, "recurring": {"interval": "month"}, "product_data": {"name": "Seat"}}
    )
    stripe_client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})

    clock.advance(days=31)

    renewals = stripe_client.v1.invoices.list({"customer": customer.id, "status": "draft"}).data
    assert [(r.billing_reason, r.total) for r in renewals] == [("subscription_cycle", 1500)]


def test_a_webhook_receives_the_event_signed(stripe_client, stripe_webhooks):
    customer = stripe_client.v1.customers.create({"name": "Ada"})
    event = stripe_webhooks.wait_for("customer.created", lambda e: e.data.object.id == customer.id)
    assert event.data.object.name == "Ada"


def test_a_zuora_account(zuora_api_client):
    accounts = zuora_sdk.AccountsApi(zuora_api_client)
    created = accounts.create_account(
        zuora_sdk.CreateAccountRequest(
            name="Acme",
            currency="USD",
            bill_to_contact=zuora_sdk.CreateAccountContact(first_name="Ada", last_name="Lovelace"),
        )
    )
    assert accounts.get_account(created.account_number).basic_info.name == "Acme"
