"""Tiered, transformed, custom-amount and multi-currency prices through stripe-python: stored, rendered
(schema-checked) and pricing the invoice items, invoice lines and subscription items that use them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import stripe

from tests.helpers.sdk import SdkTenant, assert_totals_match_lines

pytestmark = pytest.mark.sdk

TIERS: list[dict[str, Any]] = [
    {"up_to": 5, "unit_amount": 1000},
    {"up_to": 10, "unit_amount_decimal": "800.5", "flat_amount": 300},
    {"up_to": "inf", "unit_amount": 500},
]


def _graduated(quantity: int) -> int:
    """Tiers above, unit by unit: 5 × 1000, then 800.5 each (+300 once), then 500 each; rounded once."""
    first, second, rest = min(quantity, 5), max(0, min(quantity, 10) - 5), max(0, quantity - 10)
    exact = first * 1000 + second * 800.5 + (300 if second else 0) + rest * 500
    return int(exact + 0.5)


def _tiered(sdk: SdkTenant, mode: str, **params: Any) -> stripe.Price:
    product = sdk.client.v1.products.create({"name": "Seats"})
    return sdk.client.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "billing_scheme": "tiered",
            "tiers_mode": mode,
            "tiers": TIERS,
            **params,
        }
    )


def _item(sdk: SdkTenant, customer: str, price: str, currency: str = "usd", **params: Any) -> stripe.InvoiceItem:
    return sdk.client.v1.invoice_items.create(
        {"customer": customer, "currency": currency, "pricing": {"price": price}, **params}
    )


def test_a_tiered_price_is_stored_and_rendered(sdk: SdkTenant) -> None:
    price = _tiered(sdk, "graduated", expand=["tiers"])
    assert (price.billing_scheme, price.tiers_mode, price.unit_amount) == ("tiered", "graduated", None)
    assert [t.up_to for t in price.tiers] == [5, 10, None]
    assert (price.tiers[1].unit_amount, price.tiers[1].unit_amount_decimal, price.tiers[1].flat_amount) == (
        None,
        Decimal("800.5"),
        300,
    )
    fetched = sdk.client.v1.prices.retrieve(price.id)
    assert "tiers" not in fetched.to_dict()  # included only when expanded, as Stripe does
    listed = sdk.client.v1.prices.list({"expand": ["data.tiers"], "limit": 100})
    assert [t.up_to for t in next(p for p in listed.data if p.id == price.id).tiers] == [5, 10, None]


@pytest.mark.parametrize("quantity", [0, 3, 7, 12])
def test_graduated_and_volume_invoice_items(sdk: SdkTenant, quantity: int) -> None:
    customer = sdk.customer().id
    graduated = _item(sdk, customer, _tiered(sdk, "graduated").id, quantity=quantity)
    assert graduated.amount == _graduated(quantity)
    volume = _item(sdk, customer, _tiered(sdk, "volume").id, quantity=quantity)
    tier = TIERS[0 if quantity <= 5 else 1 if quantity <= 10 else 2]
    unit = float(tier.get("unit_amount_decimal") or tier.get("unit_amount", 0))
    expected = int(quantity * unit + tier.get("flat_amount", 0) + 0.5) if quantity else 0
    assert volume.amount == expected


def test_a_new_quantity_is_priced_through_the_tiers(sdk: SdkTenant) -> None:
    customer = sdk.customer().id
    item = _item(sdk, customer, _tiered(sdk, "graduated").id, quantity=3)
    updated = sdk.client.v1.invoice_items.update(item.id, {"quantity": 12})
    assert updated.amount == _graduated(12)


def test_tiered_lines_on_an_invoice(sdk: SdkTenant) -> None:
    price = _tiered(sdk, "graduated")
    invoice = sdk.invoice()
    invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"pricing": {"price": price.id}, "quantity": 7}]})
    line = sdk.lines(invoice.id)[0]
    assert line.amount == _graduated(7)
    invoice = sdk.client.v1.invoices.update_lines(invoice.id, {"lines": [{"id": line.id, "quantity": 11}]})
    assert sdk.lines(invoice.id)[0].amount == _graduated(11) == invoice.subtotal
    assert_totals_match_lines(sdk, invoice)


@pytest.mark.parametrize(("round_", "expected_units"), [("up", 3), ("down", 2)])
def test_transform_quantity(sdk: SdkTenant, round_: str, expected_units: int) -> None:
    price = sdk.price(400, transform_quantity={"divide_by": 10, "round": round_})
    assert (price.transform_quantity.divide_by, price.transform_quantity.round) == (10, round_)
    item = _item(sdk, sdk.customer().id, price.id, quantity=25)
    assert (item.quantity, item.amount) == (25, 400 * expected_units)


def test_custom_unit_amount_needs_the_amount_chosen(sdk: SdkTenant) -> None:
    product = sdk.client.v1.products.create({"name": "Donation"})
    price = sdk.client.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "custom_unit_amount": {"enabled": True, "minimum": 500, "maximum": 5000},
        }
    )
    assert (price.custom_unit_amount.minimum, price.custom_unit_amount.maximum, price.unit_amount) == (500, 5000, None)
    customer = sdk.customer().id
    with pytest.raises(stripe.InvalidRequestError) as missing:
        _item(sdk, customer, price.id)
    assert missing.value.param == "amount"
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        _item(sdk, customer, price.id, amount=9000)
    assert too_much.value.param == "amount"
    item = _item(sdk, customer, price.id, amount=1234)
    assert (item.amount, item.pricing.price_details.price) == (1234, price.id)
    preset = sdk.client.v1.prices.create(
        {"product": product.id, "currency": "usd", "custom_unit_amount": {"enabled": True, "preset": 700}}
    )
    assert _item(sdk, customer, preset.id).amount == 700


def test_currency_options_price_an_invoice_in_another_currency(sdk: SdkTenant) -> None:
    price = sdk.price(
        1000,
        currency_options={"eur": {"unit_amount": 900}, "gbp": {"unit_amount_decimal": "850.5"}},
        expand=["currency_options"],
    )
    options = price.currency_options
    assert (options["usd"].unit_amount, options["eur"].unit_amount, options["gbp"].unit_amount) == (1000, 900, None)
    assert options["gbp"].unit_amount_decimal == "850.5"  # nested: stripe-python leaves it a string
    customer = sdk.customer().id
    assert _item(sdk, customer, price.id, currency="eur", quantity=3).amount == 2700
    other = sdk.customer().id
    assert _item(sdk, other, price.id, currency="gbp", quantity=1).amount == 851
    with pytest.raises(stripe.InvalidRequestError) as caught:
        _item(sdk, sdk.customer().id, price.id, currency="jpy")
    assert caught.value.code == "currency_mismatch" or caught.value.param == "pricing[price]"


def test_tiers_per_currency(sdk: SdkTenant) -> None:
    eur_tiers = [{"up_to": 5, "unit_amount": 100}, {"up_to": "inf", "unit_amount": 50}]
    price = _tiered(sdk, "graduated", currency_options={"eur": {"tiers": eur_tiers}}, expand=["currency_options"])
    assert [t.up_to for t in price.currency_options["eur"].tiers] == [5, None]
    assert _item(sdk, sdk.customer().id, price.id, currency="eur", quantity=8).amount == 5 * 100 + 3 * 50


@pytest.mark.parametrize(
    ("params", "param"),
    [
        (
            {"billing_scheme": "tiered", "tiers_mode": "graduated", "tiers": [{"up_to": 5, "unit_amount": 1}]},
            "tiers[0][up_to]",
        ),
        ({"billing_scheme": "tiered", "tiers": TIERS}, "tiers_mode"),
        ({"billing_scheme": "tiered", "tiers_mode": "volume", "tiers": TIERS, "unit_amount": 5}, "unit_amount"),
        ({"tiers_mode": "volume", "tiers": TIERS, "unit_amount": 5}, "tiers"),
        (
            {
                "billing_scheme": "tiered",
                "tiers_mode": "volume",
                "tiers": [{"up_to": "inf", "unit_amount": 1, "unit_amount_decimal": "1"}],
            },
            "tiers[0][unit_amount_decimal]",
        ),
        (
            {"unit_amount": 5, "currency_options": {"eur": {"tax_behavior": "exclusive"}}},
            "currency_options[eur][unit_amount]",
        ),
        ({"custom_unit_amount": {"enabled": True, "minimum": 10, "preset": 5}}, "custom_unit_amount[preset]"),
        (
            {
                "unit_amount": 5,
                "recurring": {"interval": "month"},
                "transform_quantity": {"divide_by": 0, "round": "up"},
            },
            "transform_quantity[divide_by]",
        ),
    ],
)
def test_bad_price_definitions_are_refused(sdk: SdkTenant, params: dict[str, Any], param: str) -> None:
    product = sdk.client.v1.products.create({"name": "Bad"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.prices.create({"product": product.id, "currency": "usd", **params})
    assert (caught.value.http_status, caught.value.param) == (400, param)
    assert sdk.client.v1.prices.list({"product": product.id}).data == []


def test_lookup_keys_filter_and_transfer(sdk: SdkTenant) -> None:
    first = sdk.price(100, lookup_key="standard_monthly")
    second = sdk.price(200, lookup_key="pro_monthly")
    listed = sdk.client.v1.prices.list({"lookup_keys": ["standard_monthly", "pro_monthly"]})
    assert {p.id for p in listed.data} == {first.id, second.id}
    moved = sdk.price(150, lookup_key="standard_monthly", transfer_lookup_key=True)
    listed = sdk.client.v1.prices.list({"lookup_keys": ["standard_monthly"]})
    assert [p.id for p in listed.data] == [moved.id]
    assert sdk.client.v1.prices.retrieve(first.id).lookup_key is None


def test_update_adds_currency_options(sdk: SdkTenant) -> None:
    price = sdk.price(1000, currency_options={"eur": {"unit_amount": 900}})
    updated = sdk.client.v1.prices.update(
        price.id, {"currency_options": {"gbp": {"unit_amount": 800}}, "expand": ["currency_options"]}
    )
    options = updated.currency_options
    assert (options["usd"].unit_amount, options["eur"].unit_amount, options["gbp"].unit_amount) == (1000, 900, 800)
    assert _item(sdk, sdk.customer().id, price.id, currency="gbp", quantity=2).amount == 1600
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.prices.update(price.id, {"currency_options": {"chf": {"tax_behavior": "exclusive"}}})
    assert caught.value.param == "currency_options[chf][unit_amount]"
    assert "chf" not in sdk.client.v1.prices.retrieve(price.id, {"expand": ["currency_options"]}).currency_options
