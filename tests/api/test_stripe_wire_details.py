"""Wire details of the Stripe dialect from spec §1.6, §2.4, §4.2, §4.4 and §4.8, on SQLite and PostgreSQL.

net_amount after discounts, expansions that put an object in place of its id (an item's invoice,
a line's subscription), the echoed Stripe-Version, request_log_url on errors, and the verbatim
missing-key message.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.test_subscriptions import world
from tests.helpers import StripeClient
from tests.schema import assert_stripe_schema


def _draft_with_item(stripe: StripeClient, *, percent_off: int | None = None) -> tuple[str, dict[str, Any]]:
    customer = stripe.ok("POST", "/v1/customers", {"name": "Net"})["id"]
    draft = stripe.ok("POST", "/v1/invoices", {"customer": customer})["id"]
    params: dict[str, Any] = {"customer": customer, "invoice": draft, "amount": 1000, "currency": "usd"}
    if percent_off is not None:
        coupon = stripe.ok("POST", "/v1/coupons", {"percent_off": percent_off, "duration": "once"})["id"]
        params["discounts"] = [{"coupon": coupon}]
    return draft, stripe.ok("POST", "/v1/invoiceitems", params)


class TestNetAmount:
    def test_an_item_on_an_invoice_shows_its_amount_after_discounts(self, stripe: StripeClient) -> None:
        # given an item of 1000 with a 10 % coupon on a draft
        _, item = _draft_with_item(stripe, percent_off=10)
        # then its net amount is 900, created, retrieved and listed alike
        assert (item["amount"], item["net_amount"]) == (1000, 900)
        assert stripe.ok("GET", f"/v1/invoiceitems/{item['id']}")["net_amount"] == 900
        listed = stripe.ok("GET", "/v1/invoiceitems", {"customer": item["customer"]})["data"]
        assert [i["net_amount"] for i in listed] == [900]

    def test_without_discounts_it_is_the_amount(self, stripe: StripeClient) -> None:
        _, item = _draft_with_item(stripe)
        assert item["net_amount"] == item["amount"] == 1000


class TestExpansions:
    def test_an_items_invoice_expands_to_the_invoice(self, stripe: StripeClient) -> None:
        # given an item on a draft
        draft, item = _draft_with_item(stripe)
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
        draft, _ = _draft_with_item(stripe)
        error = stripe.error("GET", f"/v1/invoices/{draft}", {"expand": ["payments"]})
        assert "payments" in error["message"]


class TestHeadersAndErrors:
    def test_stripe_version_is_echoed_when_well_formed(self, client: TestClient, stripe: StripeClient) -> None:
        headers = {"Authorization": f"Bearer {stripe.key}"}
        for sent, echoed in (
            ("2024-06-20", "2024-06-20"),
            ("2025-03-31.basil", "2025-03-31.basil"),
            ("garbage", "2026-10-28.endive"),
            (None, "2026-10-28.endive"),
        ):
            extra = {"Stripe-Version": sent} if sent else {}
            response = client.get("/stripe/v1/customers", headers={**headers, **extra})
            assert response.status_code == 200
            assert response.headers["Stripe-Version"] == echoed, sent

    def test_errors_name_their_request_log(self, stripe: StripeClient) -> None:
        response = stripe.get("/v1/invoices/in_missing")
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["request_log_url"] == "https://dashboard.stripe.com/test/logs/" + response.headers["Request-Id"]

    def test_a_missing_key_gets_stripes_message_verbatim(self, client: TestClient) -> None:
        response = client.get("/stripe/v1/customers")
        assert response.status_code == 401
        assert response.json()["error"]["message"] == (
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
            "https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."
        )
