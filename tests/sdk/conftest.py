"""A real bulkbill server (uvicorn in a thread) driven by the official stripe-python SDK.

Every response any SDK test receives passes through `check_response`: it must carry a
Request-Id header, be JSON, and every object in it (lists' items, expanded objects, embedded
lines, deleted stubs, error bodies) must match Stripe's published OpenAPI schema of the same
name (tests/helpers/schema.py). The SDK's HTTP client is wrapped, so no test can forget to validate.
The checks and the tenant class are in tests/helpers/sdk.py; the fixtures are here, where
tests/sdk/stripe/ and tests/sdk/zuora/ both find them.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
import uvicorn

from bulkbill.api.app import create_app
from bulkbill.config import Settings
from tests.helpers.sdk import LiveServer, SdkTenant


@pytest.fixture(scope="session")
def sdk_server(database_url: str) -> Iterator[LiveServer]:
    """bulkbill on a free 127.0.0.1 port, once per database (SQLite, PostgreSQL)."""
    app = create_app(Settings(database_url=database_url))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app=app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"uvicorn-{port}")
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            pytest.fail(f"bulkbill did not start on {url}")
        time.sleep(0.05)
    try:
        yield LiveServer(url, app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture
def sdk(sdk_server: LiveServer) -> Iterator[SdkTenant]:
    tenant = SdkTenant(sdk_server, sdk_server.new_key("sdk"))
    yield tenant
    tenant.close()


@pytest.fixture
def other_sdk(sdk_server: LiveServer) -> Iterator[SdkTenant]:
    tenant = SdkTenant(sdk_server, sdk_server.new_key("sdk-other"))
    yield tenant
    tenant.close()
