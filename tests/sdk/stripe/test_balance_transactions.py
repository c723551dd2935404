"""/v1/customers/{customer}/balance_transactions through stripe-python 16.1.0: a manual adjustment moves the
balance at once, the next finalized invoice applies it (starting_balance, ending_balance, amount_due) and records
its own `applied_to_invoice` transaction. Responses are validated by the subscriptions client (Stripe's schemas;
stripe-python's attributes for customer_balance_transaction, which the schema copies lack)."""

from __future__ import annotations

import pytest
import stripe

from tests.helpers.sdk import SdkTenant
from tests.sdk.stripe.test_prorations import _events, _rows
from tests.sdk.stripe.test_subscriptions import billing

__all__ = ["billing"]

pytestmark = pytest.mark.sdk


def test_a_credit_is_applied_by_the_next_invoice_and_both_moves_are_listed(billing: SdkTenant) -> None:
    client = billing.client
    customer = client.v1.customers.create({"name": "Ada"})
    credit = client.v1.customers.balance_transactions.create(
        customer.id, {"amount": -500, "currency": "usd", "description": "Goodwill", "metadata": {"ticket": "7"}}
    )
    assert (credit.type, credit.amount, credit.ending_balance, credit.currency) == ("adjustment", -500, -500, "usd")
    assert (credit.customer, credit.description, credit.metadata.to_dict(), credit.invoice) == (
        customer.id,
        "Goodwill",
        {"ticket": "7"},
        None,
    )
    assert client.v1.customers.retrieve(customer.id).balance == -500
    told = [c for c in _events(billing, "customer.updated") if c["id"] == customer.id]
    assert [c["balance"] for c in told] == [-500]
    client.v1.invoice_items.create({"customer": customer.id, "amount": 2000, "currency": "usd"})
    draft = client.v1.invoices.create({"customer": customer.id, "pending_invoice_items_behavior": "include"})
    invoice = client.v1.invoices.finalize_invoice(draft.id)
    assert (invoice.starting_balance, invoice.ending_balance, invoice.amount_due) == (-500, 0, 1500)
    assert client.v1.customers.retrieve(customer.id).balance == 0
    listed = client.v1.customers.balance_transactions.list(customer.id).data
    assert sorted(t.type for t in listed) == ["adjustment", "applied_to_invoice"]  # possibly within one second
    (applied,) = [t for t in listed if t.type == "applied_to_invoice"]
    assert (applied.amount, applied.ending_balance, applied.invoice) == (500, 0, invoice.id)
    by_invoice = client.v1.customers.balance_transactions.list(customer.id, {"invoice": invoice.id}).data
    assert [t.id for t in by_invoice] == [applied.id]
    # A debit is owed on top of the next invoice.
    client.v1.customers.balance_transactions.create(customer.id, {"amount": 300, "currency": "usd"})
    client.v1.invoice_items.create({"customer": customer.id, "amount": 1000, "currency": "usd"})
    second = client.v1.invoices.create({"customer": customer.id, "pending_invoice_items_behavior": "include"})
    second = client.v1.invoices.finalize_invoice(second.id)
    assert (second.starting_balance, second.ending_balance, second.amount_due) == (300, 0, 1300)


def test_only_description_and_metadata_change_and_the_transaction_belongs_to_its_customer(billing: SdkTenant) -> None:
    client = billing.client
    ada, bob = client.v1.customers.create({"name": "Ada"}), client.v1.customers.create({"name": "Bob"})
    made = client.v1.customers.balance_transactions.create(ada.id, {"amount": -250, "currency": "eur"})
    changed = client.v1.customers.balance_transactions.update(
        ada.id, made.id, {"description": "Refund of March", "metadata": {"a": "1"}}
    )
    assert (changed.amount, changed.description, changed.metadata.to_dict()) == (-250, "Refund of March", {"a": "1"})
    again = client.v1.customers.balance_transactions.update(ada.id, made.id, {"description": "", "metadata": {"a": ""}})
    assert (again.description, again.metadata.to_dict()) == (None, {})
    assert client.v1.customers.balance_transactions.retrieve(ada.id, made.id).id == made.id
    with pytest.raises(stripe.InvalidRequestError) as other:
        client.v1.customers.balance_transactions.retrieve(bob.id, made.id)
    assert other.value.http_status == 404
    assert client.v1.customers.retrieve(ada.id).currency == "eur"  # a customer without one takes it


def test_bad_input_names_the_parameter_and_changes_nothing(billing: SdkTenant) -> None:
    client = billing.client
    customer = client.v1.customers.create({"name": "Ada"})
    client.v1.customers.balance_transactions.create(customer.id, {"amount": -100, "currency": "usd"})
    before = _rows(billing)
    cases: list[tuple[dict[str, object], str]] = [
        ({"currency": "usd"}, "amount"),
        ({"amount": -100}, "currency"),
        ({"amount": "x", "currency": "usd"}, "amount"),
        ({"amount": -100, "currency": "eur"}, "currency"),  # the customer's balance is in usd
        ({"amount": -100, "currency": "usd", "description": "d" * 351}, "description"),
        ({"amount": 10**13, "currency": "usd"}, "amount"),
        ({"amount": -100, "currency": "usd", "type": "adjustment"}, "type"),
    ]
    for params, param in cases:
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.customers.balance_transactions.create(customer.id, params)  # type: ignore[arg-type]
        assert (error.value.http_status, error.value.param) == (400, param), params
    with pytest.raises(stripe.InvalidRequestError) as bad_update:
        made = client.v1.customers.balance_transactions.list(customer.id).data[0]
        client.v1.customers.balance_transactions.update(customer.id, made.id, {"amount": 5})  # type: ignore[typeddict-unknown-key]
    assert (bad_update.value.http_status, bad_update.value.param) == (400, "amount")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.customers.balance_transactions.create("cus_nope", {"amount": -100, "currency": "usd"})
    assert missing.value.http_status == 404
    assert _rows(billing) == before
    assert client.v1.customers.retrieve(customer.id).balance == -100
    assert len(client.v1.customers.balance_transactions.list(customer.id).data) == 1


def test_a_customer_discount_is_missing_as_for_a_customer_without_one(billing: SdkTenant) -> None:
    client = billing.client
    customer = client.v1.customers.create({"name": "Ada"})
    for customer_id, what in ((customer.id, "discount"), ("cus_nope", "customer")):
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.customers.delete_discount(customer_id)
        assert (error.value.http_status, error.value.code) == (404, "resource_missing")
        assert f"No such {what}" in str(error.value.user_message)
    assert client.v1.customers.retrieve(customer.id).discount is None


def test_a_credit_note_credit_amount_and_its_void_are_balance_transactions(billing: SdkTenant) -> None:
    client = billing.client
    customer = client.v1.customers.create({"name": "Ada"})
    client.v1.invoice_items.create({"customer": customer.id, "amount": 1000, "currency": "usd"})
    draft = client.v1.invoices.create({"customer": customer.id, "pending_invoice_items_behavior": "include"})
    invoice = client.v1.invoices.finalize_invoice(draft.id)
    client.v1.invoices.pay(invoice.id, {"paid_out_of_band": True})
    note = client.v1.credit_notes.create({"invoice": invoice.id, "amount": 700, "credit_amount": 700})
    client.v1.credit_notes.void_credit_note(note.id)
    moves = client.v1.customers.balance_transactions.list(customer.id).data
    # Made within one second, so listed in either order (created, then id): compared as a set.
    assert sorted((t.type, t.amount, t.ending_balance, t.credit_note, t.invoice) for t in moves) == [
        ("credit_note", -700, -700, note.id, None),
        ("credit_note", 700, 0, note.id, None),
    ]
    assert client.v1.customers.retrieve(customer.id).balance == 0
    # The note names the move its credit_amount made (not its void's), as Stripe's customer_balance_transaction.
    credit = next(t for t in moves if t.amount < 0)
    assert client.v1.credit_notes.retrieve(note.id).customer_balance_transaction == credit.id
    plain = client.v1.credit_notes.create({"invoice": invoice.id, "amount": 100, "out_of_band_amount": 100})
    assert plain.customer_balance_transaction is None  # nothing went to the balance
