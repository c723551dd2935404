"""Benchmark the Zuora bulk endpoints against the real server, over loopback HTTP.

For each backend (SQLite in a temp file, PostgreSQL from a throw-away PgCluster or --pg-url) this
creates a tenant with the CLI, starts `bulkbill serve` as a subprocess, gets an OAuth token with the
tenant's Zuora client credentials, creates one account and 50 draft standalone invoices, then
times per iteration:

  oli_bulk_100      POST /v1/order-line-items/bulk: 100 fresh Executing sales OLIs (billingRule
                    TriggerWithoutFulfillment) -> SentToBilling, processingOptions.runBilling=true
                    (one posted invoice of 100 items comes back)
  fulfillments_100  POST /v1/fulfillments: 100 SentToBilling fulfillments (10 on each of 10 fresh
                    Booked sales OLIs with billingRule TriggerAsFulfillmentOccurs), runBilling=true
                    (one posted invoice of 100 items comes back)
  invoices_put_50   PUT /v1/invoices: the 50 draft invoices, comments + dueDate + a custom field,
                    new values every iteration (read back and checked, untimed)
  invoices_put_50x20  PUT /v1/invoices: 50 other drafts of 20 items each, every item's amount and
                    description changed (1,000 items per call; totals read back and checked, untimed)

The OLIs each timed call consumes are created untimed right before it (one POST /v1/orders).
The data grows by 110 OLIs, 100 fulfillments and 2 invoices of 100 items per iteration. On a fresh
PostgreSQL database autovacuum has not analysed the tables yet; --analyze runs ANALYZE once after
the warm-up so the figures show planned rather than statistics-less query plans.

Requests are JSON with `Authorization: Bearer <token>`, `Zuora-Version: 2025-08-12` and a fresh
Idempotency-Key on every POST, over one keep-alive connection. Every response must be HTTP 200
with success true and carry the expected number of objects, otherwise the run aborts.

    .venv/bin/python benchmarks/zuora_bulk.py
    .venv/bin/python benchmarks/zuora_bulk.py --iterations 5 --warmup 1 --backends sqlite
    .venv/bin/python benchmarks/zuora_bulk.py --backends postgres --analyze
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ZUORA_VERSION = "2025-08-12"
OLI_BATCH = 100  # order line items per bulk update (Zuora's maximum)
FULFILLMENT_BATCH = 100  # fulfillments per create call
FULFILLMENT_OLIS = 10  # Booked rule-B OLIs the fulfillments are spread over
FULFILLMENT_QTY = 2  # quantity of each fulfillment
OLI_QTY_FOR_FULFILLMENT = 100  # OLI quantity: 10 fulfillments x 2 leaves it Booked, never exhausted
INVOICE_BATCH = 50  # invoices per PUT /v1/invoices (Zuora's maximum)
TOKEN_REFRESH_SECONDS = 45 * 60.0  # tokens last an hour
BILL_DATE = "2024-07-01"
INVOICE_DATE = "2024-07-11"
# Issue 16, item 5: p50 targets per backend.
TARGETS_MS = {
    "sqlite": {"oli_bulk_100": 30.0, "fulfillments_100": 30.0, "invoices_put_50x20": 100.0},
    "postgres": {"oli_bulk_100": 50.0, "fulfillments_100": 50.0, "invoices_put_50x20": 100.0},
}
ITEMS_PER_INVOICE = 20  # items per draft in the 50 x 20 item PUT
CALLS = ("oli_bulk_100", "fulfillments_100", "invoices_put_50", "invoices_put_50x20")
LABELS = {
    "oli_bulk_100": f"POST /v1/order-line-items/bulk ({OLI_BATCH})",
    "fulfillments_100": f"POST /v1/fulfillments ({FULFILLMENT_BATCH})",
    "invoices_put_50": f"PUT /v1/invoices ({INVOICE_BATCH})",
    "invoices_put_50x20": f"PUT /v1/invoices ({INVOICE_BATCH} x {ITEMS_PER_INVOICE} items)",
}


class BenchError(RuntimeError):
    """A step of the benchmark failed (non-200 response, success false, wrong count, ...)."""


# --- HTTP client ------------------------------------------------------------------------------


class ZuoraHttp:
    """One persistent keep-alive connection to the server's /zuora API, with a bearer token."""

    def __init__(self, port: int, client_id: str, client_secret: str) -> None:
        self.port = port
        self.client_id = client_id
        self.client_secret = client_secret
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.token = ""
        self.token_at = -math.inf

    def close(self) -> None:
        self.conn.close()

    def authenticate(self) -> None:
        """POST /oauth/token, form-encoded client credentials (§1.2)."""
        body = urlencode(
            {"client_id": self.client_id, "client_secret": self.client_secret, "grant_type": "client_credentials"}
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        status, data = self._send("POST", "/zuora/oauth/token", body, headers)
        if status != 200:
            raise BenchError(f"POST /oauth/token returned HTTP {status}: {data[:2000].decode('utf-8', 'replace')}")
        token = json.loads(data).get("access_token")
        if not token:
            raise BenchError(f"POST /oauth/token gave no access_token: {data[:2000].decode('utf-8', 'replace')}")
        self.token = str(token)
        self.token_at = time.monotonic()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one call; anything but HTTP 200 with `success: true` raises BenchError."""
        if time.monotonic() - self.token_at > TOKEN_REFRESH_SECONDS:
            self.authenticate()
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Zuora-Version": ZUORA_VERSION,
            "Accept": "application/json",
        }
        payload: str | None = None
        if body is not None:
            payload = json.dumps(body, separators=(",", ":"))
            headers["Content-Type"] = "application/json"
        if method == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        status, data = self._send(method, "/zuora" + path, payload, headers)
        text = data[:2000].decode("utf-8", "replace")
        if status != 200:
            raise BenchError(f"{method} {path} returned HTTP {status}: {text}")
        try:
            result = json.loads(data)
        except ValueError as exc:
            raise BenchError(f"{method} {path} returned a body that is not JSON: {text}") from exc
        if not isinstance(result, dict) or result.get("success") is not True:
            raise BenchError(f"{method} {path} returned HTTP 200 without success true: {text}")
        return result

    def _send(self, method: str, url: str, body: str | None, headers: dict[str, str]) -> tuple[int, bytes]:
        for attempt in (0, 1):
            try:
                self.conn.request(method, url, body=body, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once (same
                # Idempotency-Key, so a retried POST cannot apply twice).
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt:
                    raise
        raise AssertionError("unreachable")


# --- server lifecycle -------------------------------------------------------------------------


def create_tenant(database_url: str) -> tuple[str, str]:
    """Create a tenant through the CLI; return its Zuora client id and secret."""
    cmd = [sys.executable, "-m", "bulkbill", "tenants", "create", "bench", "--database-url", database_url, "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
        raise BenchError(f"`bulkbill tenants create` failed ({done.returncode}):\n{tail}")
    try:
        created = json.loads(done.stdout.strip().splitlines()[-1])
        return str(created["zuora_client_id"]), str(created["zuora_client_secret"])
    except (ValueError, KeyError, IndexError) as exc:
        raise BenchError(f"unexpected `bulkbill tenants create --json` output: {done.stdout!r}") from exc


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(database_url: str, log_path: Path, timeout: float = 60.0) -> Server:
    from bulkbill.devtools.listener import listening_socket, spawn_serve

    # The server inherits a socket bound here: no other process can take the port before it serves.
    with listening_socket() as sock, log_path.open("wb") as log:
        port = sock.getsockname()[1]
        # Measure the engine, not the rate limiter (its default would refuse a benchmark's burst).
        env = {**os.environ, "BULKBILL_RATE_LIMIT": "off"}
        args = ("--database-url", database_url)
        process = spawn_serve(sock, *args, stdout=log, stderr=subprocess.STDOUT, cwd=log_path.parent, env=env)
    server = Server(process, port, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"server exited with {process.returncode} before it was ready:\n{server.log_tail()}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return server
            finally:
                conn.close()
        time.sleep(0.1)
    server.stop()
    raise BenchError(f"server not healthy after {timeout:.0f}s:\n{server.log_tail()}")


# --- the scenario -----------------------------------------------------------------------------


@dataclass
class Samples:
    ms: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in CALLS})


def expect_count(what: str, got: Any, expected: int) -> None:
    count = len(got) if isinstance(got, list) else None
    if count != expected:
        raise BenchError(f"{what}: expected {expected}, got {count if count is not None else got!r}")


def create_account(api: ZuoraHttp) -> str:
    """POST /v1/accounts (§6.1); returns the account number."""
    body = {
        "name": "Bench Corp",
        "currency": "USD",
        "billToContact": {"firstName": "Ada", "lastName": "Lovelace", "workEmail": "ada@example.com"},
        "paymentTerm": "Net 30",
    }
    return str(api.call("POST", "/v1/accounts", body)["accountNumber"])


def create_order(api: ZuoraHttp, account: str, lines: list[dict[str, Any]]) -> list[str]:
    """POST /v1/orders with order line items only (§2.1); returns the OLI ids in order."""
    body = {"orderDate": BILL_DATE, "existingAccountNumber": account, "orderLineItems": lines}
    created = api.call("POST", "/v1/orders", body)
    expect_count("POST /v1/orders orderLineItems", created.get("orderLineItems"), len(lines))
    return [str(oli["id"]) for oli in created["orderLineItems"]]


def oli(n: int, i: int, **fields: Any) -> dict[str, Any]:
    return {
        "itemName": f"Widget {n}-{i}",
        "itemType": "Product",
        "quantity": 1,
        "amountPerUnit": 10,
        "description": f"bench iteration {n} line {i}",
        **fields,
    }


def billing_options() -> dict[str, Any]:
    return {"runBilling": True, "billingOptions": {"targetDate": BILL_DATE, "documentDate": BILL_DATE}}


def timed(samples: list[float] | None, fn: Callable[..., Any], *args: Any) -> Any:
    start = time.perf_counter()
    result = fn(*args)
    elapsed = (time.perf_counter() - start) * 1000.0
    if samples is not None:
        samples.append(elapsed)
    return result


def bench_oli_bulk(api: ZuoraHttp, account: str, n: int, samples: list[float] | None) -> None:
    """(a) 100 Executing rule-A OLIs -> SentToBilling with runBilling: one invoice comes back."""
    ids = create_order(api, account, [oli(n, i, billingRule="TriggerWithoutFulfillment") for i in range(OLI_BATCH)])
    body = {
        "orderLineItems": [{"id": i, "itemState": "SentToBilling", "billTargetDate": BILL_DATE} for i in ids],
        "processingOptions": billing_options(),
    }
    result = timed(samples, api.call, "POST", "/v1/order-line-items/bulk", body)
    what = f"iteration {n}: POST /v1/order-line-items/bulk"
    expect_count(f"{what} orderLineItems", result.get("orderLineItems"), OLI_BATCH)
    if [o.get("id") for o in result["orderLineItems"]] != ids:
        raise BenchError(f"{what}: the returned OLIs are not the {OLI_BATCH} sent")
    states = {o.get("itemState") for o in result["orderLineItems"]}
    if states != {"SentToBilling"}:
        raise BenchError(f"{what}: expected every OLI SentToBilling, got states {sorted(map(str, states))}")
    expect_count(f"{what} invoices", result.get("invoices"), 1)
    expect_count(f"{what} creditMemos", result.get("creditMemos"), 0)


def bench_fulfillments(api: ZuoraHttp, account: str, n: int, samples: list[float] | None) -> None:
    """(b) 100 SentToBilling fulfillments on fresh Booked rule-B OLIs with runBilling: one invoice."""
    lines = [
        oli(
            n,
            i,
            quantity=OLI_QTY_FOR_FULFILLMENT,
            amountPerUnit=20,
            itemState="Booked",
            billingRule="TriggerAsFulfillmentOccurs",
        )
        for i in range(FULFILLMENT_OLIS)
    ]
    ids = create_order(api, account, lines)
    per_oli = FULFILLMENT_BATCH // FULFILLMENT_OLIS
    fulfillments = [
        {
            "orderLineItemId": ids[k % FULFILLMENT_OLIS],
            "fulfillmentDate": BILL_DATE,
            "billTargetDate": BILL_DATE,
            "quantity": FULFILLMENT_QTY,
            "state": "SentToBilling",
            "fulfillmentType": "Delivery",
            "externalId": f"bench-{n}-{k}",
            "trackingNumber": f"T-{n:04d}-{k:03d}",
        }
        for k in range(per_oli * FULFILLMENT_OLIS)
    ]
    body = {"fulfillments": fulfillments, "processingOptions": billing_options()}
    result = timed(samples, api.call, "POST", "/v1/fulfillments", body)
    what = f"iteration {n}: POST /v1/fulfillments"
    expect_count(f"{what} fulfillments", result.get("fulfillments"), FULFILLMENT_BATCH)
    if not all(f.get("id") and f.get("fulfillmentNumber") for f in result["fulfillments"]):
        raise BenchError(f"{what}: a returned fulfillment has no id or fulfillmentNumber")
    expect_count(f"{what} invoiceNumbers", result.get("invoiceNumbers"), 1)
    if result.get("creditMemoNumbers") is not None:
        raise BenchError(f"{what}: unexpected credit memos {result['creditMemoNumbers']!r}")


def create_draft_invoices(api: ZuoraHttp, account_id: str) -> list[str]:
    """50 draft standalone invoices (POST /v1/invoices, §4.7), two items each; returns their ids."""
    ids: list[str] = []
    for k in range(INVOICE_BATCH):
        body = {
            "accountId": account_id,
            "invoiceDate": INVOICE_DATE,
            "comments": "created by the benchmark",
            "invoiceItems": [
                {"chargeName": "Consulting", "amount": 100 + k, "serviceStartDate": BILL_DATE},
                {"chargeName": "Travel", "amount": 25, "quantity": 1, "serviceStartDate": BILL_DATE},
            ],
        }
        invoice = api.call("POST", "/v1/invoices", body)
        if invoice.get("status") != "Draft":
            raise BenchError(f"POST /v1/invoices made a {invoice.get('status')!r} invoice, expected Draft")
        ids.append(str(invoice["id"]))
    return ids


def invoice_update(n: int, k: int) -> dict[str, Any]:
    """comments + dueDate + a flat custom field; every iteration changes all three."""
    due = dt.date.fromisoformat(INVOICE_DATE) + dt.timedelta(days=30 + n % 300)
    return {"comments": f"bench iteration {n} invoice {k}", "dueDate": due.isoformat(), "BenchIteration__c": str(n)}


def bench_invoices_put(api: ZuoraHttp, invoices: list[str], n: int, samples: list[float] | None) -> None:
    """(c) PUT /v1/invoices on the 50 drafts; the response is a bare {success}, so read back untimed."""
    body = {"invoices": [{"id": inv, **invoice_update(n, k)} for k, inv in enumerate(invoices)]}
    result = timed(samples, api.call, "PUT", "/v1/invoices", body)
    if set(result) - {"success", "processId", "requestId"}:
        raise BenchError(f"iteration {n}: PUT /v1/invoices answered with unexpected keys {sorted(result)}")
    for k, inv in enumerate(invoices):
        shown = api.call("GET", f"/v1/invoices/{inv}")
        want = invoice_update(n, k)
        got = {name: shown.get(name) for name in want}
        if got != want or shown.get("status") != "Draft":
            status = shown.get("status")
            raise BenchError(f"iteration {n}: invoice {inv} reads back {got} (status {status}), want {want}")


def create_item_drafts(api: ZuoraHttp, account_id: str) -> dict[str, list[str]]:
    """50 draft standalone invoices of 20 items each; returns each invoice's item ids."""
    drafts: dict[str, list[str]] = {}
    for _ in range(INVOICE_BATCH):
        items = [
            {"chargeName": f"Charge {j}", "amount": 10 + j, "serviceStartDate": BILL_DATE}
            for j in range(ITEMS_PER_INVOICE)
        ]
        body = {"accountId": account_id, "invoiceDate": INVOICE_DATE, "invoiceItems": items}
        invoice_id = str(api.call("POST", "/v1/invoices", body)["id"])
        shown = api.call("GET", f"/v1/invoices/{invoice_id}/items?pageSize=40")["invoiceItems"]
        expect_count(f"invoice {invoice_id} items", shown, ITEMS_PER_INVOICE)
        drafts[invoice_id] = [str(i["id"]) for i in shown]
    return drafts


def item_amount(n: int, k: int, j: int) -> int:
    return 10 + (n * 7 + k + j) % 90


def bench_item_put(api: ZuoraHttp, drafts: dict[str, list[str]], n: int, samples: list[float] | None) -> None:
    """(d) PUT /v1/invoices: every item of 50 drafts re-priced and renamed; totals read back untimed."""
    body = {
        "invoices": [
            {
                "id": inv,
                "invoiceItems": [
                    {"id": item, "amount": item_amount(n, k, j), "description": f"bench {n} item {j}"}
                    for j, item in enumerate(items)
                ],
            }
            for k, (inv, items) in enumerate(drafts.items())
        ]
    }
    timed(samples, api.call, "PUT", "/v1/invoices", body)
    for k, inv in list(enumerate(drafts))[:: INVOICE_BATCH // 5]:
        shown = api.call("GET", f"/v1/invoices/{inv}")
        want = sum(item_amount(n, k, j) for j in range(ITEMS_PER_INVOICE))
        if float(shown.get("amount", -1)) != want:
            raise BenchError(f"iteration {n}: invoice {inv} reads back amount {shown.get('amount')}, want {want}")


def analyze(database_url: str) -> None:
    """Refresh the PostgreSQL planner statistics (what autovacuum would do on a long-lived database)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()


def run_scenario(
    api: ZuoraHttp, iterations: int, warmup: int, *, progress: bool, before_measuring: Callable[[], None] | None = None
) -> Samples:
    api.authenticate()
    account_number = create_account(api)
    account_id = str(api.call("GET", f"/v1/accounts/{account_number}")["basicInfo"]["id"])
    invoices = create_draft_invoices(api, account_id)
    drafts = create_item_drafts(api, account_id)

    samples = Samples()
    for n in range(warmup + iterations):
        measured = n >= warmup
        if n == warmup and before_measuring is not None:
            before_measuring()
        bench_oli_bulk(api, account_number, n, samples.ms["oli_bulk_100"] if measured else None)
        bench_fulfillments(api, account_number, n, samples.ms["fulfillments_100"] if measured else None)
        bench_invoices_put(api, invoices, n, samples.ms["invoices_put_50"] if measured else None)
        bench_item_put(api, drafts, n, samples.ms["invoices_put_50x20"] if measured else None)
        if progress:
            label = "warmup" if not measured else "iter"
            index = n + 1 if not measured else n - warmup + 1
            total = warmup if not measured else iterations
            print(f"  {label} {index}/{total}", end="\r", file=sys.stderr, flush=True)
    if progress:
        print(" " * 40, end="\r", file=sys.stderr, flush=True)
    return samples


# --- statistics and report --------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * pct / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Result:
    backend: str
    samples: Samples

    def p(self, call: str, pct: float) -> float:
        return percentile(self.samples.ms[call], pct)


def print_table(result: Result) -> None:
    n = len(result.samples.ms[CALLS[0]])
    print(f"\n== {result.backend}: Zuora bulk calls, {n} iterations ==")
    header = f"{'call':<42}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}{'min ms':>10}{'max ms':>10}"
    print(header)
    print("-" * len(header))
    for call in CALLS:
        values = result.samples.ms[call]
        print(
            f"{LABELS[call]:<42}{result.p(call, 50):>10.2f}{result.p(call, 95):>10.2f}"
            f"{sum(values) / len(values):>10.2f}{min(values):>10.2f}{max(values):>10.2f}"
        )
    per_oli = result.p("oli_bulk_100", 50) / OLI_BATCH
    per_ful = result.p("fulfillments_100", 50) / FULFILLMENT_BATCH
    per_inv = result.p("invoices_put_50", 50) / INVOICE_BATCH
    print(f"(p50 per object: OLI {per_oli:.2f} ms, fulfillment {per_ful:.2f} ms, invoice {per_inv:.2f} ms)")
    for call, target in TARGETS_MS[result.backend].items():
        p50 = result.p(call, 50)
        verdict = "MET" if p50 <= target else "NOT MET"
        print(f"target {call} p50 <= {target:g} ms: {p50:.2f} ms (x{p50 / target:.2f} of target) {verdict}")


def summary_line(result: Result) -> str:
    def pair(call: str) -> str:
        return f"{call} p50={result.p(call, 50):.2f}ms p95={result.p(call, 95):.2f}ms"

    return f"{result.backend}: " + " ".join(pair(call) for call in CALLS)


# --- backends ---------------------------------------------------------------------------------


@contextlib.contextmanager
def database(backend: str, workdir: Path, pg_url: str | None) -> Iterator[str]:
    """Yield a database URL for `backend`; a cluster started here is stopped on exit."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    if pg_url:
        yield pg_url
        return
    from bulkbill.devtools.pg_cluster import PgCluster, PostgresUnavailable

    try:
        cluster = PgCluster.start()
    except (PostgresUnavailable, OSError, subprocess.CalledProcessError) as exc:
        raise BenchError(f"cannot start a PostgreSQL cluster (pass --pg-url to use an existing one): {exc}") from exc
    try:
        yield cluster.create_database("bulkbill_bench")
    finally:
        cluster.stop()


def bench_backend(backend: str, args: argparse.Namespace) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix=f"bulkbill-zbench-{backend}-"))
    server: Server | None = None
    api: ZuoraHttp | None = None
    try:
        with database(backend, workdir, args.pg_url) as url:
            client_id, client_secret = create_tenant(url)
            server = start_server(url, workdir / "server.log")
            api = ZuoraHttp(server.port, client_id, client_secret)
            try:
                hook = (lambda: analyze(url)) if args.analyze and backend == "postgres" else None
                samples = run_scenario(
                    api, args.iterations, args.warmup, progress=sys.stderr.isatty(), before_measuring=hook
                )
            except BenchError as exc:
                tail = server.log_tail()
                raise BenchError(f"{exc}\n--- server log (tail) ---\n{tail}" if tail else str(exc)) from exc
            return Result(backend, samples)
    finally:
        if api is not None:
            api.close()
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    parser.add_argument("--iterations", type=int, default=20, help="measured iterations (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured iterations first (default 2)")
    parser.add_argument(
        "--pg-url",
        "--database-url",
        dest="pg_url",
        default=os.environ.get("BULKBILL_BENCH_PG_URL"),
        help="PostgreSQL SQLAlchemy URL to use instead of a throw-away cluster (postgresql+psycopg://...)",
    )
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="PostgreSQL: run ANALYZE after the warm-up (a fresh database has no planner statistics yet)",
    )
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - {"sqlite", "postgres"}
    if unknown or not args.backends:
        parser.error(f"--backends takes sqlite and/or postgres, got {args.backends!r}")
    if args.iterations < 1 or args.warmup < 0:
        parser.error("--iterations must be >= 1 and --warmup >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    results: list[Result] = []
    for backend in args.backends:
        sys.stdout.flush()
        print(f"[{backend}] starting server, creating an account and {INVOICE_BATCH} drafts ...", file=sys.stderr)
        try:
            results.append(bench_backend(backend, args))
        except BenchError as exc:
            print(f"\nABORTED ({backend}): {exc}", file=sys.stderr)
            return 2
        print_table(results[-1])
    print()
    for result in results:
        print(summary_line(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
