"""One core, two dialects: an invoice made through either is the same invoice through the other."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from bulkbill.services.platform.tenants import NewTenant
from tests.helpers import StripeClient, ZuoraClient
from tests.helpers.zuora import account, create_order, item, items_of, line, new_account, run, standalone


def minor(value: object) -> int:
    """A Zuora major-unit amount (USD) in minor units, exactly."""
    cents = Decimal(str(value)) * 100
    assert cents == cents.to_integral_value()
    return int(cents)


def test_zuora_standalone_invoice_read_through_stripe(zuora: ZuoraClient, stripe: StripeClient) -> None:
    acct = account(zuora)
    invoice = standalone(
        zuora,
        acct["accountId"],
        [
            item("100.50", description="Consulting"),
            item("19.99", quantity=2, unitPrice="9.995", description="Widgets"),
            item("0.01", description="Rounding"),
        ],
    )
    seen = stripe.ok("GET", f"/v1/invoices/{invoice['id']}")
    assert seen["customer"] == acct["accountId"] and seen["status"] == "draft" and seen["currency"] == "usd"
    assert seen["number"] == invoice["invoiceNumber"]
    assert seen["total"] == minor(invoice["amount"]) == 12050
    assert seen["subtotal"] == minor(invoice["amountWithoutTax"]) and seen["amount_due"] == minor(invoice["balance"])
    lines = stripe.ok("GET", f"/v1/invoices/{invoice['id']}/lines", {"limit": 100})["data"]
    zitems = items_of(zuora, invoice["id"])
    assert (
        [ln["description"] for ln in lines]
        == [i["description"] for i in zitems]
        == ["Consulting", "Widgets", "Rounding"]
    )
    assert [ln["amount"] for ln in lines] == [minor(i["chargeAmount"]) for i in zitems] == [10050, 1999, 1]
    assert lines[1]["quantity"] == 2 and lines[1]["pricing"]["unit_amount_decimal"] == "999.5"
    # Posting through Zuora is finalizing in Stripe's view, with the INV number kept.
    zuora.ok("PUT", f"/v1/invoices/{invoice['id']}/post", {})
    seen = stripe.ok("GET", f"/v1/invoices/{invoice['id']}")
    assert seen["status"] == "open" and seen["number"] == invoice["invoiceNumber"] and seen["amount_due"] == 12050


def test_stripe_invoice_read_through_zuora(zuora: ZuoraClient, stripe: StripeClient) -> None:
    customer = stripe.ok("POST", "/v1/customers", {"name": "Stripe Co"})
    draft = stripe.ok(
        "POST",
        "/v1/invoices",
        {"customer": customer["id"], "currency": "usd", "collection_method": "send_invoice", "days_until_due": 30},
    )
    lines = [
        {"amount": 1050, "description": "Setup"},
        {
            "price_data": {"currency": "usd", "product_data": {"name": "Seat"}, "unit_amount_decimal": "333.5"},
            "quantity": 3,
            "description": "Seats",
        },
    ]
    stripe.ok("POST", f"/v1/invoices/{draft['id']}/add_lines", {"lines": lines})
    final = stripe.ok("POST", f"/v1/invoices/{draft['id']}/finalize")
    body = zuora.ok("GET", f"/v1/invoices/{draft['id']}")
    assert body["id"] == final["id"] and body["invoiceNumber"] == final["number"] and body["status"] == "Posted"
    assert body["accountId"] == customer["id"] and body["currency"] == "USD"
    assert minor(body["amount"]) == final["total"] == 2051 and minor(body["balance"]) == final["amount_remaining"]
    assert body["postedDate"] is not None and body["dueDate"] is not None
    zitems = items_of(zuora, draft["id"])
    slines = stripe.ok("GET", f"/v1/invoices/{draft['id']}/lines", {"limit": 100})["data"]
    assert [minor(i["chargeAmount"]) for i in zitems] == [ln["amount"] for ln in slines] == [1050, 1001]
    assert [i["description"] for i in zitems] == ["Setup", "Seats"]
    assert Decimal(str(zitems[1]["unitPrice"])) == Decimal("3.335") and Decimal(str(zitems[1]["quantity"])) == 3
    assert zitems[0]["chargeName"] == "Setup"
    # The Zuora status map: void in Stripe is Canceled in Zuora.
    stripe.ok("POST", f"/v1/invoices/{draft['id']}/void")
    assert zuora.ok("GET", f"/v1/invoices/{final['number']}")["status"] == "Canceled"


class TestCreditMemosStayZuoraOnly:
    """A credit memo is an invoice row of the core, but Stripe has no such object: it never shows one."""

    def test_stripe_cannot_see_or_edit_a_credit_memo(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient, stripe: StripeClient
    ) -> None:
        account = new_account(client, tenant)
        sale = create_order(zuora, account, [line(itemState="SentToBilling", billTargetDate="2021-01-01")])
        back = {
            "itemCategory": "Return",
            "itemName": "back",
            "quantity": 1,
            "itemState": "SentToBilling",
            "billTargetDate": "2021-01-02",
            "originalOrderNumber": sale["orderNumber"],
            "originalOrderLineItemNumber": "1",
        }
        create_order(zuora, account, [back], category="Return")
        assert run(zuora)["numberOfCreditMemos"] == 1
        memos = zuora.ok("GET", "/object-query/credit-memos")["data"]
        memo_id = memos[0]["id"]
        for method, path, data in (
            ("GET", f"/v1/invoices/{memo_id}", None),
            ("GET", f"/v1/invoices/{memo_id}/lines", None),
            ("POST", f"/v1/invoices/{memo_id}/add_lines", {"lines": [{"amount": 1}]}),
            ("POST", f"/v1/invoices/{memo_id}/finalize", None),
        ):
            assert stripe.error(method, path, data, status=404)["code"] == "resource_missing"
        listed = {i["id"] for i in stripe.ok("GET", "/v1/invoices", {"limit": 100})["data"]}
        assert memo_id not in listed and listed  # the sales invoice is there, the memo is not
        # A return's memo credits no invoice, so it is no Stripe credit note either.
        assert stripe.error("GET", f"/v1/credit_notes/{memo_id}", None, status=404)["code"] == "resource_missing"

    def test_a_stripe_credit_note_is_a_zuora_credit_memo(self, zuora: ZuoraClient, stripe: StripeClient) -> None:
        customer = stripe.ok("POST", "/v1/customers", {"name": "Stripe Co"})["id"]
        invoice = stripe.ok("POST", "/v1/invoices", {"customer": customer, "currency": "usd"})["id"]
        stripe.ok("POST", f"/v1/invoices/{invoice}/add_lines", {"lines": [{"amount": 1050, "description": "Setup"}]})
        stripe.ok("POST", f"/v1/invoices/{invoice}/finalize")
        lines = stripe.ok("GET", f"/v1/invoices/{invoice}/lines")["data"]
        note = stripe.ok(
            "POST",
            "/v1/credit_notes",
            {
                "invoice": invoice,
                "lines": [{"type": "invoice_line_item", "invoice_line_item": lines[0]["id"], "amount": 250}],
                "memo": "partial refund",
            },
        )
        memo = zuora.ok("GET", f"/v1/credit-memos/{note['id']}")
        assert (memo["number"], memo["referredInvoiceId"], memo["accountId"]) == (note["number"], invoice, customer)
        assert (minor(memo["amount"]), memo["status"], memo["comment"]) == (250, "Posted", "partial refund")
        items = zuora.ok("GET", f"/v1/credit-memos/{note['id']}/items")["items"]
        assert [minor(i["amount"]) for i in items] == [ln["amount"] for ln in note["lines"]["data"]] == [250]
        stripe.ok("POST", f"/v1/credit_notes/{note['id']}/void")
        assert zuora.ok("GET", f"/v1/credit-memos/{note['number']}")["status"] == "Canceled"
