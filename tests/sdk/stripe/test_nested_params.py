"""Nested parameters stripe-python 16.1 declares that bulkbill now reads (the coverage test's nested level):
stored, validated as Stripe does, rendered back. Every response is schema-checked (tests/helpers/sdk.py)."""

from __future__ import annotations

import pytest
import stripe

from tests.helpers.sdk import SdkTenant
from tests.sdk.stripe.test_subscriptions import billing

__all__ = ["billing"]

pytestmark = pytest.mark.sdk


def test_a_prices_product_data_takes_the_products_id_and_details(sdk: SdkTenant) -> None:
    price = sdk.client.v1.prices.create(
        {
            "currency": "usd",
            "unit_amount": 700,
            "product_data": {
                "name": "Seat",
                "id": "prod_seat_inline",
                "statement_descriptor": "SEAT SUB",
                "tax_code": "txcd_10103001",
                "tax_details": {"tax_code": "txcd_10103001", "performance_location": "FR"},
            },
        }
    )
    assert price.product == "prod_seat_inline"
    product = sdk.client.v1.products.retrieve("prod_seat_inline")
    assert (product.name, product.statement_descriptor, product.tax_code) == ("Seat", "SEAT SUB", "txcd_10103001")
    assert product.tax_details is not None and product.tax_details.performance_location == "FR"
    # The same checks as on a product: a taken id, a descriptor too long.
    for data, param in (
        ({"name": "Again", "id": "prod_seat_inline"}, "product_data[id]"),
        ({"name": "Long", "statement_descriptor": "X" * 23}, "product_data[statement_descriptor]"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as error:
            sdk.client.v1.prices.create({"currency": "usd", "unit_amount": 1, "product_data": data})  # type: ignore[typeddict-item]
        assert error.value.param == param
    assert len(sdk.client.v1.products.list({"limit": 100}).data) == 1


def test_a_previews_items_take_price_and_unit_amount(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    price = sdk.price(450)
    preview = sdk.client.v1.invoices.create_preview(
        {
            "customer": customer.id,
            "invoice_items": [
                {"price": price.id, "quantity": 2},
                {"unit_amount": 125, "quantity": 3, "currency": "usd", "description": "Setup"},
            ],
        }
    )
    assert sorted(line.amount for line in preview.lines.data) == [375, 900]
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.client.v1.invoices.create_preview(
            {
                "customer": customer.id,
                "invoice_items": [{"unit_amount": 1, "unit_amount_decimal": "1", "currency": "usd"}],
            }
        )
    assert error.value.param == "invoice_items[0][unit_amount]"


def test_a_cancellations_feedback_option_is_kept(billing: SdkTenant) -> None:
    customer = billing.customer()
    price = billing.price(900, recurring={"interval": "month"})
    sub = billing.client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    updated = billing.client.v1.subscriptions.update(
        sub.id, {"cancel_at_period_end": True, "cancellation_details": {"feedback_option": "fbo_123"}}
    )
    assert updated.cancellation_details is not None
    assert updated.cancellation_details.feedback_option == "fbo_123"
    canceled = billing.client.v1.subscriptions.cancel(
        sub.id, {"cancellation_details": {"feedback": "too_expensive", "feedback_option": "fbo_456"}}
    )
    assert canceled.cancellation_details is not None
    assert (canceled.cancellation_details.feedback, canceled.cancellation_details.feedback_option) == (
        "too_expensive",
        "fbo_456",
    )


def test_a_subscriptions_items_take_plan_as_the_prices_older_name(billing: SdkTenant) -> None:
    customer = billing.customer()
    price = billing.price(900, recurring={"interval": "month"})
    other = billing.price(500, recurring={"interval": "month"})
    sub = billing.client.v1.subscriptions.create({"customer": customer.id, "items": [{"plan": price.id}]})
    assert sub["items"].data[0].price.id == price.id
    with pytest.raises(stripe.InvalidRequestError) as error:
        billing.client.v1.subscriptions.update(sub.id, {"items": [{"plan": other.id, "price": other.id}]})
    assert error.value.param == "items[0][plan]"


def test_lines_added_with_tax_amounts_take_them_all_or_none(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    invoice = sdk.client.v1.invoices.add_lines(sdk.invoice(customer.id).id, {"lines": [{"amount": 100}]})
    vat = {"display_name": "VAT", "inclusive": False, "percentage": 20.0, "country": "FR"}
    invoice = sdk.client.v1.invoices.add_lines(
        invoice.id,
        {
            "lines": [
                {"amount": 1000, "tax_amounts": [{"amount": 200, "taxable_amount": 1000, "tax_rate_data": vat}]},
                {"amount": 500},
                {"amount": 300, "tax_amounts": [{"amount": 61, "taxable_amount": 300, "tax_rate_data": vat}]},
            ]
        },
    )
    assert [(line.amount, [t.amount for t in line.taxes or []]) for line in invoice.lines.data] == [
        (100, []),
        (1000, [200]),
        (500, []),
        (300, [61]),
    ]
    assert invoice.total == 1900 + 261
    # A refused tax amount adds no line at all.
    rate = sdk.tax_rate(10)
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.client.v1.invoices.add_lines(
            invoice.id,
            {
                "lines": [
                    {"amount": 50},
                    {
                        "amount": 70,
                        "tax_rates": [rate.id],
                        "tax_amounts": [{"amount": 7, "taxable_amount": 70, "tax_rate_data": vat}],
                    },
                ]
            },
        )
    assert error.value.param == "lines[1][tax_amounts]"
    assert len(sdk.client.v1.invoices.retrieve(invoice.id).lines.data) == 4
