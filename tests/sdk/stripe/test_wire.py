"""The spec's wire examples (§1.8, §5) as stripe-python sends them: every line field at once,
decimals, expand on the bulk endpoints, and the legacy global API (stripe.Invoice.add_lines)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import stripe

from tests.helpers.sdk import SdkTenant, assert_totals_match_lines

pytestmark = pytest.mark.sdk


def test_every_line_field_in_one_add_lines(sdk: SdkTenant) -> None:
    # given: the objects spec §1.8's example refers to
    customer = sdk.customer()
    invoice = sdk.invoice(customer.id)
    price = sdk.price(1500)
    product = sdk.client.v1.products.create({"name": "Consulting"})
    vat, reduced = sdk.tax_rate(20.0), sdk.tax_rate(7.0)
    coupon = sdk.client.v1.coupons.create({"percent_off": 10.0})
    pending = sdk.pending_item(customer.id, 800)
    # when: §1.8's add_lines, with line 4 given an amount so that it defines a line
    invoice = sdk.client.v1.invoices.add_lines(
        invoice.id,
        {
            "lines": [
                {"amount": 7500, "description": "One-off"},
                {
                    "pricing": {"price": price.id},
                    "quantity": 2,
                    "discountable": False,
                    "metadata": {"k": "v", "gone": ""},
                    "tax_rates": [vat.id, reduced.id],
                    "discounts": [{"coupon": coupon.id}],
                    "period": {"start": 1700000000, "end": 1700003600},
                },
                {"invoice_item": pending.id},
                {
                    "price_data": {"currency": "usd", "product": product.id, "unit_amount_decimal": "12.345"},
                    "quantity_decimal": Decimal("1.5"),
                },
                {"amount": 100, "tax_rates": "", "discounts": ""},
            ],
            "invoice_metadata": {"is_processed": "true"},
            "expand": ["lines.data.discounts", "customer"],
        },
    )
    # then
    one, two, three, four, five = invoice.lines.data
    assert (one.amount, one.description, one.quantity) == (7500, "One-off", 1)
    assert (two.amount, two.quantity, two.discountable) == (3000, 2, False)
    assert two.metadata.to_dict() == {"k": "v"}
    assert (two.period.start, two.period.end) == (1700000000, 1700003600)
    assert sorted(t.tax_rate_details.tax_rate for t in two.taxes) == sorted([vat.id, reduced.id])
    print(two.to_dict())
    assert three.parent.invoice_item_details.invoice_item == pending.id and three.amount == 800
    assert four.pricing is not None and four.pricing.unit_amount_decimal == Decimal("12.345")
    assert four.quantity_decimal == Decimal("1.5") and four.quantity == 1
    assert four.amount == 19  # 12.345 × 1.5 = 18.5175 → 19
    assert (five.amount, five.taxes, five.discounts) == (100, [], [])
    assert invoice.metadata.to_dict() == {"is_processed": "true"}
    assert invoice.customer.object == "customer" and invoice.customer.id == customer.id
    assert_totals_match_lines(sdk, invoice)


def test_tax_figures_of_two_exclusive_rates(sdk: SdkTenant) -> None:
    vat, reduced = sdk.tax_rate(20.0), sdk.tax_rate(7.0)
    invoice = sdk.invoice()
    invoice = sdk.client.v1.invoices.add_lines(
        invoice.id, {"lines": [{"amount": 3000, "tax_rates": [vat.id, reduced.id]}]}
    )
    (line,) = invoice.lines.data
    assert sorted((t.amount, t.taxable_amount) for t in line.taxes) == [(210, 3000), (600, 3000)]
    assert invoice.total == 3000 + 600 + 210
    assert_totals_match_lines(sdk, invoice)


def test_expand_on_every_bulk_endpoint(sdk: SdkTenant) -> None:
    coupon = sdk.client.v1.coupons.create({"amount_off": 100, "currency": "usd"})
    price = sdk.price(1500)
    invoice = sdk.invoice()
    expand = ["lines.data.discounts", "lines.data.pricing.price_details.price"]
    invoice = sdk.client.v1.invoices.add_lines(
        invoice.id,
        {"lines": [{"pricing": {"price": price.id}, "discounts": [{"coupon": coupon.id}]}], "expand": expand},
    )
    line = invoice.lines.data[0]
    assert line.discounts[0].source.coupon == coupon.id
    assert line.pricing is not None and line.pricing.price_details.price.id == price.id
    invoice = sdk.client.v1.invoices.update_lines(
        invoice.id, {"lines": [{"id": line.id, "quantity": 3}], "expand": expand}
    )
    assert invoice.lines.data[0].amount == 4500 and invoice.lines.data[0].discounts[0].object == "discount"
    assert invoice.total == 4400
    invoice = sdk.client.v1.invoices.remove_lines(
        invoice.id, {"lines": [{"id": line.id, "behavior": "delete"}], "expand": ["customer"]}
    )
    assert invoice.customer.object == "customer" and invoice.total == 0
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 1}], "expand": ["lines.data.nope"]})
    assert caught.value.user_message == "This property cannot be expanded (lines.data.nope)."
    assert sdk.lines(invoice.id) == []


def test_legacy_global_api(sdk: SdkTenant, monkeypatch: pytest.MonkeyPatch) -> None:
    # stripe.api_key / stripe.api_base and the resource classes, as older integrations use them
    monkeypatch.setattr(stripe, "api_key", sdk.key)
    monkeypatch.setattr(stripe, "api_base", sdk.server.stripe_base)
    monkeypatch.setattr(stripe, "default_http_client", sdk.http)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    customer = stripe.Customer.create(name="Legacy")
    invoice = stripe.Invoice.create(customer=customer.id, currency="usd")
    invoice = stripe.Invoice.add_lines(invoice.id, lines=[{"amount": 100}, {"amount": 250}])
    assert [ln.amount for ln in invoice.lines.data] == [100, 250]
    invoice.update_lines(lines=[{"id": invoice.lines.data[0].id, "description": "first"}])
    assert invoice.lines.data[0].description == "first"  # the instance refreshed itself
    invoice.remove_lines(lines=[{"id": invoice.lines.data[1].id, "behavior": "unassign"}])
    assert [ln.amount for ln in invoice.lines.data] == [100] and invoice.total == 100
    invoice = stripe.Invoice.finalize_invoice(invoice.id)
    assert invoice.status == "open" and invoice.number is not None
