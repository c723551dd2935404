"""Bill runs: bill every SentToBilling line and fulfillment that is due (billTargetDate ≤ targetDate).

A run is executed synchronously inside the creating request for now (a later issue moves it to
workers): its documents, its account memberships and its counts commit together with it. Each
billed account gets a bill_run_accounts row, unique per run, so a resumed run never bills an
account twice; each item's unique source makes sure nothing is billed by two runs.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, or_, select

from bulkbill.core.billing import BILLABLE_STATES, SourceType, due_for_bill_run
from bulkbill.core.errors import InputCollector, InvalidStateError, NotFound
from bulkbill.core.invoice import InvoiceStatus
from bulkbill.core.orders import BillingRule
from bulkbill.services.accounting_periods import ensure_open_period
from bulkbill.services.billing import (
    Billable,
    DocumentRun,
    document_counts,
    fulfillment_sources,
    generate_documents,
    line_sources,
)
from bulkbill.services.invoices import finalize_invoice
from bulkbill.services.order_fields import find_account, today
from bulkbill.services.org_scope import scope_condition
from bulkbill.services.sequences import next_number
from bulkbill.services.uow import UnitOfWork
from bulkbill.storage.tables import Customer, Invoice, InvoiceItem
from bulkbill.storage.tables_orders import BillRun, BillRunAccount, Fulfillment, OrderLineItem, new_zuora_id


@dataclass(frozen=True)
class NewBillRun:
    target_date: dt.date | None
    invoice_date: dt.date | None = None
    name: str | None = None
    account_keys: tuple[str, ...] | None = None  # None: every account in scope
    auto_post: bool = False
    include_order_line_items: bool = True
    settings: Mapping[str, Any] = field(default_factory=dict)


def create_bill_run(uow: UnitOfWork, new: NewBillRun, *, orgs: frozenset[str] | None = None) -> BillRun:
    """Create an ad-hoc run and execute it at once: Completed (Posted with autoPost) when done."""
    errors = InputCollector()
    if new.target_date is None:
        errors.missing(("targetDate",))
    accounts: list[Customer] = []
    for i, key in enumerate(new.account_keys or ()):
        try:
            accounts.append(find_account(uow, key, orgs=orgs))
        except NotFound:
            errors.not_found(("billRunFilters", i, "accountId"), "account", key)
    errors.raise_if_any()
    assert new.target_date is not None
    run = BillRun(
        tenant_id=uow.tenant_id,
        id=new_zuora_id(),
        bill_run_number=next_number(uow, "bill_run", "BR-"),
        name=new.name,
        status="Pending",
        target_date=new.target_date.isoformat(),
        invoice_date=(new.invoice_date or today(uow)).isoformat(),
        auto_post=new.auto_post,
        include_order_line_items=new.include_order_line_items,
        settings=dict(new.settings),
        number_of_accounts=0,
        number_of_invoices=0,
        number_of_credit_memos=0,
        created=uow.now,
        updated=uow.now,
    )
    uow.session.add(run)
    uow.session.flush()
    account_ids = {a.id for a in accounts} if new.account_keys is not None else None
    execute_bill_run(uow, run, account_ids=account_ids, orgs=orgs)
    return run


def _scope(query: Any, account_column: Any, account_ids: set[str] | None, orgs: frozenset[str] | None) -> Any:
    if account_ids is not None:
        query = query.where(account_column.in_(account_ids))
    if orgs is not None:
        in_orgs = select(Customer.id).where(Customer.tenant_id == OrderLineItem.tenant_id, scope_condition(orgs))
        query = query.where(account_column.in_(in_orgs))
    return query


def due_sources(
    uow: UnitOfWork, target: dt.date, *, account_ids: set[str] | None = None, orgs: frozenset[str] | None = None
) -> list[Billable]:
    """Rule-A lines and fulfillments that went to billing, are unbilled, and are due by `target`."""
    day = target.isoformat()

    def unbilled(kind: SourceType, column: Any) -> Any:
        return ~exists().where(
            InvoiceItem.tenant_id == uow.tenant_id,
            InvoiceItem.source_type == kind.value,
            InvoiceItem.source_id == column,
        )

    line_query = select(OrderLineItem).where(
        OrderLineItem.tenant_id == uow.tenant_id,
        OrderLineItem.billing_rule == BillingRule.WITHOUT_FULFILLMENT.value,
        OrderLineItem.item_state.in_(BILLABLE_STATES),
        OrderLineItem.sent_to_billing_at.is_not(None),
        OrderLineItem.bill_target_date <= day,
        unbilled(SourceType.ORDER_LINE_ITEM, OrderLineItem.id),
    )
    lines = list(
        uow.session.scalars(_scope(line_query, OrderLineItem.account_id, account_ids, orgs).order_by(OrderLineItem.id))
    )
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
    pairs = list(
        uow.session.execute(_scope(f_query, OrderLineItem.account_id, account_ids, orgs).order_by(Fulfillment.id))
    )
    owners = {ln.id: ln for _, ln in pairs}
    billables = line_sources(uow, lines) + fulfillment_sources(uow, [f for f, _ in pairs], owners)
    return [b for b in billables if due_for_bill_run(b.source, target)]


def execute_bill_run(
    uow: UnitOfWork, run: BillRun, *, account_ids: set[str] | None = None, orgs: frozenset[str] | None = None
) -> None:
    """Bill what is due, account by account; Draft documents unless the run posts automatically (Decision 4)."""
    run.status = "Processing"
    target = dt.date.fromisoformat(run.target_date)
    billables = due_sources(uow, target, account_ids=account_ids, orgs=orgs) if run.include_order_line_items else []
    document_run = DocumentRun(
        target_date=target,
        document_date=dt.date.fromisoformat(run.invoice_date),
        origin="bill_run",
        post=run.auto_post,
        bill_run_id=run.id,
    )
    by_account: dict[str, list[Billable]] = {}
    for b in billables:
        by_account.setdefault(b.source.account_id, []).append(b)
    documents: list[Invoice] = []
    for account_id, group in by_account.items():
        uow.session.add(
            BillRunAccount(tenant_id=uow.tenant_id, bill_run_id=run.id, customer_id=account_id, status="Billed")
        )
        documents.extend(generate_documents(uow, group, document_run))
    run.number_of_accounts = len(by_account)
    run.number_of_invoices, run.number_of_credit_memos = document_counts(documents)
    run.status = "Posted" if run.auto_post else "Completed"
    run.updated = uow.now
    uow.session.flush()


def get_bill_run(uow: UnitOfWork, key: str) -> BillRun:
    """A bill run by id or number (BR-00000001)."""
    run = uow.session.scalar(
        select(BillRun).where(
            BillRun.tenant_id == uow.tenant_id, or_(BillRun.id == key, BillRun.bill_run_number == key)
        )
    )
    if run is None:
        raise NotFound("bill run", key)
    return run


def post_bill_run(uow: UnitOfWork, key: str, *, invoice_date: dt.date | None = None) -> BillRun:
    """Post every Draft document of a Completed run (optionally re-dated); the run becomes Posted."""
    run = get_bill_run(uow, key)
    if run.status != "Completed":
        raise InvalidStateError(
            f"Only Completed bill runs can be posted; bill run {run.bill_run_number} is {run.status}."
        )
    if invoice_date is not None:
        ensure_open_period(uow, invoice_date)
    drafts = uow.session.scalars(
        select(Invoice)
        .where(
            Invoice.tenant_id == uow.tenant_id,
            Invoice.bill_run_id == run.id,
            Invoice.status == InvoiceStatus.DRAFT.value,
        )
        .order_by(Invoice.id)
    )
    for invoice in list(drafts):
        if invoice_date is not None:
            invoice.invoice_date = invoice_date.isoformat()
            due = invoice_date + dt.timedelta(days=invoice.days_until_due or 0)
            invoice.due_date = calendar.timegm(due.timetuple())
        finalize_invoice(uow, invoice.id)
    if invoice_date is not None:
        run.invoice_date = invoice_date.isoformat()
    run.status = "Posted"
    run.updated = uow.now
    uow.session.flush()
    return run
