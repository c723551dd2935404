"""Test helpers every suite uses: thin Stripe- and Zuora-dialect clients over the ASGI test client, a form
encoder, tenants and test databases. Dialect helpers are in tests/helpers/stripe.py and zuora.py, the SDK
tests' in sdk.py, the core factories in core.py, Stripe's schemas in schema.py. Fixtures stay in conftest.py."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from bulkbill.devtools.pg_cluster import PgCluster
from bulkbill.services.platform.tenants import NewTenant, create_tenant

# Copies of outside documents the tests replay (see tests/data/README.md for where each came from).
DATA = Path(__file__).resolve().parents[1] / "data"


def zuora_seed_body(name: str) -> dict[str, Any]:
    """The JSON request body of Zuora seed page `name` ("000", "001"), exactly as published."""
    seeds: dict[str, dict[str, Any]] = json.loads((DATA / "zuora_seed_bodies.json").read_text(encoding="utf-8"))
    body: dict[str, Any] = seeds[name]["body"]
    return body


def encode(params: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Encode like stripe-python: nested dicts in brackets, indexed lists, true/false, None omitted."""
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, dict):
            out.extend(encode(value, name))
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    out.extend(encode(item, f"{name}[{i}]"))
                else:
                    out.append((f"{name}[{i}]", _scalar(item)))
        else:
            out.append((name, _scalar(value)))
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def form(params: dict[str, Any]) -> str:
    return "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in encode(params))


class StripeClient:
    """Calls /stripe/v1/... with a tenant's key; bodies are dicts (encoded) or raw form strings."""

    def __init__(self, client: TestClient, key: str) -> None:
        self.client = client
        self.key = key

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/x-www-form-urlencoded"}
        headers.update(extra or {})
        return headers

    def post(
        self, path: str, data: dict[str, Any] | str | None = None, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        body = data if isinstance(data, str) else form(data or {})
        return self.client.post("/stripe" + path, content=body, headers=self._headers(headers))

    def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        query = form(params or {})
        return self.client.get("/stripe" + path + ("?" + query if query else ""), headers=self._headers(None))

    def delete(self, path: str) -> httpx.Response:
        return self.client.delete("/stripe" + path, headers=self._headers(None))

    def ok(self, method: str, path: str, data: dict[str, Any] | str | None = None) -> dict[str, Any]:
        """Call and insist on 200; return the JSON body."""
        if method == "GET":
            response = self.get(path, data if isinstance(data, dict) else None)
        elif method == "DELETE":
            response = self.delete(path)
        else:
            response = self.post(path, data)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def error(
        self, method: str, path: str, data: dict[str, Any] | str | None = None, *, status: int = 400
    ) -> dict[str, Any]:
        """Call and insist on an error envelope with `status`; return the inner error."""
        if method == "GET":
            response = self.get(path, data if isinstance(data, dict) else None)
        elif method == "DELETE":
            response = self.delete(path)
        else:
            response = self.post(path, data)
        assert response.status_code == status, response.text
        error: dict[str, Any] = response.json()["error"]
        assert error["type"] and error["message"]
        return error


class ZuoraClient:
    """Calls /zuora/... with a bearer token from the tenant's client credentials; JSON in and out."""

    def __init__(self, client: TestClient, token: str, *, version: str | None = "2025-08-12") -> None:
        self.client = client
        self.token = token
        self.version = version

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        if self.version:
            headers["Zuora-Version"] = self.version
        headers.update(extra or {})
        return headers

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        content = None if body is None else (body if isinstance(body, str | bytes) else _json_dumps(body))
        return self.client.request(
            method, "/zuora" + path, content=content, headers=self.headers(headers), params=params
        )

    def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        """Call and insist on HTTP 200 with success true (when the body has `success`)."""
        response = self.request(method, path, body, **kw)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        assert data.get("success", True) is True, response.text
        return data

    def fail(self, method: str, path: str, body: Any = None, *, status: int, **kw: Any) -> dict[str, Any]:
        """Call and insist on a Zuora error envelope with `status`; return the body."""
        response = self.request(method, path, body, **kw)
        assert response.status_code == status, response.text
        data: dict[str, Any] = response.json()
        assert data["success"] is False and data["reasons"] and data["processId"], response.text
        return data


def _json_dumps(body: Any) -> str:
    from decimal import Decimal

    return json.dumps(body, default=lambda v: str(v) if isinstance(v, Decimal) else v)


def app_routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, full path) the application serves, mounted sub-apps included, from the app object."""
    from fastapi.routing import iter_route_contexts
    from starlette.routing import Mount

    out: list[tuple[str, str]] = []

    def walk(routes: Any, prefix: str) -> None:
        for route in iter_route_contexts(routes):
            original = route.original_route
            if isinstance(original, Mount):
                walk(original.routes, prefix + original.path)
                continue
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    out.append((method, prefix + str(route.path)))

    walk(app.routes, "")
    return out


# --- tenants and databases -------------------------------------------------------------------------

BACKENDS = ["sqlite", "postgres"]


def new_database_url(backend: str, request: pytest.FixtureRequest, tmp_dir: Path) -> str:
    """A fresh, empty database for `backend`: a new SQLite file, or a new database in the test cluster."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / ('bulkbill-' + uuid.uuid4().hex[:8] + '.db')}"
    if os.environ.get("BULKBILL_TEST_PG_URL"):
        return os.environ["BULKBILL_TEST_PG_URL"]
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database("bb_" + uuid.uuid4().hex[:10])


def new_tenant(client: TestClient, name: str = "t") -> NewTenant:
    """A fresh tenant in the test client's database (tests are isolated by tenant)."""
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    with state.sessions.begin() as session:
        return create_tenant(session, name + "-" + uuid.uuid4().hex[:12], now=int(time.time()))


def zuora_for(client: TestClient, tenant: NewTenant, headers: dict[str, str] | None = None) -> ZuoraClient:
    """A Zuora client holding a fresh token for the tenant's client credentials (`headers` on the token call)."""
    response = client.post(
        "/zuora/oauth/token",
        data={
            "client_id": tenant.zuora_client_id,
            "client_secret": tenant.zuora_client_secret,
            "grant_type": "client_credentials",
        },
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return ZuoraClient(client, response.json()["access_token"])
