"""Billing order line items and fulfillments: what is due, and how it groups into documents.

A pure planner. Sources (a rule-A line or a fulfillment) come in; documents come out: one
invoice per account, currency and billing attributes for sales, one credit memo for returns.
Each source becomes exactly one document line whose amount is unit price × quantity, rounded
once. Billing never changes a line's or fulfillment's state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from bulkbill.core.money import line_amount
from bulkbill.core.orders import ItemCategory

# States in which a source that went through SentToBilling may be billed (Complete after
# SentToBilling without billing is still owed, spec §10 point 9).
BILLABLE_STATES = frozenset({"SentToBilling", "Complete"})
PAYMENT_TERM_DAYS = {"Due Upon Receipt": 0, "Net 30": 30, "Net 45": 45, "Net 60": 60, "Net 90": 90}
DEFAULT_PAYMENT_TERM = "Net 30"


class DocumentType(StrEnum):
    INVOICE = "invoice"
    CREDIT_MEMO = "credit_memo"


class SourceType(StrEnum):
    ORDER_LINE_ITEM = "order_line_item"
    FULFILLMENT = "fulfillment"


@dataclass(frozen=True, slots=True)
class BillableSource:
    """One thing that may become one document line."""

    source_type: SourceType
    source_id: str
    account_id: str
    currency: str
    category: ItemCategory
    state: str
    quantity: Decimal
    unit_amount: Decimal
    bill_target_date: dt.date | None
    sent_to_billing: bool
    billed: bool
    # Flexible billing attributes (billTo, paymentTerm, invoiceTemplateId, ...): differing ones split documents.
    attributes: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True, slots=True)
class PlannedLine:
    source: BillableSource
    amount: int


@dataclass(frozen=True, slots=True)
class DocumentPlan:
    account_id: str
    currency: str
    document_type: DocumentType
    attributes: tuple[tuple[str, str | None], ...]
    lines: tuple[PlannedLine, ...] = field(default=())

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


def document_type_for(category: ItemCategory) -> DocumentType:
    """Sales are invoiced; returns are credited on a credit memo (Invoice Settlement on)."""
    return DocumentType.INVOICE if category == ItemCategory.SALES else DocumentType.CREDIT_MEMO


def due_for_run_billing(source: BillableSource) -> bool:
    """runBilling (Decision 3) bills a source of the call that ends it SentToBilling and is not yet billed."""
    return source.state == "SentToBilling" and not source.billed


def due_for_bill_run(source: BillableSource, target_date: dt.date) -> bool:
    """A bill run bills what went to billing, is unbilled, and has billTargetDate on or before its targetDate."""
    return (
        source.state in BILLABLE_STATES
        and source.sent_to_billing
        and not source.billed
        and source.bill_target_date is not None
        and source.bill_target_date <= target_date
    )


def plan_documents(sources: Iterable[BillableSource]) -> list[DocumentPlan]:
    """Group sources into documents, in first-seen order: one per account, currency, type and attributes."""
    groups: dict[tuple[str, str, DocumentType, tuple[tuple[str, str | None], ...]], list[PlannedLine]] = {}
    seen: set[tuple[SourceType, str]] = set()
    for source in sources:
        if (source.source_type, source.source_id) in seen:
            continue  # a source is billed once, even when listed twice
        seen.add((source.source_type, source.source_id))
        key = (source.account_id, source.currency, document_type_for(source.category), source.attributes)
        groups.setdefault(key, []).append(PlannedLine(source, line_amount(source.unit_amount, source.quantity)))
    return [
        DocumentPlan(account, currency, kind, attributes, tuple(lines))
        for (account, currency, kind, attributes), lines in groups.items()
    ]


def payment_term_days(term: str | None) -> int:
    """Days from invoice date to due date: Net N is N days, Due Upon Receipt 0; no term means Net 30."""
    if term is None:
        return PAYMENT_TERM_DAYS[DEFAULT_PAYMENT_TERM]
    if term in PAYMENT_TERM_DAYS:
        return PAYMENT_TERM_DAYS[term]
    parts = term.split()
    if len(parts) == 2 and parts[0].lower() == "net" and parts[1].isdigit():
        return int(parts[1])
    return 0


def due_date(invoice_date: dt.date, term: str | None) -> dt.date:
    """An invoice is due its payment term's days after its invoice date."""
    return invoice_date + dt.timedelta(days=payment_term_days(term))


__all__ = [
    "BILLABLE_STATES",
    "BillableSource",
    "DocumentPlan",
    "DocumentType",
    "PlannedLine",
    "SourceType",
    "document_type_for",
    "due_date",
    "due_for_bill_run",
    "due_for_run_billing",
    "payment_term_days",
    "plan_documents",
]
