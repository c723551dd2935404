"""`bulkbill serve`: logs set up as asked, uvicorn started, and one start-up line once it listens.

uvicorn's own access log stays off: the application writes its own line per request
(api/access_log.py), with the request id and tenant id uvicorn cannot know.

With several workers, uvicorn's process manager runs them on one listening socket (bound here,
or inherited with --fd) and replaces any that dies; the manager writes the one start-up line once
every worker serves, naming their process ids, and every line then carries the id of the process
that wrote it.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import re
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from typing import Any, get_args

import typer
import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from uvicorn.supervisors import Multiprocess

from bulkbill.cli.logs import configure_logging
from bulkbill.config import Settings
from bulkbill.jobs.webhooks import sending_in_background
from bulkbill.storage.db import create_db_engine, make_sessionmaker

log = logging.getLogger("bulkbill.serve")
DIALECTS = {"stripe": "Stripe-compatible", "zuora": "Zuora-compatible"}
_SECRET_QUERY = re.compile(r"pass|secret|token|key", re.IGNORECASE)
_USERINFO_PASSWORD = re.compile(r"(://[^/:@]*:)[^/@]*@")
# Bounds the start-up of a worker (app, migrations check) before the start-up line is given up on.
WORKER_START_SECONDS = 120


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


def startup_line(
    host: str, port: int, database_url: str, worker_pids: Sequence[int] = ()
) -> tuple[str, dict[str, Any]]:
    """The start-up message and its fields (for JSON logs): address, database, (worker processes,) dialects,
    docs pages."""
    base = base_url(host, port)
    database = masked_database_url(database_url)
    docs = {name: f"{base}/{name}/docs" for name in DIALECTS}
    dialects = "; ".join(f"{label} API at {base}/{name} (docs {docs[name]})" for name, label in DIALECTS.items())
    workers = f", {len(worker_pids)} workers (pids {', '.join(map(str, worker_pids))})" if worker_pids else ""
    message = f"bulkbill listening on {base}, database {database}{workers}. {dialects}"
    fields: dict[str, Any] = {"address": base, "database": database}
    if worker_pids:
        fields["workers"] = list(worker_pids)
    fields |= {"dialects": [f"/{name}" for name in DIALECTS], "docs": docs}
    return message, fields


def default_workers(database_url: str) -> int:
    """Server processes when not asked: one per core on PostgreSQL; one on SQLite, whose writers take turns
    at one database lock however many processes there are (and queue in order only within one)."""
    try:
        if make_url(database_url).get_backend_name() == "sqlite":
            return 1
    except ArgumentError:
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


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


class _Config(uvicorn.Config):
    """uvicorn's configuration, also setting up bulkbill's logs: uvicorn calls configure_logging() here and
    again in each worker process it spawns (which inherits no logging set-up)."""

    def __init__(self, *, log_format: str, log_level_name: str, with_pid: bool, **kwargs: Any) -> None:
        self.bulkbill_logs = (log_format, log_level_name, with_pid)  # before uvicorn's __init__ uses them
        self.manager_pid = os.getpid()
        super().__init__(**kwargs)

    def load(self) -> None:
        # Runs where the application is served: in each worker when there are several.
        if self.workers > 1:
            die_with_parent(self.manager_pid)
        super().load()
        tune_collector()

    def configure_logging(self) -> None:
        super().configure_logging()
        log_format, level, with_pid = self.bulkbill_logs
        configure_logging(log_format, level, with_pid=with_pid)


class _Supervisor(Multiprocess):
    """uvicorn's process manager, saying once where it listens when every worker serves, and which worker
    it replaced when one died."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket], database_url: str) -> None:
        super().__init__(config, sockets)
        self.database_url = database_url

    def init_processes(self) -> None:
        super().init_processes()
        if all(p.wait_until_ready(WORKER_START_SECONDS, self.should_exit) for p in self.processes):
            host, port = self.sockets[0].getsockname()[:2]
            pids = [p.pid for p in self.processes if p.pid is not None]
            message, fields = startup_line(host, port, self.database_url, pids)
            log.info(message, extra=fields)

    def keep_subprocess_alive(self) -> None:
        before = list(self.processes)
        super().keep_subprocess_alive()
        for old, new in zip(before, self.processes, strict=True):
            if new is not old:
                log.warning(
                    "worker %s exited (code %s); worker %s started in its place",
                    old.pid,
                    old.exitcode,
                    new.pid,
                    extra={"exited_pid": old.pid, "exit_code": old.exitcode, "started_pid": new.pid},
                )


# The youngest generation is collected every 10,000 container allocations rather than 700: a 50-line
# call makes tens of thousands of short-lived containers, nearly all freed by reference counting
# before any collection sees them, so the default ran a collection every few hundred microseconds.
COLLECTOR_THRESHOLDS = (10_000, 20, 10)


def tune_collector() -> None:
    """Once the application is built: what importing and building it made lives as long as the process,
    so it is moved out of the cyclic collector's reach (each full collection walked its ~150,000
    objects), and young objects are collected less often (COLLECTOR_THRESHOLDS). Measured with the
    hot path's profile (docs/performance.md, "Round 4"): the collector's time over a run fell from
    3.2 s to 1.0 s."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def die_with_parent(parent_pid: int) -> None:
    """This worker process is killed when its manager ends, however it ends (SIGKILL, out of memory): no
    worker is left serving the shared socket on its own, as one process would not be (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the manager was gone before the request took effect
        os._exit(1)


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


def run(settings: Settings, host: str, port: int, fd: int | None = None, workers: int | None = None) -> None:
    """Serve both dialects until stopped, logging as settings.log_format and settings.log_level say.

    With `fd`, on that inherited, already bound socket (a harness's: bulkbill.devtools.listener).
    `workers` processes (default settings.serve_workers, else default_workers) share the one socket."""
    workers = workers or settings.serve_workers or default_workers(settings.database_url)
    # The application factory runs in uvicorn (in each worker) and reads its settings from the environment.
    os.environ["BULKBILL_DATABASE_URL"] = settings.database_url
    level = logging.getLevelName(settings.log_level.upper())
    config = _Config(
        log_format=settings.log_format,
        log_level_name=settings.log_level,
        with_pid=workers > 1,
        app="bulkbill.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,  # our handler and format (configure_logging), not uvicorn's
        # uvicorn's start-up chatter is replaced by the start-up line, except when debugging.
        log_level=level if level < logging.INFO else max(level, logging.WARNING),
        access_log=False,  # replaced by the application's access log
    )
    # One webhook sender per server, in this process (the supervisor's when there are workers).
    with delivering_webhooks(settings):
        if workers == 1:
            sockets = None if fd is None else [inherited_socket(fd)]
            _Server(config, settings.database_url).run(sockets=sockets)
            return
        sock = config.bind_socket() if fd is None else inherited_socket(fd)
        _Supervisor(config, [sock], settings.database_url).run()


@contextlib.contextmanager
def delivering_webhooks(settings: Settings) -> Iterator[None]:
    """Deliver webhooks from a background thread of this process while it serves (off: BULKBILL_WEBHOOKS_IN_SERVE)."""
    if not settings.webhooks_in_serve:
        yield
        return
    engine = create_db_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, pool_size=2)
    try:
        with sending_in_background(make_sessionmaker(engine), settings, yield_to_calls=True):
            yield
    finally:
        engine.dispose()


def inherited_socket(fd: int) -> socket.socket:
    """The listening socket behind `fd`, with its real address family.

    Not uvicorn's `fd=`: it wraps the descriptor as AF_UNIX, so asyncio takes every accepted TCP
    connection for a Unix one and leaves Nagle's algorithm on; a small response then waits for the
    client's delayed ACK (40 ms a request on loopback)."""
    return socket.socket(fileno=fd)
