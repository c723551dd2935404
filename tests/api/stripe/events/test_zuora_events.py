"""Documents the Zuora dialect makes emit the same events as Stripe-made ones (one core)."""

from __future__ import annotations

from typing import Any

from tests.helpers import StripeClient, ZuoraClient
from tests.helpers.schema import assert_stripe_schema
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


def _stripe_credit_note(stripe: StripeClient) -> dict[str, Any]:
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})
    invoice = stripe.ok("POST", "/v1/invoices", {"customer": customer["id"], "currency": "usd"})
    stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 9000, "description": "x"}]})
    stripe.ok("POST", f"/v1/invoices/{invoice['id']}/finalize")
    note: dict[str, Any] = stripe.ok("POST", "/v1/credit_notes", {"invoice": invoice["id"], "amount": 1000})
    return note


def test_a_zuora_credit_memo_renders_as_a_stripe_credit_note_does(stripe: StripeClient, zuora: ZuoraClient) -> None:
    stripe_made = _stripe_credit_note(stripe)
    [told] = events(stripe, type="credit_note.created")
    assert told["data"]["object"] == stripe.ok("GET", f"/v1/credit_notes/{stripe_made['id']}")
    number = account(zuora)["accountNumber"]
    sale = create_order(
        zuora, number, [line(quantity=5, amountPerUnit=30, itemState="SentToBilling", billTargetDate="2021-01-01")]
    )
    returned = create_order(zuora, number, [return_line(sale, 2)], category="Return")
    bulk(zuora, to_billing(returned["orderLineItems"][0]["id"]), **run_billing())
    zuora_made = events(stripe, type="credit_note.created")[-1]["data"]["object"]
    assert_stripe_schema(zuora_made, "credit_note")
    assert set(zuora_made) == set(stripe_made) and set(zuora_made["lines"]) == set(stripe_made["lines"])
    [item] = zuora.ok("GET", f"/v1/creditmemos/{zuora_made['id']}/items")["items"]
    [shown] = zuora_made["lines"]["data"]
    assert set(shown) == set(stripe_made["lines"]["data"][0])
    assert (shown["amount"], shown["quantity"], shown["unit_amount"], shown["description"]) == (
        6000,
        2,
        3000,
        item["description"],
    )
    assert (zuora_made["total"], zuora_made["status"], zuora_made["invoice"]) == (6000, "issued", "")


def test_a_draft_credit_memo_is_told_when_it_is_posted(stripe: StripeClient, zuora: ZuoraClient) -> None:
    number = account(zuora)["accountNumber"]
    sale = create_order(
        zuora, number, [line(quantity=5, amountPerUnit=30, itemState="SentToBilling", billTargetDate="2021-01-01")]
    )
    run(zuora, autoPost=True)  # the sale's invoice, posted
    returned = create_order(zuora, number, [return_line(sale, 2)], category="Return")
    bulk(zuora, to_billing(returned["orderLineItems"][0]["id"], target="2021-02-01"))
    draft_run = run(zuora, target="2021-02-28")
    # Stripe has no draft credit note: a draft memo is told when it is posted.
    assert events(stripe, type="credit_note.created") == []
    zuora.ok("PUT", f"/v1/bill-runs/{draft_run['id']}/post", {"invoiceDate": "2021-03-01"})
    [created] = events(stripe, type="credit_note.created")
    assert_stripe_schema(created["data"]["object"], "credit_note")
    assert created["data"]["object"]["status"] == "issued" and created["data"]["object"]["total"] == 6000
