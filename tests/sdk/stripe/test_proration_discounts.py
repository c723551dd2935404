"""Discounts netted into prorations (Stripe's classic mode, `proration_discounts=included`), through stripe-python
16.1.0 on test clocks: each item's full-period discounts are prorated like its amount, each rounded once, half
away from zero, and the proration is the prorated amount less them, for the credit of unused time as for the
charge of the rest. Figures are worked by hand in the comments."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.helpers.schema import assert_stripe_schema
from tests.helpers.sdk import SdkTenant
from tests.sdk.stripe.test_prorations import Story, _prorations, at
from tests.sdk.stripe.test_subscriptions import billing, monthly

__all__ = ["billing"]

pytestmark = pytest.mark.sdk


def _netted(item: stripe.InvoiceItem) -> list[tuple[str, int]]:
    details = item.proration_details
    assert details is not None
    return [(str(d.discount), d.amount) for d in details.discount_amounts]


def test_a_subscription_s_promotion_code_discounts_both_the_credit_and_the_charge(billing: SdkTenant) -> None:
    quarter = billing.client.v1.coupons.create({"percent_off": 25, "duration": "forever"})
    code = billing.client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": quarter.id}})
    story = Story(billing, at(2025, 4, 1), 1000, discounts=[{"promotion_code": code.id}])
    assert story.latest().total == 750
    (discount,) = story.client.v1.subscriptions.retrieve(story.sub.id).discounts
    story.advance(at(2025, 4, 16))  # 15 of April's 30 days left: exactly half
    story.update(items=[{"id": story.item, "quantity": 3}])
    credit, charge = story.pending()
    # Credit: 1000 × ½ = 500 less 250 × ½ = 125 → -375. Charge: 3000 × ½ = 1500 less 750 × ½ = 375 → 1125.
    assert (credit.amount, charge.amount) == (-375, 1125)
    assert (_netted(credit), _netted(charge)) == ([(discount, -125)], [(discount, 375)])
    for item in (credit, charge):
        assert (item.discountable, item.discounts) == (False, [discount])
        assert_stripe_schema(billing.raw("GET", f"/v1/invoiceitems/{item.id}").json(), "invoiceitem")
    # May's renewal takes both as they are; its 25 % discounts the new period's 3000 only: -375 + 1125 + 2250.
    story.advance(at(2025, 5, 1))
    renewal = story.latest()
    assert renewal.total == 3000
    assert [
        (line.amount, [(d.discount, d.amount) for d in line.discount_amounts]) for line in _prorations(renewal)
    ] == [
        (-375, [(discount, 0)]),  # netted already: Stripe's classic mode names the discount at 0 on the line
        (1125, [(discount, 0)]),
    ]
    shown: dict[str, Any] = billing.raw("GET", f"/v1/invoices/{renewal.id}").json()
    assert_stripe_schema(shown, "invoice")
    assert shown["total_discount_amounts"] == [{"amount": 750, "discount": discount}]


def test_an_item_s_own_coupon_is_netted_and_each_share_rounds_once(billing: SdkTenant) -> None:
    client = billing.client
    tenth = client.v1.coupons.create({"percent_off": 10, "duration": "forever"})
    clock = client.v1.test_helpers.test_clocks.create({"frozen_time": at(2025, 4, 1)})
    customer = client.v1.customers.create({"name": "Ada", "test_clock": clock.id})
    price = monthly(billing, 1001, "Seat")
    sub = client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": price.id, "discounts": [{"coupon": tenth.id}]}]}
    )
    item = sub["items"].data[0]
    (discount,) = item.discounts
    client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": at(2025, 4, 20)})
    updated = client.v1.subscriptions.update(
        sub.id,
        {
            "items": [{"id": item.id, "quantity": 3}],
            "proration_behavior": "always_invoice",
            "proration_date": at(2025, 4, 16),
        },
    )
    now = client.v1.invoices.retrieve(str(updated.latest_invoice))
    # A full period: 1001 less 100.1 → 100; 3003 less 300.3 → 300. Half of each, rounded once:
    # credit -(500.5 → 501) + (50) = -451; charge (1501.5 → 1502) - 150 = 1352.
    assert sorted(line.amount for line in now.lines.data) == [-451, 1352]
    assert now.total == 901  # not discounted again on the invoice that bills them
    assert all(line.discountable is False for line in now.lines.data)
    by_amount = {
        i.amount: _netted(i) for i in client.v1.invoice_items.list({"customer": customer.id, "invoice": now.id}).data
    }
    assert by_amount == {-451: [(discount, -50)], 1352: [(discount, 150)]}


def test_without_discounts_a_proration_names_none(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 4, 1), 1000)
    story.advance(at(2025, 4, 16))
    story.update(items=[{"id": story.item, "quantity": 2}])
    credit, charge = story.pending()
    assert (credit.amount, charge.amount) == (-500, 1000)
    assert (_netted(credit), credit.discounts, charge.discounts) == ([], [], [])


def test_a_once_coupon_spent_on_the_period_still_discounts_its_credit_but_not_the_new_charge(
    billing: SdkTenant,
) -> None:
    once = billing.client.v1.coupons.create({"percent_off": 25, "duration": "once"})
    story = Story(billing, at(2025, 4, 1), 1000, discounts=[{"coupon": once.id}])
    first = story.latest()
    assert first.total == 750 and story.client.v1.subscriptions.retrieve(story.sub.id).discounts == []
    (discount,) = [d.discount for d in first.lines.data[0].discount_amounts]
    story.advance(at(2025, 4, 16))
    story.update(items=[{"id": story.item, "quantity": 3}])
    credit, charge = story.pending()
    # The credit gives back what April's line was paid (750 × ½ = -375); the rest is charged undiscounted.
    assert (credit.amount, _netted(credit)) == (-375, [(str(discount), -125)])
    assert (charge.amount, _netted(charge), charge.discounts) == (1500, [], [])
