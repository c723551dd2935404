"""The outbox: events, the webhook endpoints that receive them, and one delivery row per (event, endpoint)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bulkbill.storage.tables import Base, Json, tenant_fk
from bulkbill.storage.types import IdString


class Event(Base):
    """One event, written in the transaction of the change it tells; `payload` is its JSON as delivered."""

    __tablename__ = "events"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    created: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        Index("ix_events_tenant_created", "tenant_id", "created", "id"),
        Index("ix_events_created", "created"),
    )


class WebhookEndpoint(Base):
    """Where a tenant's events go; `secret` signs them (kept to sign: see README, "Events and webhooks")."""

    __tablename__ = "webhook_endpoints"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    enabled_events: Mapped[list[str]] = mapped_column(Json)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", Json, default=dict)
    status: Mapped[str] = mapped_column(String(16))  # enabled | disabled
    secret: Mapped[str] = mapped_column(String(80))
    api_version: Mapped[str | None] = mapped_column(String(32))
    created: Mapped[int] = mapped_column(BigInteger)
    failure_streak: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)


class WebhookDelivery(Base):
    """One event's way to one endpoint: pending until answered 2xx or given up; the log of its last attempt."""

    __tablename__ = "webhook_deliveries"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    event_id: Mapped[str] = mapped_column(IdString)
    endpoint_id: Mapped[str] = mapped_column(IdString)
    status: Mapped[str] = mapped_column(String(16))  # core.events.retries.DeliveryStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_ms: Mapped[int] = mapped_column(BigInteger)  # due (or claimed until) this time, ms
    first_attempt_ms: Mapped[int | None] = mapped_column(BigInteger)
    last_attempt_ms: Mapped[int | None] = mapped_column(BigInteger)
    response_status: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        tenant_fk(["event_id"], "events", ondelete="CASCADE"),
        tenant_fk(["endpoint_id"], "webhook_endpoints"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_ms"),
        Index("ix_webhook_deliveries_event", "tenant_id", "event_id"),
    )
