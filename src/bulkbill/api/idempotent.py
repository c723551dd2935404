"""One call end to end, for both dialects: authenticate, hold the Idempotency-Key, run once, store or release.

The edge owns the transaction: the work runs in one unit of work that commits on success and rolls
back on any error, so a refused call changes nothing. A call with an Idempotency-Key claims the key
in that same transaction (services/platform/idempotency.py): a finished call's stored response is
replayed instead, one still in flight is refused as a conflict, and the response is stored as the
work commits. When the work fails nothing of the key is left, so that a retry runs again, unless the
dialect replays failures too (Zuora): then the failure's response is stored, in its own transaction.
On SQLite a read-only look comes first: a replay, or a retry meeting its key in flight, answers
without queueing for the write lock behind the very work it duplicates.

Each dialect supplies an `Edge`: how it reads the key, authenticates, fingerprints a request,
encodes a body and renders an error in its envelope. It renders the HTTP response itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError, OperationalError

import bulkbill.services.events.outbox as outbox
import bulkbill.services.platform.idempotency as idempotency
from bulkbill.api.db_refusals import database_refusals
from bulkbill.api.envelope import log_unhandled
from bulkbill.api.state import AppState
from bulkbill.core.errors import BillingError, Conflict, Unauthenticated, Unavailable
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.db import read_only_engine

Work = Callable[[UnitOfWork], dict[str, Any]]


class Edge(Protocol):
    """What a dialect decides about one call; the flow around it is the same for both."""

    dialect: str  # the namespace of its Idempotency-Keys
    method: str
    path: str
    request_id: str  # the owner of a claimed key
    replays_failures: bool  # a failed call's response is stored for its key too (Zuora), or the key is freed

    def checked_key(self) -> str | None:
        """Checks made before any database work (the form of credentials and key); the key to hold, or None."""

    def authenticate(self, uow: UnitOfWork) -> None:
        """Set uow.tenant_id from the credentials, then raise what was refused before the work (a bad body)."""

    def fingerprint(self) -> str:
        """Equal for equal calls: everything that changes the answer (method, path, query, body, scope)."""

    def encode(self, body: dict[str, Any]) -> str: ...

    def render_error(self, exc: BillingError) -> tuple[int, dict[str, Any]]:
        """Status and envelope of a refusal; the status stored with a key is this one."""

    def render_internal_error(self) -> tuple[int, dict[str, Any]]: ...


@dataclass(frozen=True)
class Answer:
    """What to send: the status, the encoded body, and whether it is a stored response replayed."""

    status: int
    body: str
    replayed: bool = False


def execute_once(state: AppState, edge: Edge, work: Work) -> Answer:
    """Run `work` in one transaction under the call's Idempotency-Key; refusals in the dialect's envelope."""
    call = _Call(state, edge)
    log = logging.getLogger(f"bulkbill.{edge.dialect}")
    try:
        return call.run(work)
    except BillingError as exc:
        status, body = edge.render_error(exc)
        text = edge.encode(body)
        log.debug("%s %s %s -> %s %s", edge.dialect, edge.method, edge.path, status, exc.code)
        call.store_failure(status, text, exc)
        return Answer(status, text)
    except Exception:
        log_unhandled(log, edge.method, edge.path, edge.request_id)
        status, body = edge.render_internal_error()
        return Answer(status, edge.encode(body))
    finally:
        call.release()


class _Call:
    """One call's hold on its key: claimed in the work's transaction, stored with it or as a failure."""

    def __init__(self, state: AppState, edge: Edge) -> None:
        self.state = state
        self.edge = edge
        self.key: str | None = None
        self.tenant_id: str | None = None  # known once authenticated
        self.fingerprint = ""
        self.held_in_process = False

    def run(self, work: Work) -> Answer:
        self.key = self.edge.checked_key()
        with database_refusals():
            if self.key is not None and self.state.engine.dialect.name == "sqlite":
                stored = self._look(self.key)
                if stored is not None:
                    return Answer(stored.status_code, stored.body, replayed=True)
            try:
                with self.state.sessions.begin() as session:
                    uow = self._authenticated(UnitOfWork(session, self.state.settings))
                    held = None
                    if self.key is not None:
                        claimed = self._claim(uow, self.key)
                        if isinstance(claimed, idempotency.StoredResponse):
                            return Answer(claimed.status_code, claimed.body, replayed=True)
                        held = claimed
                    outbox.set_request(session, self.edge.request_id, self.key)  # the events' `request`
                    text = self.edge.encode(work(uow))
                    if held is not None:
                        idempotency.finish(uow, held, status_code=200, body=text)
            except IntegrityError:
                # Another process stored a response for the key first (its row beat this one's): replay it.
                stored = self._look(self.key) if self.key is not None else None
                if stored is None:
                    raise
                return Answer(stored.status_code, stored.body, replayed=True)
            return Answer(200, text)

    def _authenticated(self, uow: UnitOfWork) -> UnitOfWork:
        try:
            self.edge.authenticate(uow)
        finally:
            self.tenant_id = uow.tenant_id or self.tenant_id
        return uow

    def _hold_for(self, tenant_id: str, key: str) -> None:
        """This process runs the call: another one with the key is refused at once until it ends."""
        if not self.held_in_process:
            self.fingerprint = self.fingerprint or self.edge.fingerprint()
            idempotency.in_flight.hold(
                tenant_id, self.edge.dialect, key, fingerprint=self.fingerprint, owner=self.edge.request_id
            )
            self.held_in_process = True

    def _look(self, key: str) -> idempotency.StoredResponse | None:
        """Without the write lock (SQLite): the stored response to replay, or None; holds the key in process.

        The session begins a transaction only if authenticating reads (a key not cached): then a read-only one."""
        with self.state.sessions(bind=read_only_engine(self.state.engine)) as session:
            uow = self._authenticated(UnitOfWork(session, self.state.settings))
            self.fingerprint = self.fingerprint or self.edge.fingerprint()
            stored = idempotency.look(uow, dialect=self.edge.dialect, key=key, fingerprint=self.fingerprint)
            if stored is None:
                self._hold_for(uow.tenant_id, key)
            return stored

    def _claim(self, uow: UnitOfWork, key: str) -> idempotency.Claim | idempotency.StoredResponse:
        """In the work's transaction: replay a finished call, refuse one in flight, or hold the key."""
        self._hold_for(uow.tenant_id, key)
        return idempotency.claim(
            uow, dialect=self.edge.dialect, key=key, fingerprint=self.fingerprint, owner=self.edge.request_id
        )

    def store_failure(self, status: int, text: str, exc: BillingError) -> None:
        """A dialect that replays failures keeps this one's response (not a transient or credential refusal)."""
        if not self.edge.replays_failures or self.key is None or self.tenant_id is None:
            return
        if isinstance(exc, Unauthenticated | Conflict | Unavailable):
            return  # a retry runs again
        try:
            self._hold_for(self.tenant_id, self.key)
        except BillingError:
            return  # a call in flight holds the key: it answers for it
        try:
            with self.state.sessions.begin() as session:
                idempotency.record(
                    UnitOfWork(session, self.state.settings, tenant_id=self.tenant_id),
                    dialect=self.edge.dialect,
                    key=self.key,
                    fingerprint=self.fingerprint,
                    status_code=status,
                    body=text,
                    request_id=self.edge.request_id,
                )
        except (IntegrityError, OperationalError, Conflict):
            pass  # a concurrent call stored its own response first

    def release(self) -> None:
        """The call is over: another call with its key may run (and finds its stored response, if any)."""
        if self.held_in_process and self.key is not None and self.tenant_id is not None:
            idempotency.in_flight.drop(self.tenant_id, self.edge.dialect, self.key, owner=self.edge.request_id)
            self.held_in_process = False
