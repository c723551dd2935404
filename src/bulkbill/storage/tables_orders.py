"""Order billing tables: orders, order line items, fulfillments and their items, bill runs.

Conventions as in tables.py: tenant_id leads every key and foreign key; prices are unrounded
minor units and quantities exact decimals (DecimalText); dates are ISO strings (YYYY-MM-DD).
Zuora objects have 32-character lower-case hex ids (new_zuora_id). Whether a line or fulfillment
is billed is not stored here: it is the invoice item whose (source_type, source_id) names it,
unique in invoice_items, so the database itself refuses a second billing.
"""

from __future__ import annotations

import secrets
import threading
import time
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bulkbill.storage.tables import Base, tenant_fk
from bulkbill.storage.types import DecimalText, IdString

_lock = threading.Lock()
_last = 0


def new_zuora_id() -> str:
    """A Zuora-style id: 32 lower-case hex characters, the first 13 time-ordered (so ids sort by creation)."""
    global _last
    with _lock:
        now = time.time_ns() // 1000
        _last = now if now > _last else _last + 1
        tick = _last
    return f"{tick:013x}"[-13:] + secrets.token_hex(10)[:19]


class Order(Base):
    __tablename__ = "orders"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    order_number: Mapped[str] = mapped_column(String(100))
    # The invoice owner: the account every line of the order bills to.
    account_id: Mapped[str] = mapped_column(IdString)
    category: Mapped[str] = mapped_column(String(16))
    order_date: Mapped[str] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(Text)
    reason_code: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created: Mapped[int] = mapped_column(BigInteger)
    updated: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        tenant_fk(["account_id"], "customers"),
        UniqueConstraint("tenant_id", "order_number"),
    )


class OrderLineItem(Base):
    __tablename__ = "order_line_items"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    order_id: Mapped[str] = mapped_column(IdString)
    item_number: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[str] = mapped_column(IdString)
    owner_account_id: Mapped[str] = mapped_column(IdString)
    item_state: Mapped[str] = mapped_column(String(16))
    item_category: Mapped[str] = mapped_column(String(8))
    billing_rule: Mapped[str] = mapped_column(String(32))
    item_type: Mapped[str | None] = mapped_column(String(16))
    item_name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    list_price_per_unit: Mapped[Decimal] = mapped_column(DecimalText)
    amount_per_unit: Mapped[Decimal] = mapped_column(DecimalText)
    inline_discount_type: Mapped[str | None] = mapped_column(String(16))
    # A percentage for Percentage discounts; minor units for FixedAmount ones.
    inline_discount_per_unit: Mapped[Decimal | None] = mapped_column(DecimalText)
    bill_target_date: Mapped[str | None] = mapped_column(String(10))
    transaction_start_date: Mapped[str] = mapped_column(String(10))
    transaction_end_date: Mapped[str] = mapped_column(String(10))
    uom: Mapped[str | None] = mapped_column(String(255))
    product_code: Mapped[str | None] = mapped_column(String(100))
    original_line_item_id: Mapped[str | None] = mapped_column(IdString)
    # When the line entered SentToBilling: bill runs also bill it once it is Complete if still unbilled.
    sent_to_billing_at: Mapped[int | None] = mapped_column(BigInteger)
    # Every other wire field (accounting codes, contacts, paymentTerm, ...), stored as sent.
    attrs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created: Mapped[int] = mapped_column(BigInteger)
    updated: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        tenant_fk(["order_id"], "orders"),
        tenant_fk(["account_id"], "customers"),
        tenant_fk(["owner_account_id"], "customers"),
        # Named by hand: the conventional name is longer than PostgreSQL's 63-character limit.
        tenant_fk(["original_line_item_id"], "order_line_items", name="fk_order_line_items_original"),
        UniqueConstraint("tenant_id", "order_id", "item_number"),
        Index("ix_order_line_items_billing", "tenant_id", "item_state", "bill_target_date"),
        Index("ix_order_line_items_original", "tenant_id", "original_line_item_id"),
    )


class Fulfillment(Base):
    __tablename__ = "fulfillments"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    fulfillment_number: Mapped[str] = mapped_column(String(100))
    order_line_item_id: Mapped[str] = mapped_column(IdString)
    state: Mapped[str] = mapped_column(String(16))
    fulfillment_type: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[Decimal] = mapped_column(DecimalText)
    fulfillment_date: Mapped[str] = mapped_column(String(10))
    bill_target_date: Mapped[str | None] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(50))
    tracking_number: Mapped[str | None] = mapped_column(String(50))
    carrier: Mapped[str | None] = mapped_column(String(25))
    fulfillment_system: Mapped[str | None] = mapped_column(String(25))
    fulfillment_location: Mapped[str | None] = mapped_column(String(50))
    sent_to_billing_at: Mapped[int | None] = mapped_column(BigInteger)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created: Mapped[int] = mapped_column(BigInteger)
    updated: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        tenant_fk(["order_line_item_id"], "order_line_items"),
        UniqueConstraint("tenant_id", "fulfillment_number"),
        Index("ix_fulfillments_line", "tenant_id", "order_line_item_id"),
        Index("ix_fulfillments_billing", "tenant_id", "state", "bill_target_date"),
        Index("ix_fulfillments_external", "tenant_id", "external_id"),
    )


class FulfillmentItem(Base):
    __tablename__ = "fulfillment_items"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    fulfillment_id: Mapped[str] = mapped_column(IdString)
    item_identifier: Mapped[str | None] = mapped_column(String(36))
    description: Mapped[str | None] = mapped_column(Text)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        tenant_fk(["fulfillment_id"], "fulfillments"),
        Index("ix_fulfillment_items_fulfillment", "tenant_id", "fulfillment_id"),
    )


class BillRun(Base):
    __tablename__ = "bill_runs"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    bill_run_number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(24))
    target_date: Mapped[str] = mapped_column(String(10))
    invoice_date: Mapped[str] = mapped_column(String(10))
    auto_post: Mapped[bool] = mapped_column(Boolean, default=False)
    include_order_line_items: Mapped[bool] = mapped_column(Boolean, default=True)
    # The request's other settings (filters, batches, flags), echoed back as sent.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    number_of_accounts: Mapped[int] = mapped_column(Integer, default=0)
    number_of_invoices: Mapped[int] = mapped_column(Integer, default=0)
    number_of_credit_memos: Mapped[int] = mapped_column(Integer, default=0)
    error_message: Mapped[str | None] = mapped_column(Text)
    created: Mapped[int] = mapped_column(BigInteger)
    updated: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        UniqueConstraint("tenant_id", "bill_run_number"),
    )


class BillRunAccount(Base):
    """An account a bill run has billed: unique, so a resumed run never bills an account twice."""

    __tablename__ = "bill_run_accounts"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bill_run_id: Mapped[str] = mapped_column(IdString, primary_key=True)
    customer_id: Mapped[str] = mapped_column(IdString, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    __table_args__ = (
        tenant_fk(["bill_run_id"], "bill_runs"),
        tenant_fk(["customer_id"], "customers"),
    )


__all__ = ["BillRun", "BillRunAccount", "Fulfillment", "FulfillmentItem", "Order", "OrderLineItem", "new_zuora_id"]
