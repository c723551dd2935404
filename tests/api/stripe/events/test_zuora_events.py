"""Documents the Zuora dialect makes emit the same events as Stripe-made ones (one core)."""

from __future__ import annotations

from typing import Any

from tests.helpers import StripeClient, ZuoraClient
from tests.helpers.zuora import (
    account,
    bulk,
    create_order,
    line,
    post,
    return_line,
    run,
    run_billing,
    sent,
    standalone,
    to_billing,
)


def events(stripe: StripeClient, **params: Any) -> list[dict[str, Any]]:
    return list(reversed(stripe.ok("GET", "/v1/events", {"limit": 100, **params})["data"]))


def test_run_billing_emits_invoice_created_with_the_invoice_as_stripe_renders_it(
    stripe: StripeClient, zuora: ZuoraClient
) -> None:
    acc = account(zuora)
    assert [e["type"] for e in events(stripe)] == ["customer.created"]
    order = create_order(zuora, acc["accountNumber"], [line()])
    answer = bulk(zuora, to_billing(order["orderLineItems"][0]["id"]), **run_billing())
    [created] = events(stripe, type="invoice.created")
    invoice_id = answer["invoices"][0]["id"]
    assert created["data"]["object"] == stripe.ok("GET", f"/v1/invoices/{invoice_id}")
    assert [e["data"]["object"]["id"] for e in events(stripe, type="invoice.finalized")] == [invoice_id]


def test_posting_a_draft_emits_finalized_and_updated(stripe: StripeClient, zuora: ZuoraClient) -> None:
    invoice = standalone(zuora)
    post(zuora, invoice["id"])
    assert [e["type"] for e in events(stripe)][-3:] == ["invoice.created", "invoice.finalized", "invoice.updated"]
    updated = events(stripe, type="invoice.updated")[-1]
    assert updated["data"]["previous_attributes"]["status"] == "draft"


def test_a_bill_run_emits_one_event_per_document_set_based(stripe: StripeClient, zuora: ZuoraClient) -> None:
    numbers = [account(zuora)["accountNumber"] for _ in range(3)]
    for number in numbers:
        sent(zuora, number, "2021-06-01")
    run(zuora, autoPost=True)
    created = events(stripe, type="invoice.created")
    finalized = events(stripe, type="invoice.finalized")
    assert len(created) == 3 and {e["data"]["object"]["id"] for e in finalized} == {
        e["data"]["object"]["id"] for e in created
    }
    assert all(e["data"]["object"]["status"] == "open" for e in created)
    assert all(e["request"]["id"] for e in created)


def test_put_invoices_emits_invoice_updated_with_what_changed(stripe: StripeClient, zuora: ZuoraClient) -> None:
    invoice = standalone(zuora)
    assert [e["type"] for e in events(stripe)][-1] == "invoice.created"
    zuora.ok("PUT", "/v1/invoices", {"invoices": [{"id": invoice["id"], "dueDate": "2024-09-30"}]})
    updated = events(stripe, type="invoice.updated")[-1]
    assert updated["data"]["object"]["id"] == invoice["id"]
    assert "due_date" in updated["data"]["previous_attributes"]


def test_return_billing_emits_credit_note_events(stripe: StripeClient, zuora: ZuoraClient) -> None:
    number = account(zuora)["accountNumber"]
    sale = create_order(
        zuora, number, [line(quantity=5, amountPerUnit=30, itemState="SentToBilling", billTargetDate="2021-01-01")]
    )
    returned = create_order(zuora, number, [return_line(sale, 2)], category="Return")
    bulk(zuora, to_billing(returned["orderLineItems"][0]["id"]), **run_billing())
    [memo] = events(stripe, type="credit_note.created")
    body = memo["data"]["object"]
    assert body["object"] == "credit_note" and body["status"] == "issued"
    memo_doc = zuora.ok("GET", f"/v1/creditmemos/{body['id']}")
    assert body["number"] == memo_doc["number"] and abs(body["total"]) == 6000
