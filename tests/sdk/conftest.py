"""A real bulkbill server (uvicorn in a thread) driven by the official SDKs, through bulkbill's own pytest plugin.

The server and the tenants are the plugin's fixtures (`bulkbill_server`, `bulkbill_tenant`, src/bulkbill/
testing), so every run exercises what users install; here the plugin's database is the suite's, so every
SDK test runs on SQLite and on PostgreSQL. Every response any Stripe SDK test receives passes through
`check_response`: it must carry a Request-Id header, be JSON, and every object in it (lists' items,
expanded objects, embedded lines, deleted stubs, error bodies) must match Stripe's published OpenAPI
schema of the same name (tests/helpers/schema.py). The SDK's HTTP client is wrapped, so no test can
forget to validate. The checks and the tenant class are in tests/helpers/sdk.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bulkbill.config import Settings
from bulkbill.testing.server import BulkbillServer, serve_in_thread
from bulkbill.testing.tenant import Tenant
from tests.helpers.sdk import SdkTenant


@pytest.fixture(scope="session")
def bulkbill_database_url(database_url: str) -> str:
    """The plugin's server, once per database of the suite (SQLite, PostgreSQL)."""
    return database_url


@pytest.fixture(scope="session")
def bulkbill_server(bulkbill_database_url: str) -> Iterator[BulkbillServer]:
    """The plugin's server without its webhook sender: the suite's database is shared with tests that run
    senders of their own (tests/api/stripe/events), and a sender beside theirs would take their deliveries."""
    settings = Settings(database_url=bulkbill_database_url, webhooks_in_serve=False)
    with serve_in_thread(settings=settings) as server:
        yield server


@pytest.fixture
def sdk(bulkbill_server: BulkbillServer, bulkbill_tenant: Tenant) -> Iterator[SdkTenant]:
    tenant = SdkTenant(bulkbill_server, bulkbill_tenant)
    yield tenant
    tenant.close()


@pytest.fixture
def other_sdk(bulkbill_server: BulkbillServer) -> Iterator[SdkTenant]:
    tenant = SdkTenant(bulkbill_server, bulkbill_server.new_tenant("sdk-other"))
    yield tenant
    tenant.close()
