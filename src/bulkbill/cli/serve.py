"""`bulkbill serve`: logs set up as asked, uvicorn started, and one start-up line once it listens.

uvicorn's own access log stays off: the application writes its own line per request
(api/access_log.py), with the request id and tenant id uvicorn cannot know.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
from collections.abc import Iterator
from typing import Any, get_args

import typer
import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bulkbill.cli.logs import configure_logging
from bulkbill.config import Settings
from bulkbill.jobs.webhooks import sending_in_background
from bulkbill.storage.db import create_db_engine, make_sessionmaker

log = logging.getLogger("bulkbill.serve")
DIALECTS = {"stripe": "Stripe-compatible", "zuora": "Zuora-compatible"}
_SECRET_QUERY = re.compile(r"pass|secret|token|key", re.IGNORECASE)
_USERINFO_PASSWORD = re.compile(r"(://[^/:@]*:)[^/@]*@")


def masked_database_url(url: str) -> str:
    """The URL with its password (user info, or a query parameter such as ?password=) shown as ***."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return _USERINFO_PASSWORD.sub(r"\1***@", url)
    query = {k: ("***" if _SECRET_QUERY.search(k) else v) for k, v in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


def base_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches the server (a wildcard bind is reached at loopback)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def startup_line(host: str, port: int, database_url: str) -> tuple[str, dict[str, Any]]:
    """The start-up message and its fields (for JSON logs): address, database, dialects, docs pages."""
    base = base_url(host, port)
    database = masked_database_url(database_url)
    docs = {name: f"{base}/{name}/docs" for name in DIALECTS}
    dialects = "; ".join(f"{label} API at {base}/{name} (docs {docs[name]})" for name, label in DIALECTS.items())
    message = f"bulkbill listening on {base}, database {database}. {dialects}"
    fields = {"address": base, "database": database, "dialects": [f"/{name}" for name in DIALECTS], "docs": docs}
    return message, fields


class _Server(uvicorn.Server):
    """uvicorn's server, saying where it listens once it does (the port too when 0 asked for a free one)."""

    def __init__(self, config: uvicorn.Config, database_url: str) -> None:
        super().__init__(config)
        self.database_url = database_url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.started:
            return
        port = self.config.port
        if self.servers and self.servers[0].sockets:
            port = self.servers[0].sockets[0].getsockname()[1]
        message, fields = startup_line(self.config.host, port, self.database_url)
        log.info(message, extra=fields)


def with_log_options(settings: Settings, log_format: str | None, log_level: str | None) -> Settings:
    """The settings with --log-format and --log-level applied; an unknown value is one line and exit code 2."""
    update: dict[str, str] = {}
    for name, value in (("log_format", log_format), ("log_level", log_level)):
        if value is None:
            continue
        choices = get_args(Settings.model_fields[name].annotation)
        if value.lower() not in choices:
            option = "--" + name.replace("_", "-")
            typer.echo(f"error: {option} must be one of {', '.join(choices)}, not {value!r}", err=True)
            raise typer.Exit(2)
        update[name] = value.lower()
    return settings.model_copy(update=update)


def run(settings: Settings, host: str, port: int, fd: int | None = None) -> None:
    """Serve both dialects until stopped, logging as settings.log_format and settings.log_level say.

    With `fd`, on that inherited, already bound socket (a harness's: bulkbill.devtools.listener)."""
    configure_logging(settings.log_format, settings.log_level)
    # The application factory runs in uvicorn and reads its settings from the environment.
    os.environ["BULKBILL_DATABASE_URL"] = settings.database_url
    level = logging.getLevelName(settings.log_level.upper())
    config = uvicorn.Config(
        "bulkbill.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_config=None,  # our handler and format (configure_logging), not uvicorn's
        # uvicorn's start-up chatter is replaced by the start-up line, except when debugging.
        log_level=level if level < logging.INFO else max(level, logging.WARNING),
        access_log=False,  # replaced by the application's access log
    )
    sockets = None if fd is None else [inherited_socket(fd)]
    with delivering_webhooks(settings):
        _Server(config, settings.database_url).run(sockets=sockets)


@contextlib.contextmanager
def delivering_webhooks(settings: Settings) -> Iterator[None]:
    """Deliver webhooks from a background thread of this process while it serves (off: BULKBILL_WEBHOOKS_IN_SERVE)."""
    if not settings.webhooks_in_serve:
        yield
        return
    engine = create_db_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, pool_size=2)
    try:
        with sending_in_background(make_sessionmaker(engine), settings):
            yield
    finally:
        engine.dispose()


def inherited_socket(fd: int) -> socket.socket:
    """The listening socket behind `fd`, with its real address family.

    Not uvicorn's `fd=`: it wraps the descriptor as AF_UNIX, so asyncio takes every accepted TCP
    connection for a Unix one and leaves Nagle's algorithm on; a small response then waits for the
    client's delayed ACK (40 ms a request on loopback)."""
    return socket.socket(fileno=fd)
