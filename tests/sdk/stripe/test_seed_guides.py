"""Every example of the seed guides (002, 003) through stripe-python 16.1.0 against a real server."""

from __future__ import annotations

import pytest
import stripe

from tests.helpers.sdk import SdkTenant, assert_totals_match_lines

pytestmark = pytest.mark.sdk


def item_of(line: stripe.InvoiceLineItem) -> str:
    """The invoice item behind a line (basil shape: parent.invoice_item_details.invoice_item)."""
    assert line.parent is not None and line.parent.type == "invoice_item_details"
    return str(line.parent.invoice_item_details.invoice_item)


class TestCreateAndAddLines:
    def test_create_invoice_is_an_empty_draft(self, sdk: SdkTenant) -> None:
        customer = sdk.customer()
        invoice = sdk.invoice(customer.id)
        assert invoice.id.startswith("in_") and invoice.object == "invoice"
        assert (invoice.status, invoice.currency, invoice.customer) == ("draft", "usd", customer.id)
        assert invoice.lines.data == [] and invoice.lines.has_more is False
        assert invoice.lines.url == f"/v1/invoices/{invoice.id}/lines"
        assert (invoice.subtotal, invoice.total, invoice.amount_due, invoice.number) == (0, 0, 0, None)
        assert sdk.client.v1.invoices.retrieve(invoice.id).to_dict() == invoice.to_dict()

    @pytest.mark.parametrize("spelling", ["pricing", "price"])
    def test_seed_add_lines_amount_price_and_pending_item(self, sdk: SdkTenant, spelling: str) -> None:
        # given: the seed's three lines: 7500 usd, a price with a description, a pending item
        customer = sdk.customer()
        invoice = sdk.invoice(customer.id)
        price = sdk.price(1500)
        pending = sdk.pending_item(customer.id, 500)
        assert pending.invoice is None
        price_param = {"pricing": {"price": price.id}} if spelling == "pricing" else {"price": price.id}
        # when
        invoice = sdk.client.v1.invoices.add_lines(
            invoice.id,
            {
                "lines": [
                    {"amount": 7500, "currency": "usd"},
                    {**price_param, "description": "New line item"},  # type: ignore[typeddict-item]
                    {"invoice_item": pending.id},
                ]
            },
        )
        # then: appended in request order, each backed by an invoice item
        lines = invoice.lines.data
        assert [ln.amount for ln in lines] == [7500, 1500, 500]
        assert all(ln.id.startswith("il_") and ln.currency == "usd" for ln in lines)
        assert lines[1].description == "New line item"
        assert lines[1].pricing is not None and lines[1].pricing.price_details.price == price.id
        assert lines[1].pricing.price_details.product == price.product
        assert lines[1].quantity == 1
        items = [item_of(ln) for ln in lines]
        assert items[2] == pending.id
        assert all(i.startswith("ii_") for i in items) and len(set(items)) == 3
        assert sdk.client.v1.invoice_items.retrieve(pending.id).invoice == invoice.id
        for item_id in items[:2]:
            assert sdk.client.v1.invoice_items.retrieve(item_id).invoice == invoice.id
        assert (invoice.subtotal, invoice.total, invoice.amount_due) == (9500, 9500, 9500)
        assert_totals_match_lines(sdk, invoice)
        pending_now = sdk.client.v1.invoice_items.list({"customer": customer.id, "pending": True})
        assert pending_now.data == []

    def test_line_item_id_is_not_an_invoice_item(self, sdk: SdkTenant) -> None:
        # the seed's "Common mistake": a line id where an invoice item id is expected
        invoice = sdk.invoice()
        invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 100}]})
        line_id = invoice.lines.data[0].id
        with pytest.raises(stripe.InvalidRequestError) as caught:
            sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 5}, {"invoice_item": line_id}]})
        err = caught.value
        assert (err.http_status, err.code, err.param) == (400, "resource_missing", "lines[1][invoice_item]")
        assert err.user_message == f"No such invoiceitem: '{line_id}'"
        assert len(sdk.lines(invoice.id)) == 1


class TestUpdateLines:
    @pytest.mark.parametrize("spelling", ["pricing", "price"])
    def test_seed_update_description_metadata_price_discountable(self, sdk: SdkTenant, spelling: str) -> None:
        # given: three lines; the third a credit, which is not discountable by default
        invoice = sdk.invoice()
        invoice = sdk.client.v1.invoices.add_lines(
            invoice.id, {"lines": [{"amount": 7500}, {"amount": 2000}, {"amount": -300}]}
        )
        one, two, three = (ln.id for ln in invoice.lines.data)
        assert invoice.lines.data[2].discountable is False
        new_price = sdk.price(2500)
        price_param = {"pricing": {"price": new_price.id}} if spelling == "pricing" else {"price": new_price.id}
        # when: the seed's update_lines call
        invoice = sdk.client.v1.invoices.update_lines(
            invoice.id,
            {
                "lines": [
                    {"id": one, "description": "New description", "metadata": {"key": "new value"}},
                    {"id": two, **price_param},  # type: ignore[typeddict-item]
                    {"id": three, "discountable": True},
                ]
            },
        )
        # then
        first, second, third = invoice.lines.data
        assert [ln.id for ln in invoice.lines.data] == [one, two, three]
        assert first.description == "New description" and first.metadata.to_dict() == {"key": "new value"}
        assert first.amount == 7500
        assert second.amount == 2500 and second.pricing is not None
        assert second.pricing.price_details.price == new_price.id
        assert third.discountable is True and third.amount == -300
        assert (invoice.subtotal, invoice.total) == (9700, 9700)
        assert_totals_match_lines(sdk, invoice)
        # the changes reach the invoice items behind the lines
        item = sdk.client.v1.invoice_items.retrieve(item_of(first))
        assert item.description == "New description" and item.metadata.to_dict() == {"key": "new value"}
        assert sdk.client.v1.invoice_items.retrieve(item_of(second)).amount == 2500
        assert sdk.client.v1.invoice_items.retrieve(item_of(third)).discountable is True

    def test_metadata_merges_and_empty_value_deletes(self, sdk: SdkTenant) -> None:
        invoice = sdk.invoice()
        invoice = sdk.client.v1.invoices.add_lines(
            invoice.id, {"lines": [{"amount": 100, "metadata": {"a": "1", "b": "2"}}]}
        )
        line = invoice.lines.data[0].id
        invoice = sdk.client.v1.invoices.update_lines(
            invoice.id, {"lines": [{"id": line, "metadata": {"b": "", "c": "3"}}]}
        )
        assert invoice.lines.data[0].metadata.to_dict() == {"a": "1", "c": "3"}
        invoice = sdk.client.v1.invoices.update_lines(invoice.id, {"lines": [{"id": line, "metadata": ""}]})
        assert invoice.lines.data[0].metadata.to_dict() == {}

    def test_repeated_line_id_applies_in_request_order(self, sdk: SdkTenant) -> None:
        invoice = sdk.invoice()
        invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 100}, {"amount": 200}]})
        one = invoice.lines.data[0].id
        invoice = sdk.client.v1.invoices.update_lines(
            invoice.id,
            {"lines": [{"id": one, "description": "first"}, {"id": one, "description": "second", "amount": 150}]},
        )
        assert [(ln.description, ln.amount) for ln in invoice.lines.data] == [("second", 150), (None, 200)]
        assert invoice.total == 350


class TestRemoveLines:
    def test_seed_delete_and_unassign(self, sdk: SdkTenant) -> None:
        # given: a draft with three lines
        customer = sdk.customer()
        invoice = sdk.invoice(customer.id)
        invoice = sdk.client.v1.invoices.add_lines(
            invoice.id, {"lines": [{"amount": 7500}, {"amount": 2000}, {"amount": 300}]}
        )
        one, two, three = invoice.lines.data
        deleted_item, unassigned_item = item_of(one), item_of(two)
        # when: the seed's remove_lines call
        invoice = sdk.client.v1.invoices.remove_lines(
            invoice.id, {"lines": [{"id": one.id, "behavior": "delete"}, {"id": two.id, "behavior": "unassign"}]}
        )
        # then: only the third line is left and the totals follow
        assert [ln.id for ln in invoice.lines.data] == [three.id]
        assert (invoice.subtotal, invoice.total, invoice.amount_due) == (300, 300, 300)
        assert [ln.id for ln in sdk.lines(invoice.id)] == [three.id]
        # the deleted item is gone
        with pytest.raises(stripe.InvalidRequestError) as caught:
            sdk.client.v1.invoice_items.retrieve(deleted_item)
        assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
        assert caught.value.user_message == f"No such invoiceitem: '{deleted_item}'"
        # the unassigned one is pending again ...
        item = sdk.client.v1.invoice_items.retrieve(unassigned_item)
        assert item.invoice is None and item.amount == 2000
        pending = sdk.client.v1.invoice_items.list({"pending": True, "customer": customer.id})
        assert [i.id for i in pending.data] == [unassigned_item]
        # ... and can go on another draft of the same customer
        other = sdk.invoice(customer.id)
        other = sdk.client.v1.invoices.add_lines(other.id, {"lines": [{"invoice_item": unassigned_item}]})
        assert [item_of(ln) for ln in other.lines.data] == [unassigned_item]
        assert other.total == 2000
        assert sdk.client.v1.invoice_items.retrieve(unassigned_item).invoice == other.id
        assert sdk.client.v1.invoice_items.list({"pending": True, "customer": customer.id}).data == []

    def test_a_line_cannot_be_removed_twice(self, sdk: SdkTenant) -> None:
        invoice = sdk.invoice()
        invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 100}, {"amount": 200}]})
        one = invoice.lines.data[0].id
        with pytest.raises(stripe.InvalidRequestError) as caught:
            sdk.client.v1.invoices.remove_lines(
                invoice.id, {"lines": [{"id": one, "behavior": "delete"}, {"id": one, "behavior": "unassign"}]}
            )
        assert (caught.value.code, caught.value.param) == ("resource_missing", "lines[1][id]")
        assert len(sdk.lines(invoice.id)) == 2


class TestInvoiceMetadata:
    def test_update_lines_sets_invoice_metadata(self, sdk: SdkTenant) -> None:
        invoice = sdk.invoice(metadata={"keep": "yes"})
        invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 100}, {"amount": 200}]})
        one, two = (ln.id for ln in invoice.lines.data)
        invoice = sdk.client.v1.invoices.update_lines(
            invoice.id,
            {
                "lines": [{"id": one, "description": "New description"}, {"id": two, "description": "Another"}],
                "invoice_metadata": {"is_processed": "true"},
            },
        )
        assert invoice.metadata.to_dict() == {"keep": "yes", "is_processed": "true"}
        assert [ln.description for ln in invoice.lines.data] == ["New description", "Another"]
        assert sdk.client.v1.invoices.retrieve(invoice.id).metadata.to_dict() == invoice.metadata.to_dict()

    def test_invoice_metadata_on_add_and_remove_and_unset(self, sdk: SdkTenant) -> None:
        invoice = sdk.invoice()
        invoice = sdk.client.v1.invoices.add_lines(
            invoice.id, {"lines": [{"amount": 100}], "invoice_metadata": {"batch": "1", "step": "add"}}
        )
        assert invoice.metadata.to_dict() == {"batch": "1", "step": "add"}
        invoice = sdk.client.v1.invoices.remove_lines(
            invoice.id,
            {
                "lines": [{"id": invoice.lines.data[0].id, "behavior": "delete"}],
                "invoice_metadata": {"step": ""},
            },
        )
        assert invoice.metadata.to_dict() == {"batch": "1"} and invoice.lines.data == []
        invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 1}], "invoice_metadata": ""})
        assert invoice.metadata.to_dict() == {}
