"""Idempotency keys: a retried request gets the first response back, a reused key with new params fails.

A key lives in two states. `claim` records it "in_flight" in its own short transaction, committed
before the work starts, so a second request with the key sees it and answers a conflict instead of
running the work again. `finish` turns it "done" with the response in the work's own transaction
(the response is stored exactly when the work commits), and `release` forgets it when the work
failed without a stored response. An in-flight key older than
`settings.idempotency_in_flight_timeout_seconds` belongs to a request that died (a crashed server):
the next request with the key takes it over.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, text, update

from bulkbill.core.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import IdempotencyKey

MAX_KEY_LENGTH = 255
IN_FLIGHT = "in_flight"
DONE = "done"


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: str
    request_id: str | None


@dataclass(frozen=True)
class Claim:
    """A key this request holds in flight; `owner` (the request id) tells it from a later taker."""

    tenant_id: str
    dialect: str
    key: str
    fingerprint: str
    owner: str


def request_fingerprint(method: str, path: str, params: Any) -> str:
    """Same method, path and decoded parameters give the same fingerprint, whatever the encoding."""
    canonical = json.dumps([method, path, params], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(uow: UnitOfWork, *, dialect: str, key: str, fingerprint: str, owner: str) -> Claim | StoredResponse:
    """Mark the key in flight for this request, or answer for it from what is stored.

    Returns the stored response of a finished request (to replay), or the Claim this request now
    holds (the caller commits at once). Raises IdempotencyKeyReused when the key came with other
    parameters, IdempotencyKeyInUse while another request with it is running. On PostgreSQL a
    concurrent first claim makes the flush raise IntegrityError: the caller claims again, and then
    sees the other request's row.
    """
    _fast_commit(uow)
    row = uow.session.get(IdempotencyKey, (uow.tenant_id, dialect, key))
    new = Claim(uow.tenant_id, dialect, key, fingerprint, owner)
    if row is None:
        uow.session.add(
            IdempotencyKey(
                tenant_id=uow.tenant_id,
                dialect=dialect,
                key=key,
                request_hash=fingerprint,
                state=IN_FLIGHT,
                request_id=owner,
                created=uow.now,
            )
        )
        uow.session.flush()
        return new
    if _lapsed(uow, row):
        # A forgotten response or an abandoned request: the key is free. Compare-and-set on what was
        # read, so of two requests taking it over at once only one wins.
        taken = uow.session.execute(
            update(IdempotencyKey)
            .where(_same_row(uow.tenant_id, dialect, key), _same_holder(row))
            .values(
                request_hash=fingerprint,
                state=IN_FLIGHT,
                status_code=None,
                body=None,
                request_id=owner,
                created=uow.now,
            )
            .execution_options(synchronize_session=False)
        )
        if _rowcount(taken) != 1:
            raise _in_use(key)
        return new
    return _answer(row, key, fingerprint)


def look(uow: UnitOfWork, *, dialect: str, key: str, fingerprint: str) -> StoredResponse | None:
    """What `claim` would answer without claiming: a stored response, None for a free key, or the same errors.

    It only reads, so on SQLite it runs without the write lock: a request meeting its key in flight
    answers at once instead of queueing behind the very work it duplicates.
    """
    row = uow.session.get(IdempotencyKey, (uow.tenant_id, dialect, key))
    if row is None or _lapsed(uow, row):
        return None
    return _answer(row, key, fingerprint)


def _answer(row: IdempotencyKey, key: str, fingerprint: str) -> StoredResponse:
    if row.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            "Keys for idempotent requests can only be used with the same parameters they were first used "
            f"with. Try using a key other than '{key}' if you meant to execute a different request."
        )
    if row.state == IN_FLIGHT:
        raise _in_use(key)
    return StoredResponse(row.status_code or 200, row.body or "", row.request_id)


def finish(uow: UnitOfWork, held: Claim, *, status_code: int, body: str) -> None:
    """Store the response, in the transaction of the work it answers for (or in its own, for a failure)."""
    done = uow.session.execute(
        update(IdempotencyKey)
        .where(
            _same_row(held.tenant_id, held.dialect, held.key),
            IdempotencyKey.state == IN_FLIGHT,
            IdempotencyKey.request_id == held.owner,
        )
        .values(state=DONE, status_code=status_code, body=body)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(done) != 1:
        # This request ran past the in-flight timeout and another one took the key over.
        raise _in_use(held.key)


def release(uow: UnitOfWork, held: Claim) -> None:
    """Forget a claim whose work failed without a stored response: a retry runs the work again."""
    _fast_commit(uow)
    uow.session.execute(
        delete(IdempotencyKey)
        .where(
            _same_row(held.tenant_id, held.dialect, held.key),
            IdempotencyKey.state == IN_FLIGHT,
            IdempotencyKey.request_id == held.owner,
        )
        .execution_options(synchronize_session=False)
    )


def record(
    uow: UnitOfWork, *, dialect: str, key: str, fingerprint: str, status_code: int, body: str, request_id: str
) -> None:
    """Store a response for a key nobody holds (a failure found before the key was claimed)."""
    if uow.session.get(IdempotencyKey, (uow.tenant_id, dialect, key)) is not None:
        return
    uow.session.add(
        IdempotencyKey(
            tenant_id=uow.tenant_id,
            dialect=dialect,
            key=key,
            request_hash=fingerprint,
            state=DONE,
            status_code=status_code,
            body=body,
            request_id=request_id,
            created=uow.now,
        )
    )
    uow.session.flush()


def prune_expired(uow: UnitOfWork) -> int:
    """Forget the keys of every tenant older than their lifetime, in one DELETE; returns how many.

    A key in flight is left to its request (or to the request that takes it over), unless it was
    abandoned a whole lifetime ago.
    """
    settings = uow.settings
    expired = uow.now - settings.idempotency_ttl_seconds
    abandoned = uow.now - max(settings.idempotency_ttl_seconds, settings.idempotency_in_flight_timeout_seconds)
    result = uow.session.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.created < expired, (IdempotencyKey.state == DONE) | (IdempotencyKey.created < abandoned))
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


def _lapsed(uow: UnitOfWork, row: IdempotencyKey) -> bool:
    if row.state == IN_FLIGHT:
        return row.created < uow.now - uow.settings.idempotency_in_flight_timeout_seconds
    return row.created < uow.now - uow.settings.idempotency_ttl_seconds


def _same_row(tenant_id: str, dialect: str, key: str) -> ColumnElement[bool]:
    return (IdempotencyKey.tenant_id == tenant_id) & (IdempotencyKey.dialect == dialect) & (IdempotencyKey.key == key)


def _same_holder(row: IdempotencyKey) -> ColumnElement[bool]:
    holder = (
        IdempotencyKey.request_id.is_(None) if row.request_id is None else IdempotencyKey.request_id == row.request_id
    )
    return holder & (IdempotencyKey.state == row.state) & (IdempotencyKey.created == row.created)


def _in_use(key: str) -> IdempotencyKeyInUse:
    return IdempotencyKeyInUse(
        "There is currently another in-progress request using this Idempotent Key (that probably means you "
        f"submitted twice, and the other request is still going through): {key}. Please try again later."
    )


def _fast_commit(uow: UnitOfWork) -> None:
    # The claim's own short transaction need not wait for its WAL flush on PostgreSQL: the work's
    # commit flushes the WAL up to and past it, and a claim lost in a crash only lets a retry run
    # the (equally lost) work again.
    if uow.is_postgres:
        uow.session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
