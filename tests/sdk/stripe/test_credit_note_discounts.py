"""Credit notes credit back a line's discounts in proportion (stripe-python, schema-checked), by the rule that
credits its taxes: discount × credited / line amount, rounded half-up once per line and discount, the part
completing the line taking what is left. Every expected figure is worked by hand in the comments."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.helpers.schema import assert_stripe_schema
from tests.helpers.sdk import SdkTenant

pytestmark = pytest.mark.sdk


class DiscountedInvoice:
    """Line A: 3000, its own 10 % coupon (300), the invoice's 20 % coupon on the 2700 left (540), VAT 20 % on
    the 2160 left (432). Line B: 1000, the invoice's 20 % (200), untaxed. Total 4000 - 300 - 740 + 432 = 3392."""

    def __init__(self, sdk: SdkTenant) -> None:
        ten = sdk.client.v1.coupons.create({"percent_off": 10, "duration": "once"})
        twenty = sdk.client.v1.coupons.create({"percent_off": 20, "duration": "once"})
        self.vat = sdk.tax_rate(20.0)
        invoice = sdk.invoice(discounts=[{"coupon": twenty.id}])
        sdk.client.v1.invoices.add_lines(
            invoice.id,
            {
                "lines": [
                    {"amount": 3000, "tax_rates": [self.vat.id], "discounts": [{"coupon": ten.id}]},
                    {"amount": 1000},
                ]
            },
        )
        self.invoice = sdk.client.v1.invoices.finalize_invoice(invoice.id)
        a, b = sdk.lines(invoice.id)
        self.lines = [a.id, b.id]
        discount = self.invoice.discounts[0]
        assert isinstance(discount, str)
        self.invoice_discount = discount
        self.line_discount = next(d.discount for d in a.discount_amounts if d.discount != discount)


def _amounts(entries: list[dict[str, Any]]) -> dict[str, int]:
    return {d["discount"]: d["amount"] for d in entries}


def test_a_credited_line_credits_its_share_of_each_discount_and_the_parts_add_up(sdk: SdkTenant) -> None:
    inv = DiscountedInvoice(sdk)
    assert inv.invoice.total == 3392
    first = sdk.client.v1.credit_notes.create(
        {
            "invoice": inv.invoice.id,
            "lines": [
                {"type": "invoice_line_item", "invoice_line_item": inv.lines[0], "amount": 1000},
                {"type": "invoice_line_item", "invoice_line_item": inv.lines[1]},
            ],
        }
    )
    shown: dict[str, Any] = sdk.raw("GET", f"/v1/credit_notes/{first.id}").json()
    assert_stripe_schema(shown, "credit_note")
    a, b = shown["lines"]["data"]
    for line in (a, b):
        assert_stripe_schema(line, "credit_note_line_item")
    # A third of line A: 300/3 = 100 of its own coupon, 540/3 = 180 of the invoice's, tax 432/3 = 144.
    assert (a["amount"], a["discount_amount"]) == (1000, 280)
    assert _amounts(a["discount_amounts"]) == {inv.line_discount: 100, inv.invoice_discount: 180}
    assert [t["amount"] for t in a["taxes"]] == [144]
    # All of line B: its 200 of the invoice's coupon.
    assert (b["amount"], b["discount_amount"], _amounts(b["discount_amounts"])) == (
        1000,
        200,
        {inv.invoice_discount: 200},
    )
    # Total: (1000 - 280 + 144) + (1000 - 200) = 1664; the note sums its lines' discounts.
    assert (shown["total"], shown["amount"], shown["total_excluding_tax"]) == (1664, 1664, 1520)
    assert shown["discount_amount"] == 480
    assert _amounts(shown["discount_amounts"]) == {inv.line_discount: 100, inv.invoice_discount: 380}
    # Subtotal leaves out the invoice-level discount only (Stripe's): 2000 - 100.
    assert (shown["subtotal"], shown["subtotal_excluding_tax"]) == (1900, 1900)
    assert sdk.client.v1.invoices.retrieve(inv.invoice.id).amount_remaining == 3392 - 1664
    assert sdk.raw("GET", f"/v1/credit_notes/{first.id}/lines").json()["data"] == shown["lines"]["data"]

    # The rest of line A takes exactly what is left of each discount and of its tax: 200, 360, 288.
    rest = {"type": "invoice_line_item", "invoice_line_item": inv.lines[0]}
    preview = sdk.client.v1.credit_notes.preview({"invoice": inv.invoice.id, "lines": [rest]})  # type: ignore[list-item]
    last = sdk.client.v1.credit_notes.create({"invoice": inv.invoice.id, "lines": [rest]})  # type: ignore[list-item]
    assert (preview.total, last.total, last.discount_amount) == (1728, 1728, 560)
    assert {d.discount: d.amount for d in last.discount_amounts} == {inv.line_discount: 200, inv.invoice_discount: 360}
    assert first.total + last.total == inv.invoice.total
    paid = sdk.client.v1.invoices.retrieve(inv.invoice.id)
    assert (paid.status, paid.amount_remaining) == ("paid", 0)
    with pytest.raises(stripe.InvalidRequestError) as over:
        sdk.client.v1.credit_notes.create(
            {"invoice": inv.invoice.id, "lines": [{"type": "custom_line_item", "unit_amount": 1}]}
        )  # type: ignore[list-item]
    assert over.value.param == "amount"


def test_void_gives_the_discounts_back_to_credit_again(sdk: SdkTenant) -> None:
    inv = DiscountedInvoice(sdk)
    part = {"type": "invoice_line_item", "invoice_line_item": inv.lines[0], "amount": 1500}
    note = sdk.client.v1.credit_notes.create({"invoice": inv.invoice.id, "lines": [part]})  # type: ignore[list-item]
    # Half of line A: 150 + 270 of discounts, tax 216: 1500 - 420 + 216 = 1296.
    assert (note.total, note.discount_amount) == (1296, 420)
    sdk.client.v1.credit_notes.void_credit_note(note.id)
    whole = sdk.client.v1.credit_notes.create(
        {"invoice": inv.invoice.id, "lines": [{"type": "invoice_line_item", "invoice_line_item": inv.lines[0]}]}
    )
    # The whole line again: 3000 - 300 - 540 + 432.
    assert (whole.total, whole.discount_amount) == (2592, 840)
