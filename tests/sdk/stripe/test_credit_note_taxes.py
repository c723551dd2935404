"""Credit notes credit tax as invoiced (stripe-python, schema-checked): every expected figure is worked by hand
in the comments (tax × credited / line amount, rounded half-up once per line and tax)."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.helpers.schema import assert_stripe_schema
from tests.helpers.sdk import SdkTenant

pytestmark = pytest.mark.sdk


def _taxes_by_rate(taxes: list[dict[str, Any]]) -> dict[str, tuple[int, int, str]]:
    return {t["tax_rate_details"]["tax_rate"]: (t["amount"], t["taxable_amount"], t["tax_behavior"]) for t in taxes}


class ExclusiveInvoice:
    """Lines: 3000 at VAT 20 % (tax 600), 2000 untaxed, 999 at VAT 20 % + 5 % (tax 199.8 → 200, 49.95 → 50).
    Total 3000 + 600 + 2000 + 999 + 200 + 50 = 6849."""

    def __init__(self, sdk: SdkTenant) -> None:
        self.vat = sdk.tax_rate(20.0)
        self.five = sdk.tax_rate(5.0)
        invoice = sdk.invoice()
        sdk.client.v1.invoices.add_lines(
            invoice.id,
            {
                "lines": [
                    {"amount": 3000, "description": "taxed", "tax_rates": [self.vat.id]},
                    {"amount": 2000, "description": "untaxed"},
                    {"amount": 999, "description": "twice taxed", "tax_rates": [self.vat.id, self.five.id]},
                ]
            },
        )
        self.invoice = sdk.client.v1.invoices.finalize_invoice(invoice.id)
        self.lines = [ln.id for ln in sdk.lines(invoice.id)]

    def first_credit(self) -> dict[str, Any]:
        """1000 of line 0 (tax 600 × 1000/3000 = 200), all of line 1 (no tax), 333 of line 2 (200 × 333/999 =
        66.67 → 67, 50 × 333/999 = 16.67 → 17): subtotal 3333, tax 284, total 3617."""
        return {
            "invoice": self.invoice.id,
            "lines": [
                {"type": "invoice_line_item", "invoice_line_item": self.lines[0], "amount": 1000},
                {"type": "invoice_line_item", "invoice_line_item": self.lines[1]},
                {"type": "invoice_line_item", "invoice_line_item": self.lines[2], "amount": 333},
            ],
        }


def test_exclusive_tax_is_credited_in_proportion_on_top_of_the_amounts(sdk: SdkTenant) -> None:
    inv = ExclusiveInvoice(sdk)
    assert (inv.invoice.total, inv.invoice.amount_remaining) == (6849, 6849)
    note = sdk.client.v1.credit_notes.create(inv.first_credit())  # type: ignore[arg-type]
    shown: dict[str, Any] = sdk.raw("GET", f"/v1/credit_notes/{note.id}").json()
    assert_stripe_schema(shown, "credit_note")
    assert (shown["subtotal"], shown["subtotal_excluding_tax"], shown["total_excluding_tax"]) == (3333, 3333, 3333)
    assert (shown["total"], shown["amount"]) == (3617, 3617)
    assert _taxes_by_rate(shown["total_taxes"]) == {
        inv.vat.id: (200 + 67, 1000 + 333, "exclusive"),
        inv.five.id: (17, 333, "exclusive"),
    }
    assert {t["tax_rate"]: t["amount"] for t in shown["tax_amounts"]} == {inv.vat.id: 267, inv.five.id: 17}
    first, untaxed, twice = shown["lines"]["data"]
    assert (first["amount"], first["amount_excluding_tax"]) == (1000, 1000)
    assert _taxes_by_rate(first["taxes"]) == {inv.vat.id: (200, 1000, "exclusive")}
    assert [r["id"] for r in first["tax_rates"]] == [inv.vat.id]
    assert (untaxed["amount"], untaxed["taxes"], untaxed["tax_rates"]) == (2000, [], [])
    assert _taxes_by_rate(twice["taxes"]) == {inv.vat.id: (67, 333, "exclusive"), inv.five.id: (17, 333, "exclusive")}
    assert [r["id"] for r in twice["tax_rates"]] == [inv.vat.id, inv.five.id]
    for line in shown["lines"]["data"]:
        assert_stripe_schema(line, "credit_note_line_item")
    # What the invoice still asks is its total, tax included, less the credit note's: 6849 - 3617.
    assert sdk.client.v1.invoices.retrieve(inv.invoice.id).amount_remaining == 3232
    paged = sdk.raw("GET", f"/v1/credit_notes/{note.id}/lines").json()["data"]
    assert paged == shown["lines"]["data"]


def test_the_limit_is_what_is_left_tax_included_and_void_gives_it_back(sdk: SdkTenant) -> None:
    inv = ExclusiveInvoice(sdk)
    note = sdk.client.v1.credit_notes.create(inv.first_credit())  # type: ignore[arg-type]
    # Left: 3232 = line 0's other 2000 (+ 400 tax) and line 2's other 666 (+ 133 + 33 tax).
    rest = [
        {"type": "invoice_line_item", "invoice_line_item": inv.lines[0], "amount": 2000},
        {"type": "invoice_line_item", "invoice_line_item": inv.lines[2], "amount": 666},
    ]
    # Before tax this would be 2667, well under 3232: with its tax it is 3233, one more than is left.
    with pytest.raises(stripe.InvalidRequestError) as over:
        sdk.client.v1.credit_notes.create(
            {"invoice": inv.invoice.id, "lines": [*rest, {"type": "custom_line_item", "unit_amount": 1}]}
        )
    assert (over.value.http_status, over.value.param) == (400, "amount")
    assert "3232" in str(over.value.user_message)
    with pytest.raises(stripe.InvalidRequestError):  # the same, previewed
        sdk.client.v1.credit_notes.preview(
            {"invoice": inv.invoice.id, "lines": [*rest, {"type": "custom_line_item", "unit_amount": 1}]}
        )
    last = sdk.client.v1.credit_notes.create({"invoice": inv.invoice.id, "lines": rest})  # type: ignore[typeddict-item]
    assert (last.subtotal, last.total) == (2666, 3232)
    paid = sdk.client.v1.invoices.retrieve(inv.invoice.id)
    assert (paid.status, paid.amount_remaining) == ("paid", 0)
    sdk.client.v1.credit_notes.void_credit_note(note.id)
    reopened = sdk.client.v1.invoices.retrieve(inv.invoice.id)
    assert (reopened.status, reopened.amount_remaining) == ("open", 3617)
    # What the void gave back can be credited again, tax included.
    again = sdk.client.v1.credit_notes.create(inv.first_credit())  # type: ignore[arg-type]
    assert again.total == 3617


def test_a_preview_shows_what_create_makes(sdk: SdkTenant) -> None:
    inv = ExclusiveInvoice(sdk)
    preview = sdk.raw("GET", "/v1/credit_notes/preview?" + _query(inv.first_credit())).json()
    created = sdk.raw("POST", "/v1/credit_notes", _query(inv.first_credit())).json()
    assert_stripe_schema(preview, "credit_note")

    def figures(note: dict[str, Any]) -> dict[str, Any]:
        keep = ("amount", "subtotal", "subtotal_excluding_tax", "total", "total_excluding_tax", "total_taxes")
        lines = [{k: v for k, v in ln.items() if k != "id"} for ln in note["lines"]["data"]]
        return {**{k: note[k] for k in keep}, "tax_amounts": note["tax_amounts"], "lines": lines}

    assert figures(preview) == figures(created) and created["total"] == 3617


def _query(params: dict[str, Any]) -> str:
    """Stripe's form encoding of credit note params (lines[i][field]=value)."""
    parts = [f"invoice={params['invoice']}"]
    for i, line in enumerate(params["lines"]):
        parts += [f"lines[{i}][{k}]={v}" for k, v in line.items()]
    return "&".join(parts)


def test_an_inclusive_rate_s_tax_is_inside_the_credited_amount(sdk: SdkTenant) -> None:
    incl = sdk.tax_rate(20.0, inclusive=True)
    invoice = sdk.invoice()
    sdk.client.v1.invoices.add_lines(
        invoice.id,
        {
            "lines": [
                {
                    "price_data": {"currency": "usd", "product_data": {"name": "Seat"}, "unit_amount": 400},
                    "quantity": 3,
                    "tax_rates": [incl.id],
                }
            ]
        },
    )
    # 1200 with its tax inside: net 1200 / 1.2 = 1000, tax 200. The total is 1200.
    invoice = sdk.client.v1.invoices.finalize_invoice(invoice.id)
    [line] = sdk.lines(invoice.id)
    assert (invoice.total, invoice.total_excluding_tax) == (1200, 1000)
    note = sdk.client.v1.credit_notes.create(
        {"invoice": invoice.id, "lines": [{"type": "invoice_line_item", "invoice_line_item": line.id, "quantity": 1}]}
    )
    # One seat: 400, tax 200 × 400/1200 = 66.67 → 67 inside it, taxable 1000 × 400/1200 = 333.33 → 333.
    shown: dict[str, Any] = sdk.raw("GET", f"/v1/credit_notes/{note.id}").json()
    assert_stripe_schema(shown, "credit_note")
    assert (shown["amount"], shown["total"], shown["subtotal"]) == (400, 400, 400)
    assert (shown["subtotal_excluding_tax"], shown["total_excluding_tax"]) == (333, 333)
    assert _taxes_by_rate(shown["total_taxes"]) == {incl.id: (67, 333, "inclusive")}
    assert shown["tax_amounts"][0]["inclusive"] is True
    [credited] = shown["lines"]["data"]
    assert (credited["amount"], credited["amount_excluding_tax"], credited["quantity"]) == (400, 333, 1)
    assert (credited["unit_amount"], credited["unit_amount_excluding_tax"]) == (400, "333")
    assert sdk.client.v1.invoices.retrieve(invoice.id).amount_remaining == 800
    # The other two seats: 800 with 133 tax inside, exactly what is left.
    rest = sdk.client.v1.credit_notes.create(
        {"invoice": invoice.id, "lines": [{"type": "invoice_line_item", "invoice_line_item": line.id, "quantity": 2}]}
    )
    assert (rest.total, rest.total_excluding_tax) == (800, 667)
    assert sdk.client.v1.invoices.retrieve(invoice.id).status == "paid"


def test_custom_lines_take_tax_rates_or_tax_amounts(sdk: SdkTenant) -> None:
    inv = ExclusiveInvoice(sdk)
    ten = sdk.tax_rate(10.0)
    note = sdk.client.v1.credit_notes.create(
        {
            "invoice": inv.invoice.id,
            "lines": [
                # 2 × 500 = 1000, 10 % on top: 100.
                {"type": "custom_line_item", "unit_amount": 500, "quantity": 2, "tax_rates": [ten.id]},
                # 150 with a tax amount given by hand: 30 on 150.
                {
                    "type": "custom_line_item",
                    "unit_amount": 150,
                    "tax_amounts": [{"tax_rate": inv.vat.id, "amount": 30, "taxable_amount": 150}],
                },
                # An invoice line's taxes can be given too: 1000 of line 0 with 150 tax (not the 200 computed).
                {
                    "type": "invoice_line_item",
                    "invoice_line_item": inv.lines[0],
                    "amount": 1000,
                    "tax_amounts": [{"tax_rate": inv.vat.id, "amount": 150, "taxable_amount": 1000}],
                },
            ],
        }
    )
    assert (note.subtotal, note.total) == (2150, 2150 + 100 + 30 + 150)
    shown: dict[str, Any] = sdk.raw("GET", f"/v1/credit_notes/{note.id}").json()
    assert_stripe_schema(shown, "credit_note")
    assert [_taxes_by_rate(ln["taxes"]) for ln in shown["lines"]["data"]] == [
        {ten.id: (100, 1000, "exclusive")},
        {inv.vat.id: (30, 150, "exclusive")},
        {inv.vat.id: (150, 1000, "exclusive")},
    ]
    assert [r["id"] for r in shown["lines"]["data"][0]["tax_rates"]] == [ten.id]
    assert sdk.client.v1.invoices.retrieve(inv.invoice.id).amount_remaining == 6849 - 2430


@pytest.mark.parametrize(
    ("line", "param"),
    [
        ({"type": "invoice_line_item", "tax_rates": ["RATE"]}, "lines[0][tax_rates]"),
        ({"type": "custom_line_item", "unit_amount": 5, "tax_rates": ["txr_missing"]}, "lines[0][tax_rates][0]"),
        (
            {"type": "custom_line_item", "unit_amount": 5, "tax_rates": ["RATE"], "tax_amounts": "TAX"},
            "lines[0][tax_amounts]",
        ),
        (
            {"type": "custom_line_item", "unit_amount": 5, "tax_amounts": [{"tax_rate": "txr_x", "amount": 1}]},
            "lines[0][tax_amounts][0][taxable_amount]",
        ),
        (
            {
                "type": "custom_line_item",
                "unit_amount": 5,
                "tax_amounts": [{"tax_rate": "txr_missing", "amount": 1, "taxable_amount": 5}],
            },
            "lines[0][tax_amounts][0][tax_rate]",
        ),
    ],
)
def test_bad_line_taxes_are_refused(sdk: SdkTenant, line: dict[str, Any], param: str) -> None:
    inv = ExclusiveInvoice(sdk)
    line = dict(line)
    if line.get("tax_rates") == ["RATE"]:
        line["tax_rates"] = [inv.vat.id]
    if line.get("tax_amounts") == "TAX":
        line["tax_amounts"] = [{"tax_rate": inv.vat.id, "amount": 1, "taxable_amount": 5}]
    if line["type"] == "invoice_line_item":
        line["invoice_line_item"] = inv.lines[0]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.credit_notes.create({"invoice": inv.invoice.id, "lines": [line]})  # type: ignore[list-item]
    assert (caught.value.http_status, caught.value.param) == (400, param)
    assert sdk.client.v1.credit_notes.list({"invoice": inv.invoice.id}).data == []


def test_a_line_is_credited_at_most_once_in_full_and_its_parts_add_up_to_its_tax(sdk: SdkTenant) -> None:
    inv = ExclusiveInvoice(sdk)

    def credit(line: int, **how: int) -> stripe.CreditNote:
        entry = {"type": "invoice_line_item", "invoice_line_item": inv.lines[line], **how}
        return sdk.client.v1.credit_notes.create({"invoice": inv.invoice.id, "lines": [entry]})  # type: ignore[list-item]

    credit(0, amount=1000)
    with pytest.raises(stripe.InvalidRequestError) as over:
        credit(0, amount=2001)  # 2000 of its 3000 are left
    assert (over.value.param, "2000 of 3000" in str(over.value.user_message)) == ("lines[0][amount]", True)
    rest = credit(0)  # neither amount nor quantity: what is left of the line, with the rest of its tax
    assert (rest.subtotal, rest.total) == (2000, 2400)
    # Line 2 (999, taxes 200 and 50) in three parts of 333: 200 × 333/999 = 66.67 → 67 and 16.67 → 17 twice;
    # the part completing the line takes what is left (200 - 134 = 66, 50 - 34 = 16): exactly the taxes in all.
    parts = [credit(2, amount=333) for _ in range(3)]
    taxes = [_taxes_by_rate([t.to_dict() for t in p.total_taxes]) for p in parts]  # type: ignore[union-attr]
    assert [(t[inv.vat.id][0], t[inv.five.id][0]) for t in taxes] == [(67, 17), (67, 17), (66, 16)]
    assert sum(p.total for p in parts) == 999 + 200 + 50
    voided = parts[1]
    sdk.client.v1.credit_notes.void_credit_note(voided.id)
    # The void gave its part back; crediting it again completes the line: the rest, 200 - 133 and 50 - 33.
    again = credit(2, amount=333)
    assert again.total == voided.total == 333 + 67 + 17
    assert sdk.client.v1.invoices.retrieve(inv.invoice.id).amount_remaining == 6849 - 3600 - 1249  # line 1 is left
