"""Turn billable order line items and fulfillments into invoices and credit memos.

generate_documents writes a call's documents set-based (services.billing_sets: one COPY or
executemany per table, numbers in one block), through the core's planner and arithmetic. Each
item names its source; invoice_items' unique (source_type, source_id) makes the database refuse
to bill anything twice.

generate_documents_per_invoice is the same thing one invoice at a time through the general
invoice machinery Stripe invoices use (new_invoice_row, attach_item, recalculate,
finalize_invoice). It is the reference the set-based writer is proven against
(tests/scale/test_set_based_agreement.py): both must leave exactly the same rows behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import exists, select

from bulkbill.core.billing.plan import (
    BILLABLE_STATES,
    GENERATED_ITEMS_DISCOUNTABLE,
    BillableSource,
    DocumentPlan,
    DocumentType,
    SourceType,
    document_payment_term,
    document_template,
    due_date,
    due_for_bill_run,
    due_for_run_billing,
    payment_term_days,
    plan_documents,
)
from bulkbill.core.invoicing.items import ItemOwner, blank_item
from bulkbill.core.orders.line_items import BillingRule, ItemCategory
from bulkbill.services.accounting.periods import ensure_open_period
from bulkbill.services.billing.billing_sets import (
    SPLITTING_ATTRIBUTES,
    DocumentRun,
    SourceRecord,
    document_custom_fields,
    epoch,
    item_description,
    load_accounts,
    record_extras,
    splitting_attributes,
    write_documents,
)
from bulkbill.services.billing.sequences import CREDIT_MEMOS, INVOICES, take_number
from bulkbill.services.customers.customers import get_customers
from bulkbill.services.customers.org_scope import scope_condition
from bulkbill.services.invoicing.invoice_totals import load_lines, recalculate
from bulkbill.services.invoicing.invoices import attach_item, finalize_invoice, new_invoice_row
from bulkbill.services.invoicing.item_rows import new_item_row
from bulkbill.services.orders.order_fields import BillingRequest, account_payment_term, parse_iso, today
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer, Invoice, InvoiceItem
from bulkbill.storage.tables_orders import Fulfillment, OrderLineItem, new_zuora_id

__all__ = [
    "SPLITTING_ATTRIBUTES",
    "Billable",
    "DocumentRun",
    "billed_ids",
    "due_billables",
    "fulfillment_sources",
    "generate_documents",
    "generate_documents_per_invoice",
    "line_sources",
    "record_of",
]


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
    return splitting_attributes(line.attrs or {})


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


def due_billables(
    uow: UnitOfWork, target: dt.date, *, account_ids: set[str] | None = None, orgs: frozenset[str] | None = None
) -> list[Billable]:
    """The reference selection of a bill run, as loaded rows: what is due by `target`, in the order
    generate_documents_per_invoice takes it (rule-A lines by id, then fulfillments by id)."""
    day = target.isoformat()

    def unbilled(kind: SourceType, column: Any) -> Any:
        return ~exists().where(
            InvoiceItem.tenant_id == uow.tenant_id,
            InvoiceItem.source_type == kind.value,
            InvoiceItem.source_id == column,
        )

    def scoped(query: Any) -> Any:
        if account_ids is not None:
            query = query.where(OrderLineItem.account_id.in_(account_ids))
        if orgs is not None:
            in_orgs = select(Customer.id).where(Customer.tenant_id == uow.tenant_id, scope_condition(orgs))
            query = query.where(OrderLineItem.account_id.in_(in_orgs))
        return query

    line_query = select(OrderLineItem).where(
        OrderLineItem.tenant_id == uow.tenant_id,
        OrderLineItem.billing_rule == BillingRule.WITHOUT_FULFILLMENT.value,
        OrderLineItem.item_state.in_(BILLABLE_STATES),
        OrderLineItem.sent_to_billing_at.is_not(None),
        OrderLineItem.bill_target_date <= day,
        unbilled(SourceType.ORDER_LINE_ITEM, OrderLineItem.id),
    )
    lines = list(uow.session.scalars(scoped(line_query).order_by(OrderLineItem.id)))
    f_query = (
        select(Fulfillment, OrderLineItem)
        .join(
            OrderLineItem,
            (OrderLineItem.tenant_id == Fulfillment.tenant_id) & (OrderLineItem.id == Fulfillment.order_line_item_id),
        )
        .where(
            Fulfillment.tenant_id == uow.tenant_id,
            Fulfillment.state.in_(BILLABLE_STATES),
            Fulfillment.sent_to_billing_at.is_not(None),
            Fulfillment.bill_target_date <= day,
            unbilled(SourceType.FULFILLMENT, Fulfillment.id),
        )
    )
    pairs = list(uow.session.execute(scoped(f_query).order_by(Fulfillment.id)))
    owners = {ln.id: ln for _, ln in pairs}
    billables = line_sources(uow, lines) + fulfillment_sources(uow, [f for f, _ in pairs], owners)
    return [b for b in billables if due_for_bill_run(b.source, target)]


def record_of(billable: Billable) -> SourceRecord:
    """A loaded source as the plain record the set-based writer takes."""
    ln, f = billable.line, billable.fulfillment
    start = f.fulfillment_date if f is not None else ln.transaction_start_date
    end = f.fulfillment_date if f is not None else ln.transaction_end_date
    return SourceRecord(
        billable.source,
        ln.id,
        ln.item_name,
        ln.description,
        ln.product_code,
        ln.uom,
        start,
        end,
        f.id if f is not None else None,
        ln.attrs or {},
    )


def run_billing(uow: UnitOfWork, billables: Sequence[Billable], billing: BillingRequest) -> list[Invoice]:
    """runBilling (Decision 3): bill the call's sources that end it SentToBilling and are not yet billed."""
    due = [b for b in billables if due_for_run_billing(b.source)]
    if not due:
        return []
    run = DocumentRun(
        target_date=billing.target_date or today(uow),
        document_date=billing.document_date or today(uow),
        origin="run_billing",
        post=not billing.draft,
        credit_memo_reason_code=billing.credit_memo_reason_code,
    )
    return generate_documents(uow, due, run)


def generate_documents(uow: UnitOfWork, billables: Sequence[Billable], run: DocumentRun) -> list[Invoice]:
    """One document per planned group, each line one billable item; posted unless a draft is wanted.

    Written set-based (billing_sets.write_documents); the documents come back loaded, in plan order.
    """
    uow.session.flush()  # what the call changed so far is visible to the statements below
    records = [record_of(b) for b in billables]
    accounts = load_accounts(uow, ids={r.source.account_id for r in records}, lock=run.post)
    written = write_documents(uow, records, run, accounts)
    if not written.documents:
        return []
    ids = [doc_id for doc_id, _, _ in written.documents]
    loaded = {
        inv.id: inv
        for inv in uow.session.scalars(select(Invoice).where(Invoice.tenant_id == uow.tenant_id, Invoice.id.in_(ids)))
    }
    return [loaded[i] for i in ids]


def generate_documents_per_invoice(uow: UnitOfWork, billables: Sequence[Billable], run: DocumentRun) -> list[Invoice]:
    """The reference path: the same documents, one invoice at a time through the general invoice machinery."""
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


def _payment_term(plan: DocumentPlan, accounts: Mapping[str, Customer]) -> str:
    """The lines' payment term, else the account's, else Net 30 (core.billing.document_payment_term)."""
    account = accounts.get(plan.account_id)
    return document_payment_term(plan, account_payment_term(account) if account is not None else None)


def _new_document(uow: UnitOfWork, plan: DocumentPlan, run: DocumentRun, *, term: str) -> Invoice:
    invoice = new_invoice_row(
        uow,
        id=new_zuora_id(),
        customer_id=plan.account_id,
        currency=plan.currency.lower(),
        collection_method="send_invoice",
        days_until_due=payment_term_days(term),
        due_date=epoch(due_date(run.document_date, term)),
        period_start=epoch(run.target_date),
        period_end=epoch(run.target_date),
        document_type=plan.document_type.value,
        origin=run.origin,
        invoice_date=run.document_date.isoformat(),
        target_date=run.target_date.isoformat(),
        custom_fields=document_custom_fields(plan, run, term),
        bill_run_id=run.bill_run_id,
        template_id=document_template(plan),
        auto_pay=False,
        # Zuora numbers documents when it makes them, drafts included; posting keeps the number.
        number=_document_number(uow, plan.document_type),
    )
    uow.session.flush()
    return invoice


def _document_number(uow: UnitOfWork, kind: DocumentType) -> str:
    if kind == DocumentType.CREDIT_MEMO:
        return take_number(uow, CREDIT_MEMOS)
    return take_number(uow, INVOICES)


def _new_item(uow: UnitOfWork, invoice: Invoice, billable: Billable, amount: int) -> InvoiceItem:
    record = record_of(billable)
    source = record.source
    values = replace(
        blank_item(ItemOwner(invoice.customer_id, invoice.currency), now=uow.now),
        unit_amount_decimal=source.unit_amount,
        quantity=source.quantity,
        amount=amount,
        amount_defined=False,
        description=item_description(record.description, record.item_name),
        discountable=GENERATED_ITEMS_DISCOUNTABLE,
        period=(epoch(dt.date.fromisoformat(record.start)), epoch(dt.date.fromisoformat(record.end))),
    )
    item = new_item_row(uow, customer_id=invoice.customer_id, invoice_id=invoice.id, values=values)
    item.source_type = source.source_type.value
    item.source_id = source.source_id
    item.custom_fields = {}
    item.extras = record_extras(record)
    return item
