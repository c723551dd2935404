"""Expansions that put an object in place of its id (spec §4.2, §4.4): an item's invoice, a line's subscription."""

from __future__ import annotations

from tests.helpers import StripeClient
from tests.helpers.schema import assert_stripe_schema
from tests.helpers.stripe import draft_with_item, world


class TestExpansions:
    def test_an_items_invoice_expands_to_the_invoice(self, stripe: StripeClient) -> None:
        # given an item on a draft
        draft, item = draft_with_item(stripe)
        # when its invoice is expanded, retrieved or listed
        one = stripe.ok("GET", f"/v1/invoiceitems/{item['id']}", {"expand": ["invoice"]})
        listed = stripe.ok("GET", "/v1/invoiceitems", {"customer": item["customer"], "expand": ["data.invoice"]})
        # then the invoice object stands in place of its id
        for shown in (one, listed["data"][0]):
            assert shown["invoice"]["id"] == draft and shown["invoice"]["object"] == "invoice"
            assert_stripe_schema(shown["invoice"], "invoice")
        # and a pending item keeps null
        customer = item["customer"]
        pending = stripe.ok("POST", "/v1/invoiceitems", {"customer": customer, "amount": 5, "expand": ["invoice"]})
        assert pending["invoice"] is None

    def test_a_lines_subscription_expands_on_the_invoice_and_the_line_list(self, stripe: StripeClient) -> None:
        # given a subscription whose first invoice has one line per item
        w = world(stripe)
        invoice_id = w["sub"]["latest_invoice"]
        # when lines.data.subscription is expanded on the invoice, and subscription on its lines
        invoice = stripe.ok("GET", f"/v1/invoices/{invoice_id}", {"expand": ["lines.data.subscription"]})
        lines = stripe.ok("GET", f"/v1/invoices/{invoice_id}/lines", {"expand": ["data.subscription"]})
        listed = stripe.ok(
            "GET", "/v1/invoices", {"customer": w["customer"], "expand": ["data.lines.data.subscription"]}
        )
        # then every line shows the subscription object
        for line in [*invoice["lines"]["data"], *lines["data"], *listed["data"][0]["lines"]["data"]]:
            assert line["subscription"]["id"] == w["sub"]["id"]
            assert line["subscription"]["object"] == "subscription"
        # and without the expansion it is the id
        plain = stripe.ok("GET", f"/v1/invoices/{invoice_id}")
        assert {line["subscription"] for line in plain["lines"]["data"]} == {w["sub"]["id"]}

    def test_payments_are_not_expandable(self, stripe: StripeClient) -> None:
        draft, _ = draft_with_item(stripe)
        error = stripe.error("GET", f"/v1/invoices/{draft}", {"expand": ["payments"]})
        assert "payments" in error["message"]
