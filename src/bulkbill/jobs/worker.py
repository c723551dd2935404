"""Bill-run workers: processes that bill chunks of bill runs, as many as wanted, on as many machines.

A worker loops: find runs with chunks left (services.bill_runs.open_runs), claim a chunk with
SELECT … FOR UPDATE SKIP LOCKED, bill it and mark it done in the same transaction, then see
whether the run is finished. Idle workers wait on PostgreSQL's LISTEN bulkbill_bill_runs (a
queued run NOTIFYs) or poll every `worker_poll_seconds`.

Why the chunk rows themselves are the queue (rather than a task library such as procrastinate):
the claim, the billing and the "done" mark commit in one transaction, so a chunk is billed exactly
once or not at all, with no separate job state to keep in step with the data after a crash. A
dead worker's transaction rolls back and its lock goes with it: the chunk is pending again for
the next worker, with no visibility timeout or heartbeat. Nothing runs besides PostgreSQL.

A chunk that raises is rolled back and counted (fail_chunk); after `bill_run_chunk_attempts`
failures it is given up and its run goes to Error (`bulkbill bill-run retry` resumes it).

Between chunks a worker also forgets expired Idempotency-Keys every `idempotency_prune_seconds`
(prune_when_due), as `serve` does.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import bulkbill.services.billing.bill_runs as bill_runs
import bulkbill.services.platform.idempotency as idempotency
from bulkbill.config import Settings
from bulkbill.core.billing.bill_runs import OPEN_STATUSES
from bulkbill.jobs.webhooks import sending_in_background
from bulkbill.services.billing.bill_runs import ChunkResult
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.db import create_db_engine, make_sessionmaker
from bulkbill.storage.tables_orders import BillRun

log = logging.getLogger("bulkbill.worker")
FAILED = "failed"  # what run_one_chunk returns when the chunk raised (its attempt is counted)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_one_chunk(
    sessions: sessionmaker[Session], settings: Settings, tenant_id: str, run_id: str, worker: str
) -> ChunkResult | str | None:
    """Claim and bill one chunk of a run in one transaction; None when no chunk was free.

    Returns the chunk's result, or FAILED when it raised (the attempt is counted and the chunk is
    pending again, or failed for good after too many attempts).
    """
    chunk_no: int | None = None
    try:
        with sessions.begin() as session:
            uow = UnitOfWork(session, settings, tenant_id=tenant_id)
            run = session.get(BillRun, (tenant_id, run_id))
            if run is None or run.status not in OPEN_STATUSES:
                return None
            chunk = bill_runs.claim_chunk(uow, run_id)
            if chunk is None:
                return None
            chunk_no = chunk.chunk_no
            result = bill_runs.execute_chunk(uow, run, chunk, worker=worker)
    except Exception as exc:
        if chunk_no is None:
            raise
        log.exception("chunk %s of bill run %s failed", chunk_no, run_id)
        with sessions.begin() as session:
            uow = UnitOfWork(session, settings, tenant_id=tenant_id)
            bill_runs.fail_chunk(uow, run_id, chunk_no, f"{type(exc).__name__}: {exc}")
        return FAILED
    finish(sessions, settings, tenant_id, run_id)
    return result


def finish(sessions: sessionmaker[Session], settings: Settings, tenant_id: str, run_id: str) -> str:
    """Mark the run Completed (or Posted) if every chunk is done; returns its status."""
    with sessions.begin() as session:
        uow = UnitOfWork(session, settings, tenant_id=tenant_id)
        return bill_runs.finish_run(uow, bill_runs.lock_bill_run(uow, run_id)).status


def work_on_run(
    sessions: sessionmaker[Session],
    settings: Settings,
    tenant_id: str,
    run_id: str,
    *,
    worker: str | None = None,
    on_chunk: Callable[[ChunkResult | str], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Bill chunks of one run until none is left to claim (others may still be billing theirs)."""
    name = worker or worker_name()
    while stop is None or not stop.is_set():
        outcome = run_one_chunk(sessions, settings, tenant_id, run_id, name)
        if outcome is None:
            break
        if on_chunk is not None:
            on_chunk(outcome)
    finish(sessions, settings, tenant_id, run_id)


def work_once(sessions: sessionmaker[Session], settings: Settings, worker: str) -> bool:
    """Bill one chunk of the oldest run that has a free one; False when there was nothing to do."""
    with sessions.begin() as session:
        candidates = bill_runs.open_runs(UnitOfWork(session, settings))
    for tenant_id, run_id in candidates:
        if run_one_chunk(sessions, settings, tenant_id, run_id, worker) is not None:
            return True
    return False


@dataclass
class Waiter:
    """Idle waiting: LISTEN on PostgreSQL (woken by the NOTIFY of a queued run), a sleep elsewhere."""

    engine: Engine
    seconds: float
    connection: Any = None

    def __post_init__(self) -> None:
        if self.engine.dialect.name != "postgresql":
            return
        with contextlib.suppress(Exception):
            import psycopg

            url = self.engine.url.set(drivername="postgresql")
            self.connection = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            self.connection.execute(f"LISTEN {bill_runs.NOTIFY_CHANNEL}")

    def wait(self, stop: threading.Event) -> None:
        if self.connection is None:
            stop.wait(self.seconds)
            return
        try:
            for _ in self.connection.notifies(timeout=self.seconds, stop_after=1):
                pass
        except Exception:  # the listening connection broke: fall back to polling
            self.close()
            stop.wait(self.seconds)

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None


def prune_when_due(sessions: sessionmaker[Session], settings: Settings, due: float) -> float:
    """Forget expired Idempotency-Keys (one DELETE) once `due` (a monotonic time) has come; returns the next due.

    Every `settings.idempotency_prune_seconds` (0: never), like `serve`: a database served by no
    long-running server still forgets its keys.
    """
    interval = settings.idempotency_prune_seconds
    now = time.monotonic()
    if interval <= 0 or now < due:
        return due
    try:
        with sessions.begin() as session:
            pruned = idempotency.prune_expired(UnitOfWork(session, settings))
        if pruned:
            log.info("forgot %d expired idempotency keys", pruned)
    except Exception:  # the database went away, say: the next sweep tries again
        log.exception("could not prune idempotency keys")
    return now + interval


@dataclass
class WorkerStats:
    chunks: int = 0
    idle_polls: int = 0


def run_worker(
    settings: Settings,
    *,
    worker: str | None = None,
    once: bool = False,
    stop: threading.Event | None = None,
) -> WorkerStats:
    """Bill chunks until stopped (or, with `once`, until nothing is left to claim)."""
    stop = stop or threading.Event()
    name = worker or worker_name()
    engine = create_db_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, pool_size=2)
    sessions = make_sessionmaker(engine)
    waiter = Waiter(engine, settings.worker_poll_seconds)
    stats = WorkerStats()
    next_prune = time.monotonic()
    log.info("worker %s started", name)
    # Each worker also sends webhooks (PostgreSQL: claims skip what another sender holds).
    sending = contextlib.ExitStack()
    if not once:
        sending.enter_context(sending_in_background(sessions, settings))
    try:
        while not stop.is_set():
            next_prune = prune_when_due(sessions, settings, next_prune)
            try:
                worked = work_once(sessions, settings, name)
            except Exception:  # the database went away, say: wait and try again
                log.exception("worker %s: claiming failed", name)
                worked = False
            if worked:
                stats.chunks += 1
                continue
            if once:
                break
            stats.idle_polls += 1
            waiter.wait(stop)
    finally:
        sending.close()
        waiter.close()
        engine.dispose()
        log.info("worker %s stopped after %d chunks", name, stats.chunks)
    return stats


def _process_main(settings_json: str, worker: str, once: bool, setup: Callable[[], None] | None) -> None:
    if setup is not None:
        setup()  # what the parent process set up (the event renderers), in this spawned one
    stop = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:
        stop.set()  # finish the chunk in hand, then exit

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    run_worker(Settings.model_validate_json(settings_json), worker=worker, once=once, stop=stop)


def run_workers(
    settings: Settings, processes: int, *, once: bool = False, setup: Callable[[], None] | None = None
) -> int:
    """Run `processes` worker processes until SIGTERM/SIGINT (each finishes its chunk first)."""
    if processes <= 1:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda _s, _f: stop.set())
        run_worker(settings, once=once, stop=stop)
        return 0
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(
            target=_process_main,
            args=(settings.model_dump_json(), f"{worker_name()}/{i}", once, setup),
            name=f"bulkbill-worker-{i}",
        )
        for i in range(processes)
    ]
    for child in children:
        child.start()

    def _forward(_signum: int, _frame: Any) -> None:
        for child in children:
            if child.is_alive() and child.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, _forward)
    signal.signal(signal.SIGINT, _forward)
    while any(child.is_alive() for child in children):
        for child in children:
            child.join(timeout=0.5)
    return max((child.exitcode or 0) for child in children)


__all__ = [
    "FAILED",
    "Waiter",
    "WorkerStats",
    "finish",
    "prune_when_due",
    "run_one_chunk",
    "run_worker",
    "run_workers",
    "work_on_run",
    "work_once",
    "worker_name",
]
