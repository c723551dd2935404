"""The delivery queue: claim what is due, record what each attempt got, redeliver on demand.

A claim moves a due delivery's `next_attempt_ms` a lease ahead in one UPDATE (under `FOR UPDATE SKIP
LOCKED` on PostgreSQL), so several senders never send one delivery at once, and one that dies
mid-send (kill -9) leaves its deliveries to be claimed again when the lease runs out: at least once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select, tuple_, update

from bulkbill.core.events.retries import DeliveryStatus, RetryPolicy
from bulkbill.services.events.endpoints import DISABLED, ENABLED, get_endpoint
from bulkbill.services.events.events import get_event
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.bulk import insert_rows, update_rows
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables_events import Event, WebhookDelivery, WebhookEndpoint


@dataclass(frozen=True)
class Claimed:
    """One delivery to attempt now: where, what, signed with which secret."""

    tenant_id: str
    delivery_id: str
    event_id: str
    endpoint_id: str
    url: str
    secret: str
    payload: str
    attempts: int
    first_attempt_ms: int | None


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: a 2xx is a success; anything else (or no answer) a failure."""

    claimed: Claimed
    attempted_ms: int
    succeeded: bool
    response_status: int | None
    duration_ms: int
    error: str | None


_ENDPOINT_OF_DELIVERY = (WebhookEndpoint.tenant_id == WebhookDelivery.tenant_id) & (
    WebhookEndpoint.id == WebhookDelivery.endpoint_id
)


def retry_policy(uow: UnitOfWork) -> RetryPolicy:
    s = uow.settings
    return RetryPolicy(
        first_delay=s.webhook_retry_first_delay_seconds,
        max_delay=s.webhook_retry_max_delay_seconds,
        give_up_after=s.webhook_retry_for_seconds,
        disable_after_failures=s.webhook_disable_after_failures,
    )


def _due_condition(now_ms: int) -> Any:
    return (
        (WebhookDelivery.status == DeliveryStatus.PENDING.value)
        & (WebhookDelivery.next_attempt_ms <= now_ms)
        & (WebhookEndpoint.status == ENABLED)
    )


def any_due(uow: UnitOfWork) -> bool:
    """Whether a delivery is due (a read: an idle sender looks without taking SQLite's write lock)."""
    now_ms = int(time.time() * 1000)
    due = select(WebhookDelivery.id).join(WebhookEndpoint, _ENDPOINT_OF_DELIVERY).where(_due_condition(now_ms))
    return uow.session.execute(due.limit(1)).first() is not None


def claim_due(uow: UnitOfWork, limit: int, lease_seconds: float) -> list[Claimed]:
    """Up to `limit` due deliveries to enabled endpoints (any tenant), leased to this sender.

    One UPDATE leases them (on PostgreSQL its subquery locks them `FOR UPDATE SKIP LOCKED`, so two senders
    never take the same one), one SELECT reads what to send."""
    now_ms = int(time.time() * 1000)
    due = (
        select(WebhookDelivery.tenant_id, WebhookDelivery.id)
        .join(WebhookEndpoint, _ENDPOINT_OF_DELIVERY)
        .where(_due_condition(now_ms))
        .order_by(WebhookDelivery.next_attempt_ms)
        .limit(limit)
    )
    if uow.is_postgres:
        due = due.with_for_update(of=WebhookDelivery, skip_locked=True)
    claimed = uow.session.execute(
        update(WebhookDelivery)
        .where(tuple_(WebhookDelivery.tenant_id, WebhookDelivery.id).in_(due))
        .values(next_attempt_ms=now_ms + int(lease_seconds * 1000))
        .returning(WebhookDelivery.tenant_id, WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return []
    rows = uow.session.execute(
        select(
            WebhookDelivery.tenant_id,
            WebhookDelivery.id,
            WebhookDelivery.event_id,
            WebhookDelivery.endpoint_id,
            WebhookEndpoint.url,
            WebhookEndpoint.secret,
            Event.payload,
            WebhookDelivery.attempts,
            WebhookDelivery.first_attempt_ms,
        )
        .join(WebhookEndpoint, _ENDPOINT_OF_DELIVERY)
        .join(Event, (Event.tenant_id == WebhookDelivery.tenant_id) & (Event.id == WebhookDelivery.event_id))
        .where(
            WebhookDelivery.tenant_id.in_({tenant for tenant, _ in claimed}),
            WebhookDelivery.id.in_([delivery_id for _, delivery_id in claimed]),
        )
        .order_by(WebhookDelivery.created, WebhookDelivery.id)
    )
    return [Claimed(*row) for row in rows]


# What recording an attempt writes, by primary key.
_DELIVERIES = cast(Table, WebhookDelivery.__table__)
_KEYS = ("tenant_id", "id")
_RESULTS = (
    "status",
    "attempts",
    "next_attempt_ms",
    "first_attempt_ms",
    "last_attempt_ms",
    "response_status",
    "duration_ms",
    "error",
)


def record(uow: UnitOfWork, outcomes: Sequence[Outcome]) -> list[str]:
    """Log each attempt; schedule a retry or give up a failure; keep each endpoint's run of failures and
    disable it when the run is long enough. Returns the endpoints disabled now.

    The whole batch is one statement (storage.bulk.update_rows), whatever its size."""
    if not outcomes:
        return []
    policy = retry_policy(uow)
    now = time.time()
    changes = []
    for o in outcomes:
        attempts = o.claimed.attempts + 1
        first = o.claimed.first_attempt_ms or o.attempted_ms
        if o.succeeded:
            status, next_ms = DeliveryStatus.SUCCEEDED, o.attempted_ms
        else:
            retry_at = policy.after_failure(attempts=attempts, first_attempt_at=first / 1000, now=now)
            status = DeliveryStatus.PENDING if retry_at is not None else DeliveryStatus.FAILED
            next_ms = int(retry_at * 1000) if retry_at is not None else o.attempted_ms
        changes.append(
            (
                o.claimed.tenant_id,
                o.claimed.delivery_id,
                status.value,
                attempts,
                next_ms,
                first,
                o.attempted_ms,
                o.response_status,
                o.duration_ms,
                o.error,
            )
        )
    update_rows(uow.session, _DELIVERIES, _KEYS, _RESULTS, changes)
    return _update_endpoints(uow, policy, outcomes)


def _update_endpoints(uow: UnitOfWork, policy: RetryPolicy, outcomes: Sequence[Outcome]) -> list[str]:
    by_endpoint: dict[tuple[str, str], list[bool]] = {}
    for o in outcomes:
        by_endpoint.setdefault((o.claimed.tenant_id, o.claimed.endpoint_id), []).append(o.succeeded)
    disabled = []
    for (tenant_id, endpoint_id), results in sorted(by_endpoint.items()):
        endpoint = uow.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.id == endpoint_id)
            .with_for_update()
        ).one()
        streak = endpoint.failure_streak
        for succeeded in results:
            streak = 0 if succeeded else streak + 1
        endpoint.failure_streak = streak
        if endpoint.status == ENABLED and policy.disables(streak):
            endpoint.status = DISABLED
            disabled.append(endpoint_id)
    uow.session.flush()
    return disabled


def resend(uow: UnitOfWork, event_id: str, endpoint_id: str) -> str:
    """Deliver an event to an endpoint again, now, as a new delivery (the earlier ones stay in the log)."""
    event = get_event(uow, event_id)
    endpoint = get_endpoint(uow, endpoint_id)
    delivery_id = new_id("whd_")
    insert_rows(
        uow.session,
        "webhook_deliveries",
        ("tenant_id", "id", "event_id", "endpoint_id", "status", "attempts", "next_attempt_ms", "created"),
        [(uow.tenant_id, delivery_id, event.id, endpoint.id, DeliveryStatus.PENDING.value, 0, 0, uow.now)],
    )
    return delivery_id


def deliveries_of(uow: UnitOfWork, event_id: str) -> list[WebhookDelivery]:
    """The delivery log of one event, oldest first."""
    return list(
        uow.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.tenant_id == uow.tenant_id, WebhookDelivery.event_id == event_id)
            .order_by(WebhookDelivery.created, WebhookDelivery.id)
        )
    )
