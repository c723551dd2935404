"""The pytest plugin (entry point `pytest11`): a bulkbill server per test session and a clean tenant per test.

Fixtures: `bulkbill_server`, `bulkbill_tenant`, `stripe_client`, `zuora_api_client`, `bulkbill_clock`,
`stripe_webhooks`, and
`bulkbill_database_url` (override it to choose the database in code). Under pytest-xdist each worker
starts its own server (on its own SQLite file, or on the one PostgreSQL database named); tenants keep
tests apart either way. Nothing heavy is imported until a fixture is used: installing bulkbill costs
other projects' test runs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from bulkbill.testing.clock import Clocks
    from bulkbill.testing.server import BulkbillServer
    from bulkbill.testing.tenant import Tenant
    from bulkbill.testing.webhooks import WebhookReceiver

DATABASE_URL_ENV = "BULKBILL_TEST_DATABASE_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bulkbill", "bulkbill (a Stripe and Zuora stand-in)")
    group.addoption(
        "--bulkbill-database-url",
        default=None,
        help=f"database of the test server (e.g. postgresql://USER@HOST/DB; default: ${DATABASE_URL_ENV}, "
        "else SQLite in a temporary folder)",
    )


@pytest.fixture(scope="session")
def bulkbill_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """--bulkbill-database-url, else $BULKBILL_TEST_DATABASE_URL, else a new SQLite file (one per xdist worker)."""
    from bulkbill.testing.server import sqlite_url

    named: str | None = request.config.getoption("bulkbill_database_url") or os.environ.get(DATABASE_URL_ENV)
    return named or sqlite_url(tmp_path_factory.mktemp("bulkbill"))


@pytest.fixture(scope="session")
def bulkbill_server(bulkbill_database_url: str) -> Iterator[BulkbillServer]:
    """bulkbill listening on a free 127.0.0.1 port for the whole session (per xdist worker)."""
    from bulkbill.testing.server import serve_in_thread

    with serve_in_thread(bulkbill_database_url) as server:
        yield server


@pytest.fixture
def bulkbill_tenant(bulkbill_server: BulkbillServer, request: pytest.FixtureRequest) -> Tenant:
    """A fresh tenant for this test: its Stripe secret key and Zuora client id and secret."""
    return bulkbill_server.new_tenant(request.node.name[:150])


@pytest.fixture
def stripe_client(bulkbill_tenant: Tenant) -> Any:
    """A `stripe.StripeClient` on the test's tenant (no network retries); skips when stripe is not installed."""
    return _or_skip(bulkbill_tenant.stripe_client)


@pytest.fixture
def zuora_api_client(bulkbill_tenant: Tenant) -> Iterator[Any]:
    """A `zuora_sdk.ApiClient` on the test's tenant with a bearer token; skips when zuora-sdk is not installed."""
    client = _or_skip(bulkbill_tenant.zuora_api_client)
    with client:
        yield client


@pytest.fixture
def bulkbill_clock(stripe_client: Any) -> Clocks:
    """Stripe test clocks on the test's tenant: `bulkbill_clock.create(when)`, then `.customer()`, `.advance()`."""
    from bulkbill.testing.clock import Clocks

    return Clocks(stripe_client)


@pytest.fixture
def stripe_webhooks(stripe_client: Any) -> Iterator[WebhookReceiver]:
    """A local receiver subscribed to every event of the test's tenant: `stripe_webhooks.wait_for(type,
    predicate, timeout)` returns the event, verified with stripe-python's Webhook.construct_event."""
    from bulkbill.testing.webhooks import WebhookReceiver

    receiver = WebhookReceiver()
    try:
        receiver.subscribe(stripe_client)
        yield receiver
    finally:
        receiver.close()


def _or_skip(make: Any) -> Any:
    from bulkbill.testing.tenant import SdkMissing

    try:
        return make()
    except SdkMissing as exc:
        pytest.skip(str(exc))
