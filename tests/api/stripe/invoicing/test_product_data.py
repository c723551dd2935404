"""price_data[product_data] on add_lines, update_lines and invoice items: what is stored, what is refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import StripeClient
from tests.helpers.stripe import all_lines, customer_items, setup_invoice

PRODUCT_DATA = {
    "name": "Inline widget",
    "description": "A widget described inline",
    "images": ["https://example.com/w.png"],
    "metadata": {"sku": "W-1", "gone": ""},
    "tax_code": "txcd_10000000",
    "tax_details": {"tax_code": "txcd_10000000", "performance_location": "Berlin"},
    "unit_label": "seat",
}


def _price_data(product_data: dict[str, Any]) -> dict[str, Any]:
    return {"currency": "usd", "product_data": product_data, "unit_amount": 250}


def _products(stripe: StripeClient) -> list[dict[str, Any]]:
    return list(stripe.ok("GET", "/v1/products", {"limit": 100})["data"])


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
        # Accepted but not carried: Stripe Tax's inputs and images bill nothing here.
        assert (product["images"], product["tax_code"], product["tax_details"]) == ([], None, None)
        [line] = [ln for ln in all_lines(stripe, invoice["id"]) if ln["amount"] == 250]
        assert line["pricing"]["unit_amount_decimal"] == "250"

    @pytest.mark.parametrize("way", ["add_lines", "update_lines"])
    def test_tax_details_are_checked_as_a_products(self, stripe: StripeClient, way: str) -> None:
        invoice = setup_invoice(stripe)
        before = _products(stripe)
        response = WAYS[way][0](stripe, invoice, {"name": "W", "tax_details": {"tax_code": "x" * 65}})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == f"{WAYS[way][1]}[product_data][tax_details][tax_code]"
        assert _products(stripe) == before

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
        assert [i["amount"] for i in customer_items(stripe, invoice["customer"])] == kept
        assert stripe.ok("GET", f"/v1/invoices/{invoice['id']}")["total"] == sum(kept)
