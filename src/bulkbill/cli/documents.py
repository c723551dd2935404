"""`bulkbill documents render --bill-run BR`: render a bill run's PDFs ahead of the first request.

Documents render on first request anyway; pre-rendering moves that cost to a quiet hour. Each batch
is its own transaction; several processes (on PostgreSQL) share a run without rendering twice.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

import bulkbill.services.billing.bill_runs as bill_runs
from bulkbill.cli.bill_runs import AsJson, ShowProgress, TenantKey, _open
from bulkbill.cli.options import DatabaseUrl, fail
from bulkbill.core.errors import BillingError
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.rendering.prerender import documents_of_run, render_batch

app = typer.Typer(help="Render billing documents (PDFs).", no_args_is_help=True)


@app.command("render")
def render(
    bill_run: Annotated[str, typer.Option("--bill-run", help="Bill run id or number (BR-00000001).")],
    tenant: TenantKey,
    database_url: DatabaseUrl = None,
    batch: Annotated[int, typer.Option("--batch", min=1, max=1000, help="Documents per transaction.")] = 20,
    progress: ShowProgress = None,
    as_json: AsJson = False,
) -> None:
    """Render every finalized document of a bill run that has no PDF yet, showing progress."""
    ctx = _open(database_url, tenant)
    try:
        with ctx.sessions.begin() as session:
            uow = UnitOfWork(session, ctx.settings, tenant_id=ctx.tenant_id)
            run_id = bill_runs.get_bill_run(uow, bill_run).id
            total, done = documents_of_run(uow, run_id)
    except BillingError as exc:
        fail(str(exc))
    started, rendered = time.perf_counter(), 0
    enabled = sys.stderr.isatty() if progress is None else progress
    bar = Progress(
        TextColumn("rendering"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("documents"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )
    with bar:
        task = bar.add_task("render", total=total, completed=done)
        while True:
            with ctx.sessions.begin() as session:
                count = render_batch(UnitOfWork(session, ctx.settings, tenant_id=ctx.tenant_id), run_id, batch)
            if count == 0:
                break
            rendered += count
            bar.update(task, advance=count)
    seconds = time.perf_counter() - started
    summary = {
        "bill_run": run_id,
        "documents": total,
        "rendered": rendered,
        "seconds": round(seconds, 3),
        "documents_per_second": round(rendered / seconds, 1) if seconds and rendered else None,
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(f"bill run {run_id}: {rendered} rendered of {total} documents in {seconds:.1f} s")
