"""Sending webhooks: claim due deliveries, send them concurrently on one reused client, record the outcomes.

`bulkbill serve` runs one sender in a background thread (so the SQLite default delivers too; a commit
in that process wakes it at once) and so does each `bulkbill worker` process (PostgreSQL: claims skip
rows another sender holds). Each batch is two short transactions, a claim and a record, with the HTTP
in between and no transaction open: a sender killed in between leaves its claims to expire
(`BULKBILL_WEBHOOK_LEASE_SECONDS`) and be sent again: at least once, never lost.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session, sessionmaker

from bulkbill.config import Settings
from bulkbill.services.events.deliveries import claim_due, record
from bulkbill.services.events.outbox import on_deliveries_queued
from bulkbill.services.events.sender import new_client, send
from bulkbill.services.platform.uow import UnitOfWork

log = logging.getLogger("bulkbill.webhooks")


class WebhookSender:
    """One sender: its HTTP client (connections reused) and the threads that wait on receivers."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.client = new_client(settings)
        self.pool = ThreadPoolExecutor(max(1, settings.webhook_concurrency), thread_name_prefix="bulkbill-webhook")
        self.wake = threading.Event()

    def run_once(self) -> int:
        """Claim one batch of due deliveries, send it, record it; returns how many were attempted."""
        with self.sessions.begin() as session:
            claimed = claim_due(
                UnitOfWork(session, self.settings),
                self.settings.webhook_batch_size,
                self.settings.webhook_lease_seconds,
            )
        if not claimed:
            return 0
        outcomes = list(self.pool.map(lambda c: send(self.client, self.settings, c), claimed))
        with self.sessions.begin() as session:
            disabled = record(UnitOfWork(session, self.settings), outcomes)
        for endpoint_id in disabled:
            log.warning("webhook endpoint %s disabled after repeated failures", endpoint_id)
        return len(claimed)

    def run(self, stop: threading.Event) -> None:
        """Send until `stop` is set; idle, wait for a wake-up or `BULKBILL_WEBHOOK_POLL_SECONDS`."""
        while not stop.is_set():
            try:
                sent = self.run_once()
            except Exception:  # the database went away, say: wait and try again
                log.exception("webhook delivery failed")
                sent = 0
            if sent == 0:
                self.wake.wait(self.settings.webhook_poll_seconds)
                self.wake.clear()

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.close()


@contextlib.contextmanager
def sending_in_background(sessions: sessionmaker[Session], settings: Settings) -> Iterator[WebhookSender]:
    """A sender in a daemon thread for as long as the block runs; commits in this process wake it."""
    sender = WebhookSender(sessions, settings)
    stop = threading.Event()
    unsubscribe = on_deliveries_queued(sender.wake.set)
    thread = threading.Thread(target=sender.run, args=(stop,), name="bulkbill-webhooks", daemon=True)
    thread.start()
    try:
        yield sender
    finally:
        unsubscribe()
        stop.set()
        sender.wake.set()
        thread.join(timeout=settings.webhook_timeout_seconds + 5)
        sender.close()
