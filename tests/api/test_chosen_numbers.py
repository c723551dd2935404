"""Numbers chosen by hand and generated numbers share one namespace: the sequences skip what is taken.

Issue 12, defect 1: a Zuora invoice numbered INV00000001 (or ZZQQ-0001) made every later INV number
(or the Stripe number of the customer with prefix ZZQQ) a 409 "please retry", forever. The class:
every identifier a caller may choose (invoiceNumber, accountNumber, orderNumber, invoice_prefix)
against the sequence that generates the same shape.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from bulkbill.services.platform.tenants import NewTenant
from tests.helpers import StripeClient, ZuoraClient
from tests.helpers.zuora import (
    account,
    bulk,
    codes,
    create_order,
    line,
    new_account,
    returned_line_id,
    run,
    sent,
    standalone,
    to_billing,
)

DUPLICATE = 50000030  # Zuora's category 30 (rule): the chosen number exists


def stripe_invoice(stripe: StripeClient, customer: str) -> dict[str, Any]:
    """A finalized Stripe invoice of one line for the customer."""
    invoice = stripe.ok("POST", "/v1/invoices", {"customer": customer, "currency": "usd"})
    stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 500, "description": "x"}]})
    return stripe.ok("POST", f"/v1/invoices/{invoice['id']}/finalize")


class TestInvoiceNumbers:
    def test_a_chosen_inv_number_is_skipped_by_every_invoice_writer(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        for chosen in ("INV00000001", "INV00000003", "INV00000005"):
            assert standalone(zuora, invoiceNumber=chosen)["invoiceNumber"] == chosen
        assert standalone(zuora)["invoiceNumber"] == "INV00000002"  # standalone
        billed = new_account(client, tenant)
        first = create_order(zuora, billed, [line()])["orderLineItems"][0]["id"]
        body = bulk(
            zuora, [{"id": first, "itemState": "SentToBilling", "billTargetDate": "2021-01-01"}], runBilling=True
        )
        assert [d["invoiceNumber"] for d in body["invoices"]] == ["INV00000004"]  # runBilling
        for _ in range(2):
            sent(zuora, new_account(client, tenant), "2021-06-30")
        assert run(zuora)["numberOfInvoices"] == 2  # the set-based writer takes a block, 5 inside it
        listed = zuora.ok("GET", "/object-query/invoices", params={"pageSize": 50})["data"]
        assert sorted(d["invoiceNumber"] for d in listed) == [f"INV{n:08d}" for n in range(1, 8)]

    def test_a_chosen_cm_number_is_skipped_by_credit_memos(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        standalone(zuora, invoiceNumber="CM00000001")
        ret = returned_line_id(zuora, new_account(client, tenant))
        body = bulk(zuora, to_billing(ret), runBilling=True)
        assert [m["creditMemoNumber"] for m in body["creditMemos"]] == ["CM00000002"]

    def test_a_taken_number_stays_a_rule_violation_not_a_retry(self, zuora: ZuoraClient) -> None:
        generated = standalone(zuora)["invoiceNumber"]
        acct = account(zuora)["accountId"]
        body = {
            "accountId": acct,
            "invoiceDate": "2024-07-11",
            "invoiceItems": [{"amount": 1, "chargeName": "c", "serviceStartDate": "2024-07-01"}],
            "invoiceNumber": generated,
        }
        assert codes(zuora.fail("POST", "/v1/invoices", body, status=400)) == [DUPLICATE]


class TestAcrossDialects:
    def test_a_zuora_number_in_a_stripe_prefix_is_skipped_at_finalize(
        self, stripe: StripeClient, zuora: ZuoraClient
    ) -> None:
        standalone(zuora, invoiceNumber="ZZQQ-0001")
        standalone(zuora, invoiceNumber="ZZQQ-0003")
        customer = stripe.ok("POST", "/v1/customers", {"invoice_prefix": "ZZQQ"})["id"]
        assert [stripe_invoice(stripe, customer)["number"] for _ in range(3)] == ["ZZQQ-0002", "ZZQQ-0004", "ZZQQ-0005"]

    def test_a_prefix_given_up_and_taken_by_another_customer(self, stripe: StripeClient) -> None:
        first = stripe.ok("POST", "/v1/customers", {"invoice_prefix": "PFXA"})["id"]
        assert stripe_invoice(stripe, first)["number"] == "PFXA-0001"
        stripe.ok("POST", f"/v1/customers/{first}", {"invoice_prefix": "PFXB"})
        second = stripe.ok("POST", "/v1/customers", {"invoice_prefix": "PFXA"})["id"]
        assert stripe_invoice(stripe, second)["number"] == "PFXA-0002"
        assert stripe_invoice(stripe, first)["number"] == "PFXB-0002"  # the customer's own counter goes on


class TestOtherIdentifiers:
    def test_a_chosen_order_number_is_skipped(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        acct = new_account(client, tenant)
        assert create_order(zuora, acct, [line()], orderNumber="O-00000001")["orderNumber"] == "O-00000001"
        assert create_order(zuora, acct, [line()], orderNumber="RMA-00000003")["orderNumber"] == "RMA-00000003"
        assert create_order(zuora, acct, [line()])["orderNumber"] == "O-00000002"
        assert create_order(zuora, acct, [line()])["orderNumber"] == "O-00000003"  # RMA-00000003 is another string
        assert create_order(zuora, acct, [line()], orderNumber="O-00000005")["orderNumber"] == "O-00000005"
        assert create_order(zuora, acct, [line()])["orderNumber"] == "O-00000004"
        assert create_order(zuora, acct, [line()])["orderNumber"] == "O-00000006"

    def test_a_chosen_account_number_is_skipped(self, zuora: ZuoraClient) -> None:
        assert account(zuora, accountNumber="A00000001")["accountNumber"] == "A00000001"
        assert account(zuora)["accountNumber"] == "A00000002"
        failed = zuora.fail(
            "POST",
            "/v1/accounts",
            {
                "name": "x",
                "currency": "USD",
                "billToContact": {"firstName": "a", "lastName": "b"},
                "accountNumber": "A00000002",
            },
            status=400,
        )
        assert failed["success"] is False
