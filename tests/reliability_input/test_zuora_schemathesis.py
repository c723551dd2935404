"""Schemathesis over every operation of the Zuora dialect's OpenAPI document (GET /zuora/openapi.json).

The document is checked first: it lists exactly the sub-app's routes (none left out), every route
that reads a body declares it, and it declares the bearer scheme and the error envelope. Then each
operation gets positive and negative cases from schemathesis (bodies, query, headers, path ids;
ids are swapped for the ids of a populated tenant half of the time, so cases reach the rules, not
only the lookups), sent in-process through the application, and checked: no 5xx, the status code,
content type and body match the document, and a refused call (4xx, or `success: false` at HTTP 200
for old Zuora-Version values) left every row of the tenant as it was. The default run is bounded
(MAX_EXAMPLES per operation and database, derandomized); `--run-slow` runs SLOW_EXAMPLES, random.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bulkbill.api.docs import DOCS_PATHS
from bulkbill.api.zuora.app import create_zuora_app
from tests.helpers import app_routes, new_tenant, zuora_for
from tests.reliability_input.conftest import Counts
from tests.reliability_input.world import CaseLedger, World, build_world, fuzz_settings

MAX_EXAMPLES = 20
SLOW_EXAMPLES = 400
ROUTES = app_routes(create_zuora_app())
# The document and the docs pages describe the API; they are not operations of it.
OPERATIONS = [f"{m} {p}" for m, p in ROUTES if p != "/openapi.json" and p not in DOCS_PATHS]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Path parameter → the populated tenant's keys it is filled with half of the time.
PATH_KINDS = {
    "bill_run_id": ["bill_run"],
    "item_id": ["fulfillment_item", "order_line_item"],
    "key": ["fulfillment"],
    "order_number": ["order"],
    "account_key": ["account"],
    "period_id": ["accounting_period"],
    "invoice_key": ["document_invoice", "invoice"],
    "memo_key": ["credit_memo"],
}
# Body fields that name objects → the kinds swapped in.
BODY_KINDS = {
    "id": ["order_line_item", "document_invoice", "fulfillment_item"],
    "accountId": ["account"],
    "accountNumber": ["account"],
    "existingAccountNumber": ["account"],
    "orderLineItemId": ["order_line_item"],
    "fulfillmentId": ["fulfillment"],
    "fulfillmentNumber": ["fulfillment"],
    "originalOrderNumber": ["order"],
}


@pytest.fixture(scope="module")
def zuora_schema(client: TestClient) -> Any:
    response = client.get("/zuora/openapi.json")
    assert response.status_code == 200
    return schemathesis.openapi.from_dict(response.json())


@pytest.fixture(scope="module")
def fuzz_world(client: TestClient) -> Iterator[tuple[World, str]]:
    tenant = new_tenant(client, "fuzz")
    zuora = zuora_for(client, tenant)
    yield build_world(client, tenant, zuora), zuora.token


def test_the_document_covers_every_route(client: TestClient) -> None:
    document = client.get("/zuora/openapi.json").json()
    documented = {f"{m.upper()} {p}" for p, ops in document["paths"].items() for m in ops}
    assert documented == set(OPERATIONS)
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    for label in OPERATIONS:
        method, path = label.split(" ", 1)
        operation = document["paths"][path][method.lower()]
        assert {"200", "4XX", "5XX"} <= operation["responses"].keys() and "422" not in operation["responses"], label
        if method in ("POST", "PUT") and not operation.get("x-no-request-body"):
            # A PUT or POST declares its body, or says it reads none (openapi.no_body()).
            assert "requestBody" in operation, f"{label} reads a body but the document declares none"
        if path == "/oauth/token":
            assert operation["security"] == []
    # Every declared body schema resolves (the models' schemas are all in components).
    text = json.dumps(document)
    for name in {ref.split("/")[-1] for ref in _refs(document)}:
        assert name in document["components"]["schemas"], name
    assert "HTTPValidationError" not in text


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_zuora_operation(
    operation: str, client: TestClient, zuora_schema: Any, fuzz_world: tuple[World, str], counts: Counts
) -> None:
    fuzz(operation, client, zuora_schema, fuzz_world, counts, MAX_EXAMPLES, derandomize=True)


@pytest.mark.slow
@pytest.mark.parametrize("operation", OPERATIONS)
def test_zuora_operation_long(
    operation: str, client: TestClient, zuora_schema: Any, fuzz_world: tuple[World, str], counts: Counts
) -> None:
    fuzz(operation, client, zuora_schema, fuzz_world, counts, SLOW_EXAMPLES, derandomize=False)


def fuzz(
    operation: str,
    client: TestClient,
    schema: Any,
    world_and_token: tuple[World, str],
    counts: Counts,
    examples: int,
    *,
    derandomize: bool,
) -> None:
    world, token = world_and_token
    method, path = operation.split(" ", 1)
    found = schema.find_operation_by_label(f"{method} {path}")
    assert found is not None, f"{operation} is not in the OpenAPI document"
    strategy = found.as_strategy(GenerationMode.POSITIVE) | found.as_strategy(GenerationMode.NEGATIVE)
    ledger = CaseLedger(client, world.tenant.id)

    @fuzz_settings(examples, derandomize=derandomize)
    @given(case=strategy, data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        rng = random.Random(data.draw(st.integers(0, 2**32), label="swap seed"))
        _swap_ids(case, world, rng)
        kwargs = case.as_transport_kwargs(base_url="http://testserver/zuora")
        headers = kwargs["headers"]
        if "Authorization" in headers or "authorization" in headers or rng.random() < 0.9:
            headers["Authorization"] = f"Bearer {token}"  # negative cases may drop it: 401 then
        for name in ("Zuora-Entity-Ids", "Zuora-Org-Ids"):  # random values are a 403 before anything else
            if name in headers and rng.random() < 0.7:
                headers.pop(name)
        response = send(client, kwargs)
        payload = str(kwargs.get("json", kwargs.get("content")))[:800]
        sent = f"{kwargs['method']} {kwargs['url']} {kwargs.get('params')} {payload}"
        assert response.status_code < 500, f"{sent}: {response.status_code} {response.text[:500]}"
        case.validate_response(response, checks=CHECKS)
        ledger.record(refused(response), f"{sent} ({response.status_code}) {response.text[:300]}")

    run()
    ledger.report(counts, "zuora schemathesis")


def _swap_ids(case: Any, world: World, rng: random.Random) -> None:
    """Half of the time, path ids and id fields of the body name real objects of the tenant."""
    for name in list(case.path_parameters or {}):
        if name in PATH_KINDS and rng.random() < 0.5:
            keys = [k for kind in PATH_KINDS[name] for k in world.keys.get(kind, [])]
            case.path_parameters[name] = rng.choice(keys)
    if isinstance(case.body, dict | list):
        _swap_body(case.body, world, rng)


def _swap_body(node: Any, world: World, rng: random.Random) -> None:
    if isinstance(node, list):
        for value in node:
            _swap_body(value, world, rng)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in BODY_KINDS and isinstance(value, str) and rng.random() < 0.5:
                node[key] = rng.choice([k for kind in BODY_KINDS[key] for k in world.keys.get(kind, [])])
            else:
                _swap_body(value, world, rng)


def send(client: TestClient, kwargs: dict[str, Any]) -> httpx.Response:
    kwargs = dict(kwargs)
    kwargs.pop("cookies", None)
    if "data" in kwargs and not isinstance(kwargs["data"], dict):
        kwargs["content"] = kwargs.pop("data")
    return client.request(**kwargs)


def refused(response: httpx.Response) -> bool:
    if response.status_code >= 400:
        return True
    try:
        body = response.json()
    except ValueError:
        return True
    return isinstance(body, dict) and body.get("success") is False
