"""Benchmark concurrent bulk calls against the real server: throughput and tail latency, over loopback HTTP.

Each client is a thread with its own keep-alive connection, calling Stripe `update_lines` with 50 lines
(description + quantity + metadata, a real change every call) on a draft of 200 lines, as fast as the
server answers: --rounds slices of --seconds each (after --warmup seconds not counted), alternating
between the servers of one database so that the machine's other load falls on both. Scenarios:

  own drafts   8, 16, 32 clients, each on its own draft (no lock shared but SQLite's)
  one draft    8 clients on one shared draft (they queue on its row lock)

Servers, each on a fresh database, in one run so the "before" is measured beside the "after":

  sqlite, 1 worker, no queue   the baseline: writers poll for SQLite's lock (BULKBILL_SQLITE_WRITER_QUEUE=false)
  sqlite, 1 worker             writers queue in arrival order (storage/writer_queue.py)
  postgres, 1 worker           the baseline: one process
  postgres, 2 workers          `serve --workers 2` (one per core here)

    .venv/bin/python benchmarks/concurrency.py
    .venv/bin/python benchmarks/concurrency.py --seconds 5 --servers sqlite-queue,postgres-2

Targets: PostgreSQL >= 200 calls/s with p99 < 100 ms at 16 clients (its best worker count); SQLite p99
< 250 ms at 16 clients with no errors. The load average is printed with the figures: the machine's
other work shows in them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.stripe_bulk_lines import (  # (the repository root on the path: runs as a script)
    BASE_LINES,
    BATCH,
    BenchError,
    Server,
    StripeHttp,
    all_line_ids,
    create_tenant,
    database,
    form,
    line_update,
    new_lines,
    percentile,
    start_server,
)

OWN_DRAFT_CLIENTS = (8, 16, 32)
SHARED_DRAFT_CLIENTS = 8
TARGET_CLIENTS = 16
TARGET_PG_CALLS_PER_S = 200.0
TARGET_PG_P99_MS = 100.0
TARGET_SQLITE_P99_MS = 250.0


@dataclass(frozen=True)
class ServerSetup:
    name: str
    backend: str
    workers: int
    env: dict[str, str] = field(default_factory=dict)


SERVERS = {
    "sqlite-noqueue": ServerSetup("sqlite, 1 worker, no queue", "sqlite", 1, {"BULKBILL_SQLITE_WRITER_QUEUE": "false"}),
    "sqlite-queue": ServerSetup("sqlite, 1 worker, queue", "sqlite", 1),
    "postgres-1": ServerSetup("postgres, 1 worker", "postgres", 1),
    "postgres-2": ServerSetup("postgres, 2 workers", "postgres", 2),
}


class Client(StripeHttp):
    """One client's connection, sending pre-encoded bulk updates to its draft."""

    def update_lines(self, invoice_id: str, body: str) -> tuple[int, bytes]:
        headers = {
            "Authorization": f"Bearer {self.key}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        return self._send("POST", f"/stripe/v1/invoices/{invoice_id}/update_lines", body, headers)


@dataclass
class Draft:
    invoice_id: str
    bodies: list[str]  # 50-line updates; consecutive ones change different values


def build_draft(api: StripeHttp, price_id: str, customer_id: str, tag: str) -> Draft:
    invoice = api.json("POST", "/v1/invoices", {"customer": customer_id, "currency": "usd"})
    invoice_id = invoice["id"]
    for chunk in range(BASE_LINES // BATCH):
        path = f"/v1/invoices/{invoice_id}/add_lines"
        api.request("POST", path, {"lines": new_lines(price_id, f"{tag}-{chunk}")})
    ids = all_line_ids(api, invoice_id)
    if len(ids) != BASE_LINES:
        raise BenchError(f"expected {BASE_LINES} lines on draft {invoice_id}, found {len(ids)}")
    chunks = [ids[i : i + BATCH] for i in range(0, BASE_LINES, BATCH)]
    # 7 quantities x 4 chunks: an update never repeats the one before it on the same lines.
    bodies = [
        form({"lines": [{"id": line_id, **line_update(n, j, tag)} for j, line_id in enumerate(chunks[n % 4])]})
        for n in range(28)
    ]
    return Draft(invoice_id, bodies)


@dataclass
class Run:
    """One scenario's calls: latency (ms) of each call counted, errors (non-200) with a sample."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_sample: str = ""
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def merge(self, other: Run) -> None:
        self.latencies.extend(other.latencies)
        self.errors += other.errors
        self.error_sample = self.error_sample or other.error_sample
        self.seconds += other.seconds

    def calls_per_s(self) -> float:
        return (len(self.latencies) + self.errors) / self.seconds if self.seconds else 0.0


def run_clients(port: int, key: str, drafts: Sequence[Draft], warmup: float, seconds: float) -> Run:
    """One thread per draft (a draft may repeat: clients sharing it), calling until the time is up."""
    run = Run()
    start = time.perf_counter() + 0.2  # every thread connected before the clock starts
    measure_from, stop_at = start + warmup, start + warmup + seconds
    barrier = threading.Barrier(len(drafts))

    def client(number: int, draft: Draft) -> None:
        api = Client(port, key)
        try:
            barrier.wait()
            n = number  # clients on one draft start on different lines
            while True:
                began = time.perf_counter()
                if began >= stop_at:
                    return
                status, body = api.update_lines(draft.invoice_id, draft.bodies[n % len(draft.bodies)])
                ms = (time.perf_counter() - began) * 1000.0
                n += 1
                if began < measure_from:
                    continue
                with run.lock:
                    if status == 200:
                        run.latencies.append(ms)
                    else:
                        run.errors += 1
                        run.error_sample = run.error_sample or f"HTTP {status}: {body[:300]!r}"
        finally:
            api.close()

    threads = [threading.Thread(target=client, args=(i, d), daemon=True) for i, d in enumerate(drafts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = seconds
    return run


@dataclass
class Row:
    server: str
    scenario: str
    clients: int
    run: Run

    def line(self) -> str:
        lat = self.run.latencies
        return (
            f"{self.server:<28}{self.scenario:<12}{self.clients:>8}{len(lat) + self.run.errors:>7}"
            f"{self.run.calls_per_s():>9.1f}{percentile(lat, 50):>9.1f}{percentile(lat, 99):>9.1f}"
            f"{self.run.errors:>8}"
        )


HEADER = (
    f"{'server':<28}{'scenario':<12}{'clients':>8}{'calls':>7}{'calls/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
)


@dataclass
class Served:
    """A running server with its tenant's key and drafts ready: 32 of one's own, one shared."""

    setup: ServerSetup
    server: Server
    key: str
    own: list[Draft]
    shared: Draft


@contextlib.contextmanager
def served(setup: ServerSetup, url: str | None) -> Iterator[Served]:
    """`bulkbill serve` as `setup` says on a fresh database (SQLite: a file of its own; PostgreSQL: `url`)."""
    workdir = Path(tempfile.mkdtemp(prefix="bulkbill-concurrency-"))
    server: Server | None = None
    try:
        with database(setup.backend, workdir, url) as database_url:
            key = create_tenant(database_url)
            serve_args = ("--workers", str(setup.workers))
            server = start_server(database_url, workdir / "server.log", serve_args=serve_args, env=setup.env)
            api = StripeHttp(server.port, key)
            try:
                customer = api.json("POST", "/v1/customers", {"name": "Concurrency"})
                product = api.json("POST", "/v1/products", {"name": "Widget"})
                price_params = {"product": product["id"], "currency": "usd", "unit_amount": 900}
                price = api.json("POST", "/v1/prices", price_params)
                own = [build_draft(api, price["id"], customer["id"], f"c{i}") for i in range(max(OWN_DRAFT_CLIENTS))]
                shared = build_draft(api, price["id"], customer["id"], "shared")
            finally:
                api.close()
            yield Served(setup, server, key, own, shared)
    except BenchError as exc:
        tail = server.log_tail() if server is not None else ""
        raise BenchError(f"{exc}\n--- server log (tail) ---\n{tail}" if tail else str(exc)) from exc
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def bench_group(servers: Sequence[Served], args: argparse.Namespace) -> list[Row]:
    """Every scenario on every server, in alternating slices (A B, B A, ...), so that the machine's other
    load falls on the baseline and the change alike."""
    scenarios: list[tuple[str, int]] = [("own drafts", n) for n in OWN_DRAFT_CLIENTS]
    scenarios.append(("one draft", SHARED_DRAFT_CLIENTS))
    rows: list[Row] = []
    for scenario, clients in scenarios:
        runs = {s.setup.name: Run() for s in servers}
        for round_number in range(args.rounds):
            order = servers if round_number % 2 == 0 else list(reversed(servers))
            for s in order:
                drafts = s.own[:clients] if scenario == "own drafts" else [s.shared] * clients
                print(f"  [{s.setup.name}] {scenario}, {clients} clients, round {round_number + 1}", file=sys.stderr)
                runs[s.setup.name].merge(run_clients(s.server.port, s.key, drafts, args.warmup, args.seconds))
        for s in servers:
            run = runs[s.setup.name]
            rows.append(Row(s.setup.name, scenario, clients, run))
            print(rows[-1].line(), flush=True)
            if run.error_sample:
                print(f"    first error: {run.error_sample}", flush=True)
    return rows


@contextlib.contextmanager
def postgres(wanted: bool, pg_url: str | None) -> Iterator[Any]:
    """A throw-away cluster for the PostgreSQL servers (each gets a fresh database), or the given URL."""
    if not wanted or pg_url:
        yield None
        return
    from bulkbill.devtools.pg_cluster import PgCluster

    cluster = PgCluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def verdicts(rows: Sequence[Row]) -> list[str]:
    """Each target's figure at 16 clients on their own drafts, and whether it is met."""

    def at_target(server: str) -> Row | None:
        wanted = (server, "own drafts", TARGET_CLIENTS)
        return next((r for r in rows if (r.server, r.scenario, r.clients) == wanted), None)

    out = []
    for key in ("postgres-1", "postgres-2"):
        row = at_target(SERVERS[key].name)
        if row is not None:
            rate, p99 = row.run.calls_per_s(), percentile(row.run.latencies, 99)
            met = rate >= TARGET_PG_CALLS_PER_S and p99 < TARGET_PG_P99_MS and row.run.errors == 0
            out.append(
                f"{row.server} @16: {rate:.1f} calls/s (target >= {TARGET_PG_CALLS_PER_S:g}, "
                f"x{rate / TARGET_PG_CALLS_PER_S:.2f}), p99 {p99:.1f} ms (target < {TARGET_PG_P99_MS:g}): "
                f"{'MET' if met else 'NOT MET'}"
            )
    for key in ("sqlite-noqueue", "sqlite-queue"):
        row = at_target(SERVERS[key].name)
        if row is not None:
            p99 = percentile(row.run.latencies, 99)
            met = p99 < TARGET_SQLITE_P99_MS and row.run.errors == 0
            out.append(
                f"{row.server} @16: p99 {p99:.1f} ms (target < {TARGET_SQLITE_P99_MS:g}), errors {row.run.errors}: "
                f"{'MET' if met else 'NOT MET'}"
            )
    return out


def ratios(rows: Sequence[Row]) -> list[str]:
    """Each server against its baseline in this run, scenario by scenario: throughput and p99."""
    pairs = (("sqlite-queue", "sqlite-noqueue"), ("postgres-2", "postgres-1"))
    out = []
    for after_key, before_key in pairs:
        after_name, before_name = SERVERS[after_key].name, SERVERS[before_key].name
        for row in (r for r in rows if r.server == after_name):
            key = (before_name, row.scenario, row.clients)
            same = [b for b in rows if (b.server, b.scenario, b.clients) == key]
            if not same or not same[0].run.latencies or not row.run.latencies:
                continue
            base = same[0]
            out.append(
                f"{after_name} / {before_name}, {row.scenario} x{row.clients}: calls/s "
                f"x{row.run.calls_per_s() / base.run.calls_per_s():.2f}, p99 "
                f"x{percentile(row.run.latencies, 99) / percentile(base.run.latencies, 99):.2f}"
            )
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default=",".join(SERVERS), help=f"comma-separated, of: {', '.join(SERVERS)}")
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per slice (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="slices per scenario and server (default 3)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each slice's (default 1)")
    parser.add_argument("--pg-url", default=os.environ.get("BULKBILL_BENCH_PG_URL"), help="use this PostgreSQL")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is not met")
    args = parser.parse_args(argv)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if not args.servers or set(args.servers) - set(SERVERS):
        parser.error(f"--servers takes {', '.join(SERVERS)}; got {args.servers!r}")
    return args


def measure(args: argparse.Namespace) -> list[Row]:
    """Every scenario on every server `args.servers` names, rows printed as they are known (BenchError: aborted)."""
    rows: list[Row] = []
    wants_pg = any(SERVERS[s].backend == "postgres" for s in args.servers)
    with postgres(wants_pg, args.pg_url) as cluster:
        for backend in ("sqlite", "postgres"):
            setups = [SERVERS[key] for key in args.servers if SERVERS[key].backend == backend]
            with contextlib.ExitStack() as stack:
                servers = []
                for number, setup in enumerate(setups):
                    url = args.pg_url
                    if cluster is not None and backend == "postgres":
                        url = cluster.create_database(f"bulkbill_concurrency_{number}")
                    servers.append(stack.enter_context(served(setup, url)))
                rows.extend(bench_group(servers, args))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"== Concurrency: {BATCH}-line update_lines on {BASE_LINES}-line drafts, {args.rounds} x {args.seconds:g} s "
        "per row, servers of one database measured in alternating slices =="
    )
    print(f"start: {load_average()}")
    print(HEADER)
    print("-" * len(HEADER))
    try:
        rows = measure(args)
    except BenchError as exc:
        print(f"\nABORTED: {exc}", file=sys.stderr)
        return 2
    print(f"end: {load_average()}")
    print()
    for line in ratios(rows):
        print(line)
    results = verdicts(rows)
    for line in results:
        print(line)
    if args.check and not all(line.endswith(": MET") for line in results):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
