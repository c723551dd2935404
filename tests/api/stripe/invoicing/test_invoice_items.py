"""Stripe /v1/invoiceitems: pending items, items on drafts, propagation to lines."""

from __future__ import annotations

from tests.helpers import StripeClient
from tests.helpers.stripe import all_lines, customer_items, draft_with_item, price, setup_invoice


class TestInvoiceItems:
    def test_create_pending_then_list_filters(self, stripe: StripeClient) -> None:
        customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
        item = stripe.ok(
            "POST",
            "/v1/invoiceitems",
            {"customer": customer, "amount": 500, "currency": "usd", "description": "pending item"},
        )
        assert item["object"] == "invoiceitem" and item["invoice"] is None and item["amount"] == 500
        assert item["pricing"]["unit_amount_decimal"] == "500" and item["quantity"] == 1
        pending = stripe.ok("GET", "/v1/invoiceitems", {"pending": True})["data"]
        assert [i["id"] for i in pending] == [item["id"]]
        assert stripe.ok("GET", "/v1/invoiceitems", {"pending": False})["data"] == []

    def test_create_on_a_draft_invoice_adds_a_line(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        widget = price(stripe, 300)
        item = stripe.ok(
            "POST",
            "/v1/invoiceitems",
            {"customer": invoice["customer"], "invoice": invoice["id"], "pricing": {"price": widget}, "quantity": 3},
        )
        assert item["invoice"] == invoice["id"] and item["amount"] == 900
        refreshed = stripe.ok("GET", f"/v1/invoices/{invoice['id']}")
        assert refreshed["total"] == 900 and len(refreshed["lines"]["data"]) == 1

    def test_update_propagates_and_delete_removes_line(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        item = stripe.ok(
            "POST",
            "/v1/invoiceitems",
            {"customer": invoice["customer"], "invoice": invoice["id"], "unit_amount_decimal": "250", "quantity": 2},
        )
        assert item["amount"] == 500
        updated = stripe.ok("POST", f"/v1/invoiceitems/{item['id']}", {"quantity": 4, "metadata": {"a": "1"}})
        assert updated["amount"] == 1000
        line = stripe.ok("GET", f"/v1/invoices/{invoice['id']}")["lines"]["data"][0]
        assert line["amount"] == 1000 and line["metadata"] == {"a": "1"}
        assert stripe.ok("DELETE", f"/v1/invoiceitems/{item['id']}")["deleted"] is True
        assert stripe.ok("GET", f"/v1/invoices/{invoice['id']}")["total"] == 0

    def test_items_on_finalized_invoices_are_frozen(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        item = stripe.ok(
            "POST",
            "/v1/invoiceitems",
            {"customer": invoice["customer"], "invoice": invoice["id"], "amount": 100, "currency": "usd"},
        )
        stripe.ok("POST", f"/v1/invoices/{invoice['id']}/finalize")
        assert stripe.error("POST", f"/v1/invoiceitems/{item['id']}", {"amount": 5})["code"] == "invoice_not_editable"
        assert stripe.error("DELETE", f"/v1/invoiceitems/{item['id']}")["code"] == "invoice_not_editable"
        error = stripe.error(
            "POST",
            "/v1/invoiceitems",
            {"customer": invoice["customer"], "invoice": invoice["id"], "amount": 1, "currency": "usd"},
        )
        assert error["code"] == "invoice_not_editable"

    def test_validation(self, stripe: StripeClient) -> None:
        customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
        assert stripe.error("POST", "/v1/invoiceitems", {"amount": 5, "currency": "usd"})["param"] == "customer"
        assert stripe.error("POST", "/v1/invoiceitems", {"customer": customer, "amount": 5})["param"] == "currency"
        error = stripe.error("POST", "/v1/invoiceitems", {"customer": customer, "currency": "usd"})
        assert error["code"] == "parameter_missing" and error["param"] == "amount"
        recurring = price(stripe, 100, **{"recurring[interval]": "month"})
        error = stripe.error("POST", "/v1/invoiceitems", {"customer": customer, "pricing": {"price": recurring}})
        assert error["param"] == "pricing[price]" and "recurring" in error["message"]
        error = stripe.error("POST", "/v1/invoiceitems", {"customer": "cus_nope", "amount": 5, "currency": "usd"})
        assert error["code"] == "resource_missing" and error["param"] == "customer"


class TestInvoiceItemOnADraft:
    def test_another_customers_draft_is_refused(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        bob = stripe.ok("POST", "/v1/customers", {"name": "Bob"})["id"]
        error = stripe.error(
            "POST", "/v1/invoiceitems", {"customer": bob, "invoice": invoice["id"], "amount": 100, "currency": "usd"}
        )
        assert error["param"] == "invoice" and error["message"] == "The invoice belongs to another customer."
        assert customer_items(stripe, bob) == [] and customer_items(stripe, invoice["customer"]) == []
        assert all_lines(stripe, invoice["id"]) == []

    def test_another_currency_is_refused(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        error = stripe.error(
            "POST",
            "/v1/invoiceitems",
            {"customer": invoice["customer"], "invoice": invoice["id"], "amount": 100, "currency": "eur"},
        )
        assert error["param"] == "currency"
        assert error["message"] == "The item currency eur does not match the invoice currency usd."
        assert customer_items(stripe, invoice["customer"]) == [] and all_lines(stripe, invoice["id"]) == []


class TestNetAmount:
    def test_an_item_on_an_invoice_shows_its_amount_after_discounts(self, stripe: StripeClient) -> None:
        # given an item of 1000 with a 10 % coupon on a draft
        _, item = draft_with_item(stripe, percent_off=10)
        # then its net amount is 900, created, retrieved and listed alike
        assert (item["amount"], item["net_amount"]) == (1000, 900)
        assert stripe.ok("GET", f"/v1/invoiceitems/{item['id']}")["net_amount"] == 900
        listed = stripe.ok("GET", "/v1/invoiceitems", {"customer": item["customer"]})["data"]
        assert [i["net_amount"] for i in listed] == [900]

    def test_without_discounts_it_is_the_amount(self, stripe: StripeClient) -> None:
        _, item = draft_with_item(stripe)
        assert item["net_amount"] == item["amount"] == 1000
