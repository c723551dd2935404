"""Test clocks through stripe-python: `expand[]=test_clock` on customers, invoices and invoice items (a clock
deleted since stays an id), and clocks deleted once their `deletes_after` has passed."""

from __future__ import annotations

import pytest
import stripe
from sqlalchemy import update

from bulkbill.storage.db import create_db_engine
from bulkbill.storage.tables_subscriptions import BillingClock
from tests.helpers.sdk import SdkTenant
from tests.sdk.stripe.test_subscription_terms import Clocked, at
from tests.sdk.stripe.test_subscriptions import billing

__all__ = ["billing"]

pytestmark = pytest.mark.sdk

EXPAND = {"expand": ["test_clock"]}


def test_test_clock_expands_on_customers_invoices_and_invoice_items(billing: SdkTenant) -> None:
    story = Clocked(billing, at(2025, 1, 1))
    sub = story.subscribe()
    client, clock = billing.client.v1, story.clock
    customer = client.customers.retrieve(story.customer.id, EXPAND)
    assert customer.test_clock.id == clock.id and customer.test_clock.frozen_time == at(2025, 1, 1)  # type: ignore[union-attr]
    listed = client.customers.list({"expand": ["data.test_clock"], "test_clock": clock.id})
    assert [c.test_clock.id for c in listed.data] == [clock.id]  # type: ignore[union-attr]
    assert client.customers.retrieve(billing.customer().id, EXPAND).test_clock is None  # no clock: stays null
    invoice = client.invoices.retrieve(sub.latest_invoice, EXPAND)  # type: ignore[arg-type]
    assert invoice.test_clock.object == "test_helpers.test_clock"  # type: ignore[union-attr]
    item = client.invoice_items.create({"customer": story.customer.id, "amount": 100, "currency": "usd", **EXPAND})  # type: ignore[typeddict-item]
    assert item.test_clock.id == clock.id  # type: ignore[union-attr]
    client.test_helpers.test_clocks.delete(clock.id)
    shown = client.invoices.retrieve(sub.latest_invoice, EXPAND).to_dict()  # type: ignore[arg-type]
    assert shown["test_clock"] == clock.id  # deleted since: not expanded (the schema allows no deleted stub)


def test_a_clock_past_its_deletes_after_is_deleted_with_its_customers(billing: SdkTenant) -> None:
    story = Clocked(billing, at(2025, 1, 1))
    sub = story.subscribe()
    kept = billing.client.v1.test_helpers.test_clocks.create({"frozen_time": at(2025, 1, 1)})
    assert story.clock.deletes_after == story.clock.created + 30 * 86400
    engine = create_db_engine(billing.server.database_url)
    with engine.begin() as connection:  # thirty days go by for this clock only
        connection.execute(
            update(BillingClock).where(BillingClock.id == story.clock.id).values(deletes_after=story.clock.created - 1)
        )
    engine.dispose()
    clocks = billing.client.v1.test_helpers.test_clocks
    assert [c.id for c in clocks.list().data] == [kept.id]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        clocks.retrieve(story.clock.id)
    assert caught.value.http_status == 404
    assert billing.client.v1.customers.retrieve(story.customer.id).to_dict().get("deleted") is True
    ended = billing.client.v1.subscriptions.retrieve(sub.id)
    assert (ended.status, ended.ended_at) == ("canceled", at(2025, 1, 1))
    plain = stripe.StripeClient(billing.key, base_addresses={"api": billing.server.stripe_base}, max_network_retries=0)
    deleted = plain.v1.events.list({"type": "test_helpers.test_clock.deleted"})  # events: not in the schema copies
    assert [e.data.object.id for e in deleted.data] == [story.clock.id]
