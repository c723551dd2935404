"""Sending webhooks: claim due deliveries, send them concurrently over reused connections, record the outcomes.

`bulkbill serve` runs one sender in a background thread (so the SQLite default delivers too; a commit
in that process wakes it at once) and so does each `bulkbill worker` process (PostgreSQL: claims skip
rows another sender holds). Each batch is two short transactions, a claim and a record, with the HTTP
in between and no transaction open: a sender killed in between leaves its claims to expire
(`BULKBILL_WEBHOOK_LEASE_SECONDS`) and be sent again: at least once, never lost. The two are set-based
(one UPDATE each, whatever the batch size) and overlap the HTTP: while a batch is on the wire the sender
claims the next one and then records the one before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy.orm import Session, sessionmaker

from bulkbill.config import Settings
from bulkbill.services.events.deliveries import Claimed, Outcome, any_due, claim_due, record
from bulkbill.services.events.outbox import on_deliveries_queued
from bulkbill.services.events.sender import lanes, new_transport, send_lane
from bulkbill.services.platform.activity import API_CALLS
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.db import read_only

log = logging.getLogger("bulkbill.webhooks")


class WebhookSender:
    """One sender: its HTTP transport (connections reused) and the threads that wait on receivers."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, *, yield_to_calls: bool = False) -> None:
        self.sessions = sessions
        self.settings = settings
        self.transport = new_transport(settings)
        # Beside the API (serve): the sender's threads run at a lower priority and wait, before each
        # transaction and each delivery, for a moment without calls in flight (a bounded wait).
        self.yield_seconds = settings.webhook_yield_seconds if yield_to_calls else 0.0
        initializer = _lower_priority if yield_to_calls else None
        self.pool = ThreadPoolExecutor(
            max(1, settings.webhook_concurrency), thread_name_prefix="bulkbill-webhook", initializer=initializer
        )
        self.wake = threading.Event()

    def _yield(self) -> None:
        API_CALLS.wait_for_quiet(self.yield_seconds)

    def claim(self) -> list[Claimed]:
        self._yield()
        with self.sessions() as session, session.begin():
            # An idle sender only reads: on SQLite the claim's write lock would queue (or refuse) writers.
            read_only(session)
            if not any_due(UnitOfWork(session, self.settings)):
                return []
        with self.sessions.begin() as session:
            return claim_due(
                UnitOfWork(session, self.settings),
                self.settings.webhook_batch_size,
                self.settings.webhook_lease_seconds,
            )

    def send(self, claimed: list[Claimed]) -> list[Future[list[Outcome]]]:
        """Start sending a batch: its lanes on the pool (at most `webhook_concurrency_per_endpoint` per endpoint)."""
        per_endpoint = self.settings.webhook_concurrency_per_endpoint
        before_each = self._yield if self.yield_seconds > 0 else None
        return [self.pool.submit(send_lane, self.transport, lane, before_each) for lane in lanes(claimed, per_endpoint)]

    def record(self, sending: list[Future[list[Outcome]]]) -> None:
        outcomes = [o for lane in sending for o in lane.result()]
        self._yield()
        with self.sessions.begin() as session:
            disabled = record(UnitOfWork(session, self.settings), outcomes)
        for endpoint_id in disabled:
            log.warning("webhook endpoint %s disabled after repeated failures", endpoint_id)

    def run_once(self) -> int:
        """Claim one batch of due deliveries, send it, record it; returns how many were attempted."""
        claimed = self.claim()
        if claimed:
            self.record(self.send(claimed))
        return len(claimed)

    def run(self, stop: threading.Event) -> None:
        """Send until `stop` is set; idle, wait for a wake-up or `BULKBILL_WEBHOOK_POLL_SECONDS`.

        Pipelined: the next batch is claimed, and the one before recorded, while a batch is on the wire."""
        in_flight: list[Future[list[Outcome]]] | None = None
        while True:
            claimed: list[Claimed] = []
            if not stop.is_set():
                with _logged("claiming webhook deliveries failed"):  # the database went away, say
                    claimed = self.claim()
            if in_flight is not None:
                sending, in_flight = in_flight, None
                with _logged("recording webhook deliveries failed"):  # they are sent again once their lease ends
                    self.record(sending)
            if claimed:
                in_flight = self.send(claimed)
            elif stop.is_set():
                return
            else:
                self.wake.wait(self.settings.webhook_poll_seconds)
                self.wake.clear()

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.transport.close()


def _lower_priority() -> None:
    """This thread yields the CPU to the threads answering calls (Linux: a thread has its own nice value)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


@contextlib.contextmanager
def _logged(what: str) -> Iterator[None]:
    try:
        yield
    except Exception:
        log.exception(what)


@contextlib.contextmanager
def sending_in_background(
    sessions: sessionmaker[Session], settings: Settings, *, yield_to_calls: bool = False
) -> Iterator[WebhookSender]:
    """A sender in a daemon thread for as long as the block runs; commits in this process wake it. Beside
    the API (`yield_to_calls`: serve), it runs at a lower priority and lets calls in flight go first."""
    sender = WebhookSender(sessions, settings, yield_to_calls=yield_to_calls)
    stop = threading.Event()
    unsubscribe = on_deliveries_queued(sender.wake.set)

    def run() -> None:
        if yield_to_calls:
            _lower_priority()
        sender.run(stop)

    thread = threading.Thread(target=run, name="bulkbill-webhooks", daemon=True)
    thread.start()
    try:
        yield sender
    finally:
        unsubscribe()
        stop.set()
        sender.wake.set()
        thread.join(timeout=settings.webhook_timeout_seconds + 5)
        sender.close()
