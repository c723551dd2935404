"""Shared fixtures: every API test runs on SQLite and on PostgreSQL.

PostgreSQL comes from a throw-away cluster started with the machine's initdb/pg_ctl (or from
BULKBILL_TEST_PG_URL). Under CI=true a missing PostgreSQL fails the run instead of skipping.
Tests are isolated by tenant: each test gets a fresh tenant in a shared, migrated database,
which is exactly the isolation bulkbill promises its users.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bulkbill.api.app import create_app
from bulkbill.config import Settings
from bulkbill.devtools.pg_cluster import PgCluster, PostgresUnavailable
from bulkbill.services.platform.tenants import NewTenant, create_tenant
from tests.helpers import StripeClient, ZuoraClient

BACKENDS = ["sqlite", "postgres"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="run the long variants too")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="long variant: pass --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster | None]:
    if os.environ.get("BULKBILL_TEST_PG_URL"):
        yield None
        return
    try:
        cluster = PgCluster.start()
    except (PostgresUnavailable, OSError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL not available: {exc}")
    yield cluster
    cluster.stop()


def new_database_url(backend: str, request: pytest.FixtureRequest, tmp_dir: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / ('bulkbill-' + uuid.uuid4().hex[:8] + '.db')}"
    if os.environ.get("BULKBILL_TEST_PG_URL"):
        return os.environ["BULKBILL_TEST_PG_URL"]
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database("bb_" + uuid.uuid4().hex[:10])


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    return new_database_url(request.param, request, tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def tenant_key(tenant: NewTenant) -> str:
    return tenant.stripe_secret_key


@pytest.fixture
def stripe(client: TestClient, tenant_key: str) -> StripeClient:
    return StripeClient(client, tenant_key)


@pytest.fixture
def other_stripe(client: TestClient) -> StripeClient:
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    with state.sessions.begin() as session:
        tenant = create_tenant(session, "other-" + uuid.uuid4().hex[:6], now=int(time.time()))
    return StripeClient(client, tenant.stripe_secret_key)


def pytest_make_parametrize_id(config: pytest.Config, val: Any, argname: str) -> str | None:
    return None


def new_tenant(client: TestClient, name: str = "t") -> NewTenant:
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    with state.sessions.begin() as session:
        return create_tenant(session, name + "-" + uuid.uuid4().hex[:6], now=int(time.time()))


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


@pytest.fixture
def tenant(client: TestClient) -> NewTenant:
    return new_tenant(client)


@pytest.fixture
def zuora(client: TestClient, tenant: NewTenant) -> ZuoraClient:
    """A Zuora-dialect client for the same tenant as `stripe` when both are used (one core)."""
    return zuora_for(client, tenant)


@pytest.fixture
def other_zuora(client: TestClient) -> ZuoraClient:
    return zuora_for(client, new_tenant(client, "other"))
