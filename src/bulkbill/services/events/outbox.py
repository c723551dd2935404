"""The outbox: the events of a unit of work, written in its own transaction just before it commits.

A service calls `changing` before it changes an object (the object as it is, for `previous_attributes`
and for a deletion's `data.object`) and `emit` after. Nothing is written then: the events wait in the
session until its transaction commits, when they are rendered (as the Stripe dialect renders the
objects, by the renderers its edge registers), coalesced (one event per type and object, no
`*.updated` beside the same object's `*.created`) and inserted in bulk with one delivery row per
interested endpoint. A transaction that rolls back drops them: a refused call emits nothing, and a
committed change always has its events (the delivery rows are the outbox the senders drain).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, bindparam, cast, select
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session, SessionTransaction

from bulkbill.config import Settings
from bulkbill.core.events.changes import previous_attributes
from bulkbill.core.events.retries import DeliveryStatus
from bulkbill.core.events.types import EventObject, EventType, wants
from bulkbill.services.platform import compact_json
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage import json_codec
from bulkbill.storage.bulk import driver_rows, insert_rows
from bulkbill.storage.ids import new_ids
from bulkbill.storage.tables_events import WebhookEndpoint

# Renders objects of one kind by id as the API shows them; ids it cannot find are left out.
Renderer = Callable[[UnitOfWork, Sequence[str]], dict[str, dict[str, Any]]]
# Renders objects of one kind from their values in hand (each with an `id`), by id.
HeldRenderer = Callable[[UnitOfWork, Sequence[Any]], dict[str, dict[str, Any]]]

_INFO_KEY = "bulkbill.outbox"
_log = logging.getLogger("bulkbill.events")


@dataclass(frozen=True)
class Rendering:
    """How the dialect renders one kind of object for events.

    `render` shows objects as the API does. `before`, when given, renders the state an update starts
    from more cheaply (an invoice without its embedded lines): the fields in `undiffed` are then left
    out of `previous_attributes` (the item events tell which lines changed).
    """

    render: Renderer
    before: Renderer | None = None
    undiffed: frozenset[str] = frozenset()
    # Renders objects from values a service has in hand (`current`), without reading them again.
    held: HeldRenderer | None = None


@dataclass
class _Registry:
    api_version: str = ""
    renderers: dict[EventObject, Rendering] = field(default_factory=dict)
    # Called after a commit that queued deliveries: in-process senders wake up at once.
    on_queued: list[Callable[[], None]] = field(default_factory=list)


_registry = _Registry()
_registry_lock = threading.Lock()


def register_renderers(api_version: str, renderers: dict[EventObject, Rendering]) -> None:
    """The dialect that renders `data.object` (the Stripe edge) says how, once per process."""
    with _registry_lock:
        _registry.api_version = api_version
        _registry.renderers.update(renderers)


def on_deliveries_queued(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` after each commit that queued deliveries; returns the function that stops it."""
    _registry.on_queued.append(callback)
    return lambda: _registry.on_queued.remove(callback) if callback in _registry.on_queued else None


@dataclass(slots=True)
class _Pending:
    tenant_id: str
    type: EventType
    object_id: str
    # Of `type`, asked of every event several times at commit: looked up once, when it is emitted.
    kind: EventObject
    is_creation: bool
    is_update: bool


@dataclass
class _Outbox:
    settings: Settings
    pending: list[_Pending] = field(default_factory=list)
    before: dict[tuple[str, EventObject, str], dict[str, Any]] = field(default_factory=dict)
    # Objects the call's response already rendered after its last change: not rendered again at commit.
    after: dict[tuple[str, EventObject, str], dict[str, Any]] = field(default_factory=dict)
    # Objects as this transaction leaves them, in the service's hands (`current`): rendered from these.
    held: dict[tuple[str, EventObject, str], Any] = field(default_factory=dict)
    gone: set[tuple[str, EventObject, str]] = field(default_factory=set)  # deleted: shown as before (`gone`)
    request_id: str | None = None
    idempotency_key: str | None = None
    queued_deliveries: int = 0
    savepoints: dict[int, int] = field(default_factory=dict)  # open savepoint -> pending count at its start


def _outbox(uow: UnitOfWork) -> _Outbox:
    box: _Outbox | None = uow.session.info.get(_INFO_KEY)
    if box is None:
        box = uow.session.info[_INFO_KEY] = _Outbox(uow.settings)
    return box


def set_request(session: Session, request_id: str, idempotency_key: str | None) -> None:
    """The API request whose events these are (`request.id`, `request.idempotency_key`)."""
    box = session.info.get(_INFO_KEY)
    if box is not None:
        box.request_id, box.idempotency_key = request_id, idempotency_key
    else:
        session.info["bulkbill.request"] = (request_id, idempotency_key)


def changing(uow: UnitOfWork, kind: EventObject, object_ids: Sequence[str], *, held: Sequence[Any] = ()) -> None:
    """Before a change: keep the objects as they are now (the first state seen in this transaction wins).

    `held`: some of them as values the service has in hand (each with an `id`), rendered from those
    (the dialect's `Rendering.held`) instead of read."""
    if not uow.settings.events_enabled:
        return
    box = _outbox(uow)
    # An object created in this transaction needs no "before": its updates are not told beside its creation.
    created = {p.object_id for p in box.pending if p.kind == kind and p.is_creation}
    missing = [i for i in object_ids if (uow.tenant_id, kind, i) not in box.before and i not in created]
    rendering = _registry.renderers.get(kind)
    if not missing or rendering is None:
        return
    bodies: dict[str, dict[str, Any]] = {}
    if held and rendering.held is not None and rendering.before is None:
        wanted = set(missing)
        bodies = rendering.held(uow, [h for h in held if h.id in wanted])
        missing = [i for i in missing if i not in bodies]
    if missing:
        bodies |= (rendering.before or rendering.render)(uow, missing)
    # A copy (of them all at once): a rendered body may share a dict (metadata) with the row about to change.
    for object_id, body in compact_json.detached(bodies).items():
        box.before[(uow.tenant_id, kind, object_id)] = body


def emit(uow: UnitOfWork, event_type: EventType, object_ids: Sequence[str] | str) -> None:
    """After a change: the event is written when the transaction commits (nothing if it rolls back)."""
    if not uow.settings.events_enabled:
        return
    box = _outbox(uow)
    ids = [object_ids] if isinstance(object_ids, str) else object_ids
    kind, creation, update = event_type.object, event_type.is_creation, event_type.is_update
    box.pending.extend(_Pending(uow.tenant_id, event_type, i, kind, creation, update) for i in ids)
    if box.held:  # changed again since a service handed its values over: read at commit instead
        for i in ids:
            box.held.pop((uow.tenant_id, kind, i), None)


def gone(uow: UnitOfWork, kind: EventObject, object_ids: Sequence[str]) -> None:
    """These objects were deleted (no row left): their deletion events show them as they were before
    (`changing`), with nothing to read at commit."""
    if not uow.settings.events_enabled or not object_ids:
        return
    _outbox(uow).gone.update((uow.tenant_id, kind, i) for i in object_ids)


def current(uow: UnitOfWork, kind: EventObject, objects: Sequence[Any]) -> None:
    """After the last change and its `emit`: the objects (each with an `id`) as this transaction leaves them,
    values the service has in hand. Their events render from these (the dialect's `Rendering.held`)
    instead of reading them again; a later `emit` of one drops it."""
    if not uow.settings.events_enabled or not objects:
        return
    box = _outbox(uow)
    for obj in objects:
        box.held[(uow.tenant_id, kind, obj.id)] = obj


def rendered(uow: UnitOfWork, body: dict[str, Any]) -> None:
    """The call's response shows an object this transaction changed, exactly as an event would (no
    expansions, nothing changed after): its events reuse the body instead of rendering it again."""
    box: _Outbox | None = uow.session.info.get(_INFO_KEY)
    if box is None or not box.pending or "deleted" in body:  # a deletion's stub is not the object
        return
    try:
        kind = EventObject(str(body.get("object")))
    except ValueError:
        return
    object_id = body.get("id")
    if any(p.kind == kind and p.object_id == object_id for p in box.pending):
        box.after[(uow.tenant_id, kind, str(object_id))] = body


def _coalesced(pending: list[_Pending]) -> list[_Pending]:
    """One event per (type, object); an object created in this transaction gets no `*.updated` beside it."""
    created = {(p.tenant_id, p.kind, p.object_id) for p in pending if p.is_creation}
    seen: set[tuple[str, EventType, str]] = set()
    out = []
    for p in pending:
        key = (p.tenant_id, p.type, p.object_id)
        if key in seen or (p.is_update and (p.tenant_id, p.kind, p.object_id) in created):
            continue
        seen.add(key)
        out.append(p)
    return out


def _write(session: Session, box: _Outbox) -> None:
    by_tenant: dict[str, list[_Pending]] = {}
    for p in _coalesced(box.pending):
        by_tenant.setdefault(p.tenant_id, []).append(p)
    box.pending.clear()
    for tenant_id, pending in by_tenant.items():
        _write_tenant(UnitOfWork(session, box.settings, tenant_id=tenant_id), box, pending)


def _write_tenant(uow: UnitOfWork, box: _Outbox, pending: list[_Pending]) -> None:
    after: dict[EventObject, dict[str, dict[str, Any]]] = {}
    ids_of_kind: dict[EventObject, set[str]] = {}
    for p in pending:
        ids_of_kind.setdefault(p.kind, set()).add(p.object_id)
    for kind, kind_ids in ids_of_kind.items():
        rendering = _registry.renderers.get(kind)
        ids = sorted(kind_ids)
        shown = {i: box.after[(uow.tenant_id, kind, i)] for i in ids if (uow.tenant_id, kind, i) in box.after}
        if rendering is not None and rendering.held is not None and box.held:
            held = [box.held[(uow.tenant_id, kind, i)] for i in ids if (uow.tenant_id, kind, i) in box.held]
            shown |= rendering.held(uow, [h for h in held if h.id not in shown]) if held else {}
        rest = [i for i in ids if i not in shown and (uow.tenant_id, kind, i) not in box.gone]
        after[kind] = shown | (rendering.render(uow, rest) if rendering is not None and rest else {})
    request = {"id": box.request_id, "idempotency_key": box.idempotency_key}
    now = int(time.time())
    endpoints = _endpoints(uow)
    events: list[tuple[str, str, dict[str, Any], list[str]]] = []  # type, data, endpoint ids
    for p in pending:
        kind = p.kind
        before = box.before.get((uow.tenant_id, kind, p.object_id))
        # A deletion shows the object as it is left (a canceled subscription), or as it was when it is gone.
        obj = after[kind].get(p.object_id) or (before if p.type.is_deletion else None)
        if obj is None:
            continue  # not an object the API shows (a Zuora credit memo under an invoice renderer, say)
        data: dict[str, Any] = {"object": obj}
        if p.is_update:
            rendering = _registry.renderers.get(kind)
            undiffed = rendering.undiffed if rendering is not None else frozenset()
            changed = previous_attributes(before, obj, undiffed) if before is not None else {}
            if before is not None and not changed:
                continue  # nothing the API shows changed
            data["previous_attributes"] = changed
        name = p.type.value
        events.append((name, "", data, [e for e, enabled in endpoints if wants(enabled, name)] if endpoints else []))
    if not events:
        return
    ids = new_ids("evt_", len(events))
    event_rows, delivery_rows = [], []
    now_ms = int(time.time() * 1000)
    for event_id, (event_type, _, data, targets) in zip(ids, events, strict=True):
        body = {
            "id": event_id,
            "object": "event",
            "api_version": _registry.api_version,
            "created": now,
            "data": data,
            "livemode": False,
            "pending_webhooks": len(targets),
            "request": request,
            "type": event_type,
        }
        event_rows.append((uow.tenant_id, event_id, event_type, now, compact_json.dumps(body)))
        delivery_ids = new_ids("whd_", len(targets)) if targets else []
        for delivery_id, endpoint_id in zip(delivery_ids, targets, strict=True):
            delivery_rows.append(
                (uow.tenant_id, delivery_id, event_id, endpoint_id, DeliveryStatus.PENDING.value, 0, now_ms, now)
            )
    insert_rows(uow.session, "events", ("tenant_id", "id", "type", "created", "payload"), event_rows)
    if delivery_rows:
        insert_rows(
            uow.session,
            "webhook_deliveries",
            ("tenant_id", "id", "event_id", "endpoint_id", "status", "attempts", "next_attempt_ms", "created"),
            delivery_rows,
        )
        box.queued_deliveries += len(delivery_rows)


# Built once and read from the driver (every commit with events reads it): building the statement, and
# SQLAlchemy's handling of its result, cost more than running it. The JSON list is read as its text.
_ENABLED_ENDPOINTS = select(WebhookEndpoint.id, cast(WebhookEndpoint.enabled_events, Text)).where(
    WebhookEndpoint.tenant_id == bindparam("tenant_id"),
    WebhookEndpoint.status == "enabled",
    WebhookEndpoint.deleted.is_(False),
)


def _endpoints(uow: UnitOfWork) -> list[tuple[str, list[str]]]:
    """The tenant's enabled endpoints and the events each wants (one small indexed read per commit)."""
    rows = driver_rows(uow.session, _ENABLED_ENDPOINTS, {"tenant_id": uow.tenant_id})
    return [(endpoint_id, list(json_codec.loads(enabled))) for endpoint_id, enabled in rows]


@orm_event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    box: _Outbox | None = session.info.get(_INFO_KEY)
    if box is None or not box.pending or session.in_nested_transaction():  # a savepoint's release: not yet
        return
    request = session.info.pop("bulkbill.request", None)
    if request is not None and box.request_id is None:
        box.request_id, box.idempotency_key = request
    _write(session, box)


@orm_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    box: _Outbox | None = session.info.pop(_INFO_KEY, None)
    session.info.pop("bulkbill.request", None)
    if box is not None and box.queued_deliveries:
        for callback in list(_registry.on_queued):
            try:
                callback()
            except Exception:  # a sender's wake-up must never fail a committed call
                _log.exception("could not wake a webhook sender")


@orm_event.listens_for(Session, "after_transaction_create")
def _savepoint_started(session: Session, transaction: SessionTransaction) -> None:
    box: _Outbox | None = session.info.get(_INFO_KEY)
    if transaction.nested and box is not None:
        box.savepoints[id(transaction)] = len(box.pending)


@orm_event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    """The change is undone: so are its events (a savepoint's rollback undoes only those emitted within it)."""
    box: _Outbox | None = session.info.get(_INFO_KEY)
    if previous_transaction.nested:
        mark = box.savepoints.pop(id(previous_transaction), None) if box is not None else None
        if box is not None:
            del box.pending[mark or 0 :]
        return
    session.info.pop(_INFO_KEY, None)
    session.info.pop("bulkbill.request", None)
