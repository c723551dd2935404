"""Order billing tables: orders, order line items, fulfillments and their items, bill runs.

Conventions as in tables.py: tenant_id leads every key and foreign key; prices are unrounded
minor units and quantities exact decimals (DecimalText); dates are ISO strings (YYYY-MM-DD).
Zuora objects have 32-character lower-case hex ids (new_zuora_id). Whether a line or fulfillment
is billed is not stored here: it is the invoice item whose (source_type, source_id) names it,
unique in invoice_items, so the database itself refuses a second billing.

A bill run is split into chunks (bill_run_chunks): contiguous ranges of account ids, each billed
in one transaction that also marks the chunk done, so a chunk is done once or not at all and a
resumed run skips done chunks. Workers claim chunk rows with SELECT … FOR UPDATE SKIP LOCKED.
A planned run freezes the exact items it will bill in bill_run_items.
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
        # Bill-run chunks select an account range's due lines.
        Index("ix_order_line_items_account", "tenant_id", "account_id"),
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
    # Which accounts the run bills: {"accounts": [ids] | null, "orgs": [labels] | null} (null: all).
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A planned run bills exactly the items frozen in bill_run_items, whatever became due since.
    frozen: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Progress: chunks and lines planned, and done so far (updated by each chunk's transaction).
    total_chunks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    chunks_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    planned_lines: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    billed_lines: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # A planned run's totals: {"items", "invoices", "creditMemos", "totals": {currency: {...}}}.
    plan_summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        UniqueConstraint("tenant_id", "bill_run_number"),
        # Workers look for runs with chunks left (the one query that spans tenants; no lock taken).
        Index("ix_bill_runs_status", "status", "created"),
    )


class BillRunAccount(Base):
    """An account a bill run has billed (or plans to bill): unique, so no run bills an account twice.

    The counts and totals are the account's documents in this run (planned, then billed);
    `totals` maps a currency to {"invoice": minor units, "creditMemo": minor units}.
    """

    __tablename__ = "bill_run_accounts"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bill_run_id: Mapped[str] = mapped_column(IdString, primary_key=True)
    customer_id: Mapped[str] = mapped_column(IdString, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    items: Mapped[int | None] = mapped_column(Integer)
    invoices: Mapped[int | None] = mapped_column(Integer)
    credit_memos: Mapped[int | None] = mapped_column(Integer)
    totals: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    __table_args__ = (
        tenant_fk(["bill_run_id"], "bill_runs"),
        tenant_fk(["customer_id"], "customers"),
    )


class BillRunChunk(Base):
    """A contiguous range of account ids of one run, billed in one transaction ("pending" → "done").

    A worker claims a pending chunk with FOR UPDATE SKIP LOCKED and marks it done in the same
    transaction as its documents; a crash rolls both back, so the chunk is simply pending again.
    After `attempts` failures it is "failed" and its run goes to Error.
    """

    __tablename__ = "bill_run_chunks"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bill_run_id: Mapped[str] = mapped_column(IdString, primary_key=True)
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_account_id: Mapped[str] = mapped_column(IdString)
    last_account_id: Mapped[str] = mapped_column(IdString)
    planned_accounts: Mapped[int] = mapped_column(Integer)
    planned_lines: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    accounts: Mapped[int] = mapped_column(Integer, default=0)
    billed_lines: Mapped[int] = mapped_column(Integer, default=0)
    invoices: Mapped[int] = mapped_column(Integer, default=0)
    credit_memos: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(100))
    finished: Mapped[int | None] = mapped_column(BigInteger)
    __table_args__ = (
        tenant_fk(["bill_run_id"], "bill_runs"),
        Index("ix_bill_run_chunks_status", "tenant_id", "bill_run_id", "status"),
    )


class BillRunItem(Base):
    """An item a planned run froze: committing the plan bills exactly these (those still unbilled)."""

    __tablename__ = "bill_run_items"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bill_run_id: Mapped[str] = mapped_column(IdString, primary_key=True)
    source_type: Mapped[str] = mapped_column(String(24), primary_key=True)
    source_id: Mapped[str] = mapped_column(IdString, primary_key=True)
    account_id: Mapped[str] = mapped_column(IdString)
    __table_args__ = (
        tenant_fk(["bill_run_id"], "bill_runs"),
        Index("ix_bill_run_items_account", "tenant_id", "bill_run_id", "account_id"),
    )


__all__ = [
    "BillRun",
    "BillRunAccount",
    "BillRunChunk",
    "BillRunItem",
    "Fulfillment",
    "FulfillmentItem",
    "Order",
    "OrderLineItem",
    "new_zuora_id",
]
