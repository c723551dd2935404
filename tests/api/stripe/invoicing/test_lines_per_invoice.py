"""At most 250 lines on an invoice: the 251st item is refused; `include` takes the newest 250 pending items."""

from __future__ import annotations

from typing import Any

from tests.helpers import StripeClient
from tests.helpers.stripe import all_lines, setup_invoice

MAX_LINES = 250  # Settings.stripe_max_lines_per_invoice, the default the tests run with


def _add_amount_lines(stripe: StripeClient, invoice_id: str, amounts: range) -> None:
    """Lines of these amounts, 50 per call (the per-call limit), in order."""
    for start in range(0, len(amounts), 50):
        lines = [{"amount": a, "description": f"#{a}"} for a in amounts[start : start + 50]]
        stripe.ok("POST", f"/v1/invoices/{invoice_id}/add_lines", {"lines": lines})


def _pending_items(stripe: StripeClient, customer: str, count: int) -> None:
    """`count` pending items of amounts 1..count, created in that order (oldest first).

    They are made as lines of a draft and unassigned from it, 50 at a time: one request per item
    would take longer and trip the per-key rate limit.
    """
    holder = stripe.ok("POST", "/v1/invoices", {"customer": customer, "currency": "usd"})["id"]
    for start in range(1, count + 1, 50):
        _add_amount_lines(stripe, holder, range(start, min(start + 50, count + 1)))
        lines = all_lines(stripe, holder)
        removes = [{"id": ln["id"], "behavior": "unassign"} for ln in lines]
        stripe.ok("POST", f"/v1/invoices/{holder}/remove_lines", {"lines": removes})


def _every_line(stripe: StripeClient, invoice_id: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    page: dict[str, Any] = {"has_more": True, "data": []}
    while page["has_more"]:
        after = {"starting_after": lines[-1]["id"]} if lines else {}
        page = stripe.ok("GET", f"/v1/invoices/{invoice_id}/lines", {"limit": 100, **after})
        lines.extend(page["data"])
    return lines


def _pending_amounts(stripe: StripeClient, customer: str) -> list[int]:
    page = stripe.ok("GET", "/v1/invoiceitems", {"customer": customer, "pending": True, "limit": 100})
    return sorted(i["amount"] for i in page["data"])


class TestLinesPerInvoice:
    def test_the_251st_invoice_item_is_refused(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        _add_amount_lines(stripe, invoice["id"], range(1, MAX_LINES + 1))
        new_item = {"customer": invoice["customer"], "invoice": invoice["id"], "amount": 1000, "currency": "usd"}
        error = stripe.error("POST", "/v1/invoiceitems", new_item)
        assert error["param"] == "invoice"
        assert error["message"] == f"An invoice can hold at most {MAX_LINES} line items."
        refreshed = stripe.ok("GET", f"/v1/invoices/{invoice['id']}")
        assert refreshed["total"] == sum(range(1, MAX_LINES + 1))
        assert len(_every_line(stripe, invoice["id"])) == MAX_LINES
        assert _pending_amounts(stripe, invoice["customer"]) == []
        # Still a pending item may be created for that customer: only the invoice is full.
        del new_item["invoice"]
        assert stripe.ok("POST", "/v1/invoiceitems", new_item)["invoice"] is None

    def test_include_takes_the_newest_250_pending_items(self, stripe: StripeClient) -> None:
        customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
        _pending_items(stripe, customer, MAX_LINES + 3)
        invoice = stripe.ok("POST", "/v1/invoices", {"customer": customer, "pending_invoice_items_behavior": "include"})
        lines = _every_line(stripe, invoice["id"])
        # The newest 250 (amounts 4..253) join, newest as the first line; the 3 oldest stay pending.
        assert [ln["amount"] for ln in lines] == list(range(MAX_LINES + 3, 3, -1))
        assert invoice["total"] == sum(range(4, MAX_LINES + 4))
        assert _pending_amounts(stripe, customer) == [1, 2, 3]
