"""The set-based writer leaves exactly the rows the one-invoice-at-a-time path leaves, on random data.

Each case builds a random data set (tests/scale/data.py) in a fresh tenant, then bills it twice in
two transactions that are rolled back: once through the reference path (the general invoice
machinery: new_invoice_row, attach_item, recalculate, finalize_invoice), once set-based (bill-run
chunks, or generate_documents for runBilling). Every column of every invoice, invoice item and
invoice line is compared (JSON as stored text), and so are the accounts' balances after posting.
Only ids differ, and, for bill runs, which document got which number of the same number block
(the reference numbers documents in the order it meets accounts, chunks in account-id order).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import JSON, Text, cast, select
from sqlalchemy.orm import Session

import bulkbill.services.billing.bill_runs as bill_runs
from bulkbill.core.billing.plan import SourceType
from bulkbill.services.billing.run_billing import (
    Billable,
    DocumentRun,
    due_billables,
    fulfillment_sources,
    generate_documents,
    generate_documents_per_invoice,
    line_sources,
)
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer, Invoice, InvoiceItem, InvoiceLine
from bulkbill.storage.tables_orders import Fulfillment, OrderLineItem
from tests.helpers import new_tenant
from tests.scale.data import NOW, TARGET, Dataset, make_dataset

Snapshot = dict[str, Any]


def _columns(table: Any) -> list[Any]:
    return [cast(c, Text).label(c.name) if isinstance(c.type, JSON) else c for c in table.columns]


def snapshot(session: Session, tenant_id: str, *, keep_numbers: bool) -> Snapshot:
    """Every document of the tenant, keyed by what it bills, with every column but ids."""
    invoices = {
        r.id: dict(r._mapping)
        for r in session.execute(select(*_columns(Invoice.__table__)).where(Invoice.tenant_id == tenant_id))
    }
    items = {
        r.id: dict(r._mapping)
        for r in session.execute(
            select(*_columns(InvoiceItem.__table__)).where(
                InvoiceItem.tenant_id == tenant_id, InvoiceItem.invoice_id.is_not(None)
            )
        )
    }
    lines = [
        dict(r._mapping)
        for r in session.execute(select(*_columns(InvoiceLine.__table__)).where(InvoiceLine.tenant_id == tenant_id))
    ]
    by_invoice: dict[str, list[dict[str, Any]]] = {i: [] for i in invoices}
    for line in lines:
        item = items[line["item_id"]]
        assert item["invoice_id"] == line["invoice_id"]
        entry = {k: v for k, v in item.items() if k not in ("id", "invoice_id")}
        entry.update({f"line.{k}": v for k, v in line.items() if k not in ("id", "item_id", "invoice_id")})
        by_invoice[line["invoice_id"]].append(entry)
    documents: dict[tuple[Any, ...], dict[str, Any]] = {}
    numbers: Counter[str] = Counter()
    for invoice_id, invoice in invoices.items():
        entries = sorted(by_invoice[invoice_id], key=lambda e: e["line.position"])
        key = (
            invoice["customer_id"],
            invoice["document_type"],
            tuple((e["source_type"], e["source_id"]) for e in entries),
        )
        numbers[invoice["number"]] += 1
        body = {k: v for k, v in invoice.items() if k != "id" and (keep_numbers or k != "number")}
        body["bill_run_id"] = "run" if invoice["bill_run_id"] else None
        documents[key] = {"invoice": body, "lines": entries}
    balances = {
        account: balance
        for account, balance in session.execute(
            select(Customer.id, Customer.balance).where(Customer.tenant_id == tenant_id)
        )
    }
    return {"documents": documents, "numbers": numbers, "balances": balances}


def _bill_twice(
    client: TestClient,
    seed: int,
    bill: Callable[[UnitOfWork, Dataset, bool], None],
    *,
    keep_numbers: bool,
    scale: int = 1,
) -> tuple[Snapshot, Snapshot]:
    """Make the data (committed), then bill it by the reference and the set path; both rolled back."""
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    settings = state.settings.model_copy(update={"bill_run_chunk_lines": 7, "bill_run_chunk_accounts": 3})
    tenant = new_tenant(client, f"agree{seed}")
    rng = random.Random(seed)
    with state.sessions.begin() as session:
        data = make_dataset(
            session, tenant.id, rng, accounts=rng.randint(3, 12) * scale, lines=rng.randint(10, 60) * scale
        )
    results = []
    for reference in (True, False):
        with state.sessions() as session:
            session.begin()
            uow = UnitOfWork(session, settings, tenant_id=tenant.id, now=NOW + 3600)
            bill(uow, data, reference)
            session.flush()
            results.append(snapshot(session, tenant.id, keep_numbers=keep_numbers))
            session.rollback()
    return results[0], results[1]


def _compare(reference: Snapshot, ours: Snapshot, *, may_be_empty: bool = False) -> None:
    assert reference["documents"] or may_be_empty, "the case billed nothing: it proves nothing"
    assert ours["balances"] == reference["balances"]
    assert ours["numbers"] == reference["numbers"]  # the same block of numbers, each used once
    assert set(ours["documents"]) == set(reference["documents"])
    for key, document in reference["documents"].items():
        assert ours["documents"][key] == document, key


def _reference_bill_run(uow: UnitOfWork, run: Any, scope: bill_runs.Scope) -> None:
    """What bill runs did before chunks: the due sources, account by account in first-seen order."""
    billables = due_billables(uow, TARGET, account_ids=set(scope.accounts) if scope.accounts else None, orgs=scope.orgs)
    by_account: dict[str, list[Billable]] = {}
    for b in billables:
        by_account.setdefault(b.source.account_id, []).append(b)
    document_run = bill_runs._document_run(run)
    for group in by_account.values():
        generate_documents_per_invoice(uow, group, document_run)


SEEDS = list(range(6))
# --run-slow: many more cases, ten times larger.
SLOW = [pytest.param(seed, 10, marks=pytest.mark.slow) for seed in range(100, 130)]


@pytest.mark.parametrize(("seed", "scale"), [(seed, 1) for seed in SEEDS] + SLOW)
def test_bill_run_agrees_with_the_reference(client: TestClient, seed: int, scale: int) -> None:
    rng = random.Random(1000 + seed)
    auto_post = rng.random() < 0.5
    orgs = rng.choice((None, None, frozenset({"east"}), frozenset({"east", "west"})))
    one_account = seed % 3 == 2

    def bill(uow: UnitOfWork, data: Dataset, reference: bool) -> None:
        accounts = None
        if one_account:
            query = select(Customer.id).where(Customer.tenant_id == uow.tenant_id)
            if orgs is not None:
                query = query.where(Customer.org_label.in_(orgs))
            in_scope = sorted(uow.session.scalars(query))
            accounts = (in_scope[seed % len(in_scope)],) if in_scope else None
        new = bill_runs.NewBillRun(
            target_date=TARGET, invoice_date=TARGET.replace(day=1), auto_post=auto_post, account_keys=accounts
        )
        run = bill_runs.create_bill_run(uow, new, orgs=orgs)
        if reference:
            _reference_bill_run(uow, run, bill_runs.Scope.from_json(run.scope))
        else:
            bill_runs.start_bill_run(uow, run)
            assert run.status == ("Posted" if auto_post else "Completed")

    reference, ours = _bill_twice(client, seed, bill, keep_numbers=False, scale=scale)
    _compare(reference, ours, may_be_empty=one_account)  # the one account may owe nothing


@pytest.mark.parametrize(("seed", "scale"), [(seed, 1) for seed in SEEDS] + SLOW)
def test_run_billing_agrees_with_the_reference(client: TestClient, seed: int, scale: int) -> None:
    rng = random.Random(2000 + seed)
    post = rng.random() < 0.6
    reason = rng.choice((None, "Return Order"))

    def bill(uow: UnitOfWork, data: Dataset, reference: bool) -> None:
        picked = random.Random(seed)  # the same sources, in the same order, both times
        lines = list(
            uow.session.scalars(
                select(OrderLineItem).where(OrderLineItem.tenant_id == uow.tenant_id).order_by(OrderLineItem.id)
            )
        )
        fulfillments = list(
            uow.session.scalars(
                select(Fulfillment).where(Fulfillment.tenant_id == uow.tenant_id).order_by(Fulfillment.id)
            )
        )
        owners = {ln.id: ln for ln in lines}
        billables = [b for b in line_sources(uow, lines) if not b.source.billed and b.source.state == "SentToBilling"]
        billables += [
            b
            for b in fulfillment_sources(uow, fulfillments, owners)
            if not b.source.billed and b.source.state == "SentToBilling"
        ]
        picked.shuffle(billables)
        billables = billables[: picked.randint(1, max(1, len(billables)))]
        run = DocumentRun(
            target_date=TARGET,
            document_date=TARGET,
            origin="run_billing",
            post=post,
            credit_memo_reason_code=reason,
        )
        made = (generate_documents_per_invoice if reference else generate_documents)(uow, billables, run)
        assert len({inv.id for inv in made}) == len(made)

    reference, ours = _bill_twice(client, seed, bill, keep_numbers=True, scale=scale)
    _compare(reference, ours)


def test_a_source_is_billed_once_whatever_the_path(client: TestClient) -> None:
    """After a set-based bill run, neither path finds anything left to bill."""
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    tenant = new_tenant(client, "once")
    with state.sessions.begin() as session:
        make_dataset(session, tenant.id, random.Random(7), accounts=5, lines=30)
    with state.sessions.begin() as session:
        uow = UnitOfWork(session, state.settings, tenant_id=tenant.id, now=NOW)
        run = bill_runs.create_bill_run(uow, bill_runs.NewBillRun(target_date=TARGET))
        bill_runs.start_bill_run(uow, run)
        assert run.billed_lines > 0
    with state.sessions.begin() as session:
        uow = UnitOfWork(session, state.settings, tenant_id=tenant.id, now=NOW)
        assert due_billables(uow, TARGET) == []
        again = bill_runs.create_bill_run(uow, bill_runs.NewBillRun(target_date=TARGET))
        assert again.total_chunks == 0 and again.planned_lines == 0
        counted = Counter(
            session.scalars(
                select(InvoiceItem.source_id).where(
                    InvoiceItem.tenant_id == tenant.id,
                    InvoiceItem.source_type.in_([SourceType.ORDER_LINE_ITEM.value, SourceType.FULFILLMENT.value]),
                )
            )
        )
        assert max(counted.values()) == 1
