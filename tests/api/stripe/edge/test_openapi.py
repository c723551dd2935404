"""GET /stripe/openapi.json says what the Stripe routes serve and read.

The document lists exactly the sub-app's routes with their path parameters, declares the two ways
of sending the secret key and the error envelope, and for every operation declares exactly the
parameters its handler checks: each route is called with an undeclared parameter while the
parameter checker records the spec it was handed, and the declared body (POST) or query (GET,
DELETE) must be that spec's schema. The undeclared parameter is refused, so nothing changes.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import secrets
from typing import Any

import pytest
from fastapi.testclient import TestClient

import bulkbill.api.stripe
import bulkbill.api.stripe.edge.params as params
from bulkbill.api.docs import DOCS_PATHS
from bulkbill.api.stripe.app import create_stripe_app
from bulkbill.api.stripe.edge.openapi import query_params
from tests.helpers import StripeClient, app_routes

ROUTES = [(m, p) for m, p in app_routes(create_stripe_app()) if p != "/openapi.json" and p not in DOCS_PATHS]
FORM = "application/x-www-form-urlencoded"
UNDECLARED = "zz_undeclared"


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/stripe/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_the_document_lists_every_route_with_its_path_parameters(document: dict[str, Any]) -> None:
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert documented == set(ROUTES)
    assert document["servers"] == [{"url": "/stripe"}]
    for method, path in ROUTES:
        operation = document["paths"][path][method.lower()]
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), (method, path)
        assert {"200", "4XX", "5XX"} <= operation["responses"].keys() and "422" not in operation["responses"]
        error = operation["responses"]["4XX"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/Error"}
        if method == "POST":
            assert list(operation["requestBody"]["content"]) == [FORM], (method, path)
            assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}
        else:
            assert "requestBody" not in operation, (method, path)


def test_the_document_declares_the_key_schemes_and_the_error_envelope(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert {name: (s["type"], s["scheme"]) for name, s in schemes.items()} == {
        "bearerAuth": ("http", "bearer"),
        "basicAuth": ("http", "basic"),
    }
    assert document["security"] == [{"bearerAuth": []}, {"basicAuth": []}]
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert {"type", "message", "code", "param"} <= error["properties"]["error"]["properties"].keys()
    assert "HTTPValidationError" not in document["components"]["schemas"]


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_each_operation_declares_the_parameters_its_handler_checks(
    method: str, path: str, document: dict[str, Any], stripe: StripeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed: list[params.Obj] = []
    checker = params.parse

    def recording(spec: params.Obj, values: Any) -> dict[str, Any]:
        handed.append(spec)
        return checker(spec, values)

    for module in pkgutil.walk_packages(bulkbill.api.stripe.__path__, "bulkbill.api.stripe."):
        loaded = importlib.import_module(module.name)
        if getattr(loaded, "parse", None) is checker:
            monkeypatch.setattr(loaded, "parse", recording)

    url = re.sub(r"\{\w+\}", lambda _: "x_" + secrets.token_hex(6), path)
    query = f"{UNDECLARED}=1" if method != "POST" else ""
    body = f"{UNDECLARED}=1" if method == "POST" else None
    response = stripe.client.request(
        method,
        f"/stripe{url}?{query}",
        content=body,
        headers={"Authorization": f"Bearer {stripe.key}", "Content-Type": FORM},
    )
    assert response.status_code == 400, response.text  # refused (the undeclared parameter, at least)
    assert handed, f"{method} {path} answered without checking its parameters"
    spec = handed[0]

    operation = document["paths"][path][method.lower()]
    if method == "POST":
        assert operation["requestBody"]["content"][FORM]["schema"] == spec.json_schema()
        assert operation["requestBody"]["required"] == bool(spec.required)
    else:
        declared = [p for p in operation.get("parameters", []) if p["in"] == "query"]
        assert declared == query_params(spec)["parameters"]
