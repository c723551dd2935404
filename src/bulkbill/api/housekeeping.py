"""What a serving process does besides answering: forget expired Idempotency-Keys every few minutes.

A background task of the application's lifespan sweeps once at start and then every
`settings.idempotency_prune_seconds` (0: never), in a worker thread like any request, each sweep one
DELETE in its own transaction. Several processes serving one database sweep the same rows harmlessly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool

import bulkbill.services.platform.idempotency as idempotency
from bulkbill.api.state import AppState
from bulkbill.services.events.events import prune_events
from bulkbill.services.platform.uow import UnitOfWork

log = logging.getLogger("bulkbill")


def prune_idempotency_keys(state: AppState) -> int:
    """One sweep, in its own transaction; returns how many keys were forgotten (events past their
    retention go in the same sweep)."""
    with state.sessions.begin() as session:
        uow = UnitOfWork(session, state.settings)
        prune_events(uow, uow.now - state.settings.events_retention_seconds)
        return idempotency.prune_expired(uow)


@contextlib.asynccontextmanager
async def pruning_idempotency_keys(state: AppState) -> AsyncIterator[None]:
    """While the application serves, sweep expired keys in the background."""
    interval = state.settings.idempotency_prune_seconds
    task = asyncio.create_task(_sweep_every(state, interval)) if interval > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _sweep_every(state: AppState, interval: float) -> None:
    while True:
        try:
            pruned = await run_in_threadpool(prune_idempotency_keys, state)
            if pruned:
                log.info("forgot %d expired idempotency keys", pruned)
        except Exception:  # the database is away, say: try again at the next sweep
            log.exception("could not prune idempotency keys")
        await asyncio.sleep(interval)
