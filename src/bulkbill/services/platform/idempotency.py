"""Idempotency keys: a retried request gets the first response back, a reused key with new params fails.

A key is held in the work's own transaction: `claim` reads what is stored (a finished request's
response to replay, or a refusal), and `finish` writes the key "done" with the response, so the
response is stored exactly when the work commits and a failed work leaves nothing to release. While
the work runs, a second request with the key answers a conflict at once instead of running it again:
this process holds its keys in memory (`KeysInFlight`), and on PostgreSQL the claim also takes a
transaction-scoped advisory lock on the key, which a request in another process fails to take. (On
SQLite the processes' writers queue at the database lock anyway: a second process's request waits
for the first to commit, then replays its response.)

Rows "in_flight" are what earlier versions committed before the work (and a failure's own
transaction may still meet one): an in-flight key older than
`settings.idempotency_in_flight_timeout_seconds` belongs to a request that died (a crashed server):
the next request with the key takes it over.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any, NamedTuple, NoReturn, Protocol, cast

from sqlalchemy import ColumnElement, Engine, Table, and_, bindparam, delete, func, literal_column, select, update

from bulkbill.core.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.bulk import driver_rows, pooled_driver_rows
from bulkbill.storage.tables import IdempotencyKey

MAX_KEY_LENGTH = 255

# Built once: every keyed POST reads and writes its key, and building a statement costs more than
# running it on SQLite. The row read is a plain row (no ORM object): nothing here needs one.
_KEYS: Table = IdempotencyKey.__table__  # type: ignore[assignment]
# The tenant's key of one dialect, by bound parameters (tenant_id, dialect, key).
_THE_KEY = and_(
    _KEYS.c.tenant_id == bindparam("tenant_id"),
    _KEYS.c.dialect == bindparam("dialect"),
    _KEYS.c.key == bindparam("key"),
)
_READ_KEY = select(*_KEYS.c).where(_THE_KEY)
_INSERT_KEY = _KEYS.insert()
# PostgreSQL: the key's advisory lock taken and its row read in one statement (one round trip, not two).
# The row comes from the statement's snapshot, taken just before the lock: a request in another process
# that held the lock and committed the key in between is not seen, and this one runs the work again; its
# own row then clashes with that one at `finish` (the key is unique) and the edge replays the stored
# response (api.idempotent), the work undone with its transaction.
_ONE = select(literal_column("1").label("one")).subquery("one")
_LOCK_AND_READ_KEY = select(
    func.pg_try_advisory_xact_lock(func.hashtextextended(bindparam("lock"), 0)).label("taken"), *_KEYS.c
).select_from(_ONE.outerjoin(_KEYS, _THE_KEY))
# What `look` reads, straight from the driver (every column text or an integer): the fields of StoredKey.
_LOOK_KEY = select(
    _KEYS.c.request_hash, _KEYS.c.state, _KEYS.c.status_code, _KEYS.c.body, _KEYS.c.request_id, _KEYS.c.created
).where(_THE_KEY)


class _LookedKey(NamedTuple):
    request_hash: str
    state: str
    status_code: int | None
    body: str | None
    request_id: str | None
    created: int


class StoredKey(Protocol):
    """A row of idempotency_keys as _READ_KEY reads it (what claim, look and record compare)."""

    @property
    def request_hash(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def status_code(self) -> int | None: ...
    @property
    def body(self) -> str | None: ...
    @property
    def request_id(self) -> str | None: ...
    @property
    def created(self) -> int: ...


IN_FLIGHT = "in_flight"
DONE = "done"


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: str
    request_id: str | None


@dataclass(frozen=True)
class Claim:
    """A key this request holds; `owner` (the request id) tells it from a later taker.

    `taken_over` when its row exists (an abandoned in-flight key this transaction took): `finish`
    updates that row; otherwise it inserts the key's row.
    """

    tenant_id: str
    dialect: str
    key: str
    fingerprint: str
    owner: str
    taken_over: bool = False


class KeysInFlight:
    """The keys this process runs a request for: a second request with one is refused at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[tuple[str, str, str], tuple[str, str]] = {}  # (tenant, dialect, key) -> (fingerprint, owner)

    def hold(self, tenant_id: str, dialect: str, key: str, *, fingerprint: str, owner: str) -> None:
        """Hold the key for `owner`; IdempotencyKeyReused / IdempotencyKeyInUse while another request holds it."""
        with self._lock:
            holder = self._held.setdefault((tenant_id, dialect, key), (fingerprint, owner))
        if holder[1] != owner:
            _refuse_in_flight(key, fingerprint, holder[0])

    def drop(self, tenant_id: str, dialect: str, key: str, *, owner: str) -> None:
        with self._lock:
            if self._held.get((tenant_id, dialect, key), ("", ""))[1] == owner:
                del self._held[(tenant_id, dialect, key)]


in_flight = KeysInFlight()


def request_fingerprint(method: str, path: str, params: Any) -> str:
    """Same method, path and decoded parameters give the same fingerprint, whatever the encoding."""
    canonical = json.dumps([method, path, params], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(uow: UnitOfWork, *, dialect: str, key: str, fingerprint: str, owner: str) -> Claim | StoredResponse:
    """In the work's own transaction: the stored response of a finished request (to replay), or the Claim
    this request now holds (nothing written yet: `finish` writes the key with the response).

    Raises IdempotencyKeyReused when the key came with other parameters, IdempotencyKeyInUse while
    another request with it is running (in another process, on PostgreSQL: its advisory lock).
    """
    if uow.is_postgres:
        params = {"tenant_id": uow.tenant_id, "dialect": dialect, "key": key}
        lock = f"idempotency\x1f{uow.tenant_id}\x1f{dialect}\x1f{key}"
        found = uow.session.execute(_LOCK_AND_READ_KEY, {**params, "lock": lock}).one()
        if not found.taken:
            raise _in_use(key)
        row = cast(StoredKey, found) if found.state is not None else None
    else:
        row = _stored_key(uow, dialect, key)
    new = Claim(uow.tenant_id, dialect, key, fingerprint, owner)
    if row is None:
        return new
    if _lapsed(uow, row):
        # A forgotten response or an abandoned request: the key is free. Compare-and-set on what was
        # read, so of two requests taking it over at once only one wins.
        if not _take_over(uow, row, dialect, key, fingerprint, owner, state=IN_FLIGHT):
            raise _in_use(key)
        return Claim(uow.tenant_id, dialect, key, fingerprint, owner, taken_over=True)
    return _answer(row, key, fingerprint)


def look(uow: UnitOfWork, *, dialect: str, key: str, fingerprint: str) -> StoredResponse | None:
    """What `claim` would answer without claiming: a stored response, None for a free key, or the same errors.

    It only reads, so on SQLite it runs without the write lock: a request meeting its key in flight
    answers at once instead of queueing behind the very work it duplicates. The row is read on a
    pooled connection outside the session's transaction (one statement: no BEGIN and COMMIT around it).
    """
    params = {"tenant_id": uow.tenant_id, "dialect": dialect, "key": key}
    bind = uow.session.get_bind()
    # A session bound to a connection (a test's) reads in the transaction that connection holds.
    found = (
        pooled_driver_rows(bind, _LOOK_KEY, params)
        if isinstance(bind, Engine)
        else driver_rows(uow.session, _LOOK_KEY, params)
    )
    row = _LookedKey(*found[0]) if found else None
    if row is None or _lapsed(uow, row):
        return None
    return _answer(row, key, fingerprint)


def _stored_key(uow: UnitOfWork, dialect: str, key: str) -> StoredKey | None:
    row = uow.session.execute(_READ_KEY, {"tenant_id": uow.tenant_id, "dialect": dialect, "key": key}).first()
    return cast(StoredKey | None, row)


def _answer(row: StoredKey, key: str, fingerprint: str) -> StoredResponse:
    if row.state == IN_FLIGHT or row.request_hash != fingerprint:
        _refuse_in_flight(key, fingerprint, row.request_hash)
    return StoredResponse(row.status_code or 200, row.body or "", row.request_id)


def _refuse_in_flight(key: str, fingerprint: str, holder_fingerprint: str) -> NoReturn:
    """A key another request holds or held: other parameters are an error, the same ones a conflict."""
    if holder_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "Keys for idempotent requests can only be used with the same parameters they were first used "
            f"with. Try using a key other than '{key}' if you meant to execute a different request."
        )
    raise _in_use(key)


def finish(uow: UnitOfWork, held: Claim, *, status_code: int, body: str) -> None:
    """Store the response, in the transaction of the work it answers for (or in its own, for a failure)."""
    if not held.taken_over:
        uow.session.execute(
            _INSERT_KEY,
            {
                "tenant_id": held.tenant_id,
                "dialect": held.dialect,
                "key": held.key,
                "request_hash": held.fingerprint,
                "state": DONE,
                "status_code": status_code,
                "body": body,
                "request_id": held.owner,
                "created": uow.now,
            },
        )
        return
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


def record(
    uow: UnitOfWork, *, dialect: str, key: str, fingerprint: str, status_code: int, body: str, request_id: str
) -> None:
    """Store a response for a key nobody holds (a failure, in its own transaction once the work rolled back)."""
    row = _stored_key(uow, dialect, key)
    if row is not None:
        if _lapsed(uow, row):  # an abandoned key this request had taken over: the failure is its answer
            _take_over(uow, row, dialect, key, fingerprint, request_id, state=DONE, status_code=status_code, body=body)
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


def _lapsed(uow: UnitOfWork, row: StoredKey) -> bool:
    if row.state == IN_FLIGHT:
        return row.created < uow.now - uow.settings.idempotency_in_flight_timeout_seconds
    return row.created < uow.now - uow.settings.idempotency_ttl_seconds


def _same_row(tenant_id: str, dialect: str, key: str) -> ColumnElement[bool]:
    return (IdempotencyKey.tenant_id == tenant_id) & (IdempotencyKey.dialect == dialect) & (IdempotencyKey.key == key)


def _take_over(
    uow: UnitOfWork,
    row: StoredKey,
    dialect: str,
    key: str,
    fingerprint: str,
    owner: str,
    *,
    state: str,
    status_code: int | None = None,
    body: str | None = None,
) -> bool:
    """Compare-and-set a lapsed key's row to this request's; False when another request changed it first."""
    taken = uow.session.execute(
        update(IdempotencyKey)
        .where(_same_row(uow.tenant_id, dialect, key), _same_holder(row))
        .values(
            request_hash=fingerprint, state=state, status_code=status_code, body=body, request_id=owner, created=uow.now
        )
        .execution_options(synchronize_session=False)
    )
    return _rowcount(taken) == 1


def _same_holder(row: StoredKey) -> ColumnElement[bool]:
    holder = (
        IdempotencyKey.request_id.is_(None) if row.request_id is None else IdempotencyKey.request_id == row.request_id
    )
    return holder & (IdempotencyKey.state == row.state) & (IdempotencyKey.created == row.created)


def _in_use(key: str) -> IdempotencyKeyInUse:
    return IdempotencyKeyInUse(
        "There is currently another in-progress request using this Idempotent Key (that probably means you "
        f"submitted twice, and the other request is still going through): {key}. Please try again later."
    )


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
