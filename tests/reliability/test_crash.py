"""Part 2: crash safety. The real server (`python -m bulkbill serve`) is SIGKILLed at random points
while a client drives Zuora order billing through it: orders, bulk order-line-item updates with
runBilling, fulfillments with runBilling, and bill runs. Each kill is aimed at a kind of request
(bulk, fulfillment, bill run, order, or whatever is running) and lands a random few milliseconds
after the client sent it. The server is restarted at once; the client retries every call with its
same Idempotency-Key until it gets an answer (a key left in flight by the killed request is taken
over after the in-flight timeout), follows each bill run to its end, then re-runs it for the same
target date, which must bill nothing more.

Then the database itself must show: every order line item and fulfillment that went to billing is
billed by exactly one item; every document's totals equal the sums of its items and no document is
without items (nothing half-written); no order, fulfillment or bill run was made twice; the
invoice, order, fulfillment and bill-run number sequences are gapless; no key is left in flight.
And a direct INSERT of a second item for a billed source fails with IntegrityError: the guarantee
is the database's constraint, not only the code.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import IntegrityError

from bulkbill.devtools.listener import listening_socket, spawn_serve
from bulkbill.services.platform.tenants import NewTenant, create_tenant
from bulkbill.storage.db import create_db_engine, make_sessionmaker
from bulkbill.storage.tables import InvoiceItem
from tests.helpers import BACKENDS, new_database_url
from tests.reliability.conftest import Figures, database_name
from tests.reliability.flows import (
    FUL,
    OLI,
    RULE_B,
    TERMINAL,
    account_body,
    bill_run_body,
    billed_counts,
    bulk_body,
    count,
    document_problems,
    fulfillment_body,
    gapless,
    numbers,
    order_body,
    plain_engine,
    sales_line,
)

PART = "2 crash safety"
KILLS = 10
LONG_KILLS = 40
AIMS = ["bulk", "fulfillment", "bill_run", "order", None]  # None: whatever is in flight
IN_FLIGHT_TIMEOUT = 1  # seconds: a killed request's key is taken over by its retry after this


@dataclass
class Server:
    """`python -m bulkbill serve` as a child process that can be killed and started again.

    The listening socket is the test's: every start inherits it, so the port stays this server's
    across kills (no other process can take it between a kill and the restart; calls made while
    the server is down wait in the socket's queue).
    """

    database_url: str
    log: Path
    sock: socket.socket = field(default_factory=listening_socket)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def start(self) -> None:
        env = {
            **os.environ,
            "BULKBILL_RATE_LIMIT": "off",
            "BULKBILL_IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECONDS": str(IN_FLIGHT_TIMEOUT),
        }
        env.pop("BULKBILL_DATABASE_URL", None)
        with self.log.open("ab") as out:
            self.process = spawn_serve(
                self.sock, "--database-url", self.database_url, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self.starts += 1
        deadline = time.monotonic() + 90
        while not self.up():
            assert self.process.poll() is None, f"the server exited: see {self.log}"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)

    def up(self) -> bool:
        try:
            return requests.get(self.url + "/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()
        self.sock.close()


class Unexpected(Exception):
    pass


@dataclass
class Driver:
    """The client: one call at a time, each retried with its key until it is answered."""

    server: Server
    token: str
    accounts: list[str]
    stop: threading.Event = field(default_factory=threading.Event)
    in_flight: str | None = None
    session: requests.Session = field(default_factory=requests.Session)
    stats: Counter[str] = field(
        default_factory=lambda: Counter(
            {
                "calls cut by a kill, retried with the same key": 0,
                "answers replayed from a key stored before a kill": 0,
                "409: key still in flight after a kill (retried)": 0,
            }
        )
    )
    billed_lines: set[str] = field(default_factory=set)
    fulfillments: set[str] = field(default_factory=set)
    orders: int = 0
    bill_runs: int = 0
    rounds: int = 0
    error: BaseException | None = None

    def call(self, kind: str, method: str, path: str, body: Any, key: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Zuora-Version": "2025-08-12"}
        if key is not None:
            headers["Idempotency-Key"] = key
        deadline = time.monotonic() + 120
        cut = False
        while True:
            assert time.monotonic() < deadline, f"{kind} {path} never got an answer"
            self.in_flight = kind
            try:
                response = self.session.request(method, self.server.url + path, json=body, headers=headers, timeout=60)
            except requests.RequestException:
                if not cut:  # the connection died with the server: retry (same key) until it is back
                    self.stats["calls cut by a kill, retried with the same key"] += 1
                    cut = True
                self.session.close()
                self.session = requests.Session()
                time.sleep(0.05)
                continue
            finally:
                self.in_flight = None
            payload: dict[str, Any] = response.json()
            if response.status_code == 200 and payload.get("success") is not False:
                self.stats["answered calls"] += 1
                if response.headers.get("Idempotent-Replayed") == "true":
                    self.stats["answers replayed from a key stored before a kill"] += 1
                return payload
            if response.status_code == 409 and [r["code"] for r in payload["reasons"]] == [50000050]:
                self.stats["409: key still in flight after a kill (retried)"] += 1
                time.sleep(0.2)
                continue
            raise Unexpected(f"{kind} {method} {path} -> {response.status_code} {response.text[:500]}")

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.round()
        except BaseException as exc:  # reported by the test
            self.error = exc

    def round(self) -> None:
        r = self.rounds
        self.rounds += 1
        target = (dt.date(2021, 1, 1) + dt.timedelta(days=r)).isoformat()
        account = self.accounts[r % len(self.accounts)]
        tag = f"{r}-{uuid.uuid4().hex[:8]}"

        def order(lines: list[dict[str, Any]], name: str) -> list[str]:
            body = order_body(account, lines)
            created = self.call("order", "POST", "/zuora/v1/orders", body, f"order-{name}-{tag}")
            self.orders += 1
            return [line["id"] for line in created["orderLineItems"]]

        by_bulk = order([sales_line(i, itemState="Booked") for i in range(40)], "bulk")
        by_run = order([sales_line(i, itemState="SentToBilling", billTargetDate=target) for i in range(10)], "run")
        shipped = order([sales_line(i, itemState="Booked", billingRule=RULE_B) for i in range(4)], "ship")
        self.billed_lines.update(by_bulk + by_run)

        def bulk(ids: list[str], name: str) -> None:
            body = bulk_body(ids, target)
            billed = self.call("bulk", "POST", "/zuora/v1/order-line-items/bulk", body, f"bulk-{name}-{tag}")
            assert billed["invoices"], "runBilling billed nothing"

        def fulfil(quantity: int, run_billing: bool, name: str) -> None:
            body = fulfillment_body([(oli, quantity) for oli in shipped], target, run_billing=run_billing)
            made = self.call("fulfillment", "POST", "/zuora/v1/fulfillments", body, f"ful-{name}-{tag}")
            self.fulfillments.update(f["id"] for f in made["fulfillments"])

        bulk(by_bulk[:20], "1")
        fulfil(3, True, "1")
        bulk(by_bulk[20:], "2")
        fulfil(2, False, "2")  # left for the bill run
        run = self.bill_run(target, f"run-{tag}")
        assert run["numberOfInvoices"] >= 1, run
        again = self.bill_run(target, f"rerun-{tag}")
        assert (again["numberOfInvoices"], again["numberOfCreditMemos"]) == (0, 0), again  # nothing left

    def bill_run(self, target: str, key: str) -> dict[str, Any]:
        """Create a run and follow it to its end; a run that does not end after a restart is run again."""
        for attempt in range(3):
            run = self.call("bill_run", "POST", "/zuora/v1/bill-runs", bill_run_body(target), f"{key}-{attempt}")
            self.bill_runs += 1
            deadline = time.monotonic() + 20
            while run["status"] not in TERMINAL and time.monotonic() < deadline:
                time.sleep(0.1)
                run = self.call("bill_run_status", "GET", f"/zuora/v1/bill-runs/{run['id']}", None)
            if run["status"] in ("Completed", "Posted"):
                return run
            self.stats["bill runs re-run after a restart"] += 1
        raise Unexpected(f"bill run for {target} never completed: {run}")


def new_tenant(database_url: str) -> NewTenant:
    engine = create_db_engine(database_url)
    try:
        with make_sessionmaker(engine).begin() as session:
            return create_tenant(session, "crash-" + uuid.uuid4().hex[:6], now=int(time.time()))
    finally:
        engine.dispose()


def token_for(server: Server, tenant: NewTenant) -> str:
    data = {
        "client_id": tenant.zuora_client_id,
        "client_secret": tenant.zuora_client_secret,
        "grant_type": "client_credentials",
    }
    response = requests.post(server.url + "/zuora/oauth/token", data=data, timeout=30)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture(params=BACKENDS)
def crash_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield new_database_url(request.param, request, tmp_path)


def run_crashes(database_url: str, tmp_path: Path, figures: Figures, kills: int) -> None:
    seed = int(os.environ.get("BULKBILL_CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    db = database_name(database_url)
    server = Server(database_url, tmp_path / "server.log")
    server.start()
    try:
        tenant = new_tenant(database_url)
        token = token_for(server, tenant)
        setup = Driver(server, token, [])
        accounts = [
            setup.call("account", "POST", "/zuora/v1/accounts", account_body(f"Acme {i}"), f"acct-{i}")["accountNumber"]
            for i in range(3)
        ]
        driver = Driver(server, token, accounts)
        thread = threading.Thread(target=driver.run, name="crash-driver")
        thread.start()
        kill_points: Counter[str] = Counter()
        try:
            for i in range(kills):
                aim = AIMS[i % len(AIMS)]
                deadline = time.monotonic() + 10
                while driver.error is None and time.monotonic() < deadline:
                    if (driver.in_flight == aim) if aim else driver.in_flight is not None:
                        break
                    time.sleep(0.0005)
                # Early in the request (before it commits) or late (after: the retry gets the stored answer).
                time.sleep(rng.uniform(0, 0.02) if rng.random() < 0.5 else rng.uniform(0.02, 0.15))
                kill_points[driver.in_flight or "between calls"] += 1
                server.kill()
                time.sleep(rng.uniform(0, 0.2))  # down for a moment: the client's calls wait or are cut
                server.start()
                time.sleep(rng.uniform(0.1, 0.5))  # let the client retry and move on
                if driver.error is not None:
                    break
        finally:
            driver.stop.set()
            thread.join(timeout=300)
        if driver.error is not None:
            raise driver.error

        engine = plain_engine(database_url)
        try:
            verify(engine, tenant, driver, db)
            assert_constraint_refuses_a_second_item(engine, tenant.id)
        finally:
            engine.dispose()
    finally:
        server.stop()

    in_request = sum(n for what, n in kill_points.items() if what != "between calls")
    figures.add(PART, db, "SIGKILLs of the server (random points)", sum(kill_points.values()))
    for what, n in sorted(kill_points.items()):
        figures.add(PART, db, f"  killed during: {what}", n)
    figures.add(PART, db, "  of which with a request in flight", in_request)
    for what, n in sorted(driver.stats.items()):
        figures.add(PART, db, what, n)
    figures.add(
        PART,
        db,
        "order lines + fulfillments billed, each exactly once",
        len(driver.billed_lines) + len(driver.fulfillments),
    )
    figures.add(PART, db, "bill runs (each followed by a re-run billing nothing)", driver.rounds)
    figures.add(PART, db, "lines billed twice or not at all, half-written documents", 0)
    print(f"{db}: seed={seed} kills={dict(kill_points)} rounds={driver.rounds} stats={dict(driver.stats)}")


def verify(engine: Engine, tenant: NewTenant, driver: Driver, db: str) -> None:
    t = tenant.id
    billed = billed_counts(engine, t)
    assert {k: n for k, n in billed.items() if n != 1} == {}  # nothing billed twice
    assert {s for kind, s in billed if kind == OLI} == driver.billed_lines  # every line billed, no other
    assert {s for kind, s in billed if kind == FUL} == driver.fulfillments  # every fulfillment billed
    assert document_problems(engine, t) == []  # totals = sums of items; no document half-written
    assert count(engine, "orders", t) == driver.orders  # no order made twice
    assert count(engine, "fulfillments", t) == len(driver.fulfillments)
    assert count(engine, "bill_runs", t) == driver.bill_runs  # no bill run made twice
    assert gapless(numbers(engine, "invoices", "number", t), "INV", 8)
    assert gapless(numbers(engine, "orders", "order_number", t), "O-", 8)
    assert gapless(numbers(engine, "fulfillments", "fulfillment_number", t), "F-", 8)
    assert gapless(numbers(engine, "bill_runs", "bill_run_number", t), "BR-", 8)
    assert gapless(numbers(engine, "customers", "account_number", t), "A", 8)
    with engine.connect() as conn:
        left = conn.execute(
            text("SELECT COUNT(*) FROM idempotency_keys WHERE tenant_id = :t AND state = 'in_flight'"), {"t": t}
        ).scalar_one()
    assert left == 0


def assert_constraint_refuses_a_second_item(engine: Engine, tenant_id: str) -> None:
    """Bypass the code: copy a billed item under a new id, same source. The database says no."""
    table = InvoiceItem.__table__
    with engine.connect() as conn:
        for kind in (OLI, FUL):
            row = conn.execute(
                select(table).where(table.c.tenant_id == tenant_id, table.c.source_type == kind).limit(1)
            ).one()
            copy = {**row._mapping, "id": "ii_dup_" + uuid.uuid4().hex[:16]}
            with pytest.raises(IntegrityError):
                conn.execute(insert(table).values(**copy))
            conn.rollback()


def test_killed_server_bills_everything_exactly_once(crash_database: str, tmp_path: Path, figures: Figures) -> None:
    run_crashes(crash_database, tmp_path, figures, KILLS)


@pytest.mark.slow
def test_killed_server_bills_everything_exactly_once_long(
    crash_database: str, tmp_path: Path, figures: Figures
) -> None:
    run_crashes(crash_database, tmp_path, figures, LONG_KILLS)
