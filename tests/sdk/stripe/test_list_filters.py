"""The list filters stripe-python declares for the lists bulkbill serves, and DELETE /v1/subscriptions/{id}/discount.

Times come from the objects themselves (their `created`, a chosen `due_date`, a test clock's frozen
time), so nothing depends on the wall clock.
"""

from __future__ import annotations

import time

import pytest
import stripe

from tests.helpers.sdk import SdkTenant
from tests.sdk.stripe.test_subscriptions import FEB1, MAR1, T0, billing, monthly

pytestmark = pytest.mark.sdk
__all__ = ["billing"]  # the fixture that validates subscription objects against the SDK's models


def test_created_filters_every_list(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    product = sdk.client.v1.products.create({"name": "Dated"})
    rate = sdk.tax_rate(5.0)
    coupon = sdk.client.v1.coupons.create({"percent_off": 5.0, "duration": "once"})
    item = sdk.pending_item(customer.id)
    invoice = sdk.invoice(customer.id)
    price = sdk.client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 100})
    v1 = sdk.client.v1
    for what, listing, obj in (
        ("customers", v1.customers.list, customer),
        ("products", v1.products.list, product),
        ("tax_rates", v1.tax_rates.list, rate),
        ("coupons", v1.coupons.list, coupon),
        ("invoiceitems", v1.invoice_items.list, item),
        ("invoices", v1.invoices.list, invoice),
        ("prices", v1.prices.list, price),
    ):
        at = obj.date if what == "invoiceitems" else obj.created  # an invoice item shows its creation as `date`
        assert obj.id in {o.id for o in listing({"created": {"gte": at, "lte": at}, "limit": 100}).data}, what
        assert obj.id in {o.id for o in listing({"created": at, "limit": 100}).data}, what
        assert obj.id not in {o.id for o in listing({"created": {"gt": at}, "limit": 100}).data}, what
        assert obj.id not in {o.id for o in listing({"created": {"lt": at}, "limit": 100}).data}, what
    with pytest.raises(stripe.InvalidRequestError) as caught:
        v1.invoices.list({"created": {"after": 1}})  # type: ignore[typeddict-item]
    assert caught.value.param == "created[after]"


def test_invoices_by_due_date_and_customers_products_prices_by_their_filters(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    soon, later = int(time.time()) + 86400, int(time.time()) + 10 * 86400
    first = sdk.invoice(customer.id, collection_method="send_invoice", due_date=soon)
    second = sdk.invoice(customer.id, collection_method="send_invoice", due_date=later)
    listed = sdk.client.v1.invoices.list({"customer": customer.id, "due_date": {"gt": soon}})
    assert [i.id for i in listed.data] == [second.id]
    listed = sdk.client.v1.invoices.list({"customer": customer.id, "due_date": {"lte": later}})
    assert {i.id for i in listed.data} == {first.id, second.id}
    good = sdk.client.v1.products.create({"name": "Box", "type": "good"})
    service = sdk.client.v1.products.create({"name": "Care"})
    assert (good.type, service.type) == ("good", "service")
    assert [p.id for p in sdk.client.v1.products.list({"ids": [good.id, service.id], "type": "good"}).data] == [good.id]
    assert {p.id for p in sdk.client.v1.products.list({"ids": [good.id, service.id]}).data} == {good.id, service.id}
    recurring = sdk.client.v1.prices.create(
        {"product": good.id, "currency": "usd", "unit_amount": 100, "recurring": {"interval": "year"}}
    )
    sdk.client.v1.prices.create({"product": good.id, "currency": "usd", "unit_amount": 100})
    listed_prices = sdk.client.v1.prices.list({"product": good.id, "recurring": {"interval": "year"}})
    assert [p.id for p in listed_prices.data] == [recurring.id]
    assert sdk.client.v1.prices.list({"product": good.id, "recurring": {"usage_type": "metered"}}).data == []


def test_subscription_filters_and_deleting_its_discount(billing: SdkTenant) -> None:
    client = billing.client
    clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    customer = client.v1.customers.create({"name": "Ada", "test_clock": clock.id})
    other = client.v1.customers.create({"name": "Bob"})
    assert [c.id for c in client.v1.customers.list({"test_clock": clock.id}).data] == [customer.id]
    assert other.id not in {c.id for c in client.v1.customers.list({"test_clock": clock.id}).data}
    price = monthly(billing, 1000, "Seat")
    coupon = client.v1.coupons.create({"percent_off": 10.0, "duration": "forever"})
    sub = client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": price.id}], "discounts": [{"coupon": coupon.id}]}
    )
    by = client.v1.subscriptions.list
    assert [s.id for s in by({"plan": price.id}).data] == [sub.id]
    assert [s.id for s in by({"customer": customer.id, "current_period_end": {"gte": FEB1}}).data] == [sub.id]
    assert by({"customer": customer.id, "current_period_end": {"gte": MAR1}}).data == []
    assert by({"customer": customer.id, "current_period_start": T0}).data[0].id == sub.id
    assert by({"customer": customer.id, "automatic_tax": {"enabled": True}}).data == []
    assert [s.id for s in by({"customer": customer.id, "automatic_tax": {"enabled": False}}).data] == [sub.id]
    invoices = client.v1.invoices.list({"subscription": sub.id}).data
    assert [i.id for i in invoices] == [sub.latest_invoice]
    assert client.v1.invoices.list({"customer": other.id, "subscription": sub.id}).data == []
    # deleting the discount: the subscription keeps none, its next invoice is not discounted
    deleted = client.v1.subscriptions.delete_discount(sub.id)
    assert (deleted.object, deleted.deleted, deleted.source.coupon) == ("discount", True, coupon.id)
    assert client.v1.subscriptions.retrieve(sub.id).discounts == []
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.subscriptions.delete_discount(sub.id)
    assert caught.value.http_status == 404
