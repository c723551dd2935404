"""Shared fixtures: every API test runs on SQLite and on PostgreSQL.

PostgreSQL comes from a throw-away cluster started with the machine's initdb/pg_ctl (or from
BULKBILL_TEST_PG_URL). Under CI=true a missing PostgreSQL fails the run instead of skipping.
Tests are isolated by tenant: each test gets a fresh tenant in a shared, migrated database,
which is exactly the isolation bulkbill promises its users.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bulkbill.api.app import create_app
from bulkbill.config import Settings
from bulkbill.devtools.pg_cluster import PgCluster, PostgresUnavailable
from bulkbill.services.platform.tenants import NewTenant
from tests.helpers import BACKENDS, StripeClient, ZuoraClient, new_database_url, new_tenant, zuora_for


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
    return StripeClient(client, new_tenant(client, "other").stripe_secret_key)


def pytest_make_parametrize_id(config: pytest.Config, val: Any, argname: str) -> str | None:
    return None


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
