"""Part 1: concurrent writers, on SQLite (immediate write transactions) and PostgreSQL (row locks).

Eight clients, four speaking Stripe and four Zuora, edit ONE draft invoice (add, update, remove
lines; each call also sets the writer's own invoice metadata key or custom field) for a bounded
time, while an auditor reads the invoice and its lines straight from the database in one statement
and checks that the totals always equal the sums of the lines. Then two finalizations race the
still-running writers. Afterwards: the invoice holds exactly the lines the successful calls left
(nothing lost, nothing extra from a refused call), every writer's last successful metadata value
is there (no lost update on the invoice row), totals equal sums, and nothing changed after the
finalization. Every response was a success or a clean conflict in the dialect's envelope (or,
after the finalization, the dialect's "not editable" refusal). Separate tests race finalizations
(Stripe) and postings (Zuora against Stripe) of many invoices and check the number sequences stay
gapless.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, text

from bulkbill.config import Settings
from tests.reliability.conftest import (
    Figures,
    Live,
    StripeHTTP,
    ZuoraHTTP,
    serve,
    stripe_conflict,
    zuora_conflict,
)
from tests.reliability.flows import WRITERS, plain_engine, zuora_world

PART = "1 concurrency"
MAX_OWNED = 4  # lines a writer keeps at most: the invoice stays under one page of lines/items
EDIT_SECONDS = 3.0
LONG_EDIT_SECONDS = 30.0
AFTER_FINALIZE_SECONDS = 0.5


def standalone(zuora: ZuoraHTTP, account_id: str, amount: str = "100") -> dict[str, Any]:
    body = {
        "accountId": account_id,
        "invoiceDate": "2024-07-11",
        "invoiceItems": [{"chargeName": "Seed", "amount": amount, "serviceStartDate": "2024-07-01"}],
    }
    return zuora.ok("POST", "/v1/invoices", body)


def until_not_busy(send: Callable[[], requests.Response]) -> dict[str, Any]:
    """A read, repeated while the database answers busy (a clean 409); then it must succeed."""
    for _ in range(200):
        response = send()
        if response.status_code != 409:
            break
        time.sleep(0.01)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@dataclass
class Owned:
    item_id: str
    cents: int
    handle: str  # what the writer's dialect calls it: a Stripe line id or a Zuora item id


@dataclass
class Writer:
    """One client: edits only its own lines, so it knows what each of them must finally hold."""

    k: int
    dialect: str
    invoice_id: str
    finalizing: threading.Event
    rng: random.Random
    stripe: StripeHTTP
    zuora: ZuoraHTTP
    owned: dict[str, Owned] = field(default_factory=dict)
    counter: int = 0
    last_ok: int | None = None
    outcomes: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)

    def run(self, until: Callable[[], bool]) -> None:
        while not until():
            if not self.step():
                return

    def step(self) -> bool:
        """One call; False once the invoice refuses edits (it was finalized)."""
        self.counter += 1
        ops = ["add"] if not self.owned else ["update", "remove"] + (["add"] if len(self.owned) < MAX_OWNED else [])
        op = self.rng.choice(ops)
        target = self.rng.choice(sorted(self.owned)) if op != "add" else None
        cents = self.rng.randint(1, 99_999)
        description = f"w{self.k}-{self.counter}"
        response = self.call(op, target, cents, description)
        if response.status_code == 200:
            self.outcomes["ok"] += 1
            self.last_ok = self.counter
            if op == "add":
                self.owned_after_add(description, cents)
            elif op == "update":
                assert target is not None
                self.owned[target].cents = cents
            else:
                assert target is not None
                del self.owned[target]
            return True
        if (stripe_conflict if self.dialect == "stripe" else zuora_conflict)(response):
            self.outcomes["conflict"] += 1
            return True
        if self.finalizing.is_set() and self.not_editable(response):
            self.outcomes["refused after finalization"] += 1
            return False
        self.unexpected.append(f"{self.dialect} {op} -> {response.status_code} {response.text[:300]}")
        return False

    def call(self, op: str, target: str | None, cents: int, description: str) -> requests.Response:
        inv = self.invoice_id
        if self.dialect == "stripe":
            meta = {f"w{self.k}": str(self.counter)}
            if op == "add":
                lines: list[dict[str, Any]] = [{"amount": cents, "description": description}]
                return self.stripe.post(f"/v1/invoices/{inv}/add_lines", {"lines": lines, "invoice_metadata": meta})
            if op == "update":
                lines = [{"id": target, "amount": cents}]
                return self.stripe.post(f"/v1/invoices/{inv}/update_lines", {"lines": lines, "invoice_metadata": meta})
            lines = [{"id": target, "behavior": "delete"}]
            return self.stripe.post(f"/v1/invoices/{inv}/remove_lines", {"lines": lines, "invoice_metadata": meta})
        amount = f"{cents // 100}.{cents % 100:02d}"
        if op == "add":
            item: dict[str, Any] = {"chargeName": description, "amount": amount, "serviceStartDate": "2024-07-01"}
        elif op == "update":
            item = {"id": target, "amount": amount}
        else:
            item = {"id": target, "delete": True}
        return self.zuora.request("PUT", f"/v1/invoices/{inv}", {"invoiceItems": [item], f"W{self.k}__c": self.counter})

    def owned_after_add(self, description: str, cents: int) -> None:
        """Find the line just added (its description is unique), through this writer's own dialect."""
        if self.dialect == "stripe":
            body = until_not_busy(lambda: self.stripe.get(f"/v1/invoices/{self.invoice_id}/lines", {"limit": 100}))
            assert body["has_more"] is False
            [line] = [ln for ln in body["data"] if ln["description"] == description]
            item_id = line["parent"]["invoice_item_details"]["invoice_item"]
            self.owned[line["id"]] = Owned(item_id, cents, line["id"])
            return
        path = f"/v1/invoices/{self.invoice_id}/items"
        listed = until_not_busy(lambda: self.zuora.request("GET", path, params={"pageSize": 40}))
        assert "nextPage" not in listed
        [entry] = [i for i in listed["invoiceItems"] if i["chargeName"] == description]
        self.owned[entry["id"]] = Owned(entry["id"], cents, entry["id"])

    def not_editable(self, response: requests.Response) -> bool:
        body = response.json()
        if self.dialect == "stripe":
            return response.status_code == 400 and body["error"].get("code") == "invoice_not_editable"
        return response.status_code == 400 and [r["code"] for r in body["reasons"]] == [50000030]


@dataclass
class Auditor:
    """Reads the invoice, the sum of its items and its line count in ONE statement (one snapshot)."""

    engine: Engine
    tenant_id: str
    invoice_id: str
    samples: int = 0
    wrong: list[str] = field(default_factory=list)

    SQL = text(
        "SELECT i.total, i.subtotal, i.line_count,"
        " (SELECT COALESCE(SUM(it.amount), 0) FROM invoice_items it"
        "   WHERE it.tenant_id = i.tenant_id AND it.invoice_id = i.id),"
        " (SELECT COUNT(*) FROM invoice_items it WHERE it.tenant_id = i.tenant_id AND it.invoice_id = i.id),"
        " (SELECT COUNT(line_id) FROM invoice_items l WHERE l.tenant_id = i.tenant_id AND l.invoice_id = i.id)"
        " FROM invoices i WHERE i.tenant_id = :t AND i.id = :i"
    )

    def run(self, stop: threading.Event) -> None:
        with self.engine.connect() as conn:
            while not stop.is_set():
                total, subtotal, line_count, item_sum, items, lines = conn.execute(
                    self.SQL, {"t": self.tenant_id, "i": self.invoice_id}
                ).one()
                conn.rollback()
                self.samples += 1
                if not (total == subtotal == item_sum and line_count == items == lines):
                    self.wrong.append(
                        f"total {total} subtotal {subtotal} items {item_sum}; {line_count}/{items}/{lines}"
                    )
                time.sleep(0.005)


def run_editors(live: Live, figures: Figures, seconds: float, *, label: str | None = None) -> Counter[str]:
    stripe, zuora, account_id = zuora_world(live)
    invoice = standalone(zuora, account_id)
    invoice_id, number = invoice["id"], invoice["invoiceNumber"]
    engine = plain_engine(live.database_url)
    with engine.connect() as conn:
        tenant_id = conn.execute(text("SELECT tenant_id FROM invoices WHERE id = :i"), {"i": invoice_id}).scalar_one()
    seed_item = zuora.ok("GET", f"/v1/invoices/{invoice_id}/items")["invoiceItems"][0]["id"]

    finalizing = threading.Event()
    seed = random.randrange(1 << 30)
    writers = [
        Writer(
            k, "stripe" if k < WRITERS // 2 else "zuora", invoice_id, finalizing, random.Random(seed + k), stripe, zuora
        )
        for k in range(WRITERS)
    ]
    auditor = Auditor(engine, tenant_id, invoice_id)
    stop_audit = threading.Event()
    edit_until = time.monotonic() + seconds
    hard_stop = edit_until + AFTER_FINALIZE_SECONDS + 5

    threads = [threading.Thread(target=w.run, args=(lambda: time.monotonic() > hard_stop,)) for w in writers]
    audit = threading.Thread(target=auditor.run, args=(stop_audit,))
    for t in [*threads, audit]:
        t.start()
    time.sleep(max(0.0, edit_until - time.monotonic()))

    # Two finalizations race each other and the writers, which keep going until refused.
    finalizing.set()
    barrier = threading.Barrier(2)

    def finalize(_: int) -> requests.Response:
        barrier.wait()
        while stripe_conflict(response := stripe.post(f"/v1/invoices/{invoice_id}/finalize")):
            time.sleep(0.01)  # busy: try again until one of the two wins
        return response

    with ThreadPoolExecutor(2) as pool:
        finals = list(pool.map(finalize, range(2)))
    for t in threads:
        t.join(timeout=AFTER_FINALIZE_SECONDS + 30)
    stop_audit.set()
    audit.join()

    unexpected = [u for w in writers for u in w.unexpected]
    assert unexpected == [], unexpected[:5]
    assert auditor.wrong == [], auditor.wrong[:5]
    won = [f for f in finals if f.status_code == 200]
    lost = [f for f in finals if f.status_code != 200]
    assert len(won) == 1, [f.text for f in finals]
    assert all(
        stripe_conflict(f) or (f.status_code == 400 and "status is draft" in f.json()["error"]["message"]) for f in lost
    ), [f.text for f in lost]
    snapshot = won[0].json()
    assert snapshot["status"] == "open" and snapshot["number"] == number

    # Exactly the lines the successful calls left, with the amounts they set; nothing else.
    expected = {seed_item: 10_000} | {o.item_id: o.cents for w in writers for o in w.owned.values()}
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                text("SELECT id, amount FROM invoice_items WHERE tenant_id = :t AND invoice_id = :i"),
                {"t": tenant_id, "i": invoice_id},
            ).all()
        )
        row = conn.execute(
            text("SELECT status, total, line_count, number FROM invoices WHERE tenant_id = :t AND id = :i"),
            {"t": tenant_id, "i": invoice_id},
        ).one()
    engine.dispose()
    assert stored == expected
    assert tuple(row) == ("open", sum(expected.values()), len(expected), number)
    assert snapshot["total"] == sum(expected.values())  # nothing changed after the finalization
    # No lost update on the invoice row: every writer's last successful value is there.
    final = stripe.ok("GET", f"/v1/invoices/{invoice_id}")
    metadata = {f"w{w.k}": str(w.last_ok) for w in writers if w.dialect == "stripe" and w.last_ok is not None}
    assert final["metadata"] == metadata
    header = zuora.ok("GET", f"/v1/invoices/{invoice_id}")
    custom = {f"W{w.k}__c": w.last_ok for w in writers if w.dialect == "zuora" and w.last_ok is not None}
    assert {k: header.get(k) for k in custom} == custom
    assert header["status"] == "Posted" and header["invoiceNumber"] == number

    outcomes = sum((w.outcomes for w in writers), Counter())
    db = label or live.database
    calls = sum(outcomes.values())
    figures.add(PART, db, "edit calls on one draft by 8 writers (4 Stripe, 4 Zuora)", calls)
    for what in ("ok", "conflict", "refused after finalization"):
        figures.add(PART, db, f"  of which {what}", outcomes[what])
    figures.add(PART, db, "audits: totals = sums of lines, in one snapshot", auditor.samples)
    figures.add(PART, db, "finalizations racing the writers (1 winner each race)", len(finals))
    figures.add(PART, db, "lines lost or left over by a refused call", 0)
    print(f"seed={seed} outcomes={dict(outcomes)} audits={auditor.samples}")
    assert outcomes["ok"] > WRITERS  # the writers really worked concurrently
    return outcomes


def test_eight_writers_on_one_draft_lose_nothing(live: Live, figures: Figures) -> None:
    run_editors(live, figures, EDIT_SECONDS)


@pytest.mark.slow
def test_eight_writers_on_one_draft_lose_nothing_long(live: Live, figures: Figures) -> None:
    run_editors(live, figures, LONG_EDIT_SECONDS)


def test_sqlite_busy_is_a_clean_conflict(tmp_path: Path, figures: Figures) -> None:
    """With a 1 ms busy timeout, SQLite refuses writers instead of queueing them: each refusal must be
    a clean 409 in the dialect's envelope (never a 500), and nothing may be lost."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    served = serve(Settings(database_url=url, rate_limit="off", sqlite_busy_timeout_ms=1))
    try:
        outcomes = run_editors(Live(served.url, served.app, url), figures, 2.0, label="sqlite, busy 1 ms")
    finally:
        served.stop()
    assert outcomes["conflict"] > 0  # the busy path was really taken


# --- racing finalizations and postings: one winner each, gapless numbers --------------------------


def race_stripe_finalizations(live: Live, figures: Figures, invoices: int) -> None:
    tenant = live.tenant("fin")
    stripe = live.stripe(tenant)
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})
    drafts = []
    for i in range(invoices):
        draft = stripe.ok("POST", "/v1/invoices", {"customer": customer["id"], "currency": "usd"})
        stripe.ok("POST", f"/v1/invoices/{draft['id']}/add_lines", {"lines": [{"amount": 100 + i}]})
        drafts.append(draft["id"])
    attempts = [d for d in drafts for _ in range(2)]
    random.shuffle(attempts)

    def finalize(invoice_id: str) -> tuple[str, requests.Response]:
        return invoice_id, stripe.post(f"/v1/invoices/{invoice_id}/finalize")

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(finalize, attempts))
    numbers = []
    for invoice_id in drafts:
        mine = [r for i, r in results if i == invoice_id]
        won = [r for r in mine if r.status_code == 200]
        assert len(won) == 1, [r.text for r in mine]
        for r in mine:
            if r.status_code != 200:
                assert stripe_conflict(r) or "status is draft" in r.json()["error"]["message"], r.text
        numbers.append(won[0].json()["number"])
    prefix = customer["invoice_prefix"]
    assert sorted(numbers) == [f"{prefix}-{n:04d}" for n in range(1, invoices + 1)]
    figures.add(PART, live.database, "Stripe finalizations racing in pairs (8 threads)", len(attempts))
    figures.add(PART, live.database, "numbers missing or doubled (Stripe, per customer)", 0)


def race_zuora_postings(live: Live, figures: Figures, invoices: int) -> None:
    stripe, zuora, account_id = zuora_world(live)
    with ThreadPoolExecutor(WRITERS) as pool:
        created = list(pool.map(lambda i: standalone(zuora, account_id, str(10 + i)), range(invoices)))
    # Numbered when created, concurrently: still gapless.
    assert sorted(c["invoiceNumber"] for c in created) == [f"INV{n:08d}" for n in range(1, invoices + 1)]
    attempts = [(c["id"], how) for c in created for how in ("zuora post", "stripe finalize")]
    random.shuffle(attempts)

    def post(attempt: tuple[str, str]) -> tuple[str, requests.Response]:
        invoice_id, how = attempt
        if how == "zuora post":
            return invoice_id, zuora.request("PUT", f"/v1/invoices/{invoice_id}/post", {})
        return invoice_id, stripe.post(f"/v1/invoices/{invoice_id}/finalize")

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(post, attempts))
    for c in created:
        mine = [r for i, r in results if i == c["id"]]
        won = [r for r in mine if r.status_code == 200]
        assert len(won) == 1, [r.text for r in mine]
        for r in mine:
            if r.status_code == 200:
                continue
            if "Zuora-Request-Id" in r.headers:
                assert zuora_conflict(r) or [x["code"] for x in r.json()["reasons"]] == [59210020], r.text
            else:
                assert stripe_conflict(r) or "status is draft" in r.json()["error"]["message"], r.text
        got = zuora.ok("GET", f"/v1/invoices/{c['id']}")
        assert got["status"] == "Posted" and got["invoiceNumber"] == c["invoiceNumber"]
    figures.add(PART, live.database, "Zuora standalone invoices created concurrently (8 threads)", invoices)
    figures.add(PART, live.database, "postings racing Stripe finalizations of the same invoice", len(attempts))
    figures.add(PART, live.database, "numbers missing or doubled (Zuora INV sequence)", 0)


def test_racing_finalizations_have_one_winner_and_gapless_numbers(live: Live, figures: Figures) -> None:
    race_stripe_finalizations(live, figures, 12)
    race_zuora_postings(live, figures, 12)


@pytest.mark.slow
def test_racing_finalizations_have_one_winner_and_gapless_numbers_long(live: Live, figures: Figures) -> None:
    race_stripe_finalizations(live, figures, 80)
    race_zuora_postings(live, figures, 80)
