"""Subscriptions, their items, and test clocks (conventions as in tables.py: tenant_id in every key).

A subscription's invoices are ordinary invoices (invoices.subscription_id names the subscription);
each period of each item is billed by one invoice item whose (source_type, source_id) is
("subscription_item", "<si id>:<period start>"), unique in invoice_items, so the database itself
refuses to bill one period twice. A customer lives in a test clock's time when customers.test_clock_id
names it; its subscriptions copy the id so a clock finds them without a join.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bulkbill.storage.tables import Base, Invoice, tenant_fk
from bulkbill.storage.types import IdString


class BillingClock(Base):
    """A Stripe test clock (clock_): a frozen time that moves only when advanced."""

    __tablename__ = "test_clocks"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))
    frozen_time: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    created: Mapped[int] = mapped_column(BigInteger)
    deletes_after: Mapped[int] = mapped_column(BigInteger)
    # Deleted clocks keep their row so customers and subscriptions that named them still resolve.
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        Index("ix_test_clocks_tenant_created", "tenant_id", "created"),
    )


class Subscription(Base):
    """A customer's subscription (sub_): items billed in advance, every `interval_count` `interval`s."""

    __tablename__ = "subscriptions"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    customer_id: Mapped[str] = mapped_column(IdString)
    status: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    collection_method: Mapped[str] = mapped_column(String(24))
    days_until_due: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    default_tax_rates: Mapped[list[str]] = mapped_column(JSON, default=list)
    discounts: Mapped[list[str]] = mapped_column(JSON, default=list)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    interval: Mapped[str] = mapped_column(String(8))
    interval_count: Mapped[int] = mapped_column(Integer)
    billing_cycle_anchor: Mapped[int] = mapped_column(BigInteger)
    # Periods are counted from the anchor: period n runs from boundary n to boundary n + 1.
    period_index: Mapped[int] = mapped_column(Integer, default=0)
    current_period_start: Mapped[int] = mapped_column(BigInteger)
    current_period_end: Mapped[int] = mapped_column(BigInteger)
    start_date: Mapped[int] = mapped_column(BigInteger)
    created: Mapped[int] = mapped_column(BigInteger)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    canceled_at: Mapped[int | None] = mapped_column(BigInteger)
    ended_at: Mapped[int | None] = mapped_column(BigInteger)
    cancellation_details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    latest_invoice_id: Mapped[str | None] = mapped_column(IdString)
    test_clock_id: Mapped[str | None] = mapped_column(IdString)
    # Terms (core.subscriptions.terms): a trial, a configured anchor day, a time to cancel at,
    # paused collection ({"behavior", "resumes_at"}), and what is stored and rendered as given
    # (billing_thresholds, pending_invoice_item_interval, invoice_settings, billing_mode).
    trial_start: Mapped[int | None] = mapped_column(BigInteger)
    trial_end: Mapped[int | None] = mapped_column(BigInteger)
    trial_end_behavior: Mapped[str] = mapped_column(String(16), default="create_invoice")
    anchor_config: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cancel_at: Mapped[int | None] = mapped_column(BigInteger)
    pause_collection: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    terms: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The subscription schedule driving it (subscription_schedules.id), until the schedule ends or is released.
    schedule_id: Mapped[str | None] = mapped_column(IdString)
    __table_args__ = (
        tenant_fk(["customer_id"], "customers"),
        Index("ix_subscriptions_tenant_created", "tenant_id", "created"),
        Index("ix_subscriptions_tenant_customer", "tenant_id", "customer_id"),
        Index("ix_subscriptions_tenant_clock", "tenant_id", "test_clock_id"),
    )


class SubscriptionItem(Base):
    """One price and quantity of a subscription (si_)."""

    __tablename__ = "subscription_items"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    subscription_id: Mapped[str] = mapped_column(IdString)
    price_id: Mapped[str] = mapped_column(IdString)
    quantity: Mapped[int] = mapped_column(BigInteger)
    # None: the subscription's default tax rates apply; a list (even empty) overrides them.
    tax_rates: Mapped[list[str] | None] = mapped_column(JSON)
    discounts: Mapped[list[str]] = mapped_column(JSON, default=list)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    created: Mapped[int] = mapped_column(BigInteger)
    # billing_thresholds[usage_gte] of a metered item, and usage_billed_until: the end of the usage a threshold
    # invoice already billed in the current period (None: nothing yet).
    usage: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    __table_args__ = (
        tenant_fk(["subscription_id"], "subscriptions"),
        tenant_fk(["price_id"], "prices"),
        Index("ix_subscription_items_tenant_subscription", "tenant_id", "subscription_id"),
    )


class SubscriptionSchedule(Base):
    """A subscription schedule (sub_sched_): phases, each a subscription's items and settings for a time.

    `phases` holds each phase as given (the dialect's checked parameters, JSON) with its computed
    start_date and end_date; `current_phase` is the index of the phase the subscription is in (-1 before
    the start). The subscription is created when the first phase starts.
    """

    __tablename__ = "subscription_schedules"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    customer_id: Mapped[str] = mapped_column(IdString)
    status: Mapped[str] = mapped_column(String(16))
    subscription_id: Mapped[str | None] = mapped_column(IdString)
    released_subscription_id: Mapped[str | None] = mapped_column(IdString)
    test_clock_id: Mapped[str | None] = mapped_column(IdString)
    end_behavior: Mapped[str] = mapped_column(String(16))
    phases: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    current_phase: Mapped[int] = mapped_column(Integer, default=-1)
    default_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    billing_mode: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    created: Mapped[int] = mapped_column(BigInteger)
    canceled_at: Mapped[int | None] = mapped_column(BigInteger)
    completed_at: Mapped[int | None] = mapped_column(BigInteger)
    released_at: Mapped[int | None] = mapped_column(BigInteger)
    __table_args__ = (
        tenant_fk(["customer_id"], "customers"),
        Index("ix_subscription_schedules_tenant_created", "tenant_id", "created"),
        Index("ix_subscription_schedules_tenant_customer", "tenant_id", "customer_id"),
        Index("ix_subscription_schedules_tenant_clock", "tenant_id", "test_clock_id"),
    )


# A subscription's invoices are found by subscription (renewal drafts to finalize, invoice lists).
Index("ix_invoices_tenant_subscription", Invoice.tenant_id, Invoice.subscription_id)
