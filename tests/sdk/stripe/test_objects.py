"""The supporting endpoints (spec §2.6) through the SDK: every object they return is schema-checked."""

from __future__ import annotations

import pytest
import stripe

from tests.helpers.sdk import SdkTenant

pytestmark = pytest.mark.sdk


def test_customer_crud_and_list(sdk: SdkTenant) -> None:
    customer = sdk.customer(metadata={"tier": "gold"}, balance=0)
    assert customer.id.startswith("cus_") and customer.metadata.to_dict() == {"tier": "gold"}
    assert customer.next_invoice_sequence == 1 and customer.currency is None
    updated = sdk.client.v1.customers.update(customer.id, {"name": "Ada L.", "metadata": {"tier": ""}})
    assert (updated.name, updated.metadata.to_dict()) == ("Ada L.", {})
    second = sdk.customer()
    listed = sdk.client.v1.customers.list({"limit": 1})
    assert len(listed.data) == 1 and listed.has_more is True
    assert {c.id for c in listed.auto_paging_iter()} == {customer.id, second.id}
    deleted = sdk.client.v1.customers.delete(second.id)
    assert (deleted.id, deleted.deleted) == (second.id, True)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.customers.retrieve("cus_missing")
    assert (caught.value.http_status, caught.value.user_message) == (404, "No such customer: 'cus_missing'")


def test_invoice_sets_the_customer_currency(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    sdk.invoice(customer.id)
    assert sdk.client.v1.customers.retrieve(customer.id).currency == "usd"


def test_products_prices_tax_rates_coupons(sdk: SdkTenant) -> None:
    product = sdk.client.v1.products.create({"name": "Widget", "id": "prod_widget_sdk", "metadata": {"a": "b"}})
    assert (product.id, product.active, product.metadata.to_dict()) == ("prod_widget_sdk", True, {"a": "b"})
    price = sdk.client.v1.prices.create({"product": product.id, "currency": "USD", "unit_amount_decimal": "1234.5"})
    assert (price.currency, price.type, price.unit_amount, price.product) == ("usd", "one_time", None, product.id)
    assert str(price.unit_amount_decimal) == "1234.5"
    assert sdk.client.v1.prices.retrieve(price.id).to_dict() == price.to_dict()
    assert sdk.client.v1.products.retrieve(product.id).name == "Widget"
    assert [p.id for p in sdk.client.v1.prices.list({"product": product.id}).data] == [price.id]
    rate = sdk.tax_rate(19.5)
    assert (rate.percentage, rate.inclusive, rate.active) == (19.5, False, True)
    archived = sdk.client.v1.tax_rates.update(rate.id, {"active": False})
    assert archived.active is False
    coupon = sdk.client.v1.coupons.create({"id": "SAVE15", "percent_off": 15.0, "duration": "once"})
    assert (coupon.id, coupon.percent_off, coupon.valid, coupon.times_redeemed) == ("SAVE15", 15, True, 0)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.coupons.create({"amount_off": 100})
    assert caught.value.param is not None and "currency" in caught.value.param
    # a fractional unit price bills the rounded total
    invoice = sdk.invoice()
    invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"pricing": {"price": price.id}, "quantity": 3}]})
    assert invoice.lines.data[0].amount == 3704  # 1234.5 × 3 = 3703.5 → 3704
    # an archived tax rate cannot be put on a line
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 1, "tax_rates": [rate.id]}]})
    assert caught.value.param is not None and caught.value.param.startswith("lines[0][tax_rates]")


def test_invoice_items_create_update_list(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    price = sdk.price(700)
    item = sdk.client.v1.invoice_items.create({"customer": customer.id, "pricing": {"price": price.id}, "quantity": 2})
    assert (item.amount, item.invoice, item.quantity) == (1400, None, 2)
    assert item.pricing is not None and item.pricing.price_details.price == price.id
    item = sdk.client.v1.invoice_items.update(item.id, {"description": "two widgets", "metadata": {"k": "v"}})
    assert (item.description, item.metadata.to_dict()) == ("two widgets", {"k": "v"})
    invoice = sdk.invoice(customer.id)
    attached = sdk.client.v1.invoice_items.create({"customer": customer.id, "amount": 99, "invoice": invoice.id})
    assert attached.invoice == invoice.id and attached.currency == "usd"
    assert [ln.amount for ln in sdk.lines(invoice.id)] == [99]
    pending = sdk.client.v1.invoice_items.list({"customer": customer.id, "pending": True})
    on_invoice = sdk.client.v1.invoice_items.list({"invoice": invoice.id})
    assert [i.id for i in pending.data] == [item.id] and [i.id for i in on_invoice.data] == [attached.id]
    # an item edit on a draft shows on its line and in the totals
    sdk.client.v1.invoice_items.update(attached.id, {"amount": 150})
    assert sdk.client.v1.invoices.retrieve(invoice.id).total == 150


def test_invoice_update_and_single_line_update(sdk: SdkTenant) -> None:
    invoice = sdk.invoice(collection_method="send_invoice", days_until_due=30)
    assert (invoice.collection_method, invoice.auto_advance) == ("send_invoice", False)
    invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 1000}, {"amount": 500}]})
    line = invoice.lines.data[0]
    updated = sdk.client.v1.invoices.line_items.update(invoice.id, line.id, {"description": "single", "amount": 800})
    assert (updated.object, updated.id, updated.description, updated.amount) == ("line_item", line.id, "single", 800)
    assert sdk.client.v1.invoices.retrieve(invoice.id).total == 1300
    invoice = sdk.client.v1.invoices.update(invoice.id, {"description": "March", "metadata": {"po": "42"}})
    assert (invoice.description, invoice.metadata.to_dict()) == ("March", {"po": "42"})
    invoice = sdk.client.v1.invoices.finalize_invoice(invoice.id)
    assert invoice.status == "open" and invoice.due_date is not None
    # after finalizing: metadata still editable, amounts and lines are not
    invoice = sdk.client.v1.invoices.update(invoice.id, {"metadata": {"po": "43"}})
    assert invoice.metadata.to_dict() == {"po": "43"}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.invoices.update(invoice.id, {"discounts": ""})
    assert caught.value.code == "invoice_not_editable"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.invoices.line_items.update(invoice.id, line.id, {"description": "late"})
    assert caught.value.code == "invoice_not_editable"


def test_single_line_update_of_an_unknown_line_is_404(sdk: SdkTenant) -> None:
    invoice = sdk.invoice()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.invoices.line_items.update(invoice.id, "il_missing", {"description": "x"})
    err = caught.value
    assert (err.http_status, err.code, err.user_message) == (
        404,
        "resource_missing",
        "No such invoice line item: 'il_missing'",
    )


def test_old_style_and_unknown_line_ids(sdk: SdkTenant) -> None:
    invoice = sdk.invoice()
    invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 100}]})
    item_id = invoice.lines.data[0].parent.invoice_item_details.invoice_item
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.invoices.update_lines(invoice.id, {"lines": [{"id": item_id, "description": "x"}]})
    assert caught.value.param == "lines[0][id]" and caught.value.user_message.startswith("Old `id` values")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.invoices.remove_lines(invoice.id, {"lines": [{"id": "il_nope", "behavior": "delete"}]})
    assert (caught.value.http_status, caught.value.code, caught.value.param) == (
        400,
        "resource_missing",
        "lines[0][id]",
    )
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.invoices.remove_lines(
            invoice.id, {"lines": [{"id": invoice.lines.data[0].id, "behavior": "keep"}]}
        )
    assert caught.value.param == "lines[0][behavior]"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.invoices.add_lines("in_missing", {"lines": [{"amount": 1}]})
    assert (caught.value.http_status, caught.value.user_message) == (404, "No such invoice: 'in_missing'")


def test_list_invoices_pages(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    made = [sdk.invoice(customer.id).id for _ in range(5)]
    page = sdk.client.v1.invoices.list({"customer": customer.id, "limit": 2})
    assert len(page.data) == 2 and page.has_more is True and page.url == "/v1/invoices"
    walked = [i.id for i in page.auto_paging_iter()]
    assert sorted(walked) == sorted(made) and len(walked) == 5
    drafts = sdk.client.v1.invoices.list({"status": "draft", "customer": customer.id, "limit": 100})
    assert len(drafts.data) == 5
