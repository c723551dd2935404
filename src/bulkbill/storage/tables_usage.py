"""Usage-based billing: Stripe's billing meters and the meter events they aggregate (tables.py's conventions).

A meter (mtr_) names the event it counts (`event_name`), how events find their customer and value (payload
keys) and how a period's events add up (`formula`: sum, count, last). A meter event is kept as sent, keyed by
its caller-chosen identifier (unique per tenant: the database refuses a second event with one identifier);
the customer and value read from its payload are kept beside it so a period's usage is one indexed query.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bulkbill.storage.tables import Base, Json
from bulkbill.storage.types import DecimalText, IdString


class BillingMeter(Base):
    """A billing meter (mtr_): which events it counts and how a period's events aggregate."""

    __tablename__ = "billing_meters"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(250))
    event_name: Mapped[str] = mapped_column(String(100))
    formula: Mapped[str] = mapped_column(String(8))  # core.subscriptions.usage.MeterFormula
    customer_key: Mapped[str] = mapped_column(String(100))
    value_key: Mapped[str] = mapped_column(String(100))
    event_time_window: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))
    deactivated_at: Mapped[int | None] = mapped_column(BigInteger)
    created: Mapped[int] = mapped_column(BigInteger)
    updated: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        Index("ix_billing_meters_tenant_event", "tenant_id", "event_name"),
    )


class BillingMeterEvent(Base):
    """One usage event as sent (payload kept), with the customer and value its payload names."""

    __tablename__ = "billing_meter_events"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_name: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[str] = mapped_column(IdString)
    value: Mapped[Decimal | None] = mapped_column(DecimalText)
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    created: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        Index("ix_billing_meter_events_usage", "tenant_id", "event_name", "customer_id", "timestamp"),
    )
