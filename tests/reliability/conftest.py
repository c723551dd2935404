"""Reliability tests: live servers, raw HTTP clients for worker threads, and the figures they report.

Every reliability test records what it tried (`figures.add(part, database, what, n)`); the session
ends with a table of those counts, the numbers docs/reliability.md quotes. Set
BULKBILL_RELIABILITY_FIGURES=path.json to also write them as JSON.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import uvicorn
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from bulkbill.api.app import create_app
from bulkbill.config import Settings
from bulkbill.services.platform.tenants import NewTenant, create_tenant
from tests.helpers import form

# --- figures -------------------------------------------------------------------------------------


@dataclass
class Figures:
    """Counts per (part, database, what), summed over the session."""

    counts: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, part: str, database: str, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[(part, database, what)] += n


FIGURES = Figures()


@pytest.fixture
def figures() -> Figures:
    return FIGURES


def database_name(url: str) -> str:
    return "postgresql" if url.startswith("postgres") else "sqlite"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES.counts:
        return
    terminalreporter.section("reliability: what was tried (parts 1, 2, 3, 6, 7)")
    for (part, database, what), n in sorted(FIGURES.counts.items()):
        terminalreporter.write_line(f"{n:>8}  {part:<16} {database:<10}  {what}")
    target = os.environ.get("BULKBILL_RELIABILITY_FIGURES")
    if target:
        rows = [
            {"part": part, "database": database, "what": what, "n": n}
            for (part, database, what), n in sorted(FIGURES.counts.items())
        ]
        with open(target, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=1)


# --- a live server in this process ---------------------------------------------------------------


@dataclass
class Live:
    """bulkbill served by uvicorn in a thread; tenants are made straight in its database."""

    url: str
    app: FastAPI
    database_url: str

    @property
    def database(self) -> str:
        return database_name(self.database_url)

    def tenant(self, name: str = "rel") -> NewTenant:
        """A new tenant, made directly in the server's database (setup, not the thing under test)."""
        state = self.app.state.bulkbill
        for attempt in range(50):
            try:
                with state.sessions.begin() as session:
                    return create_tenant(session, f"{name}-{uuid.uuid4().hex[:12]}", now=int(time.time()))
            except OperationalError as exc:
                # A server under test with a 1 ms SQLite busy timeout may refuse the setup's own write
                # while its background work holds the lock: setup waits its turn, the calls under test do not.
                if "locked" not in str(exc) or attempt == 49:
                    raise
                time.sleep(0.02)
        raise AssertionError("unreachable")

    def stripe(self, tenant: NewTenant) -> StripeHTTP:
        return StripeHTTP(self.url + "/stripe", tenant.stripe_secret_key)

    def zuora(self, tenant: NewTenant, *, version: str | None = "2025-08-12") -> ZuoraHTTP:
        response = requests.post(
            self.url + "/zuora/oauth/token",
            data={
                "client_id": tenant.zuora_client_id,
                "client_secret": tenant.zuora_client_secret,
                "grant_type": "client_credentials",
            },
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return ZuoraHTTP(self.url + "/zuora", response.json()["access_token"], version=version)


@dataclass
class Served:
    """A uvicorn server running bulkbill in a daemon thread."""

    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket
    app: FastAPI
    url: str

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


def serve(settings: Settings) -> Served:
    """Start bulkbill on a free port; returns once /healthz answers."""
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # A backlog above the default keeps a burst of worker threads from being refused at connect.
    config = uvicorn.Config(
        app=app, host="127.0.0.1", port=port, log_level="warning", backlog=512, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"uvicorn-{port}")
    thread.start()
    served = Served(server, thread, sock, app, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(served.url + "/healthz", timeout=1).status_code == 200:
                return served
        except requests.ConnectionError:
            pass
        if not thread.is_alive() or time.monotonic() > deadline:
            served.stop()
            raise RuntimeError(f"bulkbill did not start on {served.url}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def live(database_url: str) -> Iterator[Live]:
    """One live server per database, rate limiting off (these tests hammer one key on purpose)."""
    served = serve(Settings(database_url=database_url, rate_limit="off"))
    try:
        yield Live(served.url, served.app, database_url)
    finally:
        served.stop()


# --- raw HTTP clients, one requests.Session per worker thread ------------------------------------


class StripeHTTP:
    """Form-encoded calls to /stripe with a secret key; thread-local sessions keep connections alive."""

    def __init__(self, base: str, key: str) -> None:
        self.base = base
        self.key = key
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        session: requests.Session = self._local.session
        return session

    def post(self, path: str, params: dict[str, Any] | None = None, *, key: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/x-www-form-urlencoded"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.session.post(self.base + path, data=form(params or {}), headers=headers, timeout=60)

    def get(self, path: str, params: dict[str, Any] | None = None) -> requests.Response:
        query = form(params or {})
        url = self.base + path + ("?" + query if query else "")
        return self.session.get(url, headers={"Authorization": f"Bearer {self.key}"}, timeout=60)

    def ok(self, method: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.get(path, params) if method == "GET" else self.post(path, params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


class ZuoraHTTP:
    """JSON calls to /zuora with a bearer token."""

    def __init__(self, base: str, token: str, *, version: str | None = "2025-08-12") -> None:
        self.base = base
        self.token = token
        self.version = version
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        session: requests.Session = self._local.session
        return session

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        params: dict[str, Any] | None = None,
        version: str | None = None,
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        if version or self.version:
            headers["Zuora-Version"] = str(version or self.version)
        if key is not None:
            headers["Idempotency-Key"] = key
        data = None if body is None else json.dumps(body)
        return self.session.request(method, self.base + path, data=data, headers=headers, params=params, timeout=60)

    def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        response = self.request(method, path, body, **kw)
        payload: dict[str, Any] = response.json()
        assert response.status_code == 200 and payload.get("success") is not False, response.text
        return payload


# --- what a clean conflict looks like in each dialect -------------------------------------------


def stripe_conflict(response: requests.Response) -> bool:
    """A 409 in Stripe's envelope: a lock conflict or an idempotency key in use."""
    if response.status_code != 409 or not response.headers.get("Request-Id", "").startswith("req_"):
        return False
    error = response.json().get("error", {})
    return (error.get("type"), error.get("code")) in {
        ("api_error", "lock_timeout"),
        ("idempotency_error", "idempotency_key_in_use"),
    }


def zuora_conflict(response: requests.Response) -> bool:
    """A 409 in Zuora's envelope: category 50 (locking contention)."""
    if response.status_code != 409 or not response.headers.get("Zuora-Request-Id"):
        return False
    body = response.json()
    return body.get("success") is False and [r["code"] for r in body["reasons"]] == [50000050]
