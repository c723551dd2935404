"""runBilling (one call's sources) and a bill run (set-based chunks) bill the same sources alike, on random data.

Both write through the one document writer (services.billing.billing_sets), but reach it by
different roads: runBilling selects the sources a call names, in the call's order, in one
transaction; a bill run plans chunks of account ranges and bills them one by one, with its own
numbering blocks, memberships and posting per chunk. Each case builds a random data set
(tests/scale/data.py) in a fresh tenant and bills exactly the sources a bill run finds due, once
by runBilling and once by a bill run, in two transactions that are rolled back. Every column of
every invoice, invoice item and invoice line is compared (JSON as stored text), and so are the
accounts' balances after posting. Only ids differ, the documents' origin and bill run, and which
document got which number of the same number block.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import JSON, Text, cast, select, update
from sqlalchemy.orm import Session

import bulkbill.services.billing.bill_runs as bill_runs
from bulkbill.core.billing.plan import SourceType
from bulkbill.services.billing.billing_sets import Selection, select_records
from bulkbill.services.billing.run_billing import run_billing
from bulkbill.services.orders.order_fields import BillingRequest
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer, Invoice, InvoiceItem
from bulkbill.storage.tables_orders import Fulfillment, OrderLineItem
from tests.helpers import new_tenant
from tests.scale.data import NOW, TARGET, Dataset, make_dataset

Snapshot = dict[str, Any]
# What tells the two roads' documents apart by design.
BY_ROAD = ("id", "number", "origin", "bill_run_id", "document_token")


def _columns(table: Any) -> list[Any]:
    return [cast(c, Text).label(c.name) if isinstance(c.type, JSON) else c for c in table.columns]


def snapshot(session: Session, tenant_id: str) -> Snapshot:
    """Every document of the tenant, keyed by what it bills, with every column but those BY_ROAD."""
    invoices = {
        r.id: dict(r._mapping)
        for r in session.execute(select(*_columns(Invoice.__table__)).where(Invoice.tenant_id == tenant_id))
    }
    lines = [
        dict(r._mapping)
        for r in session.execute(
            select(*_columns(InvoiceItem.__table__)).where(
                InvoiceItem.tenant_id == tenant_id, InvoiceItem.invoice_id.is_not(None)
            )
        )
    ]
    by_invoice: dict[str, list[dict[str, Any]]] = {i: [] for i in invoices}
    for line in lines:  # an item on an invoice, carrying its line (ids aside: made at random)
        by_invoice[line["invoice_id"]].append(
            {k: v for k, v in line.items() if k not in ("id", "invoice_id", "line_id")}
        )
    documents: dict[tuple[Any, ...], dict[str, Any]] = {}
    numbers: Counter[str] = Counter()
    for invoice_id, invoice in invoices.items():
        entries = sorted(by_invoice[invoice_id], key=lambda e: e["position"])
        key = (
            invoice["customer_id"],
            invoice["document_type"],
            tuple((e["source_type"], e["source_id"]) for e in entries),
        )
        numbers[invoice["number"]] += 1
        documents[key] = {"invoice": {k: v for k, v in invoice.items() if k not in BY_ROAD}, "lines": entries}
    balances = {
        account: balance
        for account, balance in session.execute(
            select(Customer.id, Customer.balance).where(Customer.tenant_id == tenant_id)
        )
    }
    return {"documents": documents, "numbers": numbers, "balances": balances}


Bill = Callable[[UnitOfWork, str], None]


def _bill_both_ways(client: TestClient, seed: int, bill: Bill, *, scale: int = 1) -> tuple[Snapshot, Snapshot]:
    """Make the data (committed), then bill it by runBilling and by a bill run; both rolled back."""
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    settings = state.settings.model_copy(update={"bill_run_chunk_lines": 7, "bill_run_chunk_accounts": 3})
    tenant = new_tenant(client, f"agree{seed}")
    rng = random.Random(seed)
    with state.sessions.begin() as session:
        make_dataset(session, tenant.id, rng, accounts=rng.randint(3, 12) * scale, lines=rng.randint(10, 60) * scale)
        # runBilling bills what ends a call SentToBilling; a bill run also what completed after it.
        # Completed sources are left out of the comparison: neither road bills them here.
        for table, state_column in ((OrderLineItem, OrderLineItem.item_state), (Fulfillment, Fulfillment.state)):
            session.execute(
                update(table)
                .where(table.tenant_id == tenant.id, state_column == "Complete")
                .values(sent_to_billing_at=None)
            )
    results = []
    for road in ("run_billing", "bill_run"):
        with state.sessions() as session:
            session.begin()
            uow = UnitOfWork(session, settings, tenant_id=tenant.id, now=NOW + 3600)
            bill(uow, road)
            session.flush()
            results.append(snapshot(session, tenant.id))
            session.rollback()
    return results[0], results[1]


def _compare(by_call: Snapshot, by_run: Snapshot, *, may_be_empty: bool = False) -> None:
    assert by_run["documents"] or may_be_empty, "the case billed nothing: it proves nothing"
    assert by_call["balances"] == by_run["balances"]
    assert by_call["numbers"] == by_run["numbers"]  # the same block of numbers, each used once
    assert set(by_call["documents"]) == set(by_run["documents"])
    for key, document in by_run["documents"].items():
        assert by_call["documents"][key] == document, key


def due_sources(uow: UnitOfWork, accounts: set[str] | None) -> list[tuple[SourceType, str]]:
    """What a bill run bills by TARGET, read directly (not through the writer's query), in its order.

    Rule-A lines and fulfillments that are SentToBilling with the stamp, due by TARGET and not on
    any item yet; account by account, each account's lines (by id) before its fulfillments (by id).
    """
    billed = {
        (kind, source_id)
        for kind, source_id in uow.session.execute(
            select(InvoiceItem.source_type, InvoiceItem.source_id).where(InvoiceItem.tenant_id == uow.tenant_id)
        )
    }
    day = TARGET.isoformat()
    lines = uow.session.execute(
        select(OrderLineItem.account_id, OrderLineItem.id).where(
            OrderLineItem.tenant_id == uow.tenant_id,
            OrderLineItem.billing_rule == "TriggerWithoutFulfillment",
            OrderLineItem.item_state == "SentToBilling",
            OrderLineItem.sent_to_billing_at.is_not(None),
            OrderLineItem.bill_target_date <= day,
        )
    )
    fulfillments = uow.session.execute(
        select(OrderLineItem.account_id, Fulfillment.id)
        .join(
            OrderLineItem,
            (OrderLineItem.tenant_id == Fulfillment.tenant_id) & (OrderLineItem.id == Fulfillment.order_line_item_id),
        )
        .where(
            Fulfillment.tenant_id == uow.tenant_id,
            Fulfillment.state == "SentToBilling",
            Fulfillment.sent_to_billing_at.is_not(None),
            Fulfillment.bill_target_date <= day,
        )
    )
    found = [(account, 0, source_id, SourceType.ORDER_LINE_ITEM) for account, source_id in lines]
    found += [(account, 1, source_id, SourceType.FULFILLMENT) for account, source_id in fulfillments]
    return [
        (kind, source_id)
        for account, _, source_id, kind in sorted(found)
        if (kind.value, source_id) not in billed and (accounts is None or account in accounts)
    ]


SEEDS = list(range(8))
# --run-slow: many more cases, ten times larger.
SLOW = [pytest.param(seed, 10, marks=pytest.mark.slow) for seed in range(100, 130)]


@pytest.mark.parametrize(("seed", "scale"), [(seed, 1) for seed in SEEDS] + SLOW)
def test_run_billing_and_a_bill_run_make_the_same_documents(client: TestClient, seed: int, scale: int) -> None:
    rng = random.Random(1000 + seed)
    post = rng.random() < 0.5
    orgs = rng.choice((None, None, frozenset({"east"}), frozenset({"east", "west"})))
    one_account = seed % 3 == 2

    def bill(uow: UnitOfWork, road: str) -> None:
        query = select(Customer.id).where(Customer.tenant_id == uow.tenant_id)
        if orgs is not None:
            query = query.where(Customer.org_label.in_(orgs))
        in_scope = sorted(uow.session.scalars(query))
        accounts = (in_scope[seed % len(in_scope)],) if one_account and in_scope else None
        if road == "run_billing":
            sources = due_sources(uow, set(accounts) if accounts is not None else set(in_scope))
            billing = BillingRequest(target_date=TARGET, document_date=TARGET.replace(day=1), draft=not post)
            made = run_billing(uow, sources, billing)
            assert len({inv.id for inv in made}) == len(made)
            return
        new = bill_runs.NewBillRun(
            target_date=TARGET, invoice_date=TARGET.replace(day=1), auto_post=post, account_keys=accounts
        )
        run = bill_runs.create_bill_run(uow, new, orgs=orgs)
        bill_runs.start_bill_run(uow, run)
        assert run.status == ("Posted" if post else "Completed")

    by_call, by_run = _bill_both_ways(client, seed, bill, scale=scale)
    _compare(by_call, by_run, may_be_empty=one_account)  # the one account may owe nothing


def test_run_billing_groups_and_numbers_in_the_calls_order(client: TestClient) -> None:
    """A call's documents and their lines follow the order the call names its sources in."""
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    tenant = new_tenant(client, "callorder")
    with state.sessions.begin() as session:
        make_dataset(session, tenant.id, random.Random(11), accounts=4, lines=40)
    with state.sessions() as session:
        session.begin()
        uow = UnitOfWork(session, state.settings, tenant_id=tenant.id, now=NOW)
        records = select_records(uow, Selection(target_date=TARGET))
        wanted = [(r.source.source_type, r.source.source_id) for r in records if r.source.state == "SentToBilling"]
        assert len({source for source in wanted}) > 3, "too few sources to reorder"
        random.Random(5).shuffle(wanted)
        made = run_billing(uow, wanted + wanted[:2], BillingRequest(target_date=TARGET, draft=True))
        session.flush()
        rows = session.execute(
            select(InvoiceItem.invoice_id, InvoiceItem.source_type, InvoiceItem.source_id, InvoiceItem.position).where(
                InvoiceItem.tenant_id == tenant.id, InvoiceItem.invoice_id.in_([d.id for d in made])
            )
        ).all()
        place = {
            (SourceType(kind), source_id): (invoice_id, position) for invoice_id, kind, source_id, position in rows
        }
        assert set(place) == set(wanted)  # each once, though named twice
        documents = [d.id for d in made]
        # Documents come in the order their first source is named; within one, lines in call order.
        firsts = sorted({place[s][0]: i for i, s in reversed(list(enumerate(wanted)))}.items(), key=lambda kv: kv[1])
        assert [invoice_id for invoice_id, _ in firsts] == documents
        for invoice_id in documents:
            mine = [place[s][1] for s in wanted if place[s][0] == invoice_id]
            assert mine == list(range(len(mine)))
        for kind in ("invoice", "credit_memo"):  # each kind numbered in document order
            numbers = [d.number for d in made if d.document_type == kind]
            assert numbers == sorted(numbers)
        session.rollback()


def test_a_source_is_billed_once_whatever_the_path(client: TestClient) -> None:
    """After a bill run, neither a new run nor runBilling finds anything left to bill."""
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    tenant = new_tenant(client, "once")
    with state.sessions.begin() as session:
        data: Dataset = make_dataset(session, tenant.id, random.Random(7), accounts=5, lines=30)
    with state.sessions.begin() as session:
        uow = UnitOfWork(session, state.settings, tenant_id=tenant.id, now=NOW)
        run = bill_runs.create_bill_run(uow, bill_runs.NewBillRun(target_date=TARGET))
        bill_runs.start_bill_run(uow, run)
        assert run.billed_lines > 0
    with state.sessions.begin() as session:
        uow = UnitOfWork(session, state.settings, tenant_id=tenant.id, now=NOW)
        assert select_records(uow, Selection(target_date=TARGET)) == []
        again = bill_runs.create_bill_run(uow, bill_runs.NewBillRun(target_date=TARGET))
        assert again.total_chunks == 0 and again.planned_lines == 0
        every = [(SourceType.ORDER_LINE_ITEM, i) for i in data.lines]
        every += [(SourceType.FULFILLMENT, i) for i in data.fulfillments]
        # Whatever runBilling now bills was not due by the run's target date (or not yet SentToBilling then).
        billed_by_run = {
            (kind, source_id)
            for kind, source_id in session.execute(
                select(InvoiceItem.source_type, InvoiceItem.source_id).where(
                    InvoiceItem.tenant_id == tenant.id, InvoiceItem.invoice_id.is_not(None)
                )
            )
        }
        made = run_billing(uow, every, BillingRequest(target_date=TARGET, draft=True))
        session.flush()
        counted = Counter(
            session.scalars(
                select(InvoiceItem.source_id).where(
                    InvoiceItem.tenant_id == tenant.id,
                    InvoiceItem.source_type.in_([SourceType.ORDER_LINE_ITEM.value, SourceType.FULFILLMENT.value]),
                )
            )
        )
        assert max(counted.values()) == 1
        again_billed = {
            (kind, source_id)
            for kind, source_id in session.execute(
                select(InvoiceItem.source_type, InvoiceItem.source_id).where(
                    InvoiceItem.tenant_id == tenant.id, InvoiceItem.invoice_id.in_([d.id for d in made])
                )
            )
        }
        assert not again_billed & billed_by_run
        states = {i: state for i, state in session.execute(select(OrderLineItem.id, OrderLineItem.item_state))}
        states.update({i: state for i, state in session.execute(select(Fulfillment.id, Fulfillment.state))})
        assert again_billed and {states[source_id] for _, source_id in again_billed} == {"SentToBilling"}
