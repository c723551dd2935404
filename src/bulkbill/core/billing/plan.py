"""Billing order line items and fulfillments: what is due, and how it groups into documents.

A pure planner. Sources (a rule-A line or a fulfillment) come in; documents come out: one
invoice per account, currency and billing attributes for sales, one credit memo for returns.
Each source becomes exactly one document line whose amount is unit price × quantity, rounded
once. Billing never changes a line's or fulfillment's state.

Bill runs are executed in chunks: contiguous ranges of account ids (split_chunks), each billed in
one transaction. The figures of a generated document (document_figures) are computed here for
every path that writes documents; what posting one does to its account's balance is the finalize
rule of core.invoicing.lifecycle (post_in_order), whether one invoice at a time or a chunk at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from bulkbill.core.invoicing.items import ItemOwner, ItemValues, blank_item
from bulkbill.core.invoicing.lifecycle import Posting, post_in_order
from bulkbill.core.invoicing.totals import InvoiceFigures, LineFigures, LineTerms, compute_invoice
from bulkbill.core.money import line_amount
from bulkbill.core.orders.line_items import ItemCategory
from bulkbill.core.time_range import days_after

# States in which a source that went through SentToBilling may be billed (Complete after
# SentToBilling without billing is still owed, spec §10 point 9).
BILLABLE_STATES = frozenset({"SentToBilling", "Complete"})
PAYMENT_TERM_DAYS = {"Due Upon Receipt": 0, "Net 30": 30, "Net 45": 45, "Net 60": 60, "Net 90": 90}
DEFAULT_PAYMENT_TERM = "Net 30"
# "Net N" beyond this is the same: no date is that far (and the days stay a 64-bit integer).
MAX_TERM_DAYS = dt.timedelta.max.days


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


def still_billable(source: BillableSource) -> bool:
    """Went to billing, is in a billable state and is not billed yet (what a frozen plan re-checks when committed)."""
    return source.state in BILLABLE_STATES and source.sent_to_billing and not source.billed


def due_for_bill_run(source: BillableSource, target_date: dt.date) -> bool:
    """A bill run bills what went to billing, is unbilled, and has billTargetDate on or before its targetDate."""
    return still_billable(source) and source.bill_target_date is not None and source.bill_target_date <= target_date


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


# Items generated from order lines and fulfillments take no discount (and carry no tax rates).
GENERATED_ITEMS_DISCOUNTABLE = False


def generated_item(owner: ItemOwner, *, now: int) -> ItemValues:
    """An item billing a source, before its line's own price, quantity, amount, description and period.

    It takes no discount and no tax rate, and is priced by its source (unit price × quantity),
    not defined by an amount.
    """
    return replace(blank_item(owner, now=now), discountable=GENERATED_ITEMS_DISCOUNTABLE, amount_defined=False)


_NO_FIGURES: tuple[()] = ()


def document_figures(plan: DocumentPlan) -> InvoiceFigures:
    """A generated document's figures: what core.totals.compute_invoice gives for its lines.

    Its lines are not discountable and carry no tax rates, and the document has no discounts or
    default tax rates, so compute_invoice's discount and tax steps have nothing to do and every
    total is the sum of the line amounts. That is written out here, because a bill run does it
    for every document of every account (tests/unit/core/billing/test_billing_sets.py checks the two agree).
    """
    if GENERATED_ITEMS_DISCOUNTABLE:
        return compute_invoice([LineTerms(line.amount) for line in plan.lines])
    amounts = [line.amount for line in plan.lines]
    total = sum(amounts)
    return InvoiceFigures(
        lines=tuple(LineFigures(amount, _NO_FIGURES, _NO_FIGURES) for amount in amounts),
        subtotal=total,
        subtotal_excluding_tax=total,
        total_excluding_tax=total,
        total=total,
        total_discount_amounts=_NO_FIGURES,
        total_taxes=_NO_FIGURES,
    )


@dataclass(frozen=True, slots=True)
class Chunk:
    """A contiguous range of account ids (inclusive), billed in one transaction."""

    first_account: str
    last_account: str
    accounts: int
    lines: int


def split_chunks(account_lines: Iterable[tuple[str, int]], *, max_lines: int, max_accounts: int) -> Iterator[Chunk]:
    """Cut accounts, in id order with their due line counts, into chunks of bounded size.

    A chunk holds at most `max_accounts` accounts and, unless it is a single account, at most
    `max_lines` lines: an account is never split (its documents are made together), so one with
    more lines than `max_lines` is a chunk of its own.
    """
    first = last = ""
    accounts = lines = 0
    for account, count in account_lines:
        if accounts and (accounts >= max_accounts or lines + count > max_lines):
            yield Chunk(first, last, accounts, lines)
            accounts = lines = 0
        if not accounts:
            first = account
        last = account
        accounts += 1
        lines += count
    if accounts:
        yield Chunk(first, last, accounts, lines)


@dataclass
class AccountSummary:
    """An account's share of a run: its items, documents, and document totals per currency (minor units)."""

    items: int = 0
    invoices: int = 0
    credit_memos: int = 0
    totals: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, plan: DocumentPlan, total: int) -> None:
        self.items += len(plan.lines)
        kind = "invoice" if plan.document_type == DocumentType.INVOICE else "creditMemo"
        if plan.document_type == DocumentType.INVOICE:
            self.invoices += 1
        else:
            self.credit_memos += 1
        per_currency = self.totals.setdefault(plan.currency.lower(), {"invoice": 0, "creditMemo": 0})
        per_currency[kind] += total


def payment_term_days(term: str | None) -> int:
    """Days from invoice date to due date: Net N is N days, Due Upon Receipt 0; no term means Net 30."""
    if term is None:
        return PAYMENT_TERM_DAYS[DEFAULT_PAYMENT_TERM]
    if term in PAYMENT_TERM_DAYS:
        return PAYMENT_TERM_DAYS[term]
    parts = term.split()
    if len(parts) == 2 and parts[0].lower() == "net" and parts[1].isascii() and parts[1].isdigit():
        return min(int(parts[1]), MAX_TERM_DAYS)
    return 0


def document_payment_term(plan: DocumentPlan, account_term: str | None) -> str:
    """The payment term a generated document uses: its lines' (they share it), else its account's, else Net 30."""
    term = dict(plan.attributes).get("paymentTerm")
    if term is None:
        term = account_term
    return term if term is not None else DEFAULT_PAYMENT_TERM


# The lines' flexible billing attributes a generated document keeps, under the names the document
# shows them by (InvoiceResponse, CreditMemoResponse). paymentTerm is kept as the term used
# (document_payment_term) and invoiceTemplateId as the document's template.
DOCUMENT_ATTRIBUTES = (
    ("billTo", "billToContactId"),
    ("sequenceSetId", "sequenceSetId"),
    ("invoiceGroupNumber", "invoiceGroupNumber"),
)


def document_attributes(plan: DocumentPlan, payment_term: str) -> dict[str, str]:
    """What a generated document records of its lines' billing attributes (the ones set) and its payment term."""
    attributes = dict(plan.attributes)
    out: dict[str, str] = {}
    for name, shown in DOCUMENT_ATTRIBUTES:
        value = attributes.get(name)
        if value is not None:
            out[shown] = value
    out["paymentTerm"] = payment_term
    return out


def document_template(plan: DocumentPlan) -> str | None:
    """The invoice template the lines name (invoiceTemplateId), if any."""
    return dict(plan.attributes).get("invoiceTemplateId")


def due_date(invoice_date: dt.date, term: str | None) -> dt.date:
    """An invoice is due its payment term's days after its invoice date (at the latest on 9999-12-31)."""
    return days_after(invoice_date, payment_term_days(term))


__all__ = [
    "BILLABLE_STATES",
    "DOCUMENT_ATTRIBUTES",
    "GENERATED_ITEMS_DISCOUNTABLE",
    "AccountSummary",
    "BillableSource",
    "Chunk",
    "DocumentPlan",
    "DocumentType",
    "PlannedLine",
    "Posting",
    "SourceType",
    "document_attributes",
    "document_figures",
    "document_payment_term",
    "document_template",
    "document_type_for",
    "due_date",
    "due_for_bill_run",
    "due_for_run_billing",
    "generated_item",
    "payment_term_days",
    "plan_documents",
    "post_in_order",
    "split_chunks",
    "still_billable",
]
