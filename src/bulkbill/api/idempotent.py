"""One call end to end, for both dialects: authenticate, hold the Idempotency-Key, run once, store or release.

The edge owns the transaction: the work runs in one unit of work that commits on success and rolls
back on any error, so a refused call changes nothing. A call with an Idempotency-Key first claims
the key (marks it in flight) in its own short transaction: a finished call's stored response is
replayed instead, one still in flight is refused as a conflict. The response is stored in the
work's own transaction, so the key is done exactly when the work commits. When the work fails the
key is released, so that a retry runs again, unless the dialect replays failures too (Zuora): then
the failure's response is stored, in its own transaction.

Each dialect supplies an `Edge`: how it reads the key, authenticates, fingerprints a request,
encodes a body and renders an error in its envelope. It renders the HTTP response itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

import bulkbill.services.events.outbox as outbox
import bulkbill.services.platform.idempotency as idempotency
from bulkbill.api.db_refusals import database_refusals
from bulkbill.api.envelope import log_unhandled
from bulkbill.api.state import AppState
from bulkbill.core.errors import BillingError, Conflict, Unauthenticated, Unavailable
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.db import read_only

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
    """One call's hold on its key: claimed, then finished with the work, stored as a failure, or released."""

    def __init__(self, state: AppState, edge: Edge) -> None:
        self.state = state
        self.edge = edge
        self.key: str | None = None
        self.tenant_id: str | None = None  # known once authenticated
        self.held: idempotency.Claim | None = None

    def run(self, work: Work) -> Answer:
        self.key = self.edge.checked_key()
        with database_refusals():
            if self.key is not None:
                claimed = self._claim(self.key)
                if isinstance(claimed, idempotency.StoredResponse):
                    return Answer(claimed.status_code, claimed.body, replayed=True)
                self.held = claimed
            with self.state.sessions.begin() as session:
                uow = self._authenticated(UnitOfWork(session, self.state.settings))
                outbox.set_request(session, self.edge.request_id, self.key)  # the events' `request`
                text = self.edge.encode(work(uow))
                if self.held is not None:
                    idempotency.finish(uow, self.held, status_code=200, body=text)
            self.held = None  # committed together with the work
            return Answer(200, text)

    def _authenticated(self, uow: UnitOfWork) -> UnitOfWork:
        try:
            self.edge.authenticate(uow)
        finally:
            self.tenant_id = uow.tenant_id or self.tenant_id
        return uow

    def _claim(self, key: str) -> idempotency.Claim | idempotency.StoredResponse:
        """In its own short transaction: replay a finished call, refuse one in flight, or hold the key."""
        state, fingerprint = self.state, self.edge.fingerprint()
        if state.engine.dialect.name == "sqlite":
            # SQLite serializes writers: look first without the write lock, so that a retry meeting its
            # key in flight answers at once (and a replay needs no lock) instead of queueing behind the work.
            with state.sessions() as session, session.begin():
                read_only(session)
                uow = self._authenticated(UnitOfWork(session, state.settings))
                stored = idempotency.look(uow, dialect=self.edge.dialect, key=key, fingerprint=fingerprint)
                if stored is not None:
                    return stored
        for attempt in range(2):
            try:
                with state.sessions.begin() as session:
                    uow = self._authenticated(UnitOfWork(session, state.settings))
                    return idempotency.claim(
                        uow, dialect=self.edge.dialect, key=key, fingerprint=fingerprint, owner=self.edge.request_id
                    )
            except IntegrityError:
                # A concurrent call claimed the key first: the next attempt sees its row.
                if attempt == 1:
                    raise Conflict("The request conflicted with a concurrent request; please retry.") from None
        raise AssertionError("unreachable")

    def store_failure(self, status: int, text: str, exc: BillingError) -> None:
        """A dialect that replays failures keeps this one's response (not a transient or credential refusal)."""
        if not self.edge.replays_failures or self.key is None or self.tenant_id is None:
            return
        if isinstance(exc, Unauthenticated | Conflict | Unavailable):
            return  # a held key is released instead: a retry runs again
        try:
            with self.state.sessions.begin() as session:
                uow = UnitOfWork(session, self.state.settings, tenant_id=self.tenant_id)
                if self.held is not None:
                    idempotency.finish(uow, self.held, status_code=status, body=text)
                else:  # refused before the key was claimed
                    idempotency.record(
                        uow,
                        dialect=self.edge.dialect,
                        key=self.key,
                        fingerprint=self.edge.fingerprint(),
                        status_code=status,
                        body=text,
                        request_id=self.edge.request_id,
                    )
            self.held = None
        except (IntegrityError, OperationalError, Conflict):
            pass  # a concurrent call stored its own response first; a held key is released

    def release(self) -> None:
        """The work failed and nothing is stored for it: free the key so that a retry runs again."""
        held, self.held = self.held, None
        if held is None:
            return
        try:
            with self.state.sessions.begin() as session:
                idempotency.release(UnitOfWork(session, self.state.settings, tenant_id=held.tenant_id), held)
        except DBAPIError:
            # The key stays in flight until settings.idempotency_in_flight_timeout_seconds, then is taken over.
            logging.getLogger(f"bulkbill.{self.edge.dialect}").warning(
                "could not release idempotency key %r", held.key, exc_info=True
            )
