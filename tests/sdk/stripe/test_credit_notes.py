"""Credit notes through stripe-python (schema-checked), and the same document as a Zuora credit memo."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.helpers.schema import assert_stripe_schema
from tests.helpers.sdk import SdkTenant

pytestmark = pytest.mark.sdk


def _finalized(sdk: SdkTenant, amounts: tuple[int, ...] = (3000, 2000)) -> tuple[stripe.Invoice, list[str]]:
    invoice = sdk.invoice()
    invoice = sdk.client.v1.invoices.add_lines(
        invoice.id, {"lines": [{"amount": a, "description": f"line {a}"} for a in amounts]}
    )
    invoice = sdk.client.v1.invoices.finalize_invoice(invoice.id)
    return invoice, [ln.id for ln in sdk.lines(invoice.id)]


def test_issue_list_retrieve_update_void(sdk: SdkTenant) -> None:
    invoice, lines = _finalized(sdk)
    assert (invoice.status, invoice.amount_remaining) == ("open", 5000)
    note = sdk.client.v1.credit_notes.create(
        {
            "invoice": invoice.id,
            "lines": [
                {"type": "invoice_line_item", "invoice_line_item": lines[0], "amount": 1000},
                {"type": "custom_line_item", "unit_amount": 250, "quantity": 2, "description": "goodwill"},
            ],
            "reason": "order_change",
            "memo": "sorry",
            "metadata": {"ticket": "42"},
        }
    )
    assert (note.status, note.total, note.amount, note.type, note.invoice) == (
        "issued",
        1500,
        1500,
        "pre_payment",
        invoice.id,
    )
    assert (note.pre_payment_amount, note.post_payment_amount, note.reason, note.memo) == (
        1500,
        0,
        "order_change",
        "sorry",
    )
    assert [ln.type for ln in note.lines.data] == ["invoice_line_item", "custom_line_item"]
    assert note.lines.data[0].invoice_line_item == lines[0] and note.lines.data[1].amount == 500
    assert sdk.client.v1.invoices.retrieve(invoice.id).amount_remaining == 3500
    assert [n.id for n in sdk.client.v1.credit_notes.list({"invoice": invoice.id}).data] == [note.id]
    assert sdk.client.v1.credit_notes.list({"customer": invoice.customer}).data[0].id == note.id
    assert sdk.client.v1.credit_notes.retrieve(note.id).number == note.number
    assert [ln.id for ln in sdk.client.v1.credit_notes.line_items.list(note.id).data] == [
        ln.id for ln in note.lines.data
    ]
    updated = sdk.client.v1.credit_notes.update(note.id, {"memo": "very sorry", "metadata": {"ticket": ""}})
    assert (updated.memo, updated.metadata.to_dict()) == ("very sorry", {})
    voided = sdk.client.v1.credit_notes.void_credit_note(note.id)
    assert (voided.status, voided.voided_at is not None) == ("void", True)
    assert sdk.client.v1.invoices.retrieve(invoice.id).amount_remaining == 5000
    with pytest.raises(stripe.InvalidRequestError):
        sdk.client.v1.credit_notes.void_credit_note(note.id)


def test_preview_writes_nothing(sdk: SdkTenant) -> None:
    invoice, lines = _finalized(sdk)
    preview = sdk.client.v1.credit_notes.preview(
        {"invoice": invoice.id, "lines": [{"type": "invoice_line_item", "invoice_line_item": lines[1]}]}
    )
    assert (preview.total, preview.lines.data[0].amount) == (2000, 2000)
    assert sdk.client.v1.credit_notes.list({"invoice": invoice.id}).data == []
    assert sdk.client.v1.invoices.retrieve(invoice.id).amount_remaining == 5000


def test_never_more_than_is_left_to_credit(sdk: SdkTenant) -> None:
    invoice, lines = _finalized(sdk)
    sdk.client.v1.credit_notes.create({"invoice": invoice.id, "amount": 4000})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.credit_notes.create({"invoice": invoice.id, "amount": 1001})
    assert caught.value.param == "amount"
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        sdk.client.v1.credit_notes.create(
            {
                "invoice": invoice.id,
                "lines": [{"type": "invoice_line_item", "invoice_line_item": lines[1], "amount": 2001}],
            }
        )
    assert too_much.value.param == "lines[0][amount]"
    last = sdk.client.v1.credit_notes.create({"invoice": invoice.id, "amount": 1000})
    assert last.total == 1000
    paid = sdk.client.v1.invoices.retrieve(invoice.id)
    assert (paid.status, paid.amount_remaining) == ("paid", 0)
    assert len(sdk.client.v1.credit_notes.list({"invoice": invoice.id}).data) == 2


def test_after_payment_the_credit_goes_to_the_balance(sdk: SdkTenant) -> None:
    invoice, _ = _finalized(sdk)
    sdk.client.v1.invoices.pay(invoice.id, {"paid_out_of_band": True})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.credit_notes.create({"invoice": invoice.id, "amount": 700})
    assert caught.value.param == "credit_amount"
    note = sdk.client.v1.credit_notes.create({"invoice": invoice.id, "amount": 700, "credit_amount": 700})
    assert (note.type, note.post_payment_amount) == ("post_payment", 700)
    assert sdk.client.v1.customers.retrieve(invoice.customer).balance == -700
    sdk.client.v1.credit_notes.void_credit_note(note.id)
    assert sdk.client.v1.customers.retrieve(invoice.customer).balance == 0


@pytest.mark.parametrize(
    ("params", "param"),
    [
        (
            {"lines": [{"type": "invoice_line_item", "invoice_line_item": "il_nope", "amount": 1}]},
            "lines[0][invoice_line_item]",
        ),
        ({"lines": [{"type": "custom_line_item"}]}, "lines[0][unit_amount]"),
        ({}, "lines"),
        ({"lines": [{"type": "custom_line_item", "unit_amount": 5}], "amount": 6}, "amount"),
    ],
)
def test_bad_credit_notes_are_refused(sdk: SdkTenant, params: dict[str, object], param: str) -> None:
    invoice, _ = _finalized(sdk)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.credit_notes.create({"invoice": invoice.id, **params})
    assert (caught.value.http_status, caught.value.param) == (400, param)
    assert sdk.client.v1.credit_notes.list({"invoice": invoice.id}).data == []


def test_a_draft_takes_no_credit_note(sdk: SdkTenant) -> None:
    draft = sdk.invoice()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.credit_notes.create({"invoice": draft.id, "amount": 1})
    assert caught.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as missing:
        sdk.client.v1.credit_notes.retrieve("cn_missing")
    assert missing.value.http_status == 404


def test_a_credit_note_is_not_a_stripe_invoice(sdk: SdkTenant) -> None:
    invoice, _ = _finalized(sdk)
    note = sdk.client.v1.credit_notes.create({"invoice": invoice.id, "amount": 100})
    assert note.id not in {i.id for i in sdk.client.v1.invoices.list({"limit": 100}).data}
    with pytest.raises(stripe.InvalidRequestError):
        sdk.client.v1.invoices.retrieve(note.id)


def test_email_type_is_accepted_and_refunds_and_shipping_rates_are_refused_clearly(sdk: SdkTenant) -> None:
    invoice, _ = _finalized(sdk)
    note = sdk.client.v1.credit_notes.create(
        {"invoice": invoice.id, "amount": 500, "email_type": "none", "refund_amount": 0}
    )
    assert note.total == 500
    preview = sdk.client.v1.credit_notes.preview({"invoice": invoice.id, "amount": 100, "email_type": "credit_note"})
    assert preview.total == 100
    for params, param, says in (
        ({"refund_amount": 100}, "refund_amount", "moves no money"),
        ({"refunds": [{"refund": "re_123", "amount_refunded": 100}]}, "refunds", "moves no money"),
        ({"shipping_cost": {"shipping_rate": "shr_123"}}, "shipping_cost[shipping_rate]", "custom_line_item"),
        ({"email_type": "sms"}, "email_type", "email_type"),
    ):
        for call in (sdk.client.v1.credit_notes.create, sdk.client.v1.credit_notes.preview):
            with pytest.raises(stripe.InvalidRequestError) as error:
                call({"invoice": invoice.id, "amount": 100, **params})  # type: ignore[arg-type]
            assert (error.value.http_status, error.value.param) == (400, param)
            assert says in str(error.value.user_message)
    assert [n.id for n in sdk.client.v1.credit_notes.list({"invoice": invoice.id}).data] == [note.id]


def _events(sdk: SdkTenant, event_type: str) -> list[dict[str, Any]]:
    """The tenant's events of a type, oldest first, as sent (raw JSON: the SDK turns decimal strings into
    Decimals, and the validating client has no `event` schema to check them against)."""
    answer = sdk.raw_session.get(
        sdk.server.stripe_base + "/v1/events",
        params={"type": event_type, "limit": 100},
        auth=(sdk.key, ""),
        timeout=30,
    )
    assert answer.status_code == 200
    return list(reversed(answer.json()["data"]))


def _shown(sdk: SdkTenant, note_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = sdk.raw("GET", f"/v1/credit_notes/{note_id}").json()
    return shown


def test_creating_updating_and_voiding_emit_the_credit_note_as_the_api_shows_it(sdk: SdkTenant) -> None:
    invoice, lines = _finalized(sdk)
    note = sdk.client.v1.credit_notes.create(
        {"invoice": invoice.id, "lines": [{"type": "invoice_line_item", "invoice_line_item": lines[0]}]}
    )
    [created] = _events(sdk, "credit_note.created")
    assert created["data"]["object"] == _shown(sdk, note.id)
    assert_stripe_schema(created["data"]["object"], "credit_note")
    # The invoice asks less: told as Stripe tells it, with what changed.
    [invoice_updated] = [e for e in _events(sdk, "invoice.updated") if e["request"]["id"] == created["request"]["id"]]
    assert invoice_updated["data"]["previous_attributes"]["amount_remaining"] == 5000
    assert invoice_updated["data"]["object"]["amount_remaining"] == 2000

    sdk.client.v1.credit_notes.update(note.id, {"memo": "late delivery", "metadata": {"ticket": "7"}})
    [updated] = _events(sdk, "credit_note.updated")
    assert updated["data"]["object"] == _shown(sdk, note.id)
    assert updated["data"]["previous_attributes"] == {"memo": None, "metadata": {"ticket": ""}}

    sdk.client.v1.credit_notes.void_credit_note(note.id)
    [voided] = _events(sdk, "credit_note.voided")
    assert voided["data"]["object"] == _shown(sdk, note.id) and voided["data"]["object"]["status"] == "void"
    assert len(_events(sdk, "credit_note.updated")) == 1  # voiding is told once, as Stripe does
    assert _events(sdk, "invoice.updated")[-1]["data"]["object"]["amount_remaining"] == 5000


def test_crediting_all_that_is_left_pays_the_invoice_and_a_credit_moves_the_balance(sdk: SdkTenant) -> None:
    invoice, _ = _finalized(sdk)
    sdk.client.v1.credit_notes.create({"invoice": invoice.id, "amount": 5000})
    [paid] = _events(sdk, "invoice.paid")
    assert paid["data"]["object"]["id"] == invoice.id and paid["data"]["object"]["status"] == "paid"

    other, _ = _finalized(sdk)
    sdk.client.v1.invoices.pay(other.id, {"paid_out_of_band": True})
    sdk.client.v1.credit_notes.create({"invoice": other.id, "amount": 300, "credit_amount": 300})
    balance = [e for e in _events(sdk, "customer.updated") if e["data"]["object"]["id"] == other.customer]
    assert [e["data"]["previous_attributes"] for e in balance] == [{"balance": 0}]
    assert balance[0]["data"]["object"]["balance"] == -300


def test_a_preview_and_a_refused_credit_note_emit_nothing(sdk: SdkTenant) -> None:
    invoice, _ = _finalized(sdk)
    sdk.client.v1.credit_notes.preview({"invoice": invoice.id, "amount": 100})
    with pytest.raises(stripe.InvalidRequestError):
        sdk.client.v1.credit_notes.create({"invoice": invoice.id, "amount": 999999})
    assert _events(sdk, "credit_note.created") == []
    assert [e for e in _events(sdk, "invoice.updated") if e["data"]["object"]["id"] == invoice.id][-1]["data"][
        "object"
    ]["amount_remaining"] == 5000
