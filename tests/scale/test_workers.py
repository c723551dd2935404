"""Workers share a bill run chunk by chunk: no chunk is billed twice, a failed chunk is retried, a run resumes."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import bulkbill.services.billing.bill_runs as bill_runs
from bulkbill.api.app import create_app
from bulkbill.config import Settings
from bulkbill.jobs import worker as workers
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Invoice, InvoiceItem
from bulkbill.storage.tables_orders import BillRun, BillRunChunk
from tests.helpers import new_tenant, zuora_for
from tests.helpers.zuora import SDK_DEFAULTS
from tests.scale.data import NOW, TARGET, make_dataset

SMALL_CHUNKS = {"bill_run_chunk_lines": 8, "bill_run_chunk_accounts": 3}


@pytest.fixture
def chunked(settings: Settings) -> Settings:
    return settings.model_copy(update=SMALL_CHUNKS)


def _queued_run(client: TestClient, settings: Settings, *, seed: int = 1, accounts: int = 24) -> tuple[str, str]:
    """A tenant with random due lines, and a run of it queued in many chunks: (tenant id, run id)."""
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    tenant = new_tenant(client, "workers")
    with state.sessions.begin() as session:
        make_dataset(session, tenant.id, random.Random(seed), accounts=accounts, lines=accounts * 5)
    with state.sessions.begin() as session:
        uow = UnitOfWork(session, settings, tenant_id=tenant.id, now=NOW)
        run = bill_runs.create_bill_run(uow, bill_runs.NewBillRun(target_date=TARGET))
        bill_runs.queue_bill_run(uow, run)
        assert run.total_chunks >= 4
        return tenant.id, run.id


def _check_billed_once(client: TestClient, tenant_id: str, run_id: str) -> BillRun:
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    with state.sessions.begin() as session:
        run = session.get(BillRun, (tenant_id, run_id))
        assert run is not None
        chunks = list(session.scalars(select(BillRunChunk).where(BillRunChunk.bill_run_id == run_id)))
        assert {c.status for c in chunks} == {"done"} and run.chunks_done == len(chunks) == run.total_chunks
        assert run.status == "Completed" and run.billed_lines == run.planned_lines == sum(
            c.billed_lines for c in chunks
        )
        items = Counter(
            session.scalars(
                select(InvoiceItem.source_id)
                .join(Invoice, (Invoice.tenant_id == InvoiceItem.tenant_id) & (Invoice.id == InvoiceItem.invoice_id))
                .where(Invoice.bill_run_id == run_id)
            )
        )
        assert sum(items.values()) == run.billed_lines and set(items.values()) == {1}
        invoices = session.scalar(select(func.count()).where(Invoice.bill_run_id == run_id))
        assert invoices == run.number_of_invoices + run.number_of_credit_memos
        session.expunge(run)
        return run


@pytest.fixture
def slow_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each chunk takes a little while, so concurrent workers really interleave."""
    real = bill_runs.write_documents

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.03)
        return real(*args, **kwargs)

    monkeypatch.setattr(bill_runs, "write_documents", slow)


def test_workers_share_a_run_and_no_chunk_is_billed_twice(
    client: TestClient, chunked: Settings, slow_chunks: None
) -> None:
    tenant_id, run_id = _queued_run(client, chunked)
    threads = [
        threading.Thread(target=workers.run_worker, args=(chunked,), kwargs={"worker": f"w{i}", "once": True})
        for i in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    workers.finish(client.app.state.bulkbill.sessions, chunked, tenant_id, run_id)  # type: ignore[attr-defined]
    _check_billed_once(client, tenant_id, run_id)
    with client.app.state.bulkbill.sessions.begin() as session:  # type: ignore[attr-defined]
        names = Counter(session.scalars(select(BillRunChunk.worker).where(BillRunChunk.bill_run_id == run_id)))
    assert set(names) <= {"w0", "w1", "w2"}
    if chunked.database_url.startswith("postgres"):
        assert len(names) >= 2, names  # SKIP LOCKED: the workers took different chunks at the same time


@pytest.fixture
def pg(chunked: Settings) -> Settings:
    if not chunked.database_url.startswith("postgres"):
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's; SQLite has one writer at a time")
    return chunked


def test_a_claimed_chunk_is_skipped_by_others(client: TestClient, pg: Settings) -> None:
    tenant_id, run_id = _queued_run(client, pg)
    sessions = client.app.state.bulkbill.sessions  # type: ignore[attr-defined]
    with sessions() as first, sessions() as second:
        first.begin()
        second.begin()
        mine = bill_runs.claim_chunk(UnitOfWork(first, pg, tenant_id=tenant_id), run_id)
        theirs = bill_runs.claim_chunk(UnitOfWork(second, pg, tenant_id=tenant_id), run_id)
        assert mine is not None and theirs is not None and (mine.chunk_no, theirs.chunk_no) == (1, 2)
        first.rollback()  # the claiming process died: its chunk is free again
        with sessions() as third:
            third.begin()
            again = bill_runs.claim_chunk(UnitOfWork(third, pg, tenant_id=tenant_id), run_id)
            assert again is not None and again.chunk_no == 1
            third.rollback()
        second.rollback()
    workers.work_on_run(sessions, pg, tenant_id, run_id)  # leave no queued run behind
    _check_billed_once(client, tenant_id, run_id)


def test_a_crashed_chunk_is_rolled_back_and_billed_by_the_next_attempt(
    client: TestClient, chunked: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant_id, run_id = _queued_run(client, chunked, seed=3)
    real = bill_runs.write_documents
    calls = {"n": 0}

    def crash_once(*args: Any, **kwargs: Any) -> Any:
        written = real(*args, **kwargs)  # the documents are written ...
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the worker died")  # ... and then the transaction is lost
        return written

    monkeypatch.setattr(bill_runs, "write_documents", crash_once)
    sessions = client.app.state.bulkbill.sessions  # type: ignore[attr-defined]
    outcomes = []
    while (outcome := workers.run_one_chunk(sessions, chunked, tenant_id, run_id, "w")) is not None:
        outcomes.append(outcome)
    assert outcomes.count(workers.FAILED) == 1
    run = _check_billed_once(client, tenant_id, run_id)
    with sessions.begin() as session:
        chunk = session.get(BillRunChunk, (tenant_id, run_id, 2))
        assert chunk is not None and chunk.attempts == 1 and "the worker died" in (chunk.last_error or "")
    assert run.status == "Completed"


def test_a_chunk_that_keeps_failing_puts_the_run_in_error_and_retry_resumes_it(
    client: TestClient, chunked: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant_id, run_id = _queued_run(client, chunked, seed=4)
    real = bill_runs.execute_chunk

    def broken(uow: UnitOfWork, run: BillRun, chunk: BillRunChunk, **kw: Any) -> Any:
        if chunk.chunk_no == 3:
            raise ValueError("bad data in chunk 3")
        return real(uow, run, chunk, **kw)

    monkeypatch.setattr(bill_runs, "execute_chunk", broken)
    sessions = client.app.state.bulkbill.sessions  # type: ignore[attr-defined]
    workers.work_on_run(sessions, chunked, tenant_id, run_id)
    with sessions.begin() as session:
        run = session.get(BillRun, (tenant_id, run_id))
        assert run is not None and run.status == "Error" and "bad data in chunk 3" in (run.error_message or "")
        chunk = session.get(BillRunChunk, (tenant_id, run_id, 3))
        assert chunk is not None and chunk.status == "failed" and chunk.attempts == chunked.bill_run_chunk_attempts
        assert run.chunks_done == run.total_chunks - 1
    monkeypatch.setattr(bill_runs, "execute_chunk", real)
    with sessions.begin() as session:
        bill_runs.retry_failed_chunks(UnitOfWork(session, chunked, tenant_id=tenant_id), run_id)
    workers.work_on_run(sessions, chunked, tenant_id, run_id)
    _check_billed_once(client, tenant_id, run_id)


@pytest.fixture
def queueing_client(pg: Settings) -> Iterator[TestClient]:
    """The server of a deployment with workers: runs over 5 lines are left to them."""
    settings = pg.model_copy(update={"bill_run_workers": True, "bill_run_inline_max_lines": 5})
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def test_large_runs_are_queued_for_workers_over_http(queueing_client: TestClient, pg: Settings) -> None:
    client = queueing_client
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    tenant = new_tenant(client, "queued")
    with state.sessions.begin() as session:
        make_dataset(session, tenant.id, random.Random(5), accounts=10, lines=60)
    zuora = zuora_for(client, tenant)
    created = zuora.ok("POST", "/v1/bill-runs", {**SDK_DEFAULTS, "targetDate": TARGET.isoformat()})
    assert created["status"] == "Pending" and created["numberOfInvoices"] == 0
    assert created["progress"]["plannedLines"] > 5 and created["progress"]["chunksDone"] == 0
    stats = workers.run_worker(state.settings, worker="http", once=True)
    assert stats.chunks >= created["progress"]["totalChunks"]  # (and any run other tests left queued)
    done = zuora.ok("GET", f"/v1/bill-runs/{created['id']}")
    assert done["status"] == "Completed" and done["numberOfInvoices"] > 0
    assert done["progress"]["billedLines"] == done["progress"]["plannedLines"]
    # A run no larger than the limit is still billed inside the request.
    again = zuora.ok("POST", "/v1/bill-runs", {**SDK_DEFAULTS, "targetDate": TARGET.isoformat()})
    assert again["status"] == "Completed" and again["numberOfInvoices"] == 0


def test_worker_processes_bill_a_run(client: TestClient, pg: Settings) -> None:
    """Two `bulkbill worker` processes share a queued run (each exits when nothing is left to claim)."""
    tenant_id, run_id = _queued_run(client, pg, seed=6, accounts=30)
    env = {
        **os.environ,
        "BULKBILL_BILL_RUN_CHUNK_LINES": str(SMALL_CHUNKS["bill_run_chunk_lines"]),
        "BULKBILL_BILL_RUN_CHUNK_ACCOUNTS": str(SMALL_CHUNKS["bill_run_chunk_accounts"]),
    }
    command = [sys.executable, "-m", "bulkbill", "worker", "--once", "--database-url", pg.database_url]
    processes = [subprocess.Popen(command, env=env, stderr=subprocess.PIPE) for _ in range(2)]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()[-2000:]
    _check_billed_once(client, tenant_id, run_id)


def test_a_source_billed_twice_is_refused_by_the_database(client: TestClient, settings: Settings) -> None:
    """The set-based writer's bulk insert raises SQLAlchemy's IntegrityError, as any insert would."""
    from sqlalchemy.exc import IntegrityError

    from bulkbill.services.billing.billing_sets import (
        DocumentRun,
        Selection,
        load_accounts,
        select_records,
        write_documents,
    )

    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    tenant = new_tenant(client, "twice")
    with state.sessions.begin() as session:
        make_dataset(session, tenant.id, random.Random(8), accounts=4, lines=20)
    run = DocumentRun(target_date=TARGET, document_date=TARGET, origin="run_billing", post=False)
    with state.sessions() as session:
        session.begin()
        uow = UnitOfWork(session, settings, tenant_id=tenant.id, now=NOW)
        records = select_records(uow, Selection(target_date=TARGET))
        accounts = load_accounts(uow, ids={r.source.account_id for r in records})
        assert write_documents(uow, records, run, accounts).lines == len(records) > 0
        with pytest.raises(IntegrityError):
            write_documents(uow, records, run, accounts)
        session.rollback()
