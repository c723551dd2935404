"""add_lines / update_lines / remove_lines: every rule of spec §1, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.helpers import StripeClient


def setup_invoice(stripe: StripeClient, **invoice: Any) -> dict[str, Any]:
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})
    return stripe.ok("POST", "/v1/invoices", {"customer": customer["id"], "currency": "usd", **invoice})


def price(stripe: StripeClient, unit_amount: int = 1500, currency: str = "usd", **extra: Any) -> str:
    product = stripe.ok("POST", "/v1/products", {"name": "Widget"})
    return str(
        stripe.ok(
            "POST", "/v1/prices", {"product": product["id"], "currency": currency, "unit_amount": unit_amount, **extra}
        )["id"]
    )


def tax_rate(stripe: StripeClient, percentage: str = "20", inclusive: bool = False) -> str:
    return str(
        stripe.ok("POST", "/v1/tax_rates", {"display_name": "VAT", "percentage": percentage, "inclusive": inclusive})[
            "id"
        ]
    )


def coupon(stripe: StripeClient, **terms: Any) -> str:
    return str(stripe.ok("POST", "/v1/coupons", terms)["id"])


def all_lines(stripe: StripeClient, invoice_id: str) -> list[dict[str, Any]]:
    return list(stripe.ok("GET", f"/v1/invoices/{invoice_id}/lines", {"limit": 100})["data"])


def assert_totals_match_lines(stripe: StripeClient, invoice: dict[str, Any]) -> None:
    """Every invoice total equals the sum of what its lines show."""
    lines = all_lines(stripe, invoice["id"])
    item_discounts = sum(
        d["amount"]
        for ln in lines
        for d in ln["discount_amounts"]
        if d["discount"] in {x for y in lines for x in y["discounts"]}
    )
    all_discounts = sum(d["amount"] for ln in lines for d in ln["discount_amounts"])
    exclusive = sum(t["amount"] for ln in lines for t in ln["taxes"] if t["tax_behavior"] == "exclusive")
    inclusive = sum(t["amount"] for ln in lines for t in ln["taxes"] if t["tax_behavior"] == "inclusive")
    assert invoice["subtotal"] == sum(ln["amount"] for ln in lines) - item_discounts
    assert sum(d["amount"] for d in invoice["total_discount_amounts"]) == all_discounts
    assert sum(t["amount"] for t in invoice["total_taxes"]) == exclusive + inclusive
    assert invoice["total"] == sum(ln["amount"] for ln in lines) - all_discounts + exclusive
    assert invoice["total_excluding_tax"] == invoice["total"] - exclusive - inclusive
    assert invoice["amount_due"] == max(0, invoice["total"])
    assert invoice["amount_remaining"] == invoice["amount_due"] - invoice["amount_paid"]


class TestWorkedExample:
    def test_spec_3_5_example_to_the_cent(self, stripe: StripeClient) -> None:
        # given: USD, 7500 + 2 × 1500 with 20 % exclusive VAT, 10 % invoice coupon
        ten = coupon(stripe, percent_off="10")
        invoice = setup_invoice(stripe, **{"discounts[0][coupon]": ten})
        vat = tax_rate(stripe)
        widget = price(stripe)
        # when
        invoice = stripe.ok(
            "POST",
            f"/v1/invoices/{invoice['id']}/add_lines",
            {
                "lines": [
                    {"amount": 7500, "description": "Setup fee"},
                    {"pricing": {"price": widget}, "quantity": 2, "tax_rates": [vat]},
                ]
            },
        )
        # then
        assert invoice["subtotal"] == 10500
        assert [d["amount"] for d in invoice["total_discount_amounts"]] == [1050]
        assert [(t["amount"], t["taxable_amount"]) for t in invoice["total_taxes"]] == [(540, 2700)]
        assert invoice["total"] == 9990
        assert invoice["total_excluding_tax"] == 9450
        assert invoice["amount_due"] == 9990
        assert_totals_match_lines(stripe, invoice)
        line_a = invoice["lines"]["data"][0]["id"]
        after = stripe.ok(
            "POST", f"/v1/invoices/{invoice['id']}/remove_lines", {"lines": [{"id": line_a, "behavior": "delete"}]}
        )
        assert (after["subtotal"], sum(d["amount"] for d in after["total_discount_amounts"]), after["total"]) == (
            3000,
            300,
            3240,
        )
