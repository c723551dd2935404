"""Promotion codes through stripe-python (schema-checked): CRUD, list filters, and redeeming them in
`discounts[][promotion_code]` on invoices, invoice items, lines and subscriptions, within their limits."""

from __future__ import annotations

import time

import pytest
import stripe

from tests.helpers.sdk import SdkTenant

pytestmark = pytest.mark.sdk


def _code(sdk: SdkTenant, coupon: str | None = None, **params: object) -> stripe.PromotionCode:
    coupon = coupon or sdk.client.v1.coupons.create({"percent_off": 10}).id
    return sdk.client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": coupon}, **params})


def test_crud_and_list(sdk: SdkTenant) -> None:
    coupon = sdk.client.v1.coupons.create({"percent_off": 10}).id
    promo = _code(
        sdk,
        coupon,
        code="SPRING10",
        max_redemptions=5,
        metadata={"campaign": "spring"},
        restrictions={"first_time_transaction": True, "minimum_amount": 1000, "minimum_amount_currency": "usd"},
    )
    assert (promo.code, promo.active, promo.promotion.coupon, promo.times_redeemed) == ("SPRING10", True, coupon, 0)
    assert (promo.restrictions.first_time_transaction, promo.restrictions.minimum_amount) == (True, 1000)
    generated = _code(sdk, coupon)
    assert generated.code and generated.code != promo.code
    assert sdk.client.v1.promotion_codes.retrieve(promo.id).code == "SPRING10"
    assert [p.id for p in sdk.client.v1.promotion_codes.list({"code": "SPRING10"}).data] == [promo.id]
    assert {p.id for p in sdk.client.v1.promotion_codes.list({"coupon": coupon}).data} == {promo.id, generated.id}
    off = sdk.client.v1.promotion_codes.update(promo.id, {"active": False, "metadata": {"campaign": ""}})
    assert (off.active, off.metadata.to_dict()) == (False, {})
    assert [p.id for p in sdk.client.v1.promotion_codes.list({"active": False}).data] == [promo.id]
    # an inactive code frees its text; an active code's text is taken
    again = _code(sdk, coupon, code="SPRING10")
    with pytest.raises(stripe.InvalidRequestError) as taken:
        sdk.client.v1.promotion_codes.update(promo.id, {"active": True})
    assert taken.value.param == "code" and again.active
    with pytest.raises(stripe.InvalidRequestError) as missing:
        _code(sdk, "nope")
    assert (missing.value.code, missing.value.param) == ("resource_missing", "promotion[coupon]")


def test_redeemed_on_items_invoices_and_lines(sdk: SdkTenant) -> None:
    coupon = sdk.client.v1.coupons.create({"percent_off": 10}).id
    promo = _code(sdk, coupon)
    customer = sdk.customer().id
    item = sdk.pending_item(customer, 1000, discounts=[{"promotion_code": promo.id}])
    invoice = sdk.invoice(customer, discounts=[{"promotion_code": promo.id}], expand=["discounts"])
    assert invoice.discounts[0].promotion_code == promo.id and invoice.discounts[0].source.coupon == coupon
    invoice = sdk.client.v1.invoices.add_lines(
        invoice.id, {"lines": [{"amount": 2000, "discounts": [{"promotion_code": promo.id}]}]}
    )
    assert sdk.client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 3
    assert sdk.client.v1.coupons.retrieve(coupon).times_redeemed == 3
    assert item.discounts and invoice.total_discount_amounts


def test_limits_are_enforced(sdk: SdkTenant) -> None:
    customer = sdk.customer().id
    once = _code(sdk, max_redemptions=1)
    sdk.pending_item(customer, 1000, discounts=[{"promotion_code": once.id}])
    with pytest.raises(stripe.InvalidRequestError) as used_up:
        sdk.pending_item(customer, 1000, discounts=[{"promotion_code": once.id}])
    assert used_up.value.param == "discounts[0][promotion_code]"
    inactive = _code(sdk, active=False)
    mine = _code(sdk, customer=sdk.customer().id)
    for code in (inactive.id, mine.id, "promo_missing"):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            sdk.pending_item(customer, 1000, discounts=[{"promotion_code": code}])
        assert refused.value.param == "discounts[0][promotion_code]"
    with pytest.raises(stripe.InvalidRequestError) as past:
        _code(sdk, expires_at=int(time.time()) - 10)
    assert past.value.param == "expires_at"
    assert sdk.client.v1.promotion_codes.retrieve(once.id).times_redeemed == 1


def test_coupon_applies_to_products(sdk: SdkTenant) -> None:
    widget, gadget = sdk.price(1000), sdk.price(3000)
    coupon = sdk.client.v1.coupons.create(
        {"amount_off": 500, "currency": "usd", "applies_to": {"products": [widget.product]}, "expand": ["applies_to"]}
    )
    assert coupon.applies_to.products == [widget.product]
    assert "applies_to" not in sdk.client.v1.coupons.retrieve(coupon.id).to_dict()  # only when expanded
    invoice = sdk.invoice(discounts=[{"coupon": coupon.id}])
    invoice = sdk.client.v1.invoices.add_lines(
        invoice.id, {"lines": [{"pricing": {"price": widget.id}}, {"pricing": {"price": gadget.id}}]}
    )
    lines = sdk.lines(invoice.id)
    # the whole 500 comes off the widget line; the gadget line takes nothing
    assert [sum(d.amount for d in ln.discount_amounts) for ln in lines] == [500, 0]
    assert invoice.total == 1000 + 3000 - 500
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.coupons.create({"percent_off": 5, "applies_to": {"products": ["prod_missing"]}})
    assert caught.value.param == "applies_to[products][0]"


def test_coupon_currency_options(sdk: SdkTenant) -> None:
    coupon = sdk.client.v1.coupons.create(
        {
            "amount_off": 500,
            "currency": "usd",
            "currency_options": {"eur": {"amount_off": 400}},
            "expand": ["currency_options"],
        }
    )
    assert coupon.currency_options["eur"].amount_off == 400
    customer = sdk.customer().id
    invoice = sdk.client.v1.invoices.create(
        {"customer": customer, "currency": "eur", "discounts": [{"coupon": coupon.id}]}
    )
    invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 2000}]})
    assert (invoice.currency, invoice.total) == ("eur", 1600)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.invoices.create(
            {"customer": sdk.customer().id, "currency": "gbp", "discounts": [{"coupon": coupon.id}]}
        )
    assert caught.value.param == "discounts[0][coupon]"


FIRST_TIME = "This promotion code cannot be redeemed because the associated customer has prior transactions."


def test_a_first_time_code_is_only_for_customers_who_never_purchased(sdk: SdkTenant) -> None:
    promo = _code(sdk, restrictions={"first_time_transaction": True})
    customer = sdk.customer().id
    # A draft is no purchase: the code applies to the customer's first invoice, and to its lines.
    first = sdk.invoice(customer, discounts=[{"promotion_code": promo.id}])
    first = sdk.client.v1.invoices.add_lines(
        first.id, {"lines": [{"amount": 1000, "discounts": [{"promotion_code": promo.id}]}]}
    )
    sdk.client.v1.invoices.finalize_invoice(first.id)
    for attempt in (
        lambda: sdk.invoice(customer, discounts=[{"promotion_code": promo.id}]),
        lambda: sdk.pending_item(customer, 500, discounts=[{"promotion_code": promo.id}]),
    ):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            attempt()
        assert (refused.value.http_status, refused.value.param) == (400, "discounts[0][promotion_code]")
        assert refused.value.user_message == FIRST_TIME
    # Another customer still may; a voided invoice is no purchase either.
    other = sdk.customer().id
    voided = sdk.client.v1.invoices.add_lines(sdk.invoice(other).id, {"lines": [{"amount": 100}]})
    sdk.client.v1.invoices.finalize_invoice(voided.id)
    sdk.client.v1.invoices.void_invoice(voided.id)
    sdk.invoice(other, discounts=[{"promotion_code": promo.id}])
    assert sdk.client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 3


def test_a_minimum_amount_is_checked_when_the_invoice_is_finalized(sdk: SdkTenant) -> None:
    promo = _code(
        sdk,
        sdk.client.v1.coupons.create({"percent_off": 50}).id,
        restrictions={
            "minimum_amount": 1000,
            "minimum_amount_currency": "usd",
            "currency_options": {"eur": {"minimum_amount": 800}},
        },
    )
    # Applied to an empty draft (lines come later), the code is accepted; finalizing checks the subtotal
    # before discounts, and refuses it below the minimum, changing nothing.
    invoice = sdk.invoice(discounts=[{"promotion_code": promo.id}])
    invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 999}]})
    with pytest.raises(stripe.InvalidRequestError) as below:
        sdk.client.v1.invoices.finalize_invoice(invoice.id)
    assert (below.value.http_status, below.value.param) == (400, "discounts")
    assert "minimum amount (1000 usd)" in str(below.value.user_message)
    assert sdk.client.v1.invoices.retrieve(invoice.id).status == "draft"
    sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 1}]})
    finalized = sdk.client.v1.invoices.finalize_invoice(invoice.id)
    assert (finalized.status, finalized.subtotal, len(finalized.total_discount_amounts)) == ("open", 1000, 1)
    # In another currency, that currency's option is the minimum; a currency without one refuses the code.
    eur = sdk.client.v1.invoices.create({"customer": sdk.customer().id, "currency": "eur"})
    eur = sdk.client.v1.invoices.add_lines(
        eur.id, {"lines": [{"amount": 800, "discounts": [{"promotion_code": promo.id}]}]}
    )
    assert sdk.client.v1.invoices.finalize_invoice(eur.id).status == "open"
    gbp = sdk.client.v1.invoices.create({"customer": sdk.customer().id, "currency": "gbp"})
    gbp = sdk.client.v1.invoices.add_lines(gbp.id, {"lines": [{"amount": 5000}]})
    gbp = sdk.client.v1.invoices.update(gbp.id, {"discounts": [{"promotion_code": promo.id}]})
    with pytest.raises(stripe.InvalidRequestError) as no_minimum:
        sdk.client.v1.invoices.finalize_invoice(gbp.id)
    assert "set in eur, usd only" in str(no_minimum.value.user_message)
