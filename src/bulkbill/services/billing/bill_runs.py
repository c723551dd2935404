"""Bill runs: bill every SentToBilling line and fulfillment that is due (billTargetDate ≤ targetDate), in chunks.

Creating a run plans it: the accounts with something due are cut into chunks (core.billing.
split_chunks: contiguous ranges of account ids of bounded size), one bill_run_chunks row each.
A chunk is billed in one transaction (execute_chunk): its due sources are read as plain rows,
grouped and priced by the core, and written with a few bulk statements (services.billing_sets);
the same transaction writes the accounts' memberships, marks the chunk done and adds its counts
to the run. A chunk is therefore billed once or not at all: a crashed chunk rolls back and is
simply pending again, a resumed run skips done chunks, and the unique item source and the unique
(run, account) membership make double billing impossible whatever happens.

Who executes the chunks:
* the creating request, inside its own transaction (execute_inline): on SQLite, on servers
  without workers, and for runs of at most `bill_run_inline_max_lines` lines; the response then
  shows the run Completed (Posted with autoPost), as Zuora's clients expect after polling;
* otherwise `bulkbill worker` processes (and `bulkbill bill-run create`), one chunk per
  transaction, claimed with SELECT … FOR UPDATE SKIP LOCKED (claim_chunk): any number of workers
  on any number of machines share a run and never take the same chunk.

Plan, then commit (a bulkbill extension): a run created with `plan_only` freezes the exact items it
will bill (bill_run_items) with per-account counts and totals (bill_run_accounts, status
"Planned"); committing it bills exactly those items, the ones still unbilled, whatever else
became due in between.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, delete, func, or_, select, text, update

from bulkbill.core.billing.bill_runs import (
    OPEN_STATUSES,
    AccountStatus,
    BillRunStatus,
    ChunkState,
    RunAction,
    chunk_state_after,
    ensure_run_action,
    finished_status,
    retried_status,
    run_status_after,
)
from bulkbill.core.billing.plan import AccountSummary, Chunk, plan_documents, split_chunks
from bulkbill.core.billing.plan import document_figures as figures_of
from bulkbill.core.errors import ErrorCode, InputCollector, NotFound
from bulkbill.core.invoicing.lifecycle import InvoiceStatus
from bulkbill.core.time_range import days_after
from bulkbill.services.accounting.periods import ensure_open_period
from bulkbill.services.billing.billing_sets import (
    DocumentRun,
    Scope,
    Selection,
    SourceRecord,
    WrittenDocuments,
    account_line_counts,
    load_accounts,
    select_records,
    write_documents,
)
from bulkbill.services.billing.sequences import BILL_RUNS, take_number
from bulkbill.services.customers.org_scope import accounts_in_scope, restrict_to_labels
from bulkbill.services.invoicing.invoices import finalize_invoice
from bulkbill.services.orders.order_fields import find_account, today
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.bulk import insert_rows
from bulkbill.storage.tables import Customer, Invoice
from bulkbill.storage.tables_orders import BillRun, BillRunAccount, BillRunChunk, BillRunItem, new_zuora_id

S = BillRunStatus
# Workers are woken through this PostgreSQL channel when a run is queued.
NOTIFY_CHANNEL = "bulkbill_bill_runs"


@dataclass(frozen=True)
class NewBillRun:
    target_date: dt.date | None
    invoice_date: dt.date | None = None
    name: str | None = None
    account_keys: tuple[str, ...] | None = None  # None: every account in scope
    auto_post: bool = False
    include_order_line_items: bool = True
    settings: Mapping[str, Any] = field(default_factory=dict)
    plan_only: bool = False
    org_labels: frozenset[str] | None = None  # organizationLabels: bill only accounts of these orgs


def create_bill_run(uow: UnitOfWork, new: NewBillRun, *, orgs: frozenset[str] | None = None) -> BillRun:
    """Create an ad-hoc run and plan its chunks (status Pending), or freeze its plan (status Planned).

    `orgs` is the call's scope (Zuora-Org-Ids); the run bills only accounts inside it, and inside
    its org labels when it has some (a label the caller cannot access: AccessDenied). Nothing is
    billed yet: start_bill_run executes it, or queues it for workers.
    """
    run_orgs = restrict_to_labels(uow, new.org_labels, orgs) if new.org_labels is not None else orgs
    errors = InputCollector()
    if new.target_date is None:
        errors.missing(("targetDate",))
    accounts: list[Customer] = []
    for i, key in enumerate(new.account_keys or ()):
        try:
            account = find_account(uow, key, orgs=orgs)
        except NotFound:
            errors.not_found(("billRunFilters", i, "accountId"), "account", key)
            continue
        if new.org_labels is not None and account.org_label not in (run_orgs or ()):
            errors.add(
                ("billRunFilters", i, "accountId"),
                ErrorCode.INVALID_VALUE,
                f"Account {key} is not in an org of the bill run's organizationLabels.",
            )
        accounts.append(account)
    errors.raise_if_any()
    assert new.target_date is not None
    scope = Scope(frozenset(a.id for a in accounts) if new.account_keys is not None else None, run_orgs)
    run = BillRun(
        tenant_id=uow.tenant_id,
        id=new_zuora_id(),
        bill_run_number=take_number(uow, BILL_RUNS),
        name=new.name,
        status=(S.PLANNED if new.plan_only else S.PENDING).value,  # a frozen plan awaits its commit
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
        scope=scope.to_json(),
        frozen=new.plan_only,
        total_chunks=0,
        chunks_done=0,
        planned_lines=0,
        billed_lines=0,
    )
    uow.session.add(run)
    uow.session.flush()
    _plan(uow, run, freeze=new.plan_only)
    uow.session.flush()
    return run


def _selection(run: BillRun, chunk: BillRunChunk | None = None) -> Selection:
    return Selection(
        scope=Scope.from_json(run.scope),
        target_date=None if run.frozen else dt.date.fromisoformat(run.target_date),
        frozen_run_id=run.id if run.frozen else None,
        first_account=chunk.first_account_id if chunk is not None else None,
        last_account=chunk.last_account_id if chunk is not None else None,
    )


def _document_run(run: BillRun) -> DocumentRun:
    return DocumentRun(
        target_date=dt.date.fromisoformat(run.target_date),
        document_date=dt.date.fromisoformat(run.invoice_date),
        origin="bill_run",
        post=run.auto_post,  # Draft documents unless the run posts automatically (Decision 4)
        bill_run_id=run.id,
    )


def _plan(uow: UnitOfWork, run: BillRun, *, freeze: bool) -> None:
    """Cut what is due into chunk rows; with `freeze`, also record the exact items and per-account totals."""
    if not run.include_order_line_items:
        return
    settings = uow.settings
    selection = Selection(scope=Scope.from_json(run.scope), target_date=dt.date.fromisoformat(run.target_date))
    chunks = list(
        split_chunks(
            account_line_counts(uow, selection),
            max_lines=settings.bill_run_chunk_lines,
            max_accounts=settings.bill_run_chunk_accounts,
        )
    )
    if not chunks:
        return
    ensure_open_period(uow, dt.date.fromisoformat(run.invoice_date))  # refuse before anything is queued
    uow.session.add_all(
        BillRunChunk(
            tenant_id=uow.tenant_id,
            bill_run_id=run.id,
            chunk_no=number,
            first_account_id=chunk.first_account,
            last_account_id=chunk.last_account,
            planned_accounts=chunk.accounts,
            planned_lines=chunk.lines,
            status=ChunkState.PENDING.value,
            attempts=0,
            accounts=0,
            billed_lines=0,
            invoices=0,
            credit_memos=0,
        )
        for number, chunk in enumerate(chunks, start=1)
    )
    run.total_chunks = len(chunks)
    run.planned_lines = sum(chunk.lines for chunk in chunks)
    uow.session.flush()
    if freeze:
        _freeze(uow, run, selection, chunks)


def _freeze(uow: UnitOfWork, run: BillRun, selection: Selection, chunks: Sequence[Chunk]) -> None:
    """Record the items of every chunk, and each account's planned documents and totals (core arithmetic)."""
    total = AccountSummary()
    planned_lines = 0
    for chunk in chunks:
        bounded = Selection(
            scope=selection.scope,
            target_date=selection.target_date,
            first_account=chunk.first_account,
            last_account=chunk.last_account,
        )
        records = select_records(uow, bounded)
        planned_lines += len(records)
        insert_rows(
            uow.session,
            BillRunItem.__tablename__,
            ("tenant_id", "bill_run_id", "source_type", "source_id", "account_id"),
            (
                (uow.tenant_id, run.id, r.source.source_type.value, r.source.source_id, r.source.account_id)
                for r in records
            ),
        )
        summaries = summarize(records)
        _insert_memberships(uow, run, summaries, status=AccountStatus.PLANNED)
        for summary in summaries.values():
            _merge(total, summary)
    run.planned_lines = planned_lines
    run.plan_summary = {
        "accounts": sum(c.accounts for c in chunks),
        "items": total.items,
        "invoices": total.invoices,
        "creditMemos": total.credit_memos,
        "totals": total.totals,
    }


def summarize(records: Sequence[SourceRecord]) -> dict[str, AccountSummary]:
    """Per account: the items, documents and document totals billing these records would make."""
    out: dict[str, AccountSummary] = {}
    for plan in plan_documents(r.source for r in records):
        out.setdefault(plan.account_id, AccountSummary()).add(plan, figures_of(plan).total)
    return out


def _merge(into: AccountSummary, summary: AccountSummary) -> None:
    into.items += summary.items
    into.invoices += summary.invoices
    into.credit_memos += summary.credit_memos
    for currency, amounts in summary.totals.items():
        target = into.totals.setdefault(currency, {"invoice": 0, "creditMemo": 0})
        for kind, amount in amounts.items():
            target[kind] = target.get(kind, 0) + amount


def _insert_memberships(
    uow: UnitOfWork, run: BillRun, summaries: Mapping[str, AccountSummary], *, status: AccountStatus
) -> None:
    insert_rows(
        uow.session,
        BillRunAccount.__tablename__,
        ("tenant_id", "bill_run_id", "customer_id", "status", "items", "invoices", "credit_memos", "totals"),
        (
            (uow.tenant_id, run.id, account, status.value, s.items, s.invoices, s.credit_memos, json.dumps(s.totals))
            for account, s in summaries.items()
        ),
    )


# --- executing ------------------------------------------------------------------------------------


def executes_inline(uow: UnitOfWork, run: BillRun) -> bool:
    """Inline unless workers serve this PostgreSQL database and the run is larger than the inline limit."""
    settings = uow.settings
    workers = uow.is_postgres and settings.bill_run_workers
    return not workers or run.planned_lines <= settings.bill_run_inline_max_lines


def start_bill_run(uow: UnitOfWork, run: BillRun) -> None:
    """Execute a Pending run in this transaction, or leave it Pending for the workers (and wake them)."""
    ensure_run_action(RunAction.START, run.bill_run_number, run.status)
    if run.total_chunks == 0 or executes_inline(uow, run):
        execute_inline(uow, run)
    else:
        queue_bill_run(uow, run)


def queue_bill_run(uow: UnitOfWork, run: BillRun) -> None:
    """Leave the run to the workers; on PostgreSQL, tell listening workers when this transaction commits."""
    if uow.is_postgres:
        uow.session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


def execute_inline(uow: UnitOfWork, run: BillRun) -> None:
    """Bill every pending chunk of the run in this transaction, then finish the run."""
    chunks = uow.session.scalars(
        select(BillRunChunk)
        .where(
            BillRunChunk.tenant_id == uow.tenant_id,
            BillRunChunk.bill_run_id == run.id,
            BillRunChunk.status == ChunkState.PENDING.value,
        )
        .order_by(BillRunChunk.chunk_no)
    )
    for chunk in list(chunks):
        execute_chunk(uow, run, chunk)
    uow.session.refresh(run)
    finish_run(uow, run)


def claim_chunk(uow: UnitOfWork, run_id: str) -> BillRunChunk | None:
    """The next pending chunk of the run, row-locked; chunks other transactions hold are skipped.

    On PostgreSQL, SELECT … FOR UPDATE SKIP LOCKED: concurrent workers each get a different chunk
    and nobody waits. The lock lasts until the claiming transaction (which bills the chunk and
    marks it done) ends; if it fails or its process dies, the chunk is pending again. SQLite has
    one writer at a time (BEGIN IMMEDIATE), so the first pending chunk is simply free.
    """
    query = (
        select(BillRunChunk)
        .where(
            BillRunChunk.tenant_id == uow.tenant_id,
            BillRunChunk.bill_run_id == run_id,
            BillRunChunk.status == ChunkState.PENDING.value,
        )
        .order_by(BillRunChunk.chunk_no)
        .limit(1)
    )
    if uow.is_postgres:
        query = query.with_for_update(skip_locked=True)
    return uow.session.scalar(query)


@dataclass(frozen=True)
class ChunkResult:
    chunk_no: int
    accounts: int
    lines: int
    invoices: int
    credit_memos: int


def execute_chunk(uow: UnitOfWork, run: BillRun, chunk: BillRunChunk, *, worker: str | None = None) -> ChunkResult:
    """Bill one chunk: its documents, memberships, its done mark and the run's counters, all in this transaction."""
    if uow.is_postgres:
        # Foreign-key checks run saved plans, made once per connection: one made while the documents
        # tables were nearly empty (a fresh database) checks each key by scanning every document of
        # the tenant, and a run's tables grow by thousands of rows per chunk. Replanned per chunk,
        # the checks use the primary keys. A chunk's own queries read a few thousand rows by index:
        # parallel workers would only cost their start-up.
        uow.session.execute(text("DISCARD PLANS"))
        uow.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    records = select_records(uow, _selection(run, chunk))
    accounts = load_accounts(uow, ids={r.source.account_id for r in records}, lock=run.auto_post)
    written = write_documents(uow, records, _document_run(run), accounts)
    if run.frozen:
        # The planned memberships of this chunk's accounts give way to what was billed.
        uow.session.execute(
            delete(BillRunAccount).where(
                BillRunAccount.tenant_id == uow.tenant_id,
                BillRunAccount.bill_run_id == run.id,
                BillRunAccount.customer_id >= chunk.first_account_id,
                BillRunAccount.customer_id <= chunk.last_account_id,
                BillRunAccount.status == AccountStatus.PLANNED.value,
            )
        )
    _insert_memberships(uow, run, written.accounts, status=AccountStatus.BILLED)
    result = _result(chunk.chunk_no, written)
    chunk.status = chunk_state_after(chunk.status, ChunkState.DONE).value
    chunk.accounts, chunk.billed_lines = result.accounts, result.lines
    chunk.invoices, chunk.credit_memos = result.invoices, result.credit_memos
    chunk.worker, chunk.finished = worker, uow.now
    # Last, so the run row is locked only for the end of the transaction (workers share it).
    uow.session.execute(
        update(BillRun)
        .where(BillRun.tenant_id == uow.tenant_id, BillRun.id == run.id)
        .values(
            chunks_done=BillRun.chunks_done + 1,
            billed_lines=BillRun.billed_lines + result.lines,
            number_of_accounts=BillRun.number_of_accounts + result.accounts,
            number_of_invoices=BillRun.number_of_invoices + result.invoices,
            number_of_credit_memos=BillRun.number_of_credit_memos + result.credit_memos,
            # RunAction.BILL_CHUNK, set-based: the run's first billed chunk makes it Processing.
            status=case((BillRun.status == S.PENDING.value, S.PROCESSING.value), else_=BillRun.status),
            updated=uow.now,
        )
        .execution_options(synchronize_session=False)
    )
    uow.session.flush()
    return result


def _result(chunk_no: int, written: WrittenDocuments) -> ChunkResult:
    return ChunkResult(chunk_no, len(written.accounts), written.lines, written.invoices, written.credit_memos)


def finish_run(uow: UnitOfWork, run: BillRun) -> BillRun:
    """Once no chunk is pending, the run is Completed (Posted with autoPost), or Error if a chunk failed.

    Call with the run row locked (lock_bill_run).
    """
    if run.status not in OPEN_STATUSES:
        return run
    rows = uow.session.execute(
        select(BillRunChunk.status, func.count())
        .where(
            BillRunChunk.tenant_id == uow.tenant_id,
            BillRunChunk.bill_run_id == run.id,
            BillRunChunk.status != ChunkState.DONE.value,
        )
        .group_by(BillRunChunk.status)
    )
    counts = {status: int(count) for status, count in rows}
    finished = finished_status(
        pending_chunks=counts.get(ChunkState.PENDING, 0),
        failed_chunks=counts.get(ChunkState.FAILED, 0),
        auto_post=run.auto_post,
    )
    if finished is None:
        return run
    run.status = run_status_after(RunAction.FINISH, run.bill_run_number, run.status, finished).value
    run.updated = uow.now
    uow.session.flush()
    return run


def lock_bill_run(uow: UnitOfWork, run_id: str) -> BillRun:
    """A run by id, row-locked on PostgreSQL (status changes of one run are serialised)."""
    query = select(BillRun).where(BillRun.tenant_id == uow.tenant_id, BillRun.id == run_id)
    if uow.is_postgres:
        query = query.with_for_update()
    run = uow.session.scalar(query.execution_options(populate_existing=True))
    if run is None:
        raise NotFound("bill run", run_id)
    return run


def fail_chunk(uow: UnitOfWork, run_id: str, chunk_no: int, message: str) -> bool:
    """Count a failed attempt at a chunk; after bill_run_chunk_attempts the chunk is given up ("failed").

    The other chunks are still billed; the run ends in Error (finish_run) with the chunk's error as
    its message. Returns True when the chunk was given up.
    """
    run = lock_bill_run(uow, run_id)
    chunk = uow.session.get(BillRunChunk, (uow.tenant_id, run_id, chunk_no), with_for_update=uow.is_postgres)
    if chunk is None or chunk.status != ChunkState.PENDING:
        return False
    chunk.attempts += 1
    chunk.last_error = message[:2000]
    if chunk.attempts < uow.settings.bill_run_chunk_attempts:
        uow.session.flush()
        return False
    chunk.status = chunk_state_after(chunk.status, ChunkState.FAILED).value
    run.error_message = f"Chunk {chunk_no} of {run.total_chunks} failed {chunk.attempts} times: {message}"[:2000]
    run.updated = uow.now
    uow.session.flush()
    return True


def retry_failed_chunks(uow: UnitOfWork, key: str) -> BillRun:
    """Give the failed chunks of an Error run new attempts; the run is Processing again."""
    run = get_bill_run(uow, key)
    status = run_status_after(RunAction.RETRY, run.bill_run_number, run.status, retried_status(run.chunks_done))
    uow.session.execute(  # failed → pending, set-based
        update(BillRunChunk)
        .where(
            BillRunChunk.tenant_id == uow.tenant_id,
            BillRunChunk.bill_run_id == run.id,
            BillRunChunk.status == ChunkState.FAILED.value,
        )
        .values(status=chunk_state_after(ChunkState.FAILED, ChunkState.PENDING).value, attempts=0)
    )
    run.status = status.value
    run.error_message = None
    run.updated = uow.now
    queue_bill_run(uow, run)
    uow.session.flush()
    return run


def open_runs(uow: UnitOfWork, *, limit: int = 50) -> list[tuple[str, str]]:
    """(tenant id, run id) of runs with chunks left, oldest first: the one query that spans tenants.

    It takes no lock and reads an index (status, created); claiming then happens per run, with
    the tenant in every statement.
    """
    rows = uow.session.execute(
        select(BillRun.tenant_id, BillRun.id)
        .where(BillRun.status.in_(sorted(OPEN_STATUSES)))
        .order_by(BillRun.created, BillRun.id)
        .limit(limit)
    )
    return [(tenant, run_id) for tenant, run_id in rows]


# --- reading, committing, posting ----------------------------------------------------------------


def in_call_scope(uow: UnitOfWork, run: BillRun, orgs: frozenset[str] | None) -> bool:
    """Whether a call scoped to `orgs` (Zuora-Org-Ids, Decision 10) sees this run.

    A call without Zuora-Org-Ids sees every run of the tenant. A call naming orgs sees a run only
    when every account the run can bill lies in those orgs: the run's own orgs (its
    organizationLabels, or the Zuora-Org-Ids it was created under) are among them, or the accounts
    it is filtered to all belong to them. A run with neither (created without any org) may bill
    accounts of every org and accounts with no org, so, like an account with no org (core.scope.
    in_scope), it is in scope only when the header is absent. Outside the scope it does not exist.
    """
    if orgs is None:
        return True
    scope = Scope.from_json(run.scope)
    if scope.orgs is not None and scope.orgs <= orgs:
        return True
    return scope.accounts is not None and accounts_in_scope(uow, scope.accounts, orgs)


def get_bill_run(uow: UnitOfWork, key: str, *, orgs: frozenset[str] | None = None) -> BillRun:
    """A bill run by id or number (BR-00000001); a run outside the call's orgs is not found."""
    run = uow.session.scalar(
        select(BillRun).where(
            BillRun.tenant_id == uow.tenant_id, or_(BillRun.id == key, BillRun.bill_run_number == key)
        )
    )
    if run is None or not in_call_scope(uow, run, orgs):
        raise NotFound("bill run", key)
    return run


def commit_plan(uow: UnitOfWork, key: str, *, queue: bool = False, orgs: frozenset[str] | None = None) -> BillRun:
    """Commit a Planned run: it becomes Pending and starts (inline, or queued for the workers).

    With `queue` it is always left to workers (the CLI bills it chunk by chunk itself). A run
    outside the call's orgs is not found.
    """
    run = get_bill_run(uow, key, orgs=orgs)
    run = lock_bill_run(uow, run.id)
    run.status = run_status_after(RunAction.COMMIT, run.bill_run_number, run.status, S.PENDING).value
    run.updated = uow.now
    uow.session.flush()
    if queue and run.total_chunks:
        queue_bill_run(uow, run)
    else:
        start_bill_run(uow, run)
    return run


@dataclass(frozen=True)
class AccountLine:
    """One account's share of a run, planned or billed."""

    account_id: str
    account_number: str | None
    status: str
    items: int
    invoices: int
    credit_memos: int
    totals: Mapping[str, Mapping[str, int]]


def account_lines(uow: UnitOfWork, run: BillRun, *, offset: int = 0, limit: int = 1000) -> list[AccountLine]:
    """The run's accounts in id order (a page of them), with their items, documents and totals."""
    rows = uow.session.execute(
        select(
            BillRunAccount.customer_id,
            Customer.account_number,
            BillRunAccount.status,
            BillRunAccount.items,
            BillRunAccount.invoices,
            BillRunAccount.credit_memos,
            BillRunAccount.totals,
        )
        .join(
            Customer,
            (Customer.tenant_id == BillRunAccount.tenant_id) & (Customer.id == BillRunAccount.customer_id),
        )
        .where(BillRunAccount.tenant_id == uow.tenant_id, BillRunAccount.bill_run_id == run.id)
        .order_by(BillRunAccount.customer_id)
        .offset(offset)
        .limit(limit)
    )
    return [
        AccountLine(account, number, status, items or 0, invoices or 0, memos or 0, totals or {})
        for account, number, status, items, invoices, memos, totals in rows
    ]


def post_bill_run(
    uow: UnitOfWork, key: str, *, invoice_date: dt.date | None = None, orgs: frozenset[str] | None = None
) -> BillRun:
    """Post every Draft document of a Completed run (optionally re-dated); the run becomes Posted.

    A run outside the call's orgs is not found.
    """
    run = get_bill_run(uow, key, orgs=orgs)
    posted = run_status_after(RunAction.POST, run.bill_run_number, run.status, S.POSTED)
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
            due = days_after(invoice_date, invoice.days_until_due or 0)
            invoice.due_date = calendar.timegm(due.timetuple())
        finalize_invoice(uow, invoice.id)
    if invoice_date is not None:
        run.invoice_date = invoice_date.isoformat()
    run.status = posted.value
    run.updated = uow.now
    uow.session.flush()
    return run


__all__ = [
    "NOTIFY_CHANNEL",
    "AccountLine",
    "ChunkResult",
    "NewBillRun",
    "account_lines",
    "claim_chunk",
    "commit_plan",
    "create_bill_run",
    "execute_chunk",
    "execute_inline",
    "executes_inline",
    "fail_chunk",
    "finish_run",
    "get_bill_run",
    "in_call_scope",
    "lock_bill_run",
    "open_runs",
    "post_bill_run",
    "queue_bill_run",
    "retry_failed_chunks",
    "start_bill_run",
    "summarize",
]
