"""Idempotency keys: a retried request gets the first response back, a reused key with new params fails."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from bulkbill.core.errors import IdempotencyKeyReused
from bulkbill.services.uow import UnitOfWork
from bulkbill.storage.tables import IdempotencyKey

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: str
    request_id: str | None


def request_fingerprint(method: str, path: str, params: Any) -> str:
    """Same method, path and decoded parameters give the same fingerprint, whatever the encoding."""
    canonical = json.dumps([method, path, params], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def find_response(uow: UnitOfWork, *, dialect: str, key: str, fingerprint: str) -> StoredResponse | None:
    """The stored response for a key within its lifetime; a different request under the key is refused."""
    row = uow.session.get(IdempotencyKey, (uow.tenant_id, dialect, key))
    if row is None:
        return None
    if row.created < uow.now - uow.settings.idempotency_ttl_seconds:
        uow.session.delete(row)
        uow.session.flush()
        return None
    if row.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            "Keys for idempotent requests can only be used with the same parameters they were first used "
            f"with. Try using a key other than '{key}' if you meant to execute a different request."
        )
    return StoredResponse(row.status_code or 200, row.body or "", row.request_id)


def save_response(
    uow: UnitOfWork, *, dialect: str, key: str, fingerprint: str, status_code: int, body: str, request_id: str
) -> None:
    """Store the response in the same transaction as the write it protects."""
    uow.session.add(
        IdempotencyKey(
            tenant_id=uow.tenant_id,
            dialect=dialect,
            key=key,
            request_hash=fingerprint,
            state="done",
            status_code=status_code,
            body=body,
            request_id=request_id,
            created=uow.now,
        )
    )
    uow.session.flush()


def prune_expired(uow: UnitOfWork) -> int:
    """Forget keys older than their lifetime."""
    cutoff = uow.now - uow.settings.idempotency_ttl_seconds
    result = uow.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def exists(uow: UnitOfWork, *, dialect: str, key: str) -> bool:
    return (
        uow.session.scalar(
            select(IdempotencyKey.key).where(
                IdempotencyKey.tenant_id == uow.tenant_id, IdempotencyKey.dialect == dialect, IdempotencyKey.key == key
            )
        )
        is not None
    )
