"""Stripe spec details not covered elsewhere: price_data[product_data], invoice items on drafts, limits."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_bulk_lines import all_lines, setup_invoice
from tests.helpers import StripeClient

MAX_LINES = 250  # Settings.stripe_max_lines_per_invoice, the default the tests run with

PRODUCT_DATA = {
    "name": "Inline widget",
    "description": "A widget described inline",
    "images": ["https://example.com/w.png"],
    "metadata": {"sku": "W-1", "gone": ""},
    "tax_code": "txcd_10000000",
    "unit_label": "seat",
}


def _price_data(product_data: dict[str, Any]) -> dict[str, Any]:
    return {"currency": "usd", "product_data": product_data, "unit_amount": 250}


def _products(stripe: StripeClient) -> list[dict[str, Any]]:
    return list(stripe.ok("GET", "/v1/products", {"limit": 100})["data"])


def _items(stripe: StripeClient, customer: str) -> list[dict[str, Any]]:
    return list(stripe.ok("GET", "/v1/invoiceitems", {"customer": customer, "limit": 100})["data"])


def _add_line(stripe: StripeClient, invoice: dict[str, Any], product_data: dict[str, Any]) -> Any:
    return stripe.post(
        f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"price_data": _price_data(product_data)}]}
    )


def _update_line(stripe: StripeClient, invoice: dict[str, Any], product_data: dict[str, Any]) -> Any:
    added = stripe.ok(
        "POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 100, "description": "x"}]}
    )
    line_id = added["lines"]["data"][0]["id"]
    return stripe.post(
        f"/v1/invoices/{invoice['id']}/update_lines",
        {"lines": [{"id": line_id, "price_data": _price_data(product_data)}]},
    )


def _invoice_item(stripe: StripeClient, invoice: dict[str, Any], product_data: dict[str, Any]) -> Any:
    return stripe.post(
        "/v1/invoiceitems",
        {"customer": invoice["customer"], "invoice": invoice["id"], "price_data": _price_data(product_data)},
    )


# How a line priced with price_data is written, and how its parameters are named there.
WAYS = {
    "add_lines": (_add_line, "lines[0][price_data]"),
    "update_lines": (_update_line, "lines[0][price_data]"),
    "invoiceitems": (_invoice_item, "price_data"),
}


class TestProductData:
    @pytest.mark.parametrize("way", sorted(WAYS))
    def test_product_data_fields_are_stored(self, stripe: StripeClient, way: str) -> None:
        invoice = setup_invoice(stripe)
        response = WAYS[way][0](stripe, invoice, PRODUCT_DATA)
        assert response.status_code == 200, response.text
        [created] = _products(stripe)
        product = stripe.ok("GET", f"/v1/products/{created['id']}")
        assert product["name"] == "Inline widget"
        assert product["description"] == "A widget described inline"
        assert product["metadata"] == {"sku": "W-1"}  # an empty value sets no key, as on POST /v1/products
        assert product["unit_label"] == "seat"
        assert product["active"] is True
        # Accepted but not stored: the products table has no column for images or tax_code.
        assert (product["images"], product["tax_code"]) == ([], None)
        [line] = [ln for ln in all_lines(stripe, invoice["id"]) if ln["amount"] == 250]
        assert line["pricing"]["unit_amount_decimal"] == "250"

    def test_metadata_at_the_limits_is_accepted(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        metadata = {f"{i:02d}".ljust(40, "k"): "v" * 500 for i in range(50)}
        response = _add_line(stripe, invoice, {"name": "Big", "metadata": metadata})
        assert response.status_code == 200, response.text
        assert _products(stripe)[0]["metadata"] == metadata

    @pytest.mark.parametrize("way", sorted(WAYS))
    @pytest.mark.parametrize(
        ("metadata", "tail"),
        [
            ({"k" * 41: "v"}, "[product_data][metadata][" + "k" * 41 + "]"),
            ({"key": "v" * 501}, "[product_data][metadata][key]"),
            ({f"k{i}": "v" for i in range(51)}, "[product_data][metadata]"),
        ],
        ids=["long_key", "long_value", "too_many_keys"],
    )
    def test_bad_metadata_is_refused_and_changes_nothing(
        self, stripe: StripeClient, way: str, metadata: dict[str, str], tail: str
    ) -> None:
        invoice = setup_invoice(stripe)
        make, price_data = WAYS[way]
        response = make(stripe, invoice, {"name": "Bad", "metadata": metadata})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert (error["type"], error["param"]) == ("invalid_request_error", price_data + tail), error
        assert _products(stripe) == []
        # Only update_lines' own line (added before the refused call) is there, unchanged.
        kept = [100] if way == "update_lines" else []
        assert [ln["amount"] for ln in all_lines(stripe, invoice["id"])] == kept
        assert [i["amount"] for i in _items(stripe, invoice["customer"])] == kept
        assert stripe.ok("GET", f"/v1/invoices/{invoice['id']}")["total"] == sum(kept)

    def test_tax_details_is_not_a_parameter(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        response = _add_line(stripe, invoice, {"name": "Taxed", "tax_details": {"tax_code": "txcd_10000000"}})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert (error["code"], error["param"]) == (
            "parameter_unknown",
            "lines[0][price_data][product_data][tax_details]",
        )
        assert _products(stripe) == [] and all_lines(stripe, invoice["id"]) == []


class TestInvoiceItemOnADraft:
    def test_another_customers_draft_is_refused(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        bob = stripe.ok("POST", "/v1/customers", {"name": "Bob"})["id"]
        error = stripe.error(
            "POST", "/v1/invoiceitems", {"customer": bob, "invoice": invoice["id"], "amount": 100, "currency": "usd"}
        )
        assert error["param"] == "invoice" and error["message"] == "The invoice belongs to another customer."
        assert _items(stripe, bob) == [] and _items(stripe, invoice["customer"]) == []
        assert all_lines(stripe, invoice["id"]) == []

    def test_another_currency_is_refused(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        error = stripe.error(
            "POST",
            "/v1/invoiceitems",
            {"customer": invoice["customer"], "invoice": invoice["id"], "amount": 100, "currency": "eur"},
        )
        assert error["param"] == "currency"
        assert error["message"] == "The item currency eur does not match the invoice currency usd."
        assert _items(stripe, invoice["customer"]) == [] and all_lines(stripe, invoice["id"]) == []


class TestEmptyStrings:
    @pytest.mark.parametrize("field", ["description", "quantity", "quantity_decimal", "discountable"])
    def test_a_field_that_cannot_be_unset(self, stripe: StripeClient, field: str) -> None:
        invoice = setup_invoice(stripe)
        error = stripe.error(
            "POST", f"/v1/invoices/{invoice['id']}/add_lines", f"lines[0][amount]=100&lines[0][{field}]="
        )
        assert (error["code"], error["param"]) == ("parameter_invalid_empty", f"lines[0][{field}]"), error
        assert f"'lines[0][{field}]' cannot be unset" in error["message"]
        assert all_lines(stripe, invoice["id"]) == []


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
