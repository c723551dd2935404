"""`bulkbill bill-run …`: create, follow, commit and retry bill runs from the command line.

`create` plans the run (one transaction), then bills it chunk by chunk in this process (each chunk
its own transaction) while showing a progress bar; on PostgreSQL any `bulkbill worker` processes
share the run (`--no-work` leaves it to them and only follows). `follow` shows the progress of a
run another process started, until it ends. Progress goes to stderr; the final summary (one line,
or one JSON object with --json) to stdout.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy.orm import Session, sessionmaker

import bulkbill.services.billing.bill_runs as service
from bulkbill.cli.options import REFUSED, DatabaseUrl, fail, open_database, settings_for, tenant_id_for
from bulkbill.config import Settings
from bulkbill.core.billing.bill_runs import FINAL_STATUSES, OPEN_STATUSES, BillRunStatus
from bulkbill.core.errors import BillingError
from bulkbill.jobs.worker import work_on_run
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.db import make_sessionmaker
from bulkbill.storage.tables_orders import BillRun

app = typer.Typer(help="Create, follow and commit bill runs.", no_args_is_help=True)

TenantKey = Annotated[str, typer.Option("--tenant", "-t", help="Tenant id or name.")]
RunKey = Annotated[str, typer.Argument(help="Bill run id or number (BR-00000001).")]
Work = Annotated[
    bool,
    typer.Option("--work/--no-work", help="Bill chunks in this process too (else only follow the workers)."),
]
ShowProgress = Annotated[
    bool | None, typer.Option("--progress/--no-progress", help="Progress bar on stderr (default: when a terminal).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")]
STOP_STATUSES = FINAL_STATUSES | {BillRunStatus.PLANNED}  # a follower stops waiting


@dataclass
class Context:
    settings: Settings
    sessions: sessionmaker[Session]
    tenant_id: str
    # How the operator named the tenant and the database, to print commands that work as printed.
    tenant: str
    database_url: str | None


def _open(database_url: str | None, tenant: str) -> Context:
    settings = settings_for(database_url)
    sessions = make_sessionmaker(open_database(settings))
    with sessions.begin() as session:
        tenant_id = tenant_id_for(session, tenant)
    return Context(settings, sessions, tenant_id, tenant, database_url)


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date (YYYY-MM-DD), got {value!r}")


def _read(ctx: Context, key: str) -> BillRun:
    with ctx.sessions.begin() as session:
        return service.get_bill_run(UnitOfWork(session, ctx.settings, tenant_id=ctx.tenant_id), key)


def _summary(run: BillRun, seconds: float) -> dict[str, Any]:
    return {
        "id": run.id,
        "billRunNumber": run.bill_run_number,
        "status": run.status,
        "accounts": run.number_of_accounts,
        "invoices": run.number_of_invoices,
        "creditMemos": run.number_of_credit_memos,
        "lines": run.billed_lines,
        "plannedLines": run.planned_lines,
        "chunks": run.total_chunks,
        "seconds": round(seconds, 3),
        "linesPerSecond": round(run.billed_lines / seconds) if seconds > 0 else None,
        "errorMessage": run.error_message,
    }


def _print_summary(run: BillRun, seconds: float, as_json: bool) -> None:
    data = _summary(run, seconds)
    if as_json:
        typer.echo(json.dumps(data))
        return
    rate = f" ({data['linesPerSecond']:,} lines/s)" if data["linesPerSecond"] else ""
    typer.echo(
        f"{run.bill_run_number} {run.status}: {run.number_of_accounts:,} accounts, {run.number_of_invoices:,} "
        f"invoices, {run.number_of_credit_memos:,} credit memos, {run.billed_lines:,} lines in {seconds:.2f} s{rate}"
    )
    if run.error_message:
        typer.echo(run.error_message, err=True)


class Display:
    """A Rich progress bar of a run's billed lines (or nothing, when not wanted)."""

    def __init__(self, enabled: bool) -> None:
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        if enabled:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("lines"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )

    def __enter__(self) -> Display:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def show(self, run: BillRun, started: float) -> None:
        if self.progress is None:
            return
        elapsed = max(time.monotonic() - started, 1e-9)
        description = f"{run.bill_run_number} {run.status} · chunk {run.chunks_done}/{run.total_chunks}"
        rate = f"{run.billed_lines / elapsed:,.0f} lines/s"
        total = max(run.planned_lines, run.billed_lines, 1)
        if self.task is None:
            self.task = self.progress.add_task(description, total=total, completed=run.billed_lines, rate=rate)
        else:
            self.progress.update(self.task, description=description, total=total, completed=run.billed_lines, rate=rate)


def _drive(ctx: Context, run_id: str, *, work: bool, progress: bool | None, started: float, as_json: bool) -> None:
    """Bill (with `work`) and follow the run until it ends; then print its summary."""
    enabled = sys.stderr.isatty() if progress is None else progress
    with Display(enabled) as display:
        run = _read(ctx, run_id)
        display.show(run, started)
        if work and run.status in OPEN_STATUSES:
            work_on_run(
                ctx.sessions,
                ctx.settings,
                ctx.tenant_id,
                run_id,
                on_chunk=lambda _outcome: display.show(_read(ctx, run_id), started),
            )
        while run.status not in STOP_STATUSES:
            time.sleep(0.25)
            run = _read(ctx, run_id)
            display.show(run, started)
        display.show(run, started)
    _print_summary(run, time.monotonic() - started, as_json)
    if run.status == BillRunStatus.ERROR:
        raise typer.Exit(2)


@app.command("create")
def create(
    tenant: TenantKey,
    target_date: Annotated[str, typer.Option("--target-date", help="Bill what is due on or before this date.")],
    invoice_date: Annotated[str | None, typer.Option("--invoice-date", help="Document date (default today).")] = None,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Only this account (id or number); repeatable.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="The run's name.")] = None,
    auto_post: Annotated[bool, typer.Option("--auto-post", help="Post the documents (else Draft).")] = False,
    plan_only: Annotated[
        bool, typer.Option("--plan-only", help="Freeze and show the plan; bill nothing (see `commit`).")
    ] = False,
    work: Work = True,
    progress: ShowProgress = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a bill run for what is due by --target-date and bill it, showing progress."""
    ctx = _open(database_url, tenant)
    started = time.monotonic()
    new = service.NewBillRun(
        target_date=_date(target_date, "--target-date"),
        invoice_date=_date(invoice_date, "--invoice-date"),
        name=name,
        account_keys=tuple(account) if account else None,
        auto_post=auto_post,
        plan_only=plan_only,
    )
    try:
        with ctx.sessions.begin() as session:
            uow = UnitOfWork(session, ctx.settings, tenant_id=ctx.tenant_id)
            run = service.create_bill_run(uow, new)
            if not plan_only:
                if run.total_chunks:
                    service.queue_bill_run(uow, run)  # billed chunk by chunk below, and by any worker
                else:
                    service.execute_inline(uow, run)  # nothing due: Completed at once
            run_id = run.id
    except BillingError as exc:
        fail(str(exc), REFUSED)
    if plan_only:
        _print_plan(ctx, _read(ctx, run_id), as_json)
        return
    _drive(ctx, run_id, work=work, progress=progress, started=started, as_json=as_json)


def _commit_command(ctx: Context, run: BillRun) -> str:
    """The `bill-run commit` command for a planned run, as the operator can paste it."""
    words = ["bulkbill", "bill-run", "commit", run.bill_run_number, "--tenant", ctx.tenant]
    if ctx.database_url:
        words += ["--database-url", ctx.database_url]
    return shlex.join(words)


def _print_plan(ctx: Context, run: BillRun, as_json: bool) -> None:
    summary = run.plan_summary or {}
    data = {"id": run.id, "billRunNumber": run.bill_run_number, "status": run.status, **summary}
    if as_json:
        typer.echo(json.dumps(data))
        return
    typer.echo(
        f"{run.bill_run_number} {run.status}: {summary.get('accounts', 0):,} accounts, "
        f"{summary.get('items', 0):,} items, {summary.get('invoices', 0):,} invoices, "
        f"{summary.get('creditMemos', 0):,} credit memos (commit with `{_commit_command(ctx, run)}`)"
    )
    for currency, totals in sorted(summary.get("totals", {}).items()):
        typer.echo(
            f"  {currency.upper()}: invoices {totals['invoice']} · credit memos {totals['creditMemo']} (minor units)"
        )


@app.command("follow")
def follow(
    run: RunKey,
    tenant: TenantKey,
    work: Annotated[bool, typer.Option("--work/--no-work", help="Bill chunks in this process too.")] = False,
    progress: ShowProgress = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Show the progress of a run (started by any process) until it ends; --work also bills its chunks."""
    _step_then_drive(database_url, tenant, lambda uow: service.get_bill_run(uow, run), work, progress, as_json)


@app.command("commit")
def commit(
    run: RunKey,
    tenant: TenantKey,
    work: Work = True,
    progress: ShowProgress = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Bill exactly what a planned run (`create --plan-only`) froze."""
    _step_then_drive(
        database_url, tenant, lambda uow: service.commit_plan(uow, run, queue=True), work, progress, as_json
    )


@app.command("retry")
def retry(
    run: RunKey,
    tenant: TenantKey,
    work: Work = True,
    progress: ShowProgress = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Resume a run in Error: its failed chunks get new attempts."""
    _step_then_drive(database_url, tenant, lambda uow: service.retry_failed_chunks(uow, run), work, progress, as_json)


def _step_then_drive(
    database_url: str | None,
    tenant: str,
    step: Callable[[UnitOfWork], BillRun],
    work: bool,
    progress: bool | None,
    as_json: bool,
) -> None:
    """Run one service step on a run in its own transaction (a refusal exits 1), then follow or bill the run."""
    ctx = _open(database_url, tenant)
    started = time.monotonic()
    try:
        with ctx.sessions.begin() as session:
            run_id = step(UnitOfWork(session, ctx.settings, tenant_id=ctx.tenant_id)).id
    except BillingError as exc:
        fail(str(exc), REFUSED)
    _drive(ctx, run_id, work=work, progress=progress, started=started, as_json=as_json)
