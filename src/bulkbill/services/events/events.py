"""Reading the event log: one event, a filtered page, and how many deliveries each still waits for."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, false, func, or_, select

from bulkbill.core.errors import NotFound
from bulkbill.core.events.retries import DeliveryStatus
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables_events import Event, WebhookDelivery


@dataclass(frozen=True)
class EventFilter:
    types: Sequence[str] = ()  # exact names, or a prefix ending in ".*" (Stripe's `type=invoice.*`)
    delivery_success: bool | None = None


def get_event(uow: UnitOfWork, event_id: str) -> Event:
    event = uow.session.scalars(select(Event).where(Event.tenant_id == uow.tenant_id, Event.id == event_id)).first()
    if event is None:
        raise NotFound("event", event_id)
    return event


def list_events(uow: UnitOfWork, cursor: Cursor, where: EventFilter) -> Page[Event]:
    query = select(Event).where(Event.tenant_id == uow.tenant_id)
    if where.types:
        exact = [t for t in where.types if not t.endswith("*")]
        prefixes = [t[:-1] for t in where.types if t.endswith("*")]
        query = query.where(Event.type.in_(exact) | _any_prefix(prefixes))
    if where.delivery_success is not None:
        unfinished = exists().where(
            WebhookDelivery.tenant_id == Event.tenant_id,
            WebhookDelivery.event_id == Event.id,
            WebhookDelivery.status != DeliveryStatus.SUCCEEDED.value,
        )
        query = query.where(~unfinished if where.delivery_success else unfinished)
    return paginate(uow, query, Event, cursor)


def _any_prefix(prefixes: list[str]) -> Any:
    return or_(false(), *(Event.type.startswith(prefix, autoescape=True) for prefix in prefixes))


def pending_webhooks(uow: UnitOfWork, event_ids: Sequence[str]) -> dict[str, int]:
    """How many of each event's deliveries are still pending (Stripe's `pending_webhooks`)."""
    if not event_ids:
        return {}
    rows = uow.session.execute(
        select(WebhookDelivery.event_id, func.count())
        .where(
            WebhookDelivery.tenant_id == uow.tenant_id,
            WebhookDelivery.event_id.in_(event_ids),
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
        )
        .group_by(WebhookDelivery.event_id)
    )
    return {event_id: count for event_id, count in rows}


def event_bodies(uow: UnitOfWork, events: Sequence[Event]) -> list[dict[str, Any]]:
    """The events as stored, with `pending_webhooks` as it is now."""
    pending = pending_webhooks(uow, [e.id for e in events])
    bodies = []
    for event in events:
        body = json.loads(event.payload)
        body["pending_webhooks"] = pending.get(event.id, 0)
        bodies.append(body)
    return bodies


def prune_events(uow: UnitOfWork, older_than: int) -> int:
    """Forget events (and their delivery log) created before `older_than`, every tenant at once."""
    old = select(Event.id).where(Event.created < older_than)
    uow.session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(old)))
    result = uow.session.execute(delete(Event).where(Event.created < older_than))
    return int(getattr(result, "rowcount", 0) or 0)


def events_since(uow: UnitOfWork, created_from: int, *, skip: Collection[str], limit: int = 500) -> list[Event]:
    """The tenant's events created at or after `created_from`, oldest first, but those in `skip` (already seen).

    Read by `bulkbill listen`: an event committed late with an earlier second is still found."""
    query = (
        select(Event)
        .where(Event.tenant_id == uow.tenant_id, Event.created >= created_from)
        .order_by(Event.created, Event.id)
        .limit(limit + len(skip))
    )
    return [e for e in uow.session.scalars(query) if e.id not in skip][:limit]
