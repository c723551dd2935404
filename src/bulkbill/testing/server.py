"""bulkbill in a thread of the calling process: uvicorn on a free loopback port, a tenant per caller.

The server a test suite talks to is the real one (the same app `bulkbill serve` runs), only started
in-process: no container, no child process, nothing to install but bulkbill. Tests keep apart by
tenant, which is the isolation bulkbill promises its users, so one server serves a whole session.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from bulkbill.api.app import create_app
from bulkbill.config import Settings
from bulkbill.devtools.listener import listening_socket
from bulkbill.jobs.webhooks import sending_in_background
from bulkbill.services.platform.tenants import create_tenant
from bulkbill.testing.tenant import Tenant

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0


class ServerDidNotStart(RuntimeError):
    """uvicorn stopped or timed out before listening (the database could not be opened or migrated)."""


@dataclass
class BulkbillServer:
    """A running bulkbill: its base URL, the database it uses, and the app (for tenants made in-process)."""

    url: str
    database_url: str
    app: FastAPI

    @property
    def stripe_base(self) -> str:
        """What `stripe.StripeClient(base_addresses={"api": ...})` points at."""
        return self.url + "/stripe"

    @property
    def zuora_base(self) -> str:
        """What `zuora_sdk.Configuration(host=...)` points at."""
        return self.url + "/zuora"

    def new_tenant(self, name: str = "test") -> Tenant:
        """A fresh tenant with its own Stripe key and Zuora client pair (a random suffix keeps names unique)."""
        state = self.app.state.bulkbill
        with state.sessions.begin() as session:
            created = create_tenant(session, f"{name}-{uuid.uuid4().hex[:8]}", now=int(time.time()))
        return Tenant(
            self.url,
            created.id,
            created.name,
            created.stripe_secret_key,
            created.zuora_client_id,
            created.zuora_client_secret,
        )


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'bulkbill.db'}"


@contextmanager
def serve_in_thread(
    database_url: str | None = None, *, settings: Settings | None = None, host: str = "127.0.0.1"
) -> Iterator[BulkbillServer]:
    """Run bulkbill on a free port of `host` for the duration of the block; SQLite in a temporary folder
    unless `database_url` (or `settings.database_url`) names a database, which is migrated first."""
    with tempfile.TemporaryDirectory(prefix="bulkbill-") as folder:
        if settings is None:
            settings = Settings(database_url=database_url or sqlite_url(Path(folder)))
        elif database_url is not None:
            settings = settings.model_copy(update={"database_url": database_url})
        app = create_app(settings)
        sock = listening_socket(host)
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app=app, host=host, port=port, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=_run, args=(server, sock), daemon=True, name=f"bulkbill-{port}")
        thread.start()
        try:
            _wait_started(server, thread, port)
            with _delivering_webhooks(app, settings):
                yield BulkbillServer(f"http://{host}:{port}", settings.database_url, app)
        finally:
            server.should_exit = True
            thread.join(timeout=STOP_TIMEOUT_SECONDS)
            sock.close()


@contextmanager
def _delivering_webhooks(app: FastAPI, settings: Settings) -> Iterator[None]:
    # As `bulkbill serve` does (BULKBILL_WEBHOOKS_IN_SERVE), on the app's own sessions; stopped before the
    # server, whose shutdown disposes of the engine.
    if not settings.webhooks_in_serve:
        yield
        return
    with sending_in_background(app.state.bulkbill.sessions, settings):
        yield


def _run(server: uvicorn.Server, sock: socket.socket) -> None:
    # uvicorn exits when the lifespan (opening and migrating the database) fails; it logged why.
    with contextlib.suppress(SystemExit):
        server.run(sockets=[sock])


def _wait_started(server: uvicorn.Server, thread: threading.Thread, port: int) -> None:
    # uvicorn sets `started` once the lifespan (migrations included) is done and the socket serves.
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive():
            raise ServerDidNotStart(f"bulkbill stopped before listening on port {port} (see the log above)")
        if time.monotonic() > deadline:
            raise ServerDidNotStart(f"bulkbill did not listen on port {port} within {START_TIMEOUT_SECONDS:.0f} s")
        time.sleep(0.002)
