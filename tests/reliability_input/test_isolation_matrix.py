"""Tenant isolation, route by route: every route of both dialects, enumerated from the application.

Tenant A gets one object of every kind (world.py). Tenant B then calls every route that names an
object in its path with A's ids and numbers: each must answer 404 (Stripe `resource_missing`,
Zuora category 40) exactly as for an id that never existed, with nothing of A in the body. Routes
without a path id are called by B too (lists, and creations that reference A's objects): nothing of
A comes back. A's rows are compared before and after: nothing changed. A route whose path parameter
is not in KINDS fails the test, so a new route cannot escape the matrix.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bulkbill.api.docs import DOCS_PATHS
from bulkbill.services.platform.tenants import NewTenant
from tests.helpers import StripeClient, ZuoraClient, app_routes, form, new_tenant, zuora_for
from tests.reliability_input.conftest import Counts
from tests.reliability_input.world import KINDS, World, build_world, changed, fingerprint, path_params

# One core: a Stripe invoice is a Zuora invoice and a Zuora account a Stripe customer, so each
# dialect is also tried with the ids the other dialect made.
ALSO = {"document_invoice": "invoice", "account": "customer", "invoice": "document_invoice", "customer": "account"}
# Needs no credentials: the health check, the token endpoint, and each dialect's (tenant-free) API
# description and docs pages.
PUBLIC = {
    ("GET", "/healthz"),
    ("POST", "/zuora/oauth/token"),
    *(("GET", f"/{dialect}{path}") for dialect in ("stripe", "zuora") for path in {"/openapi.json", *DOCS_PATHS}),
}
# The hosted document pages (/documents/{token}, /documents/{token}/pdf): no tenant key, the unguessable
# token is the credential, as Stripe's hosted invoice URLs; a token answers for its one document to
# anyone who holds it. tests/api/stripe/invoicing/test_documents.py covers them (unknown, malformed,
# draft and voided documents: the same plain 404).
PUBLIC_BY_TOKEN = "/documents/"
# Bodies that are valid for the object's owner, so the lookup (not validation) decides the answer.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/stripe/v1/invoices/{invoice_id}/add_lines"): {"lines": [{"amount": 100, "description": "x"}]},
    ("POST", "/stripe/v1/invoices/{invoice_id}/update_lines"): {"lines": [{"id": "{line}", "description": "x"}]},
    ("POST", "/stripe/v1/invoices/{invoice_id}/remove_lines"): {"lines": [{"id": "{line}", "behavior": "delete"}]},
    ("POST", "/stripe/v1/invoices/{invoice_id}/pay"): {"paid_out_of_band": "true"},
    ("POST", "/stripe/v1/customers/{customer_id}/tax_ids"): {"type": "eu_vat", "value": "DE1"},
    ("POST", "/stripe/v1/customers/{customer_id}/balance_transactions"): {"amount": -100, "currency": "usd"},
    ("POST", "/stripe/v1/entitlements/features/{feature_id}"): {"name": "x"},
    ("POST", "/stripe/v1/subscriptions/{subscription_id}/migrate"): {"billing_mode": {"type": "flexible"}},
    ("POST", "/stripe/v1/products/{product_id}/features"): {"entitlement_feature": "{feature}"},
    ("POST", "/stripe/v1/test_helpers/test_clocks/{clock_id}/advance"): {"frozen_time": 1735693200},
    ("PUT", "/zuora/v1/invoices/{invoice_key}"): {"comments": "x"},
    ("PUT", "/zuora/v1/fulfillments/{key}"): {"description": "x"},
    ("PUT", "/zuora/v1/fulfillment-items/{item_id}"): {"description": "x"},
    ("PUT", "/zuora/v1/order-line-items/{item_id}"): {"description": "x"},
}
# Queries that are valid for the object's owner, for GET routes with required parameters.
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/stripe/v1/billing/meters/{meter_id}/event_summaries"): {
        "customer": "cus_x",
        "start_time": "1735689600",
        "end_time": "1735693200",
    },
}


def foreign_calls(a: World) -> dict[tuple[str, str], list[tuple[Any, dict[str, str] | None]]]:
    """Routes without a path id: B's calls naming A's objects in the body or query."""
    acc, acc_no = a.keys["account"][0], a.keys["account"][1]
    inv = a.keys["document_invoice"][0]
    return {
        ("POST", "/stripe/v1/invoices"): [({"customer": a.first("customer")}, None)],
        ("POST", "/stripe/v1/invoiceitems"): [
            ({"customer": a.first("customer"), "amount": 100}, None),
            ({"customer": "{own}", "pricing": {"price": a.first("price")}}, None),
        ],
        ("POST", "/stripe/v1/prices"): [({"currency": "usd", "unit_amount": 1, "product": a.first("product")}, None)],
        ("POST", "/stripe/v1/subscriptions"): [
            ({"customer": a.first("customer"), "items": [{"price": a.keys["price"][1]}]}, None)
        ],
        ("POST", "/stripe/v1/customers"): [({"name": "b", "test_clock": a.first("test_clock")}, None)],
        ("GET", "/stripe/v1/invoices"): [(None, {"customer": a.first("customer")}), (None, None)],
        ("GET", "/stripe/v1/invoiceitems"): [(None, {"customer": a.first("customer")}), (None, None)],
        ("GET", "/stripe/v1/subscriptions"): [(None, {"customer": a.first("customer")}), (None, None)],
        ("GET", "/stripe/v1/subscription_items"): [(None, {"subscription": a.first("subscription")})],
        ("POST", "/stripe/v1/subscription_schedules"): [
            ({"customer": a.first("customer"), "phases": [{"items": [{"price": a.keys["price"][1]}]}]}, None),
            ({"from_subscription": a.first("subscription")}, None),
        ],
        ("GET", "/stripe/v1/subscription_schedules"): [(None, {"customer": a.first("customer")}), (None, None)],
        ("POST", "/stripe/v1/invoices/create_preview"): [
            ({"schedule": a.first("subscription_schedule")}, None),
            ({"customer": "{own}", "schedule_details": {"phases": [{"items": [{"price": a.keys["price"][1]}]}]}}, None),
        ],
        ("POST", "/stripe/v1/subscription_items"): [
            ({"subscription": a.first("subscription"), "price": a.keys["price"][1]}, None)
        ],
        ("GET", "/stripe/v1/prices"): [(None, {"product": a.first("product")}), (None, None)],
        ("GET", "/stripe/v1/billing/meters"): [(None, None)],
        # A's customer named in B's event: B has no meter of A's event name, nor A's customer.
        ("POST", "/stripe/v1/billing/meter_events"): [
            ({"event_name": "b", "payload": {"stripe_customer_id": a.first("customer"), "value": "1"}}, None)
        ],
        ("POST", "/stripe/v1/credit_notes"): [({"invoice": a.keys["invoice"][1], "amount": 1}, None)],
        ("GET", "/stripe/v1/credit_notes/preview"): [(None, {"invoice": a.keys["invoice"][1], "amount": "1"})],
        ("GET", "/stripe/v1/credit_notes"): [(None, {"invoice": a.keys["invoice"][1]}), (None, None)],
        ("POST", "/stripe/v1/promotion_codes"): [
            ({"promotion": {"type": "coupon", "coupon": a.first("coupon")}}, None)
        ],
        ("GET", "/stripe/v1/promotion_codes"): [(None, {"coupon": a.first("coupon")}), (None, None)],
        ("POST", "/stripe/v1/tax_ids"): [
            ({"type": "eu_vat", "value": "DE1", "owner": {"type": "customer", "customer": a.first("customer")}}, None)
        ],
        ("GET", "/stripe/v1/tax_ids"): [
            (None, {"owner[type]": "customer", "owner[customer]": a.first("customer")}),
            (None, None),
        ],
        ("GET", "/stripe/v1/entitlements/active_entitlements"): [(None, {"customer": a.keys["customer"][1]})],
        ("GET", "/stripe/v1/entitlements/features"): [(None, {"lookup_key": a.marker}), (None, None)],
        # Search: A's marker, ids and metadata named in B's queries find nothing of A's.
        ("GET", "/stripe/v1/customers/search"): [
            (None, {"query": f'email~"{a.marker}"'}),
            (None, {"query": f'name:"Ada {a.marker}" OR created>0', "expand[]": "total_count"}),
        ],
        ("GET", "/stripe/v1/invoices/search"): [
            (None, {"query": f'customer:"{a.first("customer")}"'}),
            (None, {"query": "total>=0", "expand[]": "data.customer"}),
        ],
        ("GET", "/stripe/v1/prices/search"): [(None, {"query": f'product:"{a.first("product")}"'})],
        ("GET", "/stripe/v1/products/search"): [
            (None, {"query": f'name~"{a.marker}"'}),
            (None, {"query": "active:true"}),
        ],
        ("GET", "/stripe/v1/subscriptions/search"): [(None, {"query": 'status:"active" OR status:"canceled"'})],
        ("POST", "/zuora/v1/orders"): [
            ({"orderDate": "2021-01-01", "existingAccountNumber": acc_no, "orderLineItems": []}, None)
        ],
        ("POST", "/zuora/v1/order-line-items/bulk"): [
            ({"orderLineItems": [{"id": a.first("order_line_item"), "description": "x"}]}, None)
        ],
        ("POST", "/zuora/v1/fulfillments"): [
            (
                {
                    "fulfillments": [
                        {
                            "orderLineItemId": a.keys["order_line_item"][1],
                            "fulfillmentDate": "2021-01-05",
                            "quantity": 1,
                        }
                    ]
                },
                None,
            )
        ],
        ("POST", "/zuora/v1/fulfillment-items"): [
            ({"fulfillmentItems": [{"fulfillmentId": a.first("fulfillment"), "description": "x"}]}, None)
        ],
        ("POST", "/zuora/v1/invoices"): [
            ({"accountId": acc, "invoiceItems": [{"chargeName": "x", "amount": 1}]}, None),
        ],
        ("PUT", "/zuora/v1/invoices"): [({"invoices": [{"id": inv, "comments": "x"}]}, None)],
        ("POST", "/zuora/v1/invoices/bulk-post"): [({"invoices": [{"id": inv}]}, None)],
        ("POST", "/zuora/v1/bill-runs"): [
            ({"targetDate": "2021-03-01", "billRunFilters": [{"filterType": "Account", "accountId": acc}]}, None)
        ],
        ("GET", "/zuora/object-query/invoices"): [(None, {"filter[]": f"id.EQ:{inv}"}), (None, None)],
        ("GET", "/zuora/object-query/credit-memos"): [(None, {"filter[]": f"accountId.EQ:{acc}"}), (None, None)],
    }


class Caller:
    """B's view of the application: one request helper for both dialects."""

    def __init__(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        self.client = client
        self.stripe = StripeClient(client, tenant.stripe_secret_key)
        self.zuora = zuora

    def call(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> httpx.Response:
        if path.startswith("/stripe/"):
            content = form(body) if isinstance(body, dict) else None
            headers = {
                "Authorization": f"Bearer {self.stripe.key}",
                "Content-Type": "application/x-www-form-urlencoded",
            }
            return self.client.request(method, path, content=content, params=query, headers=headers)
        content = json.dumps(body) if body is not None else (b"{}" if method in ("POST", "PUT") else None)
        return self.client.request(method, path, content=content, params=query, headers=self.zuora.headers())


def filled(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def assert_not_found(path: str, response: httpx.Response) -> None:
    assert response.status_code == 404, f"{path}: {response.status_code} {response.text}"
    body = response.json()
    if path.startswith("/stripe/"):
        assert body["error"]["code"] == "resource_missing", body
    else:
        assert body["success"] is False and body["reasons"][0]["code"] % 100 == 40, body


def assert_no_leak(a: World, sent: str, response: httpx.Response) -> None:
    leaked = {s for s in a.secrets() if s in response.text and s not in sent}
    assert not leaked, f"{sent} leaked {leaked}: {response.text[:500]}"


def shape(text: str, *ids: str) -> str:
    """The body with the ids the caller sent and the per-response ids taken out, to compare two answers."""
    for value in ids:
        text = text.replace(value, "<id>")
    return re.sub(r'"(processId|request_log_url)":"[^"]*"', r'"\1":"-"', text)


def lookalike(value: str) -> str:
    """An id of the same shape that exists nowhere."""
    prefix, sep, rest = value.rpartition("_")
    if sep and rest:
        return prefix + sep + secrets.token_hex(len(rest))[: len(rest)]
    return secrets.token_hex(len(value))[: len(value)] if value.isalnum() else value + "X9"


@pytest.fixture
def two_tenants(client: TestClient) -> Iterator[tuple[World, Caller, NewTenant]]:
    a_tenant = new_tenant(client, "iso-a")
    a = build_world(client, a_tenant, zuora_for(client, a_tenant))
    b_tenant = new_tenant(client, "iso-b")
    yield a, Caller(client, b_tenant, zuora_for(client, b_tenant)), b_tenant


def test_every_route_with_another_tenants_ids_is_not_found(
    client: TestClient, two_tenants: tuple[World, Caller, NewTenant], counts: Counts
) -> None:
    a, b, _ = two_tenants
    before = fingerprint(client, a.tenant.id)
    routes = app_routes(client.app)
    unknown = sorted({p for _, path in routes for p in path_params(path)} - KINDS.keys())
    assert not unknown, f"routes with path parameters the isolation matrix does not know: {unknown}; add them to KINDS"
    tried = 0
    for method, path in routes:
        params = path_params(path)
        if not params or path.startswith(PUBLIC_BY_TOKEN):
            continue
        kinds = {name: KINDS[(collection, name)] for collection, name in params}
        variants = sorted({k for kind in kinds.values() for k in a.keys[kind] + a.keys.get(ALSO.get(kind, ""), [])})
        template = BODIES.get((method, path))
        for variant_index in range(max(len(a.keys[kind]) for kind in kinds.values())):
            values = {name: a.keys[kind][min(variant_index, len(a.keys[kind]) - 1)] for name, kind in kinds.items()}
            body = _body(template, a) if template is not None else ({} if method in ("POST", "PUT") else None)
            url = filled(path, values)
            query = QUERIES.get((method, path))
            response = b.call(method, url, body, query)
            assert_not_found(url, response)
            assert_no_leak(a, url + json.dumps(body), response)
            # Exactly what an id that exists nowhere gets: no existence oracle.
            fake = {name: lookalike(v) for name, v in values.items()}
            other = b.call(method, filled(path, fake), body, query)
            assert other.status_code == response.status_code
            assert shape(other.text, *fake.values()) == shape(response.text, *values.values()), (url, other.text)
            tried += 2
        for key in variants:  # the other dialect's ids, and every key of the kind, on single-id routes
            if len(params) == 1:
                url = filled(path, {params[0][1]: key})
                body = _body(template, a) if template is not None else ({} if method in ("POST", "PUT") else None)
                response = b.call(method, url, body, QUERIES.get((method, path)))
                assert_not_found(url, response)
                assert_no_leak(a, url + json.dumps(body), response)
                tried += 1
    assert changed(before, fingerprint(client, a.tenant.id)) == []
    counts.add("isolation: routes with path ids called by another tenant", tried)


def test_routes_without_path_ids_show_nothing_of_another_tenant(
    client: TestClient, two_tenants: tuple[World, Caller, NewTenant], counts: Counts
) -> None:
    a, b, b_tenant = two_tenants
    own = StripeClient(client, b_tenant.stripe_secret_key).ok("POST", "/v1/customers", {"name": "own"})["id"]
    before = fingerprint(client, a.tenant.id)
    calls = foreign_calls(a)
    tried = 0
    for method, path in app_routes(client.app):
        if path_params(path) or (method, path) in PUBLIC:
            continue
        for body, query in calls.get((method, path), [(None, None)]):
            body = json.loads(json.dumps(body).replace('"{own}"', json.dumps(own))) if body is not None else None
            response = b.call(method, path, body, query)
            sent = path + json.dumps(body) + json.dumps(query)
            assert response.status_code < 500, (path, response.text)
            assert_no_leak(a, sent, response)
            if (method, path) in calls and method != "GET":
                assert refused(response), (path, response.text)
            tried += 1
    assert changed(before, fingerprint(client, a.tenant.id)) == []
    counts.add("isolation: routes without path ids called by another tenant", tried)


def refused(response: httpx.Response) -> bool:
    """A 4xx, or Zuora's bulk-post answer where every entry failed as not found."""
    if 400 <= response.status_code < 500:
        return True
    entries = response.json().get("invoices")
    return bool(entries) and all(e["success"] is False and e["reasons"][0]["code"] % 100 == 40 for e in entries)


def _body(template: Any, a: World) -> Any:
    text = json.dumps(template).replace('"{line}"', json.dumps(a.first("line")))
    text = text.replace('"{feature}"', json.dumps(a.first("feature")))
    return json.loads(text)


def expire(client: TestClient, token: str) -> None:
    """Move a token's expiry into the past, as an hour going by would."""
    from sqlalchemy import update

    from bulkbill.services.platform.tenants import hash_secret
    from bulkbill.storage.tables import OAuthToken

    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    with state.sessions.begin() as session:
        done = session.execute(
            update(OAuthToken).where(OAuthToken.token_hash == hash_secret(token)).values(expires_at=0)
        )
        assert done.rowcount == 1  # type: ignore[attr-defined]


def test_every_route_refuses_calls_without_valid_credentials(client: TestClient, counts: Counts) -> None:
    tenant = new_tenant(client, "unauth")
    zuora = zuora_for(client, tenant)
    expired = zuora_for(client, tenant).token
    expire(client, expired)
    bad = {
        "none": None,
        "empty bearer": "Bearer ",
        "unknown bearer": "Bearer sk_test_" + secrets.token_hex(24),
        "unknown basic": "Basic " + "c2tfdGVzdF94eXo6",
        "garbage scheme": "Token abc",
        "10 KB bearer": "Bearer " + "k" * 10_000,
        "expired zuora token": f"Bearer {expired}",
        "zuora client secret": f"Bearer {tenant.zuora_client_secret}",
    }
    tried = 0
    for method, path in app_routes(client.app):
        url = re.sub(r"\{\w+\}", "x" + secrets.token_hex(4), path)
        if path.startswith(PUBLIC_BY_TOKEN):
            assert client.request(method, url).status_code == 404, path  # no such token
            continue
        if (method, path) in PUBLIC:
            status = client.request(method, url).status_code
            assert status == 200 if method == "GET" else status != 401 or path.endswith("/oauth/token"), (path, status)
            continue
        # The other dialect's valid credential is no credential here.
        cross = f"Bearer {zuora.token}" if path.startswith("/stripe/") else f"Bearer {tenant.stripe_secret_key}"
        for name, authorization in [*bad.items(), ("other dialect's credential", cross)]:
            for version in (None, "196.0") if path.startswith("/zuora/") else (None,):
                headers = {"Content-Type": "application/json"}
                if authorization is not None:
                    headers["Authorization"] = authorization
                if version:
                    headers["Zuora-Version"] = version
                content = b"{}" if method in ("POST", "PUT") else None
                response = client.request(method, url, content=content, headers=headers)
                assert response.status_code == 401, (name, method, url, response.status_code, response.text)
                body = response.json()
                if path.startswith("/stripe/"):
                    assert body["error"]["type"] == "invalid_request_error", body
                else:
                    assert body["success"] is False and body["reasons"][0]["code"] == 90000011, body
                assert tenant.stripe_secret_key not in response.text and expired not in response.text
                tried += 1
    counts.add("authentication: every route without valid credentials", tried)
