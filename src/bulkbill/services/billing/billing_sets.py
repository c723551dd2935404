"""Generate billing documents for many sources at once: a few set-based statements per batch.

What the documents contain is decided by the core: plan_documents groups sources into documents
and prices each line (unit price × quantity, rounded once), document_figures runs the invoice
arithmetic (core.totals) and post_in_order applies account balances when documents are posted.
This module only reads the sources as plain rows and writes the results with one COPY (PostgreSQL)
or one executemany (SQLite) per table: invoices, and invoice items (each carries its invoice line).
Invoice numbers are taken in one block per batch (gapless: the block is taken in the writing
transaction).

This is the one writer of generated documents: bill-run chunks and runBilling calls
(services.billing.run_billing) both read their sources with select_records and write them with
write_documents. The rows come from the same factories every other invoice, item and line comes
from (services.invoicing.invoice_rows, item_rows), and posting is finalize_invoice's rule
(posted_columns): tests/scale/test_billing_paths_agree.py bills random data both ways.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)

from bulkbill.core.billing.plan import (
    AccountSummary,
    BillableSource,
    DocumentPlan,
    DocumentType,
    Posting,
    SourceType,
    document_attributes,
    document_figures,
    document_payment_term,
    document_template,
    due_date,
    due_for_bill_run,
    due_for_run_billing,
    generated_item,
    payment_term_days,
    plan_documents,
    post_in_order,
    still_billable,
)
from bulkbill.core.customers.balance import BalanceTransactionType
from bulkbill.core.events.types import EventType
from bulkbill.core.invoicing.items import ItemOwner
from bulkbill.core.invoicing.totals import InvoiceFigures
from bulkbill.core.orders.line_items import BillingRule, ItemCategory
from bulkbill.services.accounting.periods import ensure_open_period
from bulkbill.services.billing.sequences import DOCUMENT_SEQUENCES, take_numbers
from bulkbill.services.documents.documents import DOC_KEY
from bulkbill.services.events.outbox import emit
from bulkbill.services.invoicing.invoice_rows import (
    figure_columns,
    line_columns,
    new_invoice_columns,
    posted_columns,
)
from bulkbill.services.invoicing.item_rows import new_item_columns, value_columns
from bulkbill.services.invoicing.new_items import ITEMS
from bulkbill.services.orders.order_fields import profile_payment_term
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.bulk import insert_rows
from bulkbill.storage.ids import new_id, new_ids
from bulkbill.storage.rows import RowLayout, decimal_text, json_text
from bulkbill.storage.tables import Customer, CustomerBalanceTransaction, Invoice, InvoiceItem
from bulkbill.storage.tables_orders import BillRunItem, Fulfillment, OrderLineItem, new_zuora_id

# Attributes that put lines on separate documents when they differ (Flexible Billing Attributes).
SPLITTING_ATTRIBUTES = ("billTo", "paymentTerm", "invoiceTemplateId", "sequenceSetId", "invoiceGroupNumber")
BILLABLE_STATE_VALUES = ("SentToBilling", "Complete")


@dataclass(frozen=True)
class DocumentRun:
    """How documents are made: dates, who makes them, whether they are posted."""

    target_date: dt.date
    document_date: dt.date
    origin: str  # "run_billing" or "bill_run"
    post: bool
    bill_run_id: str | None = None
    credit_memo_reason_code: str | None = None


class SourceRecord:
    """A billable source with the order-line fields its item shows, read as plain values (no ORM)."""

    __slots__ = (
        "attrs",
        "description",
        "end",
        "fulfillment_id",
        "item_name",
        "line_id",
        "product_code",
        "source",
        "start",
        "uom",
    )

    def __init__(
        self,
        source: BillableSource,
        line_id: str,
        item_name: str | None,
        description: str | None,
        product_code: str | None,
        uom: str | None,
        start: str,
        end: str,
        fulfillment_id: str | None,
        attrs: Mapping[str, Any],
    ) -> None:
        self.source = source
        self.line_id = line_id
        self.item_name = item_name
        self.description = description
        self.product_code = product_code
        self.uom = uom
        self.start = start
        self.end = end
        self.fulfillment_id = fulfillment_id
        self.attrs = attrs


def splitting_attributes(attrs: Mapping[str, Any]) -> tuple[tuple[str, str | None], ...]:
    get = attrs.get
    return (
        ("billTo", get("billTo")),
        ("paymentTerm", get("paymentTerm")),
        ("invoiceTemplateId", get("invoiceTemplateId")),
        ("sequenceSetId", get("sequenceSetId")),
        ("invoiceGroupNumber", get("invoiceGroupNumber")),
    )


assert tuple(name for name, _ in splitting_attributes({})) == SPLITTING_ATTRIBUTES


def item_extras(
    line_id: str,
    item_name: str | None,
    product_code: str | None,
    uom: str | None,
    attrs: Mapping[str, Any],
    fulfillment_id: str | None,
    start: str,
    end: str,
) -> dict[str, object]:
    """What the documents side renders for an order-billed item (spec §2.9 mapping)."""
    extras: dict[str, object] = {
        "chargeName": item_name,
        "sku": product_code,
        "productName": item_name,
        "unitOfMeasure": uom,
        "serviceStartDate": start,
        "serviceEndDate": end,
        "sourceItemType": "OrderLineItem",  # billed per line or per fulfillment (spec §2.9, §4.4)
        "orderLineItemId": line_id,
        "fulfillmentId": fulfillment_id,
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


def record_extras(record: SourceRecord) -> dict[str, object]:
    """item_extras for a source record: what extras_json writes as text."""
    return item_extras(
        record.line_id,
        record.item_name,
        record.product_code,
        record.uom,
        record.attrs,
        record.fulfillment_id,
        record.start,
        record.end,
    )


def item_description(description: str | None, item_name: str | None) -> str | None:
    return description if description is not None else item_name


def epoch(day: dt.date) -> int:
    return calendar.timegm(day.timetuple())


# --- reading sources ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which accounts a run bills: named accounts and/or org labels (None: no restriction)."""

    accounts: frozenset[str] | None = None
    orgs: frozenset[str] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "accounts": sorted(self.accounts) if self.accounts is not None else None,
            "orgs": sorted(self.orgs) if self.orgs is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Scope:
        data = data or {}
        accounts, orgs = data.get("accounts"), data.get("orgs")
        return cls(frozenset(accounts) if accounts is not None else None, frozenset(orgs) if orgs is not None else None)

    def conditions(self, uow: UnitOfWork, account_column: Any) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.accounts is not None:
            out.append(account_column.in_(sorted(self.accounts)))
        if self.orgs is not None:
            in_orgs = select(Customer.id).where(
                Customer.tenant_id == uow.tenant_id, Customer.org_label.in_(sorted(self.orgs))
            )
            out.append(account_column.in_(in_orgs))
        return out


@dataclass(frozen=True)
class Selection:
    """What a bill run (or one of its chunks), or a runBilling call, picks up.

    `target_date`: billTargetDate ≤ target_date (an ordinary run); `frozen_run_id`: exactly the
    items a planned run froze; `sources`: exactly these (a runBilling call, in its order).
    `first_account`/`last_account` bound the account ids (a chunk).
    """

    scope: Scope = field(default_factory=Scope)
    target_date: dt.date | None = None
    frozen_run_id: str | None = None
    first_account: str | None = None
    last_account: str | None = None
    sources: tuple[tuple[SourceType, str], ...] | None = None

    def is_due(self, source: BillableSource) -> bool:
        if self.sources is not None:
            return due_for_run_billing(source)
        if self.frozen_run_id is not None:
            return still_billable(source)
        assert self.target_date is not None
        return due_for_bill_run(source, self.target_date)

    def ids(self, kind: SourceType) -> list[str] | None:
        """The ids of this kind the selection is restricted to (None: no such restriction)."""
        if self.sources is None:
            return None
        return [source_id for source_kind, source_id in self.sources if source_kind == kind]


def _unbilled(tenant: Any, kind: SourceType, column: Any, *, after_join: Any = None) -> ColumnElement[bool]:
    """No invoice item bills this source: one probe of the unique (tenant, source_type, source_id) index per row.

    Written as a scalar subquery with LIMIT 1 rather than NOT EXISTS on purpose: PostgreSQL turns
    NOT EXISTS into an anti-join planned from statistics, and during a run invoice_items grows far
    beyond what its statistics say (empty, at first); the planner then scanned every billed item of
    the tenant for each line. A LIMIT subquery is never flattened, so it stays an index probe.
    `after_join` (a column of the joined table that equals the tenant) makes the probe refer to
    both tables, so it runs after the join, for the rows that survive it, rather than for every
    row of the table scanned first.
    """
    conditions = [
        InvoiceItem.tenant_id == tenant,
        InvoiceItem.source_type == kind.value,
        InvoiceItem.source_id == column,
    ]
    if after_join is not None:
        conditions.append(InvoiceItem.tenant_id == after_join)
    return select(literal(1)).where(*conditions).limit(1).scalar_subquery().is_(None)


def _restrict(
    uow: UnitOfWork, query: Select[Any], selection: Selection, kind: SourceType, id_column: Any, tenant: Any
) -> Select[Any]:
    """The SQL side of the selection; the core predicate (Selection.is_due) has the last word.

    `tenant` is the tenant's id, or its bound parameter in a statement built once (_named_sources).
    """
    account = OrderLineItem.account_id
    conditions: list[ColumnElement[bool]] = []
    if selection.target_date is not None:
        due = Fulfillment.bill_target_date if kind == SourceType.FULFILLMENT else OrderLineItem.bill_target_date
        conditions.append(due <= selection.target_date.isoformat())
    if selection.first_account is not None:
        conditions.append(account >= selection.first_account)
    if selection.last_account is not None:
        conditions.append(account <= selection.last_account)
    conditions += selection.scope.conditions(uow, account)
    ids = selection.ids(kind)
    if tenant is _TENANT:
        conditions.append(id_column.in_(_IDS))
    elif ids is not None:
        conditions.append(id_column.in_(ids))
    if selection.frozen_run_id is not None:
        frozen = BillRunItem
        query = query.join(
            frozen,
            and_(
                frozen.tenant_id == tenant,
                frozen.bill_run_id == selection.frozen_run_id,
                frozen.source_type == kind.value,
                frozen.source_id == id_column,
            ),
        )
    after_join = OrderLineItem.tenant_id if kind == SourceType.FULFILLMENT else None
    return query.where(*conditions, _unbilled(tenant, kind, id_column, after_join=after_join))


# The bound parameters of the statements built once for named sources (a runBilling call).
_TENANT: BindParameter[str] = bindparam("tenant_id")
_IDS: BindParameter[list[str]] = bindparam("ids", expanding=True)


def line_query(uow: UnitOfWork, selection: Selection, columns: Sequence[Any], *, tenant: Any = None) -> Select[Any]:
    """Rule-A lines that went to billing and are unbilled (and due by the target date, when there is one)."""
    tenant = uow.tenant_id if tenant is None else tenant
    query = select(*columns).where(
        OrderLineItem.tenant_id == tenant,
        OrderLineItem.billing_rule == BillingRule.WITHOUT_FULFILLMENT.value,
        OrderLineItem.item_state.in_(BILLABLE_STATE_VALUES),
        OrderLineItem.sent_to_billing_at.is_not(None),
    )
    return _restrict(uow, query, selection, SourceType.ORDER_LINE_ITEM, OrderLineItem.id, tenant)


def fulfillment_query(
    uow: UnitOfWork, selection: Selection, columns: Sequence[Any], *, tenant: Any = None
) -> Select[Any]:
    """Fulfillments that went to billing and are unbilled (and due by the target date, when there is one)."""
    tenant = uow.tenant_id if tenant is None else tenant
    query = (
        select(*columns)
        .select_from(Fulfillment)
        .join(
            OrderLineItem,
            (OrderLineItem.tenant_id == Fulfillment.tenant_id) & (OrderLineItem.id == Fulfillment.order_line_item_id),
        )
        .where(
            Fulfillment.tenant_id == tenant,
            Fulfillment.state.in_(BILLABLE_STATE_VALUES),
            Fulfillment.sent_to_billing_at.is_not(None),
        )
    )
    return _restrict(uow, query, selection, SourceType.FULFILLMENT, Fulfillment.id, tenant)


def _named_sources(uow: UnitOfWork, kind: SourceType) -> Select[Any]:
    """The query of select_records for sources named by id (a runBilling call), built once per kind:
    bound by tenant_id and ids (building the statement cost more than running it)."""
    statement = _NAMED.get(kind)
    if statement is None:
        query, columns, id_column = _QUERIES[kind]
        built = query(uow, Selection(sources=()), columns, tenant=_TENANT)
        statement = _NAMED[kind] = built.order_by(OrderLineItem.account_id, id_column)
    return statement


_NAMED: dict[SourceType, Select[Any]] = {}


_LINE_COLUMNS = (
    OrderLineItem.id,
    OrderLineItem.account_id,
    OrderLineItem.currency,
    OrderLineItem.item_category,
    OrderLineItem.item_state,
    OrderLineItem.quantity,
    OrderLineItem.amount_per_unit,
    OrderLineItem.bill_target_date,
    OrderLineItem.sent_to_billing_at,
    OrderLineItem.item_name,
    OrderLineItem.description,
    OrderLineItem.product_code,
    OrderLineItem.uom,
    OrderLineItem.transaction_start_date,
    OrderLineItem.transaction_end_date,
    cast(OrderLineItem.attrs, Text),
)
_FULFILLMENT_COLUMNS = (
    Fulfillment.id,
    OrderLineItem.account_id,
    OrderLineItem.currency,
    OrderLineItem.item_category,
    Fulfillment.state,
    Fulfillment.quantity,
    OrderLineItem.amount_per_unit,
    Fulfillment.bill_target_date,
    Fulfillment.sent_to_billing_at,
    OrderLineItem.item_name,
    OrderLineItem.description,
    OrderLineItem.product_code,
    OrderLineItem.uom,
    Fulfillment.fulfillment_date,
    Fulfillment.fulfillment_date,
    cast(OrderLineItem.attrs, Text),
    OrderLineItem.id,
)
_QUERIES: dict[SourceType, tuple[Any, tuple[Any, ...], Any]] = {
    SourceType.ORDER_LINE_ITEM: (line_query, _LINE_COLUMNS, OrderLineItem.id),
    SourceType.FULFILLMENT: (fulfillment_query, _FULFILLMENT_COLUMNS, Fulfillment.id),
}
_NO_ATTRS: Mapping[str, Any] = {}
_CATEGORIES = {c.value: c for c in ItemCategory}


def _attrs(text: str | None) -> Mapping[str, Any]:
    if text is None or text == "{}" or text == "null":
        return _NO_ATTRS
    value = json.loads(text)
    return value if isinstance(value, dict) else _NO_ATTRS


def select_records(uow: UnitOfWork, selection: Selection) -> list[SourceRecord]:
    """The selection's due sources, account by account (ids in order), each account's lines before its fulfillments.

    Within an account, rule-A lines come in id order, then fulfillments in id order. A selection
    of named sources (runBilling) keeps the order it names them in. This is the one place a
    source is read and made a BillableSource.
    """
    dates: dict[str, dt.date] = {}
    by_account: dict[str, list[SourceRecord]] = {}
    connection = uow.session.connection()  # plain rows: Core, not the ORM
    named = selection.sources is not None and selection == Selection(sources=selection.sources)
    for kind, (query, columns, id_column) in _QUERIES.items():
        ids = selection.ids(kind)
        if ids == []:
            continue  # the call names none of this kind
        if named:
            rows = connection.execute(_named_sources(uow, kind), {"tenant_id": uow.tenant_id, "ids": ids}).fetchall()
        else:
            rows = connection.execute(
                query(uow, selection, columns).order_by(OrderLineItem.account_id, id_column)
            ).fetchall()
        is_fulfillment = kind == SourceType.FULFILLMENT
        for row in rows:
            source_id, account, currency, category, state, quantity, unit, target, sent_at = row[:9]
            name, description, code, uom, start, end, attrs_text = row[9:16]
            attrs = _attrs(attrs_text)
            day = None
            if target is not None:
                day = dates.get(target)
                if day is None:
                    day = dates[target] = dt.date.fromisoformat(target)
            source = BillableSource(
                kind,
                source_id,
                account,
                currency,
                _CATEGORIES[category],
                state,
                quantity,
                unit,
                day,
                sent_at is not None,
                False,
                splitting_attributes(attrs) if attrs else _NO_SPLIT,
            )
            if not selection.is_due(source):
                continue
            line_id = row[16] if is_fulfillment else source_id
            record = SourceRecord(
                source, line_id, name, description, code, uom, start, end, source_id if is_fulfillment else None, attrs
            )
            group = by_account.get(account)
            if group is None:
                group = by_account[account] = []
            group.append(record)
    records = [record for account in sorted(by_account) for record in by_account[account]]
    if selection.sources is not None:
        order = {source: position for position, source in reversed(list(enumerate(selection.sources)))}
        records.sort(key=lambda r: order[(r.source.source_type, r.source.source_id)])
    return records


_NO_SPLIT = splitting_attributes(_NO_ATTRS)


def account_line_counts(uow: UnitOfWork, selection: Selection) -> Iterable[tuple[str, int]]:
    """(account id, number of due sources) for every account with something due, in account id order.

    Counted in SQL from the same conditions as select_records (streamed, so planning a run of any
    size holds one row at a time).
    """
    lines = line_query(uow, selection, [OrderLineItem.account_id.label("account_id")])
    fulfillments = fulfillment_query(uow, selection, [OrderLineItem.account_id.label("account_id")])
    both = union_all(lines, fulfillments).subquery()
    query = (
        select(both.c.account_id, func.count())
        .group_by(both.c.account_id)
        .order_by(both.c.account_id)
        .execution_options(stream_results=True, yield_per=2000)
    )
    for account_id, count in uow.session.execute(query):
        yield str(account_id), int(count)


# --- accounts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountState:
    """What documents need from their account: its payment term and (for posting) its balance."""

    payment_term: str | None
    balance: int


def load_accounts(
    uow: UnitOfWork,
    *,
    ids: Iterable[str] | None = None,
    first: str | None = None,
    last: str | None = None,
    lock: bool = False,
) -> dict[str, AccountState]:
    """Accounts by id or by id range; `lock` takes their row locks (posting changes balances)."""
    query = select(Customer.id, cast(Customer.profile, Text), Customer.balance).where(
        Customer.tenant_id == uow.tenant_id
    )
    if ids is not None:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        # The id range too, so the primary key is range-scanned rather than the table read for the list.
        query = query.where(Customer.id.in_(wanted), Customer.id >= wanted[0], Customer.id <= wanted[-1])
    if first is not None:
        query = query.where(Customer.id >= first)
    if last is not None:
        query = query.where(Customer.id <= last)
    if lock and uow.is_postgres:
        query = query.with_for_update()
    out = {}
    rows = uow.session.execute(query.order_by(Customer.id)) if lock else uow.session.connection().execute(query)
    for account_id, profile, balance in rows:
        term = profile_payment_term(json.loads(profile)) if profile and "paymentTerm" in profile else None
        out[account_id] = AccountState(term, balance)
    return out


# --- writing documents ------------------------------------------------------------------------


@dataclass
class WrittenDocuments:
    """What a batch wrote: the documents in plan order as (id, number, document_type), and per account."""

    documents: list[tuple[str, str, str]] = field(default_factory=list)
    accounts: dict[str, AccountSummary] = field(default_factory=dict)
    lines: int = 0

    @property
    def invoices(self) -> int:
        return sum(1 for _, _, kind in self.documents if kind == DocumentType.INVOICE.value)

    @property
    def credit_memos(self) -> int:
        return len(self.documents) - self.invoices


# The generated rows, made by the same factories as every other invoice, item and line.
INVOICES = RowLayout(Invoice)


def _document_row(
    uow: UnitOfWork,
    plan: DocumentPlan,
    figures: InvoiceFigures,
    run: DocumentRun,
    *,
    invoice_id: str,
    number: str,
    term: str,
) -> dict[str, Any]:
    """A generated document, a draft: new_invoice_columns with its dates, terms and attributes, and its figures."""
    row = new_invoice_columns(
        uow.tenant_id,
        invoice_id=invoice_id,
        customer_id=plan.account_id,
        currency=plan.currency.lower(),
        created=uow.now,
        collection_method="send_invoice",
        days_until_due=payment_term_days(term),
        due_date=epoch(due_date(run.document_date, term)),
        period_start=epoch(run.target_date),
        period_end=epoch(run.target_date),
        # Zuora numbers documents when it makes them, drafts included; posting keeps the number.
        number=number,
        next_line_position=len(plan.lines),
        document_type=plan.document_type.value,
        origin=run.origin,
        invoice_date=run.document_date.isoformat(),
        target_date=run.target_date.isoformat(),
        auto_pay=False,
        custom_fields=document_custom_fields(plan, run, term),
        bill_run_id=run.bill_run_id,
        template_id=document_template(plan),
    )
    row.update(figure_columns(figures, starting_balance=0))
    return row


def document_custom_fields(plan: DocumentPlan, run: DocumentRun, term: str) -> dict[str, Any]:
    """A generated document's custom_fields: its attributes under DOC_KEY, where the documents side reads them.

    billingOptions.creditMemoReasonCode (credit memos), then the lines' flexible billing attributes
    and the payment term used (core.billing.document_attributes). Both writers store this.
    """
    doc: dict[str, Any] = {}
    if plan.document_type == DocumentType.CREDIT_MEMO and run.credit_memo_reason_code:
        doc["reasonCode"] = run.credit_memo_reason_code
    doc.update(document_attributes(plan, term))
    return {DOC_KEY: doc}


def write_documents(
    uow: UnitOfWork, records: Sequence[SourceRecord], run: DocumentRun, accounts: Mapping[str, AccountState]
) -> WrittenDocuments:
    """Plan the records' documents with the core and write them: two bulk inserts, one number block.

    `accounts` holds every account of the records (payment terms; balances when posting, read
    under a row lock). Posted documents update their accounts' balances (one executemany). Item
    rows are made while the COPY streams, so the database inserts while Python formats.
    """
    written = WrittenDocuments()
    by_key = {(r.source.source_type, r.source.source_id): r for r in records}
    plans = plan_documents(r.source for r in records)
    if not plans:
        return written
    ensure_open_period(uow, run.document_date)  # no document is dated in a closed accounting period
    invoice_count = sum(1 for p in plans if p.document_type == DocumentType.INVOICE)
    numbers = {
        kind: iter(take_numbers(uow, DOCUMENT_SEQUENCES[kind], count))
        for kind, count in (
            (DocumentType.INVOICE, invoice_count),
            (DocumentType.CREDIT_MEMO, len(plans) - invoice_count),
        )
    }
    invoices: list[dict[str, Any]] = []
    documents: list[tuple[DocumentPlan, InvoiceFigures, str]] = []
    totals_by_account: dict[str, list[tuple[dict[str, Any], int]]] = {}
    for plan in plans:
        state = accounts.get(plan.account_id)
        term = document_payment_term(plan, state.payment_term if state is not None else None)
        figures = document_figures(plan)
        number = next(numbers[plan.document_type])
        invoice_id = new_zuora_id()
        row = _document_row(uow, plan, figures, run, invoice_id=invoice_id, number=number, term=term)
        invoices.append(row)
        documents.append((plan, figures, invoice_id))
        totals_by_account.setdefault(plan.account_id, []).append((row, figures.total))
        summary = written.accounts.get(plan.account_id)
        if summary is None:
            summary = written.accounts[plan.account_id] = AccountSummary()
        summary.add(plan, figures.total)
        written.documents.append((invoice_id, number, plan.document_type.value))
        written.lines += len(plan.lines)
    moves: list[dict[str, Any]] = []
    balances = _post(uow, totals_by_account, accounts, moves) if run.post else {}
    insert_rows(uow.session, INVOICES.table, INVOICES.columns, (INVOICES.encode(row) for row in invoices))
    insert_rows(uow.session, ITEMS.table, ITEMS.columns, _item_rows(uow, documents, by_key))
    if moves:  # one insert: a balance moved through Zuora is listed by GET /v1/customers/{id}/balance_transactions
        uow.session.execute(insert(CustomerBalanceTransaction), moves)
    if balances:
        uow.session.execute(
            update(Customer),
            [{"tenant_id": uow.tenant_id, "id": account, "balance": balance} for account, balance in balances.items()],
        )
        _expire_customers(uow, set(balances))
    _emit_documents(uow, written, posted=run.post)
    return written


def _emit_documents(uow: UnitOfWork, written: WrittenDocuments, *, posted: bool) -> None:
    """The batch's events, set-based: written with its rows in this transaction, in one insert each."""
    invoices = [i for i, _, kind in written.documents if kind == DocumentType.INVOICE.value]
    memos = [i for i, _, kind in written.documents if kind != DocumentType.INVOICE.value]
    emit(uow, EventType.INVOICE_CREATED, invoices)
    if posted:
        emit(uow, EventType.INVOICE_FINALIZED, invoices)
    emit(uow, EventType.CREDIT_NOTE_CREATED, memos)


def _item_rows(
    uow: UnitOfWork,
    documents: Sequence[tuple[DocumentPlan, InvoiceFigures, str]],
    by_key: Mapping[tuple[SourceType, str], SourceRecord],
) -> Iterator[list[Any]]:
    """Each document's item rows, each its invoice line, in line order.

    The rows come from the item and line factories, encoded once per document; each line then
    fills in what is its own (this is a bill run's hot loop): its source, price, amount,
    description, service period and extras, and its line's id, position and figures.
    """
    periods: dict[str, int] = {}
    for plan, figures, invoice_id in documents:
        item_base = ITEMS.encode(_generated_item(uow, plan, invoice_id))
        item_ids = new_ids("ii_", len(plan.lines))
        line_ids = new_ids("il_", len(plan.lines))
        for position, (planned, line_figures) in enumerate(zip(plan.lines, figures.lines, strict=True)):
            source = planned.source
            record = by_key[(source.source_type, source.source_id)]
            start = periods.get(record.start)
            if start is None:
                start = periods[record.start] = epoch(dt.date.fromisoformat(record.start))
            end = periods.get(record.end)
            if end is None:
                end = periods[record.end] = epoch(dt.date.fromisoformat(record.end))
            item_id = item_ids[position]
            item = item_base.copy()
            item[_ITEM_ID] = item_id
            item[_ITEM_UNIT] = decimal_text(source.unit_amount)
            item[_ITEM_QUANTITY] = decimal_text(source.quantity)
            item[_ITEM_AMOUNT] = planned.amount
            item[_ITEM_DESCRIPTION] = item_description(record.description, record.item_name)
            item[_ITEM_START], item[_ITEM_END] = start, end
            item[_ITEM_SOURCE_TYPE], item[_ITEM_SOURCE_ID] = source.source_type.value, source.source_id
            item[_ITEM_EXTRAS] = extras_json(record)
            item[_LINE_ID], item[_LINE_POSITION] = line_ids[position], position
            if line_figures.discount_amounts or line_figures.taxes:
                figured = line_columns(line_id=line_ids[position], position=position, figures=line_figures)
                item[_LINE_DISCOUNTS] = json_text(figured["discount_amounts"])
                item[_LINE_TAXES] = json_text(figured["taxes"])
            yield item


def _generated_item(uow: UnitOfWork, plan: DocumentPlan, invoice_id: str) -> dict[str, Any]:
    """A document's generated item before its line's own fields: the core's generated_item in the item factory."""
    values = generated_item(ItemOwner(plan.account_id, plan.currency.lower()), now=uow.now)
    return new_item_columns(
        uow.tenant_id,
        item_id="",
        customer_id=plan.account_id,
        invoice_id=invoice_id,
        kind=values.kind.value,
        created=uow.now,
        values=value_columns(values, product_id=values.product_id, discount_ids=[]),
        line=line_columns(line_id="", position=0),
    )


# Where each line's own values go in an encoded item row.
_ITEM_ID, _ITEM_UNIT, _ITEM_QUANTITY, _ITEM_AMOUNT, _ITEM_DESCRIPTION = map(
    ITEMS.index, ("id", "unit_amount_decimal", "quantity_decimal", "amount", "description")
)
_ITEM_START, _ITEM_END, _ITEM_SOURCE_TYPE, _ITEM_SOURCE_ID, _ITEM_EXTRAS = map(
    ITEMS.index, ("period_start", "period_end", "source_type", "source_id", "extras")
)
_LINE_ID, _LINE_POSITION, _LINE_DISCOUNTS, _LINE_TAXES = map(
    ITEMS.index, ("line_id", "position", "discount_amounts", "taxes")
)


_encode = json.encoder.encode_basestring_ascii  # what json.dumps writes a str as (ensure_ascii)


def _value(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is str:
        return _encode(value)
    return json.dumps(value)


def extras_json(record: SourceRecord) -> str:
    """json.dumps(item_extras(...)) for a record, byte for byte, written out directly (a bill run's hot loop)."""
    attrs = record.attrs
    fulfillment = record.fulfillment_id
    name = _value(record.item_name)
    text = (
        '{"chargeName": '
        + name
        + ', "sku": '
        + _value(record.product_code)
        + ', "productName": '
        + name
        + ', "unitOfMeasure": '
        + _value(record.uom)
        + ', "serviceStartDate": '
        + _value(record.start)
        + ', "serviceEndDate": '
        + _value(record.end)
        + ', "sourceItemType": "OrderLineItem", "orderLineItemId": '
        + _value(record.line_id)
        + ', "fulfillmentId": '
        + _value(fulfillment)
        + ', "chargeType": "OneTime", "processingType": "Charge"'
    )
    if not attrs:
        return text + _NO_ATTR_TAIL
    text += (
        ', "productRatePlanChargeId": '
        + _value(attrs.get("productRatePlanChargeId"))
        + ', "soldToContactId": '
        + _value(attrs.get("soldTo"))
        + ', "purchaseOrderNumber": '
        + _value(attrs.get("purchaseOrderNumber"))
        + ', "taxCode": '
        + _value(attrs.get("taxCode"))
        + ', "taxMode": '
        + _value(attrs.get("taxMode"))
    )
    for key, value in attrs.items():
        if key.endswith("AccountingCode") or key == "accountingCode":
            text += ", " + _encode(key) + ": " + _value(value)
    return text + "}"


_NO_ATTR_TAIL = (
    ', "productRatePlanChargeId": null, "soldToContactId": null, "purchaseOrderNumber": null,'
    ' "taxCode": null, "taxMode": null}'
)


def _post(
    uow: UnitOfWork,
    documents: Mapping[str, list[tuple[dict[str, Any], int]]],
    accounts: Mapping[str, AccountState],
    moves: list[dict[str, Any]],
) -> dict[str, int]:
    """Finalize the documents as finalize_invoice does (posted_columns), account by account in plan order.

    Returns the new balances of the accounts whose balance changed; each document that moved a balance adds
    its customer balance transaction to `moves` (as finalize_invoice records one: `applied_to_invoice`).
    """
    changed: dict[str, int] = {}
    for account, rows in documents.items():
        state = accounts.get(account)
        balance = state.balance if state is not None else 0
        applies = [row["document_type"] != DocumentType.CREDIT_MEMO.value for row, _ in rows]
        postings, after = post_in_order(balance, [total for _, total in rows], applies=applies)
        for (row, _), posting in zip(rows, postings, strict=True):
            if posting.ending_balance != posting.starting_balance:
                moves.append(_balance_move(uow, account, row, posting))
            row.update(
                posted_columns(
                    posting,
                    collection_method=row["collection_method"],
                    days_until_due=row["days_until_due"],
                    due_date=row["due_date"],
                    now=uow.now,
                )
            )
        if after != balance:
            changed[account] = after
    return changed


def _balance_move(uow: UnitOfWork, account: str, row: Mapping[str, Any], posting: Posting) -> dict[str, Any]:
    """The balance transaction of a posted document that applied the account's balance (a row to insert)."""
    return {
        "tenant_id": uow.tenant_id,
        "id": new_id("cbtxn_", 14),
        "customer_id": account,
        "type": BalanceTransactionType.APPLIED_TO_INVOICE.value,
        "amount": posting.ending_balance - posting.starting_balance,
        "currency": row["currency"],
        "ending_balance": posting.ending_balance,
        "description": None,
        "metadata_": {},
        "invoice_id": row["id"],
        "credit_note_id": None,
        "created": uow.now,
    }


def _expire_customers(uow: UnitOfWork, ids: set[str]) -> None:
    """Customers loaded in this session no longer show their stored balance: reload it when read."""
    for obj in list(uow.session.identity_map.values()):
        if isinstance(obj, Customer) and obj.tenant_id == uow.tenant_id and obj.id in ids:
            uow.session.expire(obj, ["balance"])


__all__ = [
    "SPLITTING_ATTRIBUTES",
    "AccountState",
    "DocumentRun",
    "Scope",
    "Selection",
    "SourceRecord",
    "WrittenDocuments",
    "account_line_counts",
    "document_custom_fields",
    "extras_json",
    "item_extras",
    "load_accounts",
    "record_extras",
    "select_records",
    "splitting_attributes",
    "write_documents",
]
