"""Turn billable order line items and fulfillments into invoices and credit memos.

The documents are ordinary core invoices (document_type "invoice" or "credit_memo") built through
the same code paths as Stripe invoices: one billable item per source (item_rows.new_item_row),
attached as a line (attach_item), totals recalculated, then posted with finalize_invoice unless a
draft is wanted. Each item names its source; invoice_items' unique (source_type, source_id) makes
the database refuse to bill anything twice.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select

from bulkbill.core.billing import (
    BillableSource,
    DocumentPlan,
    DocumentType,
    SourceType,
    due_date,
    payment_term_days,
    plan_documents,
)
from bulkbill.core.items import ItemOwner, blank_item
from bulkbill.core.orders import BillingRule, ItemCategory
from bulkbill.services.accounting_periods import ensure_open_period
from bulkbill.services.customers import get_customers
from bulkbill.services.documents import DOC_KEY
from bulkbill.services.invoice_totals import load_lines, recalculate
from bulkbill.services.invoices import attach_item, finalize_invoice, new_invoice_row
from bulkbill.services.item_rows import new_item_row
from bulkbill.services.order_fields import account_payment_term, parse_iso
from bulkbill.services.sequences import next_number
from bulkbill.services.uow import UnitOfWork
from bulkbill.storage.tables import Customer, Invoice, InvoiceItem
from bulkbill.storage.tables_orders import Fulfillment, OrderLineItem, new_zuora_id

# Attributes that put lines on separate documents when they differ (Flexible Billing Attributes).
SPLITTING_ATTRIBUTES = ("billTo", "paymentTerm", "invoiceTemplateId", "sequenceSetId", "invoiceGroupNumber")


@dataclass(frozen=True)
class DocumentRun:
    """How documents are made: dates, who makes them, whether they are posted."""

    target_date: dt.date
    document_date: dt.date
    origin: str  # "run_billing" or "bill_run"
    post: bool
    bill_run_id: str | None = None
    credit_memo_reason_code: str | None = None


@dataclass
class Billable:
    """A source with the rows it came from."""

    source: BillableSource
    line: OrderLineItem
    fulfillment: Fulfillment | None = None


def billed_ids(uow: UnitOfWork, source_type: SourceType, ids: Iterable[str]) -> set[str]:
    """Which of these sources already sit on a document."""
    wanted = set(ids)
    if not wanted:
        return set()
    rows = uow.session.scalars(
        select(InvoiceItem.source_id).where(
            InvoiceItem.tenant_id == uow.tenant_id,
            InvoiceItem.source_type == source_type.value,
            InvoiceItem.source_id.in_(wanted),
        )
    )
    return {r for r in rows if r is not None}


def _attributes(line: OrderLineItem) -> tuple[tuple[str, str | None], ...]:
    attrs = line.attrs or {}
    return tuple((name, attrs.get(name)) for name in SPLITTING_ATTRIBUTES)


def line_sources(uow: UnitOfWork, lines: Sequence[OrderLineItem]) -> list[Billable]:
    """Rule-A lines as billable sources (rule-B lines are billed through their fulfillments)."""
    rule_a = [ln for ln in lines if ln.billing_rule == BillingRule.WITHOUT_FULFILLMENT]
    billed = billed_ids(uow, SourceType.ORDER_LINE_ITEM, [ln.id for ln in rule_a])
    return [
        Billable(
            BillableSource(
                source_type=SourceType.ORDER_LINE_ITEM,
                source_id=ln.id,
                account_id=ln.account_id,
                currency=ln.currency,
                category=ItemCategory(ln.item_category),
                state=ln.item_state,
                quantity=ln.quantity,
                unit_amount=ln.amount_per_unit,
                bill_target_date=parse_iso(ln.bill_target_date),
                sent_to_billing=ln.sent_to_billing_at is not None,
                billed=ln.id in billed,
                attributes=_attributes(ln),
            ),
            ln,
        )
        for ln in rule_a
    ]


def fulfillment_sources(
    uow: UnitOfWork, fulfillments: Sequence[Fulfillment], lines: dict[str, OrderLineItem]
) -> list[Billable]:
    """Fulfillments as billable sources, priced at their line's amount per unit."""
    billed = billed_ids(uow, SourceType.FULFILLMENT, [f.id for f in fulfillments])
    out = []
    for f in fulfillments:
        ln = lines[f.order_line_item_id]
        out.append(
            Billable(
                BillableSource(
                    source_type=SourceType.FULFILLMENT,
                    source_id=f.id,
                    account_id=ln.account_id,
                    currency=ln.currency,
                    category=ItemCategory(ln.item_category),
                    state=f.state,
                    quantity=f.quantity,
                    unit_amount=ln.amount_per_unit,
                    bill_target_date=parse_iso(f.bill_target_date),
                    sent_to_billing=f.sent_to_billing_at is not None,
                    billed=f.id in billed,
                    attributes=_attributes(ln),
                ),
                ln,
                f,
            )
        )
    return out


def generate_documents(uow: UnitOfWork, billables: Sequence[Billable], run: DocumentRun) -> list[Invoice]:
    """One document per planned group, each line one billable item; posted unless a draft is wanted."""
    by_key = {(b.source.source_type, b.source.source_id): b for b in billables}
    plans = plan_documents(b.source for b in billables)
    if plans:
        ensure_open_period(uow, run.document_date)  # no document is dated in a closed accounting period
    accounts = get_customers(uow, {p.account_id for p in plans})
    documents = []
    for plan in plans:
        invoice = _new_document(uow, plan, run, term=_payment_term(plan, accounts))
        for planned in plan.lines:
            billable = by_key[(planned.source.source_type, planned.source.source_id)]
            item = _new_item(uow, invoice, billable, planned.amount)
            attach_item(uow, invoice, item)
        uow.session.flush()  # the unique (source_type, source_id) is checked here: billed once
        recalculate(uow, invoice, load_lines(uow, invoice.id))
        if run.post:
            finalize_invoice(uow, invoice.id)
        documents.append(invoice)
    uow.session.flush()
    return documents


def _payment_term(plan: DocumentPlan, accounts: Mapping[str, Customer]) -> str | None:
    """The lines' payment term, else the account's (none: Net 30, see core.billing)."""
    term = dict(plan.attributes).get("paymentTerm")
    if term is None and plan.account_id in accounts:
        term = account_payment_term(accounts[plan.account_id])
    return term


def _epoch(day: dt.date) -> int:
    return calendar.timegm(day.timetuple())


def _new_document(uow: UnitOfWork, plan: DocumentPlan, run: DocumentRun, *, term: str | None) -> Invoice:
    invoice = new_invoice_row(
        uow,
        id=new_zuora_id(),
        customer_id=plan.account_id,
        currency=plan.currency.lower(),
        collection_method="send_invoice",
        days_until_due=payment_term_days(term),
        due_date=_epoch(due_date(run.document_date, term)),
        period_start=_epoch(run.target_date),
        period_end=_epoch(run.target_date),
        document_type=plan.document_type.value,
        origin=run.origin,
        invoice_date=run.document_date.isoformat(),
        target_date=run.target_date.isoformat(),
        custom_fields=_document_attributes(plan, run),
        bill_run_id=run.bill_run_id,
        auto_pay=False,
        # Zuora numbers documents when it makes them, drafts included; posting keeps the number.
        number=_document_number(uow, plan.document_type),
    )
    uow.session.flush()
    return invoice


def _document_attributes(plan: DocumentPlan, run: DocumentRun) -> dict[str, object]:
    """billingOptions.creditMemoReasonCode, kept where the documents side reads document attributes."""
    if plan.document_type == DocumentType.CREDIT_MEMO and run.credit_memo_reason_code:
        return {DOC_KEY: {"reasonCode": run.credit_memo_reason_code}}
    return {}


def _document_number(uow: UnitOfWork, kind: DocumentType) -> str:
    if kind == DocumentType.CREDIT_MEMO:
        return next_number(uow, "credit_memo", "CM")
    return next_number(uow, "invoice", "INV")


def _new_item(uow: UnitOfWork, invoice: Invoice, billable: Billable, amount: int) -> InvoiceItem:
    ln, f, source = billable.line, billable.fulfillment, billable.source
    start = f.fulfillment_date if f is not None else ln.transaction_start_date
    end = f.fulfillment_date if f is not None else ln.transaction_end_date
    values = replace(
        blank_item(ItemOwner(invoice.customer_id, invoice.currency), now=uow.now),
        unit_amount_decimal=source.unit_amount,
        quantity=source.quantity,
        amount=amount,
        amount_defined=False,
        description=ln.description if ln.description is not None else ln.item_name,
        discountable=False,
        period=(_epoch(dt.date.fromisoformat(start)), _epoch(dt.date.fromisoformat(end))),
    )
    item = new_item_row(uow, customer_id=invoice.customer_id, invoice_id=invoice.id, values=values)
    item.source_type = source.source_type.value
    item.source_id = source.source_id
    item.custom_fields = {}
    item.extras = _extras(ln, f, start, end)
    return item


def _extras(ln: OrderLineItem, f: Fulfillment | None, start: str, end: str) -> dict[str, object]:
    """What the documents side renders for an order-billed item (spec §2.9 mapping)."""
    attrs = ln.attrs or {}
    extras: dict[str, object] = {
        "chargeName": ln.item_name,
        "sku": ln.product_code,
        "productName": ln.item_name,
        "unitOfMeasure": ln.uom,
        "serviceStartDate": start,
        "serviceEndDate": end,
        "sourceItemType": "Fulfillment" if f is not None else "OrderLineItem",
        "orderLineItemId": ln.id,
        "fulfillmentId": f.id if f is not None else None,
        "chargeType": "OneTime",
        "processingType": "Charge",
        "productRatePlanChargeId": attrs.get("productRatePlanChargeId"),
        "soldToContactId": attrs.get("soldTo"),
        "purchaseOrderNumber": attrs.get("purchaseOrderNumber"),
        "taxCode": attrs.get("taxCode"),
        "taxMode": attrs.get("taxMode"),
    }
    for name, value in attrs.items():
        if name.endswith("AccountingCode") or name == "accountingCode":
            extras[name] = value
    return extras


def document_counts(documents: Sequence[Invoice]) -> tuple[int, int]:
    """(invoices, credit memos) among generated documents."""
    memos = sum(1 for d in documents if d.document_type == DocumentType.CREDIT_MEMO)
    return len(documents) - memos, memos
