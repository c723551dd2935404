"""Generated bracket-encoded forms against the Stripe dialect (hypothesis).

Two generators: `structured` bodies that look like real calls (lines[i][field], nested pricing,
metadata, tax rates, discounts, period) with hostile values (empty strings, "NaN", "Infinity",
"1e999", 40-digit integers, unicode digits, unicode text, NUL, dates out of range, real ids of the
tenant so the rules run), and `raw` forms of random keys, nesting depth, indexes (huge, negative,
"²", empty brackets), duplicated keys and broken percent-encoding (invalid UTF-8). Each goes to
the bulk line endpoints and a few others, then: no 5xx, a refusal is Stripe's envelope, and a
refused call changed none of the tenant's rows. Default run bounded and derandomized; `--run-slow`
runs many more random cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import StripeClient, new_tenant, zuora_for
from tests.reliability_input.conftest import Counts
from tests.reliability_input.world import CaseLedger, World, build_world, fuzz_settings

MAX_EXAMPLES = 40
SLOW_EXAMPLES = 1500

HOSTILE = [
    "",
    " ",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "1e999",
    "-1e999",
    "1e-999",
    "0x10",
    "-0",
    "00",
    "9" * 40,
    "-" + "9" * 40,
    "9223372036854775808",
    "18446744073709551616",
    "1" + "0" * 16,
    "0.0000000000001",
    "1." + "5" * 30,
    "²",
    "١٢٣",
    "１２",
    "true",
    "false",
    "null",
    "[]",
    "{}",
    "\x00",
    "a\x00b",
    "\u202e",
    "🧾" * 3,
    "x" * 5001,
    "9999-99-99",
    "0000-01-01",
    "10000-01-01",
    str(2**40 + 1),
    str(2**63),
    "-1",
    "1735689600",
    "usd",
    "USD",
    "xxx",
    "delete",
    "remove",
]
FIELDS = [
    "amount",
    "description",
    "quantity",
    "quantity_decimal",
    "unit_amount",
    "unit_amount_decimal",
    "currency",
    "price",
    "pricing",
    "price_data",
    "product",
    "product_data",
    "name",
    "tax_rates",
    "discounts",
    "coupon",
    "discountable",
    "metadata",
    "period",
    "start",
    "end",
    "id",
    "behavior",
    "invoice_item",
    "tax_behavior",
    "tax_amounts",
    "lines",
    "invoice_metadata",
    "expand",
    "customer",
    "collection_method",
    "days_until_due",
    "due_date",
    "auto_advance",
    "frozen_time",
    "items",
    "recurring",
    "interval",
    "percent_off",
    "amount_off",
    "duration",
    "percentage",
    "inclusive",
    "display_name",
    "email",
    "balance",
    "limit",
    "starting_after",
    "ending_before",
    "created",
    "gte",
    "lt",
]
INDEXES = ["0", "1", "2", "49", "50", "250", "9999", "10000", "99999999999999999999", "-1", "00", "01", "²", "", " "]
# What each endpoint is called with: a draft invoice with lines, or nothing.
ENDPOINTS = [
    ("POST", "/v1/invoices/{draft}/add_lines", "lines"),
    ("POST", "/v1/invoices/{draft}/update_lines", "lines"),
    ("POST", "/v1/invoices/{draft}/remove_lines", "lines"),
    ("POST", "/v1/invoices/{draft}/lines/{line}", None),
    ("POST", "/v1/invoices/{draft}", None),
    ("POST", "/v1/invoices", None),
    ("POST", "/v1/invoiceitems", None),
    ("POST", "/v1/customers", None),
    ("POST", "/v1/prices", None),
    ("POST", "/v1/coupons", None),
    ("POST", "/v1/tax_rates", None),
    ("POST", "/v1/subscriptions", "items"),
    ("POST", "/v1/test_helpers/test_clocks/{clock}/advance", None),
    ("GET", "/v1/invoices", None),
    ("GET", "/v1/invoices/{draft}/lines", None),
]
LABELS = [f"{m} {p}" for m, p, _ in ENDPOINTS]


def encode_key(key: str) -> str:
    return quote(key, safe="[]")


def _values(world: World) -> st.SearchStrategy[str]:
    ids = sorted({k for keys in world.keys.values() for k in keys})
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(ids),
        st.text(max_size=12),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.floats().map(repr),
    )


def structured(world: World, root: str | None) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Bodies shaped like real calls: root[i][field](...[sub]) = value, a few top-level fields."""
    values = _values(world)
    leaf = st.tuples(
        st.sampled_from(FIELDS),
        st.lists(st.one_of(st.sampled_from(FIELDS), st.sampled_from(INDEXES[:5])), max_size=2),
        values,
    )

    def lines(items: list[tuple[int, list[tuple[str, list[str], str]]]]) -> list[tuple[str, str]]:
        out = []
        for index, fields in items:
            for name, subs, value in fields:
                key = f"{root}[{index}][{name}]" + "".join(f"[{s}]" for s in subs)
                out.append((encode_key(key), quote(value, safe="")))
        return out

    top = st.lists(
        st.tuples(st.sampled_from(FIELDS), values).map(lambda kv: (encode_key(kv[0]), quote(kv[1], safe=""))),
        max_size=4,
    )
    if root is None:
        nested = st.lists(leaf, max_size=6).map(
            lambda fields: [
                (encode_key(n + "".join(f"[{s}]" for s in subs)), quote(v, safe="")) for n, subs, v in fields
            ]
        )
        return st.tuples(nested, top).map(lambda t: t[0] + t[1])
    items = st.lists(st.tuples(st.integers(0, 60), st.lists(leaf, min_size=1, max_size=5)), min_size=1, max_size=6)
    return st.tuples(items.map(lines), top).map(lambda t: t[0] + t[1])


def raw(world: World) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Anything bracket-shaped and worse: random keys, depth, indexes, duplicates, broken encoding."""
    segment = st.one_of(st.sampled_from(FIELDS), st.sampled_from(INDEXES), st.text(max_size=6))
    name = st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=8))
    brackets = st.sampled_from(["[{}]", "[{}", "{}]", "[[{}]]", "%5B{}%5D"])
    key = st.builds(
        lambda root, segs, style: quote(root, safe="") + "".join(style.format(quote(s, safe="")) for s in segs),
        name,
        st.lists(segment, max_size=12),
        brackets,
    )
    broken = st.sampled_from(["%", "%z", "%zz", "%ff", "%c3%28", "%ed%a0%80", "%f0%28%8c%bc", "%00", "+", "%2B"])
    value = st.one_of(_values(world).map(lambda v: quote(v, safe="")), broken)
    pairs = st.lists(st.tuples(st.one_of(key, broken), value), max_size=25)
    return st.tuples(pairs, st.booleans()).map(lambda t: t[0] + t[0][:3] if t[1] else t[0])  # duplicates


@pytest.fixture(scope="module")
def stripe_world(client: TestClient) -> Iterator[World]:
    tenant = new_tenant(client, "forms")
    yield build_world(client, tenant, zuora_for(client, tenant))


def _path(template: str, client: TestClient, world: World) -> str:
    stripe = StripeClient(client, world.tenant.stripe_secret_key)
    draft = world.first("invoice")
    lines = stripe.ok("GET", f"/v1/invoices/{draft}/lines")["data"]
    if not lines:  # a case removed them all: put one back
        stripe.ok("POST", f"/v1/invoices/{draft}/add_lines", {"lines": [{"amount": 100, "description": "again"}]})
        lines = stripe.ok("GET", f"/v1/invoices/{draft}/lines")["data"]
    values = {"draft": draft, "line": lines[0]["id"], "clock": world.first("test_clock")}
    return template.format(**values)


@pytest.mark.parametrize("label", LABELS)
def test_stripe_forms(label: str, client: TestClient, stripe_world: World, counts: Counts) -> None:
    fuzz_forms(label, client, stripe_world, counts, MAX_EXAMPLES, derandomize=True)


@pytest.mark.slow
@pytest.mark.parametrize("label", LABELS)
def test_stripe_forms_long(label: str, client: TestClient, stripe_world: World, counts: Counts) -> None:
    fuzz_forms(label, client, stripe_world, counts, SLOW_EXAMPLES, derandomize=False)


def fuzz_forms(
    label: str, client: TestClient, world: World, counts: Counts, examples: int, *, derandomize: bool
) -> None:
    method, template, root = next((m, p, r) for m, p, r in ENDPOINTS if f"{m} {p}" == label)
    key = world.tenant.stripe_secret_key
    ledger = CaseLedger(client, world.tenant.id, skip=frozenset({"oauth_tokens"}))

    @fuzz_settings(examples, derandomize=derandomize)
    @given(pairs=st.one_of(structured(world, root), raw(world)), in_query=st.booleans())
    def run(pairs: list[tuple[str, str]], in_query: bool) -> None:
        body = "&".join(f"{k}={v}" for k, v in pairs)
        url = "/stripe" + _path(template, client, world)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-www-form-urlencoded"}
        if method == "GET" or in_query:
            response = client.request(method, url + "?" + body, headers=headers)
        else:
            response = client.request(method, url, content=body.encode("latin-1", "replace"), headers=headers)
        check(label, body, response)
        ledger.record(response.status_code >= 400, f"{label} ({response.status_code}) {body[:300]}")

    run()
    ledger.report(counts, "stripe generated forms")


def check(label: str, body: str, response: httpx.Response) -> None:
    assert response.status_code < 500, f"{label}: {response.status_code} {response.text[:300]} for {body[:500]}"
    assert response.headers["content-type"].startswith("application/json")
    data: Any = response.json()
    if response.status_code >= 400:
        assert data["error"]["type"] and data["error"]["message"], data
    else:
        assert "object" in data, data
