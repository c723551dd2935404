"""Listing invoices shows each invoice's first lines and reads only those (issue 16, item 4)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bulkbill.services.invoicing.invoice_views import EMBEDDED_LINES
from tests.helpers import StripeClient
from tests.helpers.counting import counted
from tests.helpers.stripe import all_lines, price

INVOICES, LINES = 3, 25


def test_a_list_reads_only_the_lines_it_shows(stripe: StripeClient, client: TestClient) -> None:
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
    price_id = price(stripe)
    made: dict[str, list[str]] = {}
    for k in range(INVOICES):
        invoice = stripe.ok("POST", "/v1/invoices", {"customer": customer, "currency": "usd"})["id"]
        lines = [{"pricing": {"price": price_id}, "quantity": 1 + j, "description": f"{k}/{j}"} for j in range(LINES)]
        stripe.ok("POST", f"/v1/invoices/{invoice}/add_lines", {"lines": lines})
        made[invoice] = [line["id"] for line in all_lines(stripe, invoice)]
    with counted(client) as counts:
        listed = stripe.ok("GET", "/v1/invoices", {"customer": customer, "limit": INVOICES})["data"]
    assert {inv["id"] for inv in listed} == set(made)
    for inv in listed:
        shown = inv["lines"]["data"]
        assert [line["id"] for line in shown] == made[inv["id"]][:EMBEDDED_LINES]
        assert inv["lines"]["has_more"] is True
        assert inv["total"] == sum(1500 * (1 + j) for j in range(LINES))  # totals still count every line
    # The shown lines are ranked in the database and read as plain rows: not one item object is made.
    assert counts["objects"] == 0
