"""A taxed Stripe credit note is the same taxed credit memo through Zuora, and its document shows the tax."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bulkbill.core.documents.formatting import Formatter
from bulkbill.core.money import major_to_minor
from tests.helpers import StripeClient, ZuoraClient
from tests.helpers.documents import pdf_text
from tests.helpers.stripe import coupon, setup_invoice, tax_rate


def minor(value: object) -> int:
    return int(major_to_minor(Decimal(str(value)), "usd"))


def _taxed_note(stripe: StripeClient) -> dict[str, Any]:
    """An invoice of 3000 at VAT 20 % exclusive and 1200 at VAT 20 % inclusive (tax 200 inside), credited by
    1000 of the first (600 × 1000/3000 = 200 tax on top) and 600 of the second (200 × 600/1200 = 100
    inside): subtotal 1600, tax 300, total 1800, total excluding tax 1500."""
    vat, incl = tax_rate(stripe), tax_rate(stripe, inclusive=True)
    invoice = setup_invoice(stripe)["id"]
    lines = [{"amount": 3000, "tax_rates": [vat]}, {"amount": 1200, "tax_rates": [incl]}]
    stripe.ok("POST", f"/v1/invoices/{invoice}/add_lines", {"lines": lines})
    stripe.ok("POST", f"/v1/invoices/{invoice}/finalize")
    first, second = stripe.ok("GET", f"/v1/invoices/{invoice}/lines")["data"]
    note = stripe.ok(
        "POST",
        "/v1/credit_notes",
        {
            "invoice": invoice,
            "lines": [
                {"type": "invoice_line_item", "invoice_line_item": first["id"], "amount": 1000},
                {"type": "invoice_line_item", "invoice_line_item": second["id"], "amount": 600},
            ],
        },
    )
    assert (note["subtotal"], note["total"], note["total_excluding_tax"]) == (1600, 1800, 1500)
    return note


def test_the_zuora_credit_memo_shows_the_tax(stripe: StripeClient, zuora: ZuoraClient) -> None:
    note = _taxed_note(stripe)
    memo = zuora.ok("GET", f"/v1/credit-memos/{note['id']}")
    assert (minor(memo["amount"]), minor(memo["taxAmount"]), minor(memo["unappliedAmount"])) == (1800, 300, 1800)
    items = zuora.ok("GET", f"/v1/credit-memos/{note['id']}/items")["items"]
    # amount as the Stripe line's (an inclusive tax inside it), amountWithoutTax without any tax.
    assert [(minor(i["amount"]), minor(i["amountWithoutTax"]), i["taxMode"]) for i in items] == [
        (1000, 1000, "TaxExclusive"),
        (600, 500, "TaxInclusive"),
    ]
    taxation = [i["taxationItems"]["data"] for i in items]
    assert [[(minor(t["taxAmount"]), Decimal(str(t["taxRate"])), t["taxMode"]) for t in ts] for ts in taxation] == [
        [(200, Decimal(20), "TaxExclusive")],
        [(100, Decimal(20), "TaxInclusive")],
    ]
    assert all(t["name"] == "VAT" for ts in taxation for t in ts)
    expanded = zuora.ok("GET", "/object-query/credit-memos", {"filter[]": f"id.EQ:{note['id']}"})["data"]
    assert [(minor(m["totalAmount"]), minor(m["totalAmountWithoutTax"])) for m in expanded] == [(1800, 1500)]
    stripe.ok("POST", f"/v1/credit_notes/{note['id']}/void")
    assert minor(zuora.ok("GET", f"/v1/credit-memos/{note['id']}")["unappliedAmount"]) == 0


def test_the_credit_memo_s_document_shows_the_tax(stripe: StripeClient, zuora: ZuoraClient) -> None:
    note = _taxed_note(stripe)
    [file] = zuora.ok("GET", f"/v1/credit-memos/{note['id']}/files")["creditMemoFiles"]
    text = pdf_text(zuora.request("GET", file["pdfFileUrl"]).content)
    money = Formatter("usd").money
    # Each tax (exclusive 200, inclusive 100) and the total credited, tax included.
    assert money(200) in text and money(100) in text and money(1800) in text
    # The memo's own attributes (what Stripe says of the credit note) are not printed as a custom field.
    assert "_doc" not in text and "pre_payment" not in text


def test_a_credit_note_s_discounts_leave_the_zuora_memo_adding_up(stripe: StripeClient, zuora: ZuoraClient) -> None:
    """2000 at VAT 20 % with a 25 % coupon (500 off, tax 300): half of it credits 1000 - 250 + 150 = 900; the
    memo's item is what it credits net of the discount (750), so the memo adds up in Zuora's terms."""
    vat, quarter = tax_rate(stripe), coupon(stripe, percent_off=25, duration="once")
    invoice = setup_invoice(stripe)["id"]
    lines = [{"amount": 2000, "tax_rates": [vat], "discounts": [{"coupon": quarter}]}]
    stripe.ok("POST", f"/v1/invoices/{invoice}/add_lines", {"lines": lines})
    stripe.ok("POST", f"/v1/invoices/{invoice}/finalize")
    (line,) = stripe.ok("GET", f"/v1/invoices/{invoice}/lines")["data"]
    credited = {"type": "invoice_line_item", "invoice_line_item": line["id"], "amount": 1000}
    note = stripe.ok("POST", "/v1/credit_notes", {"invoice": invoice, "lines": [credited]})
    assert (note["total"], note["discount_amount"], note["lines"]["data"][0]["amount"]) == (900, 250, 1000)
    memo = zuora.ok("GET", f"/v1/credit-memos/{note['id']}")
    assert (minor(memo["amount"]), minor(memo["taxAmount"])) == (900, 150)
    items = zuora.ok("GET", f"/v1/credit-memos/{note['id']}/items")["items"]
    assert [(minor(i["amount"]), minor(i["amountWithoutTax"])) for i in items] == [(750, 750)]
