"""What the SDK tests share: a tenant seen through stripe-python, and the checks every response gets
(Request-Id, JSON, every object against Stripe's published schema of the same name). The server and
the tenants come from bulkbill's own pytest plugin (bulkbill.testing); tests/sdk/conftest.py wraps them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import stripe

from bulkbill.testing.server import BulkbillServer
from bulkbill.testing.tenant import Tenant
from tests.helpers.schema import assert_stripe_schema

# Object types the tests may receive, each validated against the schema of the same name.
OBJECT_SCHEMAS = frozenset(
    {
        "invoice",
        "line_item",
        "invoiceitem",
        "customer",
        "product",
        "price",
        "tax_rate",
        "coupon",
        "discount",
        "credit_note",
        "credit_note_line_item",
        "promotion_code",
        "tax_id",
        "search_result",
        "test_helpers.test_clock",
        "entitlements.feature",
        "entitlements.active_entitlement",
        "product_feature",
    }
)


# `{"deleted": true}` stubs Stripe publishes a schema for; the others get a shape check.
DELETED_SCHEMAS = frozenset(
    {"invoice", "invoiceitem", "customer", "product", "discount", "tax_id", "subscription_item", "product_feature"}
)


def validate_tree(node: Any, where: str = "$") -> int:
    """Validate every object (anything with an "object" field) in a JSON value; return how many."""
    count = 0
    if isinstance(node, list):
        for i, item in enumerate(node):
            count += validate_tree(item, f"{where}[{i}]")
        return count
    if not isinstance(node, dict):
        return 0
    kind = node.get("object")
    if isinstance(kind, str):
        count += 1
        if node.get("deleted") is True:
            if kind in DELETED_SCHEMAS:
                assert_stripe_schema(node, f"deleted_{kind}")
            else:
                assert set(node) == {"id", "object", "deleted"}, f"{where}: odd deleted stub {node}"
        elif kind == "list":
            assert isinstance(node.get("data"), list), f"{where}: list without data"
            assert isinstance(node.get("has_more"), bool), f"{where}: list without has_more"
            assert isinstance(node.get("url"), str) and node["url"].startswith("/v1/"), f"{where}: bad url"
            assert all(isinstance(x, dict) and x.get("id") for x in node["data"]), f"{where}: item without id"
        else:
            assert kind in OBJECT_SCHEMAS, f"{where}: no schema for object type {kind!r}"
            try:
                assert_stripe_schema(node, kind)
            except AssertionError as exc:
                raise AssertionError(f"{where} ({kind} {node.get('id')}): {exc}") from None
    for key, value in node.items():
        count += validate_tree(value, f"{where}.{key}")
    return count


def check_response(status: int, headers: Mapping[str, str], content: bytes | str, what: str = "") -> Any:
    """The checks every response gets; returns the decoded body."""
    lowered = {k.lower(): v for k, v in headers.items()}
    request_id = lowered.get("request-id", "")
    assert request_id.startswith("req_"), f"{what}: no Request-Id header ({status})"
    assert lowered.get("content-type", "").startswith("application/json"), f"{what}: not JSON ({status})"
    body = json.loads(content)
    if status >= 400:
        assert_stripe_schema(body, "error")
        assert body["error"]["type"] and body["error"]["message"], f"{what}: empty error"
        validate_tree(body["error"], f"{what} error")
    else:
        assert isinstance(body, dict) and isinstance(body.get("object"), str), f"{what}: not an object"
        validate_tree(body, what or "$")
    return body


class ValidatingHTTPClient(stripe.RequestsClient):
    """stripe-python's requests client, checking every response before the SDK sees it."""

    def __init__(self) -> None:
        super().__init__(timeout=30)
        self.seen: list[tuple[str, str, int, dict[str, str]]] = []

    def request(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        content, status, response_headers = super().request(method, url, headers, post_data)
        check_response(status, response_headers, content, f"{method.upper()} {url}")
        self.seen.append((method.upper(), url, status, {k.lower(): v for k, v in response_headers.items()}))
        return content, status, response_headers


@dataclass
class SdkTenant:
    """One tenant: its key, a validating StripeClient, and raw-HTTP access for the seeds' curl bodies."""

    server: BulkbillServer
    tenant: Tenant
    http: ValidatingHTTPClient = field(default_factory=ValidatingHTTPClient)
    raw_session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.key = self.tenant.stripe_secret_key
        # The plugin's own client factory (what the `stripe_client` fixture hands out), with the checks.
        self.client: stripe.StripeClient = self.tenant.stripe_client(http_client=self.http)

    def close(self) -> None:
        self.http.close()
        self.raw_session.close()

    # --- raw HTTP, the way curl -u KEY: -d ... sends it ---------------------------------------

    def raw(self, method: str, path: str, body: str | None = None, *, basic: bool = True) -> requests.Response:
        """Send `body` byte for byte; every response is checked like the SDK's."""
        auth = (self.key, "") if basic else None
        headers = {} if basic else {"Authorization": f"Bearer {self.key}"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = self.raw_session.request(
            method,
            self.server.stripe_base + path,
            data=body.encode("utf-8") if body is not None else None,
            headers=headers,
            auth=auth,
            timeout=30,
        )
        check_response(response.status_code, response.headers, response.content, f"raw {method} {path}")
        return response

    # --- fixtures built through the SDK -------------------------------------------------------

    def customer(self, **params: Any) -> stripe.Customer:
        return self.client.v1.customers.create({"name": "Ada", "email": "ada@example.com", **params})

    def price(self, unit_amount: int = 1500, currency: str = "usd", **params: Any) -> stripe.Price:
        product = self.client.v1.products.create({"name": "Widget"})
        return self.client.v1.prices.create(
            {"product": product.id, "currency": currency, "unit_amount": unit_amount, **params}
        )

    def tax_rate(self, percentage: float = 20.0, *, inclusive: bool = False) -> stripe.TaxRate:
        return self.client.v1.tax_rates.create(
            {"display_name": "VAT", "percentage": percentage, "inclusive": inclusive}
        )

    def invoice(self, customer: str | None = None, **params: Any) -> stripe.Invoice:
        customer = customer or self.customer().id
        return self.client.v1.invoices.create({"customer": customer, "currency": "usd", **params})

    def pending_item(self, customer: str, amount: int = 500, **params: Any) -> stripe.InvoiceItem:
        return self.client.v1.invoice_items.create(
            {"customer": customer, "amount": amount, "currency": "usd", "description": "pending item", **params}
        )

    def lines(self, invoice_id: str) -> list[stripe.InvoiceLineItem]:
        return list(self.client.v1.invoices.line_items.list(invoice_id, {"limit": 100}).auto_paging_iter())


def assert_totals_match_lines(sdk: SdkTenant, invoice: stripe.Invoice) -> None:
    """Every invoice total equals the sum of the figures its lines show (all pages of lines)."""
    lines = [ln.to_dict() for ln in sdk.lines(invoice.id)]
    inv = invoice.to_dict()
    item_discount_ids = {d for ln in lines for d in ln["discounts"]}
    amounts = sum(ln["amount"] for ln in lines)
    item_discounts = sum(
        d["amount"] for ln in lines for d in ln["discount_amounts"] if d["discount"] in item_discount_ids
    )
    all_discounts = sum(d["amount"] for ln in lines for d in ln["discount_amounts"])
    exclusive = sum(t["amount"] for ln in lines for t in ln["taxes"] if t["tax_behavior"] == "exclusive")
    inclusive = sum(t["amount"] for ln in lines for t in ln["taxes"] if t["tax_behavior"] == "inclusive")
    assert inv["subtotal"] == amounts - item_discounts
    assert sum(d["amount"] for d in inv["total_discount_amounts"]) == all_discounts
    assert sum(t["amount"] for t in inv["total_taxes"]) == exclusive + inclusive
    assert inv["total"] == amounts - all_discounts + exclusive + inv["amount_shipping"]  # shipping is untaxed
    assert inv["total_excluding_tax"] == inv["total"] - exclusive - inclusive
    if inv["status"] == "draft":
        assert inv["amount_due"] == max(0, inv["total"])
    assert inv["amount_remaining"] == inv["amount_due"] - inv["amount_paid"]
