"""Hostile input, case by case, on both dialects: every answer is a 4xx (or a 200) in the dialect's
envelope, never a 5xx, and a refused call changes none of the tenant's rows.

Body size cap (413), a gzip bomb, 100 KB headers, 10 KB and NUL ids on every route, deeply nested
forms and JSON, non-UTF-8 bodies and query strings, NaN/Infinity/1e999/huge integers and decimals
in each number field of the main write endpoints, and dates out of range in each date field.
"""

from __future__ import annotations

import gzip
import json
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from bulkbill.api.stripe.edge.errors import stripe_param
from bulkbill.api.stripe.edge.params import Dec, Int, Metadata, Time
from bulkbill.api.zuora.edge.errors import zuora_path
from bulkbill.config import Settings
from bulkbill.core.money import MAX_TOTAL
from tests.helpers import app_routes, form, new_tenant, zuora_for
from tests.reliability_input.conftest import Counts
from tests.reliability_input.spec_walk import (
    Leaf,
    Path,
    SchemaLeaf,
    body_with,
    json_body_schema,
    json_with,
    leaves,
    own_path,
    past_bounds,
    schema_leaves,
    stripe_request,
    stripe_route_specs,
    zuora_operations,
)
from tests.reliability_input.world import World, build_world, changed, fingerprint

HOLE = "__HOSTILE__"
# Raw JSON tokens put where a number or date goes (not all are valid JSON: those must be a 400).
JSON_NUMBERS = [
    "NaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    '"NaN"',
    '"sNaN"',
    '"Infinity"',
    '"-Infinity"',
    "1e999",
    "-1e999",
    "1e-999",
    '"1e999"',
    "1E+999999999999999999",
    '"1E+999999999999999999"',
    "0E-1000000000",
    "1" + "0" * 400,
    "-" + "9" * 400,
    "9223372036854775808",
    "1." + "1" * 300,
    '"0x10"',
    '"²"',
    '"１２"',
    '""',
    "true",
    "null",
    "[]",
    "{}",
    '"' + "9" * 5000 + '"',
]
JSON_DATES = [
    '"9999-99-99"',
    '"0000-01-01"',
    '"0001-01-01"',
    '"9999-12-31"',
    '"10000-01-01"',
    '"2021-02-30"',
    '"2021-²-01"',
    '"-2021-01-01"',
    '"2021-01-01T25:00:00"',
    '"99999999999999999999-01-01"',
    '"1e999"',
    '""',
    "20210101",
    "1e999",
    "NaN",
    "null",
]
FORM_NUMBERS = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "-1e999",
    "1e-999",
    "9" * 40,
    "-" + "9" * 40,
    "9223372036854775808",
    "18446744073709551616",
    "1." + "1" * 80,
    "0x10",
    "²",
    "١٢",
    "",
    " 1",
    "1_000",
    "+1",
    "-0",
]
FORM_TIMES = [
    str(2**40),
    str(2**40 + 1),
    str(2**53),
    str(2**63),
    str(2**64),
    "-1",
    "-" + str(2**40),
    "0",
    "253402300800",
    "9999-99-99",
    "0000-01-01",
    "1e999",
]
TIME_FIELDS = ("start", "end", "due_date", "redeem_by", "frozen_time", "created", "gte", "lt")
CAP = Settings().max_body_bytes


@dataclass
class Setup:
    client: TestClient
    world: World
    zuora_token: str

    @property
    def stripe_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.world.tenant.stripe_secret_key}",
            "Content-Type": "application/x-www-form-urlencoded",
        }

    @property
    def zuora_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.zuora_token}", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def setup(client: TestClient) -> Iterator[Setup]:
    tenant = new_tenant(client, "hostile")
    zuora = zuora_for(client, tenant)
    yield Setup(client, build_world(client, tenant, zuora), zuora.token)


class Prober:
    """Sends a request, checks the answer, and checks that a refusal wrote nothing."""

    def __init__(self, setup: Setup, counts: Counts, what: str) -> None:
        self.setup = setup
        self.counts = counts
        self.what = what
        self.rows = fingerprint(setup.client, setup.world.tenant.id, skip=frozenset({"oauth_tokens"}))
        self.n = 0

    def __call__(self, method: str, url: str, *, expect: int | None = None, **kwargs: Any) -> httpx.Response:
        response = self.setup.client.request(method, url, **kwargs)
        self.n += 1
        label = f"{method} {url[:120]} {str(kwargs.get('content', ''))[:160]!r}"
        assert response.status_code < 500, f"{label}: {response.status_code} {response.text[:400]}"
        if expect is not None:
            assert response.status_code == expect, f"{label}: {response.status_code} {response.text[:400]}"
        zuora = url.startswith("/zuora/")
        if url.startswith("/documents/"):
            # A hosted document page (no API, no envelope): anything but a live token is a plain 404.
            assert response.status_code == 404, f"{label}: {response.status_code}"
            return response
        assert response.headers["content-type"].startswith("application/json"), label
        body = response.json()
        if response.status_code >= 400:
            if zuora:
                assert body["success"] is False and body["reasons"], (label, body)
            else:
                assert body["error"]["type"] and body["error"]["message"], (label, body)
        before = self.rows
        # Zuora stores a refused call's response for its Idempotency-Key only; no key is sent here.
        self.rows = fingerprint(self.setup.client, self.setup.world.tenant.id, skip=frozenset({"oauth_tokens"}))
        refused = response.status_code >= 400 or (isinstance(body, dict) and body.get("success") is False)
        if refused:
            assert changed(before, self.rows) == [], f"{label} was refused but wrote {changed(before, self.rows)}"
        return response

    def done(self) -> None:
        self.counts.add(f"hostile input: {self.what}", self.n)


@pytest.fixture
def probe(setup: Setup, counts: Counts, request: pytest.FixtureRequest) -> Iterator[Prober]:
    name = request.node.originalname.removeprefix("test_").replace("_", " ")
    prober = Prober(setup, counts, name)
    yield prober
    prober.done()


# --- size: body cap, gzip bomb, headers, ids ----------------------------------------------------


def test_body_over_the_cap_is_413_in_each_envelope(setup: Setup, probe: Prober) -> None:
    over = b"a=" + b"x" * CAP
    r = probe("POST", "/stripe/v1/customers", content=over, headers=setup.stripe_headers, expect=413)
    assert r.json()["error"]["type"] == "invalid_request_error"
    big_json = json.dumps({"name": "x" * CAP}).encode()
    r = probe("POST", "/zuora/v1/accounts", content=big_json, headers=setup.zuora_headers, expect=413)
    assert r.json()["reasons"][0]["code"] % 100 == 70
    # Old Zuora versions answer errors with 200; a refused size is still a 413 (refused at the edge).
    probe(
        "POST",
        "/zuora/v1/accounts",
        content=big_json,
        headers={**setup.zuora_headers, "Zuora-Version": "196.0"},
        expect=413,
    )
    # Without Content-Length (chunked): counted while read.
    chunks = [b"x" * 65536] * (CAP // 65536 + 2)
    probe("POST", "/stripe/v1/customers", content=iter(chunks), headers=setup.stripe_headers, expect=413)
    probe("POST", "/zuora/v1/accounts", content=iter(chunks), headers=setup.zuora_headers, expect=413)
    # A Content-Length over the cap is refused before the body is read.
    for path, headers in (("/stripe/v1/customers", setup.stripe_headers), ("/zuora/v1/accounts", setup.zuora_headers)):
        probe("POST", path, content=b"a=1", headers={**headers, "Content-Length": str(CAP + 1)}, expect=413)
    # At the cap it is read (and refused for what it says, not for its size).
    at_cap = b"name=" + b"x" * (CAP - 5)
    assert probe("POST", "/stripe/v1/customers", content=at_cap, headers=setup.stripe_headers).status_code == 400


def test_gzip_bombs_are_refused(setup: Setup, probe: Prober) -> None:
    bomb = gzip.compress(b"[" + b" " * (CAP * 40) + b"]", compresslevel=9)
    assert len(bomb) < CAP // 10
    for headers in (setup.zuora_headers, {**setup.zuora_headers, "Content-Encoding": "gzip"}):
        r = probe("POST", "/zuora/v1/orders", content=bomb, headers=headers, expect=413)
        assert r.json()["reasons"][0]["code"] % 100 == 70
    just_over = gzip.compress(json.dumps({"name": "x" * CAP}).encode())
    probe("POST", "/zuora/v1/accounts", content=just_over, headers=setup.zuora_headers, expect=413)
    # Cut short, it still inflates past the cap before it ends.
    probe("POST", "/zuora/v1/orders", content=bomb[: len(bomb) // 2], headers=setup.zuora_headers, expect=413)
    small = gzip.compress(b'{"name": "x"}')
    for bad in (small[:12], gzip.compress(small), b"\x1f\x8b" + b"\x00" * 40, small[:-4] + b"\xff" * 4):
        probe("POST", "/zuora/v1/accounts", content=bad, headers=setup.zuora_headers, expect=400)
    # The Stripe dialect reads forms only: gzip bytes are not a form.
    probe("POST", "/stripe/v1/customers", content=bomb, headers={**setup.stripe_headers, "Content-Encoding": "gzip"})


def test_huge_headers(setup: Setup, probe: Prober) -> None:
    big = "h" * 100_000
    for key in (setup.zuora_headers, setup.stripe_headers):  # a 100 KB Idempotency-Key: refused as a key first
        url, content = (
            ("/zuora/v1/accounts", b"{}") if key is setup.zuora_headers else ("/stripe/v1/customers", b"name=x")
        )
        assert probe("POST", url, content=content, headers={**key, "Idempotency-Key": big}).status_code in (400, 431)
    # An entity the token cannot act in is a 403 before anything else.
    assert (
        probe(
            "POST", "/zuora/v1/accounts", content=b"{}", headers={**setup.zuora_headers, "Zuora-Entity-Ids": big}
        ).status_code
        == 403
    )
    for name in ("X-Anything", "Zuora-Track-Id", "Zuora-Org-Ids", "Zuora-Version"):
        r = probe("POST", "/zuora/v1/accounts", content=b"{}", headers={**setup.zuora_headers, name: big}, expect=431)
        assert r.json()["reasons"][0]["code"] % 100 == 70
        probe(
            "POST", "/stripe/v1/customers", content=b"name=x", headers={**setup.stripe_headers, name: big}, expect=431
        )
    # Many small headers add up the same way; just under the cap they are read.
    many = {f"X-H{i}": "v" * 100 for i in range(200)}
    probe("GET", "/stripe/v1/customers", headers={**setup.stripe_headers, **many}, expect=431)
    probe("GET", "/zuora/v1/accounts/x", headers={**setup.zuora_headers, **many}, expect=431)
    probe("GET", "/stripe/v1/customers", headers={**setup.stripe_headers, "X-Some": "v" * 8000}, expect=200)
    probe("GET", "/zuora/v1/accounts/x", headers={**setup.zuora_headers, "Authorization": "Bearer " + big}, expect=401)
    probe("GET", "/stripe/v1/customers", headers={**setup.stripe_headers, "Authorization": "Bearer " + big}, expect=401)
    probe("GET", "/stripe/v1/customers", headers={**setup.stripe_headers, "Authorization": "Basic " + big}, expect=401)
    probe("POST", "/zuora/v1/accounts", content=b"{}", headers={**setup.zuora_headers, "Content-Type": big}, expect=431)
    probe(
        "POST",
        "/stripe/v1/customers",
        content=b"name=x",
        headers={**setup.stripe_headers, "Content-Type": big},
        expect=431,
    )


@pytest.mark.parametrize(
    "key",
    [
        "k" * 10_000,
        "a\x00b",
        "%00",
        "ü" * 3000,
        "..",
        "%2F..%2F",
        "%0Anext",
        " ",
        "%20",
        "NaN",
        "1e999",
        "9" * 400,
        "%ff%fe",
    ],
    ids=lambda k: k[:12],
)
def test_every_route_with_hostile_ids(setup: Setup, probe: Prober, key: str) -> None:
    routes = app_routes(setup.client.app)
    for method, path in routes:
        if "{" not in path:
            continue
        url = re.sub(r"\{\w+\}", quote(key, safe="%") if "%" in key else quote(key, safe=""), path)
        headers = setup.stripe_headers if path.startswith("/stripe/") else setup.zuora_headers
        content = b"" if path.startswith("/stripe/") else b"{}"
        r = probe(method, url, headers=headers, content=content if method in ("POST", "PUT") else None)
        if (method, posixpath.normpath(url)) in routes and posixpath.normpath(url) != url:
            # ".." walks onto another route (/v1/customers/../tax_ids is /v1/tax_ids): that route answers.
            assert r.status_code < 500, (url[:100], r.status_code, r.text[:200])
            continue
        assert 400 <= r.status_code < 500, (url[:100], r.status_code, r.text[:200])


# --- structure: nesting, encoding ---------------------------------------------------------------


def test_deeply_nested_and_oversized_forms(setup: Setup, probe: Prober) -> None:
    draft = setup.world.first("invoice")
    cases = [
        "lines" + "[a]" * 9 + "=1",
        "lines" + "[0]" * 50 + "=1",
        "a" + "[" * 5000 + "=1",
        "a" + "]" * 5000 + "=1",
        "a" + "[x]" * 20_000 + "=1",
        "&".join(f"metadata[k{i}]=v" for i in range(10_001)),
        "&".join(f"lines[{i}][amount]=1" for i in range(10_001)),
        "lines[10000][amount]=1",
        "lines[99999999999999999999999][amount]=1",
        "lines[-1][amount]=1",
        "lines[%C2%B2][amount]=1",
        "lines[0]=1&lines[0][amount]=1",
        "lines[0][amount]=1&lines[0]=1",
        "lines[][amount]=1&lines[][amount]=2&lines[5][amount]=3",
        "lines[0][amount]=1&lines[0][amount]=2",
        "=1",
        "[a]=1",
        "&&&&=&=",
        "lines[0][metadata][" + "k" * 5000 + "]=v",
        "lines[0][metadata][k]=" + "v" * 5001,
        "lines[0][tax_rates][0]=" + "t" * 10_000,
        "expand[]=" + ".".join(["lines"] * 100),
    ]
    for body in cases:
        for url in (f"/stripe/v1/invoices/{draft}/add_lines", f"/stripe/v1/invoices/{draft}/update_lines"):
            probe("POST", url, content=body.encode(), headers=setup.stripe_headers)
        probe("GET", "/stripe/v1/invoices?" + body[:20_000], headers=setup.stripe_headers)


@pytest.mark.parametrize("depth", [100, 500, 900, 980, 995, 1000, 1100, 5000, 100_000])
def test_deeply_nested_json(setup: Setup, probe: Prober, depth: int) -> None:
    nested_list = "[" * depth + "]" * depth
    nested_object = '{"a":' * depth + "1" + "}" * depth
    account = setup.world.keys["account"][1]
    bodies = {
        "/zuora/v1/accounts": lambda x: (
            '{"name":"n","currency":"USD","billToContact":{"firstName":"a","lastName":"b"},"x__c":' + x + "}"
        ),
        "/zuora/v1/orders": lambda x: (
            '{"orderDate":"2021-01-01","existingAccountNumber":"'
            + account
            + '","newAccount":'
            + x
            + ',"customFields":{"c__c":'
            + x
            + "}}"
        ),
        "/zuora/v1/bill-runs": lambda x: '{"schedule":' + x + ',"organizationLabels":[' + x + "]}",
    }
    for url, make in bodies.items():
        for inner in (nested_list, nested_object):
            probe("POST", url, content=make(inner).encode(), headers=setup.zuora_headers)
            probe("POST", url, content=inner.encode(), headers=setup.zuora_headers)


def test_non_utf8_bodies_and_query_strings(setup: Setup, probe: Prober) -> None:
    draft = setup.world.first("invoice")
    raw_bodies = [b"\xff\xfe\xfd", b"name=\xff", b"\xc3\x28=1", b"lines[0][description]=\xed\xa0\x80", b"\x00\x00"]
    for body in raw_bodies:
        probe("POST", "/stripe/v1/customers", content=body, headers=setup.stripe_headers, expect=400)
        probe("POST", f"/stripe/v1/invoices/{draft}/add_lines", content=body, headers=setup.stripe_headers, expect=400)
        probe("POST", "/zuora/v1/accounts", content=body, headers=setup.zuora_headers, expect=400)
        probe(
            "POST", "/zuora/v1/accounts", content=b'{"name":"' + body + b'"}', headers=setup.zuora_headers, expect=400
        )
        form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
        probe(
            "POST",
            "/zuora/oauth/token",
            content=b"client_id=" + body + b"&client_secret=x&grant_type=client_credentials",
            headers=form_headers,
        )
    utf16 = json.dumps({"name": "x"}).encode("utf-16")
    probe("POST", "/zuora/v1/accounts", content=utf16, headers=setup.zuora_headers, expect=400)
    for query in ("%ff", "limit=%ff", "customer=%c3%28", "%ff=%fe", "created[gte]=%ff", "a=%", "a=%zz", "%00=%00"):
        probe("GET", "/stripe/v1/invoices?" + query, headers=setup.stripe_headers)
        probe(
            "GET",
            "/zuora/object-query/invoices?" + query.replace("created[gte]", "filter[]"),
            headers=setup.zuora_headers,
        )
        probe(
            "GET",
            "/zuora/v1/invoices/" + setup.world.first("document_invoice") + "/items?" + query,
            headers=setup.zuora_headers,
        )
    for query in ("page=%C2%B2", "pageSize=%C2%B2", "pageSize=1e999", "page=" + "9" * 50, "pageSize=-1"):
        probe(
            "GET",
            f"/zuora/v1/invoices/{setup.world.first('document_invoice')}/items?{query}",
            headers=setup.zuora_headers,
        )
        probe(
            "GET",
            f"/zuora/v1/credit-memos/{setup.world.first('credit_memo')}/items?{query}",
            headers=setup.zuora_headers,
        )
        probe("GET", "/zuora/object-query/invoices?" + query, headers=setup.zuora_headers)
        probe(
            "GET", f"/zuora/v1/bill-runs/{setup.world.first('bill_run')}/accounts?{query}", headers=setup.zuora_headers
        )
    for cursor in ("%C2%B2", "bzrCsg", "bzot", "////", "=" * 10, "bzo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"):
        probe("GET", "/zuora/object-query/invoices?cursor=" + cursor, headers=setup.zuora_headers)


# --- numbers and dates ---------------------------------------------------------------------------


def zuora_bodies(world: World) -> dict[tuple[str, str], list[str]]:
    """(method, url) → JSON body templates, each with one HOLE where the hostile token goes."""
    acc_id, acc_no = world.keys["account"][0], world.keys["account"][1]
    executing = world.keys["order_line_item"][2]
    booked = world.keys["order_line_item"][1]
    draft = world.keys["document_invoice"][0]
    contact = {"firstName": "A", "lastName": "B"}
    line = {
        "itemName": "W",
        "itemType": "Product",
        "quantity": 2,
        "amountPerUnit": 10,
        "itemState": "SentToBilling",
        "billTargetDate": "2021-01-01",
    }
    order = {"orderDate": "2021-01-01", "existingAccountNumber": acc_no, "orderLineItems": [line]}
    billing = {"runBilling": True, "billingOptions": {"targetDate": "2021-01-01"}}
    item = {"chargeName": "C", "amount": 10, "serviceStartDate": "2024-07-01"}
    out: dict[tuple[str, str], list[Any]] = {
        ("POST", "/zuora/v1/accounts"): [
            {"name": "n", "currency": "USD", "billToContact": contact, "billCycleDay": HOLE},
        ],
        ("POST", "/zuora/v1/orders"): [
            {**order, "orderLineItems": [{**line, field: HOLE}], "processingOptions": billing}
            for field in ("quantity", "amountPerUnit", "listPricePerUnit", "inlineDiscountPerUnit", "prepaidQuantity")
        ]
        + [
            {**order, "orderLineItems": [{**line, "inlineDiscountType": "Percentage", "inlineDiscountPerUnit": HOLE}]},
            {**order, "orderLineItems": [{**line, "paymentTerm": HOLE}], "processingOptions": billing},
        ],
        ("POST", "/zuora/v1/order-line-items/bulk"): [
            {"orderLineItems": [{"id": executing, field: HOLE}]}
            for field in ("quantity", "amountPerUnit", "listPricePerUnit", "inlineDiscountPerUnit")
        ],
        ("POST", "/zuora/v1/fulfillments"): [
            {"fulfillments": [{"orderLineItemId": booked, "fulfillmentDate": "2021-01-05", "quantity": HOLE}]}
        ],
        ("POST", "/zuora/v1/invoices"): [
            {"accountId": acc_id, "invoiceItems": [{**item, field: HOLE}]}
            for field in ("amount", "unitPrice", "quantity")
        ],
        ("PUT", f"/zuora/v1/invoices/{draft}"): [
            {"invoiceItems": [{**item, field: HOLE}]} for field in ("amount", "unitPrice", "quantity")
        ],
        ("POST", "/zuora/v1/accounting-periods"): [
            {"name": "p", "startDate": "2031-01-01", "endDate": "2031-01-31", "fiscalYear": HOLE}
        ],
        ("POST", "/zuora/v1/bill-runs"): [{"targetDate": "2021-01-01", "billCycleDay": HOLE}],
    }
    return {key: [json.dumps(t) for t in templates] for key, templates in out.items()}


def zuora_date_bodies(world: World) -> dict[tuple[str, str], list[str]]:
    acc_id, acc_no = world.keys["account"][0], world.keys["account"][1]
    executing = world.keys["order_line_item"][2]
    booked = world.keys["order_line_item"][1]
    draft = world.keys["document_invoice"][0]
    line = {"itemName": "W", "itemType": "Product", "quantity": 1, "amountPerUnit": 1, "itemState": "SentToBilling"}
    billing = {"runBilling": True, "billingOptions": {"targetDate": "9999-12-31"}}
    item = {"chargeName": "C", "amount": 10, "serviceStartDate": "2024-07-01"}
    out: dict[tuple[str, str], list[Any]] = {
        ("POST", "/zuora/v1/orders"): [
            {"orderDate": HOLE, "existingAccountNumber": acc_no},
            {
                "orderDate": "2021-01-01",
                "existingAccountNumber": acc_no,
                "orderLineItems": [{**line, "billTargetDate": HOLE}],
                "processingOptions": billing,
            },
            {
                "orderDate": "2021-01-01",
                "existingAccountNumber": acc_no,
                "orderLineItems": [{**line, "billTargetDate": "2021-01-01", "paymentTerm": "Net 90"}],
                "processingOptions": {"runBilling": True, "billingOptions": {"targetDate": HOLE, "documentDate": HOLE}},
            },
            {
                "orderDate": "2021-01-01",
                "existingAccountNumber": acc_no,
                "orderLineItems": [
                    {**line, "billTargetDate": "2021-01-01", "transactionStartDate": HOLE, "transactionEndDate": HOLE}
                ],
            },
        ],
        ("POST", "/zuora/v1/order-line-items/bulk"): [
            {
                "orderLineItems": [{"id": executing, "itemState": "SentToBilling", "billTargetDate": HOLE}],
                "processingOptions": billing,
            }
        ],
        ("POST", "/zuora/v1/fulfillments"): [
            {"fulfillments": [{"orderLineItemId": booked, "fulfillmentDate": HOLE, "quantity": 1}]},
            {
                "fulfillments": [
                    {
                        "orderLineItemId": booked,
                        "fulfillmentDate": "2021-01-05",
                        "quantity": 1,
                        "state": "SentToBilling",
                        "billTargetDate": HOLE,
                    }
                ],
                "processingOptions": billing,
            },
        ],
        ("POST", "/zuora/v1/invoices"): [
            {"accountId": acc_id, "invoiceDate": HOLE, "invoiceItems": [item]},
            {"accountId": acc_id, "invoiceDate": "2024-07-01", "dueDate": HOLE, "invoiceItems": [item]},
            {"accountId": acc_id, "invoiceItems": [{**item, "serviceStartDate": HOLE, "serviceEndDate": HOLE}]},
            {"accountId": acc_id, "invoiceItems": [{**item, "chargeDate": HOLE}]},
        ],
        ("PUT", f"/zuora/v1/invoices/{draft}"): [{"invoiceDate": HOLE}, {"dueDate": HOLE}],
        ("PUT", f"/zuora/v1/invoices/{draft}/post"): [{"invoiceDate": HOLE}],
        ("POST", "/zuora/v1/accounting-periods"): [
            {"name": "p", "startDate": HOLE, "endDate": "2031-01-31", "fiscalYear": 2031},
            {"name": "p", "startDate": "2031-01-01", "endDate": HOLE, "fiscalYear": 2031},
        ],
        ("POST", "/zuora/v1/bill-runs"): [{"targetDate": HOLE}, {"targetDate": "2021-01-01", "invoiceDate": HOLE}],
    }
    return {key: [json.dumps(t) for t in templates] for key, templates in out.items()}


def test_zuora_numbers(setup: Setup, probe: Prober) -> None:
    for (method, url), templates in zuora_bodies(setup.world).items():
        for template in templates:
            for token in JSON_NUMBERS:
                probe(method, url, content=template.replace(f'"{HOLE}"', token).encode(), headers=setup.zuora_headers)


def test_zuora_dates(setup: Setup, probe: Prober) -> None:
    for (method, url), templates in zuora_date_bodies(setup.world).items():
        for template in templates:
            for token in JSON_DATES:
                probe(method, url, content=template.replace(f'"{HOLE}"', token).encode(), headers=setup.zuora_headers)
    for value in ("9999-99-99", "0000-01-01", "10000-01-01", "9999-12-31", "0001-01-01", "1e999"):
        for field in ("invoiceDate", "dueDate"):
            for op in ("GE", "LT", "EQ", "IN"):
                query = {"filter[]": f"{field}.{op}:{value}"}
                probe("GET", "/zuora/object-query/invoices", params=query, headers=setup.zuora_headers)


def stripe_forms(world: World) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(method, url) → form bodies with one HOLE each."""
    draft, customer = world.first("invoice"), world.first("customer")
    price, recurring, product = world.keys["price"][0], world.keys["price"][1], world.first("product")
    line = world.first("line")
    return {
        ("POST", f"/stripe/v1/invoices/{draft}/add_lines"): [
            {"lines": [{"amount": HOLE}]},
            {"lines": [{"pricing": {"price": price}, "quantity": HOLE}]},
            {"lines": [{"pricing": {"price": price}, "quantity_decimal": HOLE}]},
            {"lines": [{"price_data": {"currency": "usd", "product": product, "unit_amount": HOLE}, "quantity": 1}]},
            {"lines": [{"price_data": {"currency": "usd", "product": product, "unit_amount_decimal": HOLE}}]},
            {"lines": [{"amount": 1, "period": {"start": HOLE, "end": HOLE}}]},
            {"lines": [{"amount": 1, "period": {"start": 1, "end": HOLE}}]},
        ],
        ("POST", f"/stripe/v1/invoices/{draft}/update_lines"): [
            {"lines": [{"id": line, "amount": HOLE}]},
            {"lines": [{"id": line, "quantity": HOLE}]},
        ],
        ("POST", "/stripe/v1/invoiceitems"): [
            {"customer": customer, "amount": HOLE},
            {"customer": customer, "pricing": {"price": price}, "quantity": HOLE},
            {"customer": customer, "price_data": {"currency": "usd", "product": product, "unit_amount_decimal": HOLE}},
            {"customer": customer, "amount": 1, "period": {"start": HOLE, "end": HOLE}},
        ],
        ("POST", "/stripe/v1/prices"): [
            {"currency": "usd", "product": product, "unit_amount": HOLE},
            {"currency": "usd", "product": product, "unit_amount_decimal": HOLE},
            {
                "currency": "usd",
                "product": product,
                "unit_amount": 1,
                "recurring": {"interval": "month", "interval_count": HOLE},
            },
        ],
        ("POST", "/stripe/v1/coupons"): [
            {"percent_off": HOLE},
            {"amount_off": HOLE, "currency": "usd"},
            {"percent_off": 5, "duration": "repeating", "duration_in_months": HOLE},
            {"percent_off": 5, "redeem_by": HOLE},
            {"percent_off": 5, "max_redemptions": HOLE},
        ],
        ("POST", "/stripe/v1/tax_rates"): [{"display_name": "T", "inclusive": "false", "percentage": HOLE}],
        ("POST", "/stripe/v1/customers"): [{"balance": HOLE}],
        ("POST", "/stripe/v1/invoices"): [
            {"customer": customer, "collection_method": "send_invoice", "days_until_due": HOLE},
            {"customer": customer, "collection_method": "send_invoice", "due_date": HOLE},
        ],
        ("POST", "/stripe/v1/subscriptions"): [
            {"customer": customer, "items": [{"price": recurring, "quantity": HOLE}]},
            {
                "customer": customer,
                "items": [{"price": recurring}],
                "collection_method": "send_invoice",
                "days_until_due": HOLE,
            },
        ],
        ("POST", "/stripe/v1/test_helpers/test_clocks"): [{"frozen_time": HOLE}],
        ("POST", f"/stripe/v1/test_helpers/test_clocks/{world.first('test_clock')}/advance"): [{"frozen_time": HOLE}],
        ("GET", "/stripe/v1/invoices"): [{"limit": HOLE}, {"created": {"gte": HOLE}}, {"due_date": {"lt": HOLE}}],
        ("GET", "/stripe/v1/customers"): [{"limit": HOLE}, {"created": HOLE}],
    }


def test_stripe_numbers_and_times(setup: Setup, probe: Prober) -> None:
    for (method, url), templates in stripe_forms(setup.world).items():
        for template in templates:
            encoded = form(template)
            timed = any(
                f"{name}%5D={HOLE}" in encoded or f"{name}]={HOLE}" in encoded or f"{name}={HOLE}" in encoded
                for name in TIME_FIELDS
            )
            for value in FORM_TIMES + FORM_NUMBERS[:6] if timed else FORM_NUMBERS + FORM_TIMES[:4]:
                body = encoded.replace(HOLE, quote(value, safe=""))
                if method == "GET":
                    probe(method, url + "?" + body, headers=setup.stripe_headers)
                else:
                    probe(method, url, content=body.encode(), headers=setup.stripe_headers)


# --- every field's bounds, walked from what the routes declare (issue 12) --------------------------

# Numbers Python alone would read, and text PostgreSQL cannot store: refused in every field.
LENIENT_NUMBERS = ["1_0", "١٢", " 1"]
NUL_TEXT = "a\x00b"
PAST_DATES = ["10000-01-01", "1969-12-31", "20240711", "2024-W28-4"]


def stripe_cases(leaf: Leaf) -> list[tuple[Any, Path]]:
    """(value to put at the leaf, the parameter the refusal must name) for one leaf of a spec."""
    name = leaf.path[-1] if leaf.path else ""
    assert isinstance(leaf.spec, Time) or name not in TIME_FIELDS, f"{leaf.path} is a time read as {leaf.spec}"
    if isinstance(leaf.spec, Int | Dec):
        assert -MAX_TOTAL <= leaf.spec.minimum <= leaf.spec.maximum <= MAX_TOTAL, f"{leaf.path}: {leaf.spec}"
        return [(value, leaf.path) for value in past_bounds(leaf.spec) + LENIENT_NUMBERS]
    if isinstance(leaf.spec, Metadata):
        return [({"k": NUL_TEXT}, (*leaf.path, "k"))]
    return [(NUL_TEXT, leaf.path)]


def test_stripe_fields_walked_from_the_specs(setup: Setup, probe: Prober, counts: Counts) -> None:
    routes = stripe_route_specs(setup.client, setup.world, setup.stripe_headers)
    assert len(routes) >= 40, sorted(routes)
    fields = {"number": 0, "time": 0, "text": 0}
    for (method, template), specs in sorted(routes.items()):
        url = own_path(template, setup.world)
        for root in specs:
            for leaf in leaves(root):
                kind = (
                    "time" if isinstance(leaf.spec, Time) else "number" if isinstance(leaf.spec, Int | Dec) else "text"
                )
                fields[kind] += 1
                for value, named in stripe_cases(leaf):
                    body = body_with(root, leaf.path, value)
                    response = stripe_request(method, url, body, probe, setup.stripe_headers)
                    label = f"{method} {template} {stripe_param(leaf.path)}={value!r}"
                    assert response.status_code == 400, f"{label}: {response.status_code} {response.text[:300]}"
                    assert response.json()["error"].get("param") == stripe_param(named), (label, response.text[:300])
    for kind, n in fields.items():
        counts.add(f"spec walk: Stripe {kind} fields (route × field)", n)


def zuora_cases(leaf: SchemaLeaf, text_paths: set[Path]) -> list[Any]:
    if leaf.kind == "number":
        low, high = leaf.schema.get("minimum"), leaf.schema.get("maximum")
        assert low is not None and high is not None, f"{leaf.path} declares no bounds: {leaf.schema}"
        assert -MAX_TOTAL <= low <= high <= MAX_TOTAL, f"{leaf.path} could hold more than any sum stored: {leaf.schema}"
        lenient = [] if leaf.path in text_paths else LENIENT_NUMBERS  # a field that also takes text
        return [high + 1, low - 1, *lenient]
    if leaf.kind == "date":
        return PAST_DATES
    return [NUL_TEXT]


def assert_zuora_names(response: httpx.Response, field: str, label: str) -> None:
    assert response.status_code == 400, f"{label}: {response.status_code} {response.text[:300]}"
    reasons = response.json()["reasons"]
    assert any(field in r["message"] and r["code"] % 100 in (20, 27) for r in reasons), (label, reasons)


def test_zuora_fields_walked_from_the_openapi_document(setup: Setup, probe: Prober, counts: Counts) -> None:
    doc = setup.client.get("/zuora/openapi.json").json()
    fields = {"number": 0, "date": 0, "string": 0, "query number": 0}
    for method, template, operation in zuora_operations(doc):
        url = own_path(template, setup.world)
        schema = json_body_schema(operation)
        found = list(schema_leaves(doc, schema)) if schema is not None else []
        # A field that also takes text (billCycleDay: a day or "AllBillCycleDays") declares that text's
        # length; a decimal's own string form ("10.50") does not, and must refuse "1_0" like the number.
        text_paths = {leaf.path for leaf in found if leaf.kind == "string" and "maxLength" in leaf.schema}
        for leaf in found:
            fields[leaf.kind] += 1
            for value in zuora_cases(leaf, text_paths):
                content = json.dumps(json_with(leaf.path, value)).encode()
                response = probe(method, url, content=content, headers=setup.zuora_headers)
                field = zuora_path(leaf.path)
                assert_zuora_names(response, field + ":", f"{method} {template} {field}={value!r}")
        for parameter in operation.get("parameters", []):
            bounds = parameter.get("schema", {})
            if parameter["in"] != "query" or bounds.get("type") not in ("integer", "number"):
                continue
            fields["query number"] += 1
            assert "maximum" in bounds and "minimum" in bounds, f"{template} ?{parameter['name']} declares no bounds"
            for value in (bounds["maximum"] + 1, bounds["minimum"] - 1, *LENIENT_NUMBERS):
                response = probe(method, url, params={parameter["name"]: value}, headers=setup.zuora_headers)
                label = f"{method} {template}?{parameter['name']}={value!r}"
                assert_zuora_names(response, parameter["name"], label)
    for kind, n in fields.items():
        counts.add(f"spec walk: Zuora {kind} fields (operation × field)", n)
