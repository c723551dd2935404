"""A balance moved by Zuora posting (a bill run with autoPost, runBilling) is a customer balance transaction the
Stripe dialect lists (one core): `applied_to_invoice`, naming the document, with the balance it left. A credit
memo keeps its credit on the memo: posting one leaves the balance (and the transactions) as they are."""

from __future__ import annotations

from typing import Any

from tests.helpers import StripeClient, ZuoraClient
from tests.helpers.zuora import account, create_order, dec, line, return_line, run, run_billing, sent

SENT = {"itemState": "SentToBilling", "billTargetDate": "2021-01-01"}


def _applied(stripe: StripeClient, customer: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = stripe.ok("GET", f"/v1/customers/{customer}/balance_transactions")["data"]
    return [t for t in listed if t["type"] == "applied_to_invoice"]


def _credit(stripe: StripeClient, customer: str, amount: int) -> None:
    stripe.ok("POST", f"/v1/customers/{customer}/balance_transactions", {"amount": -amount, "currency": "usd"})


def test_a_bill_run_applying_a_credit_balance_records_it(stripe: StripeClient, zuora: ZuoraClient) -> None:
    acct = account(zuora)
    customer = acct["accountId"]
    _credit(stripe, customer, 5000)
    sent(zuora, acct["accountNumber"], "2021-01-01")  # 10 × 10.00 = 10000
    assert run(zuora, autoPost=True)["numberOfInvoices"] == 1
    (applied,) = _applied(stripe, customer)
    # The invoice used the whole credit: +5000 to the balance, which it left at 0.
    assert (applied["amount"], applied["ending_balance"], applied["currency"]) == (5000, 0, "usd")
    assert stripe.ok("GET", f"/v1/customers/{customer}")["balance"] == 0
    invoice = stripe.ok("GET", f"/v1/invoices/{applied['invoice']}")
    assert (invoice["total"], invoice["starting_balance"], invoice["ending_balance"]) == (10000, -5000, 0)
    assert invoice["amount_due"] == 5000
    assert dec(zuora.ok("GET", f"/v1/invoices/{applied['invoice']}")["balance"]) == 50
    by_invoice = stripe.ok("GET", f"/v1/customers/{customer}/balance_transactions", {"invoice": invoice["id"]})
    assert [t["id"] for t in by_invoice["data"]] == [applied["id"]]


def test_run_billing_records_the_move_and_a_credit_memo_keeps_the_balance(
    stripe: StripeClient, zuora: ZuoraClient
) -> None:
    acct = account(zuora)
    customer = acct["accountId"]
    _credit(stripe, customer, 20000)
    sale = create_order(
        zuora, acct["accountNumber"], [line(quantity=5, amountPerUnit=30, **SENT)], processingOptions=run_billing()
    )  # 15000, posted at once: 5000 of credit left
    (applied,) = _applied(stripe, customer)
    assert (applied["amount"], applied["ending_balance"]) == (15000, -5000)
    assert stripe.ok("GET", f"/v1/invoices/{applied['invoice']}")["amount_due"] == 0
    create_order(zuora, acct["accountNumber"], [return_line(sale, 2, **SENT)], category="Return")
    body = run(zuora, autoPost=True)
    assert (body["numberOfInvoices"], body["numberOfCreditMemos"]) == (0, 1)
    # The memo of 2 × 30.00 keeps its 6000 unapplied; the account's 5000 of credit is untouched.
    assert stripe.ok("GET", f"/v1/customers/{customer}")["balance"] == -5000
    assert [t["id"] for t in _applied(stripe, customer)] == [applied["id"]]
    memos = zuora.ok("GET", "/object-query/credit-memos", {"filter[]": f"accountId.EQ:{customer}"})["data"]
    assert [(dec(m["totalAmount"]), dec(m["unappliedAmount"]), m["status"]) for m in memos] == [(60, 60, "Posted")]
