"""Subscriptions and test clocks through stripe-python 16.1.0, against a live server, on SQLite and PostgreSQL.

The story the seeds tell: a renewal invoice stays a draft for an hour, which is when teams edit it;
a test clock is how a test reaches that hour. Every response is validated: objects Stripe's schema
subset covers (invoice, line_item, price, test clock, ...) against their schema, and the ones it
prunes (subscription, subscription_item, plan) against every attribute stripe-python declares.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import stripe

from bulkbill.testing.server import BulkbillServer
from bulkbill.testing.tenant import Tenant
from tests.helpers.schema import assert_stripe_schema
from tests.helpers.sdk import (
    DELETED_SCHEMAS,
    SdkTenant,
    ValidatingHTTPClient,
    assert_totals_match_lines,
    validate_tree,
)

pytestmark = pytest.mark.sdk

HOUR = 3600
T0 = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
FEB1 = int(datetime(2025, 2, 1, tzinfo=UTC).timestamp())
MAR1 = int(datetime(2025, 3, 1, tzinfo=UTC).timestamp())


def _fields(cls: type) -> frozenset[str]:
    return frozenset(k for k in cls.__annotations__ if not k.isupper() and not k.startswith("_")) - {"deleted"}


# The schema subset prunes these; stripe-python's declared attributes are the contract instead.
SDK_SHAPES = {
    "subscription": _fields(stripe.Subscription),
    "subscription_item": _fields(stripe.SubscriptionItem),
    "plan": _fields(stripe.Plan),
    # Not in the schema copies (tests/data/README.md): stripe-python's model is the contract.
    "customer_balance_transaction": _fields(stripe.CustomerBalanceTransaction),
    # Nor are billing meters, their events and event summaries (tests/data/README.md).
    "billing.meter": _fields(stripe.billing.Meter),
    "billing.meter_event": _fields(stripe.billing.MeterEvent),
    "billing.meter_event_summary": _fields(stripe.billing.MeterEventSummary),
    "subscription_schedule": _fields(stripe.SubscriptionSchedule),
    "event": _fields(stripe.Event) - {"account", "context"},  # both only on Connect events
}
CLOCK = "test_helpers.test_clock"


def validate(node: Any, where: str = "$") -> None:
    """validate_tree, extended to test clocks (schema) and subscription objects (SDK attributes)."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            validate(item, f"{where}[{i}]")
        return
    if not isinstance(node, dict):
        return
    kind = node.get("object")
    if kind == CLOCK:
        if node.get("deleted") is True:
            assert set(node) == {"id", "object", "deleted"}, f"{where}: odd deleted stub {node}"
        else:
            assert_stripe_schema(node, CLOCK)
        return
    if isinstance(kind, str) and kind in SDK_SHAPES:
        missing = SDK_SHAPES[kind] - set(node)
        recurring = (node.get("price") or {}).get("recurring") or {}
        if kind == "subscription_item" and recurring.get("usage_type") == "metered":
            missing -= {"quantity"}  # Stripe sends no quantity for a metered item
        assert not missing, f"{where} ({kind} {node.get('id')}): missing {sorted(missing)}"
        for key, value in node.items():
            validate(value, f"{where}.{key}")
        return
    if kind in ("list", "search_result"):
        if kind == "search_result":
            assert_stripe_schema(node, kind)
        assert isinstance(node.get("has_more"), bool) and node["url"].startswith("/v1/"), f"{where}: bad list"
        assert all(isinstance(x, dict) and x.get("id") for x in node["data"]), f"{where}: item without id"
        validate(node["data"], f"{where}.data")
        return
    if isinstance(kind, str):
        validate_tree(node, where)
        return
    for key, value in node.items():
        validate(value, f"{where}.{key}")


class SubscriptionsHTTPClient(ValidatingHTTPClient):
    """The shared validating client, with the validation extended to subscriptions and test clocks."""

    check = staticmethod(validate)  # what a successful response's body is checked with

    def request(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        content, status, response_headers = stripe.RequestsClient.request(self, method, url, headers, post_data)
        lowered = {k.lower(): v for k, v in response_headers.items()}
        what = f"{method.upper()} {url}"
        assert lowered.get("request-id", "").startswith("req_"), f"{what}: no Request-Id header"
        assert lowered.get("content-type", "").startswith("application/json"), f"{what}: not JSON"
        body = json.loads(content)
        if status >= 400:
            assert_stripe_schema(body, "error")
        elif body.get("deleted") is True and body.get("object") in DELETED_SCHEMAS:
            assert_stripe_schema(body, f"deleted_{body['object']}")
        else:
            self.check(body, what)
        self.seen.append((method.upper(), url, status, lowered))
        return content, status, response_headers


@pytest.fixture
def billing(bulkbill_server: BulkbillServer, bulkbill_tenant: Tenant) -> Iterator[SdkTenant]:
    tenant = SdkTenant(bulkbill_server, bulkbill_tenant, http=SubscriptionsHTTPClient())
    yield tenant
    tenant.close()


def monthly(sdk: SdkTenant, unit_amount: int, name: str) -> stripe.Price:
    product = sdk.client.v1.products.create({"name": name})
    return sdk.client.v1.prices.create(
        {"product": product.id, "currency": "usd", "unit_amount": unit_amount, "recurring": {"interval": "month"}}
    )


class TestRenewalDraftWithATestClock:
    def test_advance_edit_the_draft_then_see_it_finalized(self, billing: SdkTenant) -> None:
        client = billing.client
        # given: a clock, a customer living in it, a monthly subscription of two items
        clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0, "name": "renewal"})
        assert (clock.status, clock.frozen_time) == ("ready", T0)
        customer = client.v1.customers.create({"name": "Ada", "test_clock": clock.id})
        assert customer.test_clock == clock.id
        seat, support = monthly(billing, 1500, "Seat"), monthly(billing, 500, "Support")
        sub = client.v1.subscriptions.create(
            {"customer": customer.id, "items": [{"price": seat.id, "quantity": 2}, {"price": support.id}]}
        )
        assert (sub.status, sub.currency, sub.test_clock) == ("active", "usd", clock.id)
        items = {i.price.id: i for i in sub["items"].data}
        assert items[seat.id].quantity == 2 and items[seat.id].current_period_end == FEB1
        first = client.v1.invoices.retrieve(sub.latest_invoice)
        assert (first.status, first.billing_reason, first.total) == ("open", "subscription_create", 3500)
        assert first.parent.type == "subscription_details"
        assert first.parent.subscription_details.subscription == sub.id
        # and an invoice item waiting for the next invoice
        pending = billing.pending_item(customer.id, 700)

        # when: one month passes
        clock = client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": FEB1})
        assert (clock.status, clock.frozen_time) == ("ready", FEB1)

        # then: the renewal is a draft carrying the pending item and one line per subscription item
        drafts = client.v1.invoices.list({"customer": customer.id, "status": "draft"}).data
        assert len(drafts) == 1
        draft = drafts[0]
        assert client.v1.subscriptions.retrieve(sub.id).latest_invoice == draft.id
        assert (draft.billing_reason, draft.auto_advance, draft.automatically_finalizes_at) == (
            "subscription_cycle",
            True,
            FEB1 + HOUR,
        )
        assert draft.test_clock == clock.id and draft.total == 4200
        lines = billing.lines(draft.id)
        by_kind: dict[str, list[stripe.InvoiceLineItem]] = {}
        for line in lines:
            by_kind.setdefault(line.parent.type, []).append(line)
        (item_line,) = by_kind["invoice_item_details"]
        seat_line, support_line = by_kind["subscription_item_details"]
        assert item_line.parent.invoice_item_details.invoice_item == pending.id
        for line, price in ((seat_line, seat), (support_line, support)):
            details = line.parent.subscription_item_details
            assert (details.subscription, details.subscription_item) == (sub.id, items[price.id].id)
            assert line.subscription == sub.id
            assert (line.period.start, line.period.end) == (FEB1, MAR1)

        # when: update_lines mixes both kinds of line
        vat = billing.tax_rate(20.0)
        ten = client.v1.coupons.create({"percent_off": 10, "duration": "forever"})
        edited = client.v1.invoices.update_lines(
            draft.id,
            {
                "lines": [
                    {"id": seat_line.id, "tax_rates": [vat.id], "metadata": {"cost_center": "eng"}},
                    {"id": support_line.id, "discounts": [{"coupon": ten.id}]},
                    {"id": item_line.id, "amount": 900, "description": "Setup (revised)"},
                ]
            },
        )
        # then: the totals follow (3000 + 600 VAT, 500 - 50, 900)
        assert (edited.subtotal, edited.total) == (4350, 4950)
        assert_totals_match_lines(billing, edited)
        edited_lines = {ln.id: ln for ln in billing.lines(draft.id)}
        assert edited_lines[seat_line.id].metadata.to_dict() == {"cost_center": "eng"}
        assert edited_lines[item_line.id].description == "Setup (revised)"

        # when: a field subscription lines do not take rides along with a valid change
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.invoices.update_lines(
                draft.id,
                {
                    "lines": [
                        {"id": item_line.id, "amount": 1000},
                        {"id": seat_line.id, "quantity": 3},
                    ]
                },
            )
        # then: refused, named, and nothing changed
        assert caught.value.http_status == 400
        assert caught.value.param == "lines[1][quantity]"
        assert client.v1.invoices.retrieve(draft.id).to_dict() == edited.to_dict()
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.invoices.remove_lines(draft.id, {"lines": [{"id": support_line.id, "behavior": "delete"}]})
        assert caught.value.param == "lines[0][id]"

        # when: the hour is over
        client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": FEB1 + HOUR})
        # then: finalized with the edited totals
        final = client.v1.invoices.retrieve(draft.id)
        assert (final.status, final.total, final.amount_due) == ("open", 4950, 4950)
        assert final.status_transitions.finalized_at == FEB1 + HOUR
        assert final.number is not None and final.number != first.number
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.invoices.update_lines(draft.id, {"lines": [{"id": seat_line.id, "tax_rates": ""}]})


class TestSubscriptionLifecycle:
    def test_update_list_cancel_and_clock_housekeeping(self, billing: SdkTenant) -> None:
        client = billing.client
        clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
        customer = client.v1.customers.create({"name": "Grace", "test_clock": clock.id})
        seat = monthly(billing, 1500, "Seat")
        vat = billing.tax_rate(10.0)
        sub = client.v1.subscriptions.create(
            {
                "customer": customer.id,
                "items": [{"price": seat.id}],
                "collection_method": "send_invoice",
                "days_until_due": 30,
                "default_tax_rates": [vat.id],
                "metadata": {"plan": "solo"},
            }
        )
        first = client.v1.invoices.retrieve(sub.latest_invoice, {"expand": ["customer"]})
        assert (first.total, first.due_date, first.customer.id) == (1650, T0 + 30 * 86400, customer.id)
        # quantity change: no proration, applies to the next period
        item_id = sub["items"].data[0].id
        sub = client.v1.subscriptions.update(
            sub.id, {"items": [{"id": item_id, "quantity": 3}], "proration_behavior": "none"}
        )
        assert sub["items"].data[0].quantity == 3
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.subscriptions.update(sub.id, {"trial_end": T0})  # a trial cannot end in the past
        assert caught.value.param == "trial_end"
        items = client.v1.subscription_items.list({"subscription": sub.id})
        assert [i.id for i in items.data] == [item_id]
        client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": FEB1 + HOUR})
        renewal = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
        assert (renewal.status, renewal.total) == ("open", 4950)
        assert renewal.parent.subscription_details.metadata.to_dict() == {"plan": "solo"}
        # listing, with the SDK's auto-pagination
        listed = [s.id for s in client.v1.subscriptions.list({"limit": 1, "customer": customer.id}).auto_paging_iter()]
        assert listed == [sub.id]
        # cancel: nothing more is billed
        canceled = client.v1.subscriptions.cancel(sub.id)
        assert (canceled.status, canceled.ended_at) == ("canceled", FEB1 + HOUR)
        client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": MAR1 + HOUR})
        assert len(client.v1.invoices.list({"customer": customer.id}).data) == 2
        assert client.v1.subscriptions.list({"customer": customer.id}).data == []
        # clocks: list, refuse going back, delete
        assert clock.id in [c.id for c in client.v1.test_helpers.test_clocks.list().data]
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": T0})
        assert caught.value.param == "frozen_time"
        deleted = client.v1.test_helpers.test_clocks.delete(clock.id)
        assert deleted.deleted is True
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.test_helpers.test_clocks.retrieve(clock.id)
        assert caught.value.http_status == 404


def test_a_subscription_item_is_priced_through_tiers(billing: SdkTenant) -> None:
    product = billing.client.v1.products.create({"name": "Seats"})
    tiers = [{"up_to": 5, "unit_amount": 1000}, {"up_to": "inf", "unit_amount_decimal": "800.5", "flat_amount": 300}]
    price = billing.client.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "billing_scheme": "tiered",
            "tiers_mode": "volume",
            "tiers": tiers,
        }
    )
    sub = billing.client.v1.subscriptions.create(
        {"customer": billing.customer().id, "items": [{"price": price.id, "quantity": 7}]}
    )
    invoice = billing.client.v1.invoices.retrieve(sub.latest_invoice)
    # volume: all 7 units at the second tier's 800.5, plus its flat 300, rounded once
    assert billing.lines(invoice.id)[0].amount == int(Decimal("800.5") * 7 + 300 + Decimal("0.5")) == invoice.subtotal


def test_a_subscription_redeems_a_promotion_code(billing: SdkTenant) -> None:
    coupon = billing.client.v1.coupons.create({"percent_off": 10, "duration": "forever"}).id
    promo = billing.client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": coupon}})
    sub = billing.client.v1.subscriptions.create(
        {
            "customer": billing.customer().id,
            "items": [{"price": monthly(billing, 1000, "Plan").id}],
            "discounts": [{"promotion_code": promo.id}],
        }
    )
    invoice = billing.client.v1.invoices.retrieve(sub.latest_invoice)
    assert (invoice.subtotal, invoice.total) == (1000, 900)
    assert billing.client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 1


def test_search_subscriptions_by_status_metadata_and_created(billing: SdkTenant) -> None:
    client = billing.client
    customer = client.v1.customers.create({"name": "Searcher"})
    price = monthly(billing, 1000, "Searchable")
    kept = client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": price.id}], "metadata": {"team": "blue"}}
    )
    ended = client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    ended = client.v1.subscriptions.cancel(ended.id)
    search = client.v1.subscriptions.search
    assert [s.id for s in search({"query": 'status:"active"'}).data] == [kept.id]
    assert [s.id for s in search({"query": 'status:"canceled"'}).data] == [ended.id]
    assert [s.id for s in search({"query": 'metadata["team"]:"blue"'}).data] == [kept.id]
    assert {s.id for s in search({"query": f"created>={kept.created}"}).data} == {kept.id, ended.id}
    found = search({"query": 'metadata["team"]:"blue"', "expand": ["data.customer", "total_count"]})
    assert (found.total_count, found.data[0].customer.name) == (1, "Searcher")


def test_a_test_clock_made_with_a_customer_takes_it_for_good(billing: SdkTenant) -> None:
    clocks = billing.client.v1.test_helpers.test_clocks
    customer = billing.customer()
    clock = clocks.create({"frozen_time": 1735689600, "customer": customer.id})
    assert billing.client.v1.customers.retrieve(customer.id).test_clock == clock.id
    assert [c.id for c in billing.client.v1.customers.list({"test_clock": clock.id}).data] == [customer.id]
    for who, phrase in ((customer.id, "already attached"), ("cus_missing", "No such customer")):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            clocks.create({"frozen_time": 1735689600, "customer": who})
        assert refused.value.error is not None and refused.value.error.param == "customer"
        assert phrase in str(refused.value.error.message)
    # A customer whose subscriptions already count real time cannot join a clock.
    busy = billing.customer()
    price = monthly(billing, 1000, "Busy")
    billing.client.v1.subscriptions.create({"customer": busy.id, "items": [{"price": price.id}]})
    before = len(clocks.list().data)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        clocks.create({"frozen_time": 1735689600, "customer": busy.id})
    assert refused.value.error is not None and "has subscriptions" in str(refused.value.error.message)
    assert len(clocks.list().data) == before and billing.client.v1.customers.retrieve(busy.id).test_clock is None


def test_a_subscription_redeems_a_restricted_promotion_code_on_its_first_invoice_only(billing: SdkTenant) -> None:
    coupon = billing.client.v1.coupons.create({"percent_off": 10, "duration": "forever"}).id
    promo = billing.client.v1.promotion_codes.create(
        {
            "promotion": {"type": "coupon", "coupon": coupon},
            "restrictions": {"first_time_transaction": True, "minimum_amount": 1500, "minimum_amount_currency": "usd"},
        }
    )
    customer = billing.customer().id
    cheap = {"customer": customer, "items": [{"price": monthly(billing, 1000, "Cheap").id}]}
    with pytest.raises(stripe.InvalidRequestError) as below:
        billing.client.v1.subscriptions.create({**cheap, "discounts": [{"promotion_code": promo.id}]})
    assert below.value.param == "discounts" and "minimum amount (1500 usd)" in str(below.value.user_message)
    assert billing.client.v1.subscriptions.list({"customer": customer}).data == []
    assert billing.client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 0
    sub = billing.client.v1.subscriptions.create(
        {
            "customer": customer,
            "items": [{"price": monthly(billing, 2000, "Plan").id}],
            "discounts": [{"promotion_code": promo.id}],
        }
    )
    assert billing.client.v1.invoices.retrieve(sub.latest_invoice).total == 1800
    # The customer has purchased now: a first-time code is refused to their next subscription.
    with pytest.raises(stripe.InvalidRequestError) as returning:
        billing.client.v1.subscriptions.create({**cheap, "discounts": [{"promotion_code": promo.id}]})
    assert returning.value.param == "discounts[0][promotion_code]"
    assert "prior transactions" in str(returning.value.user_message)
