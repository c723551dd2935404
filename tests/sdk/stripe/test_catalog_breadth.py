"""The rest of issue 15's catalog and clock parameters through stripe-python (schema-checked): `created` on
credit note and promotion code lists, coupon currency_options on update, promotion code restrictions'
currency_options. (A test clock made with an existing customer: test_subscriptions.py.)"""

from __future__ import annotations

import pytest
import stripe

from tests.helpers.sdk import SdkTenant

pytestmark = pytest.mark.sdk


def test_credit_notes_and_promotion_codes_filter_by_created(sdk: SdkTenant) -> None:
    invoice = sdk.invoice()
    sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 3000, "description": "line"}]})
    sdk.client.v1.invoices.finalize_invoice(invoice.id)
    note = sdk.client.v1.credit_notes.create({"invoice": invoice.id, "amount": 100})
    coupon = sdk.client.v1.coupons.create({"percent_off": 10})
    promo = sdk.client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": coupon.id}})
    for listing, made in ((sdk.client.v1.credit_notes.list, note), (sdk.client.v1.promotion_codes.list, promo)):
        assert [x.id for x in listing({"created": {"gte": made.created}}).data] == [made.id]
        assert [x.id for x in listing({"created": made.created}).data] == [made.id]
        assert listing({"created": {"lt": made.created}}).data == []
        assert listing({"created": {"gt": made.created + 60}}).data == []


def test_coupon_currency_options_change_on_update_currency_by_currency(sdk: SdkTenant) -> None:
    coupons = sdk.client.v1.coupons
    coupon = coupons.create({"amount_off": 500, "currency": "usd", "currency_options": {"eur": {"amount_off": 450}}})
    updated = coupons.update(
        coupon.id, {"currency_options": {"gbp": {"amount_off": 400}}, "expand": ["currency_options"]}
    )
    assert {c: o["amount_off"] for c, o in updated.currency_options.to_dict().items()} == {"eur": 450, "gbp": 400}
    updated = coupons.update(coupon.id, {"currency_options": {"eur": {"amount_off": 460}}})
    assert "currency_options" not in updated  # shown only when expanded, as on Stripe
    shown = coupons.retrieve(coupon.id, {"expand": ["currency_options"]})
    assert {c: o["amount_off"] for c, o in shown.currency_options.to_dict().items()} == {"eur": 460, "gbp": 400}
    percent = coupons.create({"percent_off": 10})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        coupons.update(percent.id, {"currency_options": {"eur": {"amount_off": 100}}})
    assert refused.value.error is not None and refused.value.error.param == "currency_options[eur][amount_off]"


def test_promotion_code_minimums_per_currency_are_set_and_updated(sdk: SdkTenant) -> None:
    coupon = sdk.client.v1.coupons.create({"percent_off": 10})
    promo = sdk.client.v1.promotion_codes.create(
        {
            "promotion": {"type": "coupon", "coupon": coupon.id},
            "restrictions": {
                "minimum_amount": 1000,
                "minimum_amount_currency": "usd",
                "currency_options": {"eur": {"minimum_amount": 900}},
            },
        }
    )
    assert promo.restrictions.currency_options["eur"].minimum_amount == 900
    promo = sdk.client.v1.promotion_codes.update(
        promo.id, {"restrictions": {"currency_options": {"gbp": {"minimum_amount": 800}}}}
    )
    minimums = {c: o["minimum_amount"] for c, o in promo.restrictions.to_dict()["currency_options"].items()}
    assert minimums == {"eur": 900, "gbp": 800}
    assert (promo.restrictions.minimum_amount, promo.restrictions.minimum_amount_currency) == (1000, "usd")
    with pytest.raises(stripe.InvalidRequestError) as refused:  # the base currency has its own minimum
        sdk.client.v1.promotion_codes.update(
            promo.id, {"restrictions": {"currency_options": {"usd": {"minimum_amount": 5}}}}
        )
    assert refused.value.error is not None and refused.value.error.param == "restrictions[currency_options][usd]"
    shown = sdk.client.v1.promotion_codes.retrieve(promo.id).restrictions.to_dict()["currency_options"]
    assert set(shown) == {"eur", "gbp"}
