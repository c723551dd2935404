"""Benchmark events and webhooks: what they cost the hot path and a bill run, and how fast they are delivered.

  (a) hot path   the Stripe bulk line calls (add_lines, update_lines, remove_lines of 50 lines on a
                 200-line draft, benchmarks/stripe_bulk_lines.py's scenario) against one `bulkbill serve`,
                 for a tenant with 0 webhook endpoints and one with 3 (all events, a local receiver that
                 the server delivers to meanwhile), in alternating rounds; ratio = p50(0) / p50(3).
  (b) bill run   `bulkbill bill-run create` on two copies of one SQLite database (benchmarks/bill_run.py's
                 data), with BULKBILL_EVENTS_ENABLED true and false, alternately; ratio = time(off) / time(on).
  (c) delivery   a backlog of events (and one delivery each) committed at once; the time until a local
                 receiver has every one: `bulkbill serve`'s background sender on SQLite, one
                 `bulkbill worker` on PostgreSQL (--backends postgres).

    .venv/bin/python benchmarks/events.py
    .venv/bin/python benchmarks/events.py --iterations 10 --bill-run-lines 20000 --deliveries 3000

Targets: hot_path_ratio >= 0.9, bill_run_ratio >= 0.8, events/s >= 300 (serve, SQLite) and >= 1000
(worker, PostgreSQL). The last line reads: events/s=<n> hot_path_ratio=<x> bill_run_ratio=<x>
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from benchmarks import bill_run
from benchmarks.fast_receiver import FastReceiver
from benchmarks.stripe_bulk_lines import StripeHttp, create_tenant, percentile, run_scenario, start_server

BULK_CALLS = ("add_lines", "update_lines", "remove_lines")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load() -> str:
    return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


# --- (a) the hot path ---------------------------------------------------------------------------


def hot_path(workdir: Path, receiver: FastReceiver, rounds: int, iterations: int) -> float:
    url = f"sqlite:///{workdir / 'hot.db'}"
    keys = {n: create_tenant(url, f"bench-{n}-endpoints") for n in (0, 3)}
    server = start_server(url, workdir / "hot.log")
    samples: dict[int, dict[str, list[float]]] = {n: {c: [] for c in BULK_CALLS} for n in keys}
    try:
        apis = {n: StripeHttp(server.port, key) for n, key in keys.items()}
        for _ in range(3):
            apis[3].json("POST", "/v1/webhook_endpoints", {"url": receiver.url, "enabled_events": ["*"]})
        for r in range(rounds):
            for n in (0, 3) if r % 2 == 0 else (3, 0):
                got = run_scenario(apis[n], iterations, 1, progress=False)
                for call in BULK_CALLS:
                    samples[n][call].extend(got.ms[call])
            log(f"  hot path round {r + 1}/{rounds}")
        for api in apis.values():
            api.close()
    finally:
        server.stop()
    print(f"(a) hot path, SQLite, {rounds} rounds x {iterations} iterations per tenant, {load()}")
    print(f"    {'call':<14}{'p50 0 endpoints':>18}{'p50 3 endpoints':>18}{'ratio':>8}")
    for call in BULK_CALLS:
        p0, p3 = percentile(samples[0][call], 50), percentile(samples[3][call], 50)
        print(f"    {call:<14}{p0:>15.1f} ms{p3:>15.1f} ms{p0 / p3:>8.2f}")
    every = {n: [x for call in BULK_CALLS for x in samples[n][call]] for n in samples}
    ratio = percentile(every[0], 50) / percentile(every[3], 50)
    print(f"    all bulk calls p50 ratio (0 / 3 endpoints): {ratio:.2f}   deliveries received: {receiver.requests()}")
    return ratio


# --- (b) a bill run with events on and off --------------------------------------------------------


def bill_run_ratio(workdir: Path, lines: int, accounts: int, repeat: int) -> float:
    base = workdir / "bill-base.db"
    tenant_id = bill_run.prepare_schema(f"sqlite:///{base}")
    bill_run.load_sqlite(base, tenant_id, lines, accounts)
    best: dict[bool, float] = {}
    for r in range(repeat):
        for enabled in (True, False) if r % 2 == 0 else (False, True):
            copy = workdir / f"bill-{enabled}-{r}.db"
            shutil.copy(base, copy)
            outcome = bill_run.bill_with_cli(f"sqlite:///{copy}", env={"BULKBILL_EVENTS_ENABLED": str(enabled).lower()})
            best[enabled] = min(best.get(enabled, outcome.seconds), outcome.seconds)
            copy.unlink()
            log(f"  bill run events={'on' if enabled else 'off'}: {outcome.seconds:.2f} s")
    ratio = best[False] / best[True]
    print(f"(b) bill run, SQLite, {lines:,} lines, {accounts:,} accounts, best of {repeat}, {load()}")
    print(f"    events on {best[True]:.2f} s, off {best[False]:.2f} s, ratio (off / on) {ratio:.2f}")
    return ratio


# --- (c) delivery throughput ------------------------------------------------------------------------


def backlog(url: str, tenant_name: str, endpoint_url: str, count: int) -> None:
    """`count` events of the tenant and one due delivery each to a new endpoint, in one transaction."""
    from sqlalchemy import select

    from bulkbill.config import Settings
    from bulkbill.services.events.endpoints import EndpointFields, create_endpoint
    from bulkbill.services.platform.uow import UnitOfWork
    from bulkbill.storage.bulk import insert_rows
    from bulkbill.storage.db import create_db_engine, make_sessionmaker
    from bulkbill.storage.ids import new_ids
    from bulkbill.storage.tables import Tenant

    engine = create_db_engine(url)
    try:
        with make_sessionmaker(engine).begin() as session:
            tenant_id = session.scalars(select(Tenant.id).where(Tenant.name == tenant_name)).one()
            uow = UnitOfWork(session, Settings(database_url=url), tenant_id=tenant_id)
            endpoint = create_endpoint(uow, EndpointFields(url=endpoint_url, enabled_events=["*"]))
            now = int(time.time())
            ids = new_ids("evt_", count)
            events = []
            for event_id in ids:
                body = {"id": event_id, "object": "event", "type": "customer.updated", "created": now}
                body["data"] = {"object": {"id": "cus_bench", "object": "customer", "name": "x" * 200}}
                events.append((tenant_id, event_id, "customer.updated", now, json.dumps(body)))
            insert_rows(session, "events", ("tenant_id", "id", "type", "created", "payload"), events)
            columns = ("tenant_id", "id", "event_id", "endpoint_id", "status", "attempts", "next_attempt_ms", "created")
            deliveries = zip(new_ids("whd_", count), ids, strict=True)
            rows = [(tenant_id, d, e, endpoint.id, "pending", 0, 0, now) for d, e in deliveries]
            insert_rows(session, "webhook_deliveries", columns, rows)
    finally:
        engine.dispose()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc (Linux); NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def deliverer(backend: str, url: str, workdir: Path) -> Iterator[int]:
    """The process that delivers (serve on SQLite, one worker on PostgreSQL); yields its pid."""
    if backend == "sqlite":
        server = start_server(url, workdir / "deliver.log")
        try:
            yield server.process.pid
        finally:
            server.stop()
        return
    cmd = [sys.executable, "-m", "bulkbill", "worker", "--database-url", url]
    with (workdir / "worker.log").open("wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    time.sleep(3)  # let it import and connect
    try:
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def throughput(backend: str, url: str, workdir: Path, receiver: FastReceiver, count: int) -> float:
    """From the commit of the backlog until the receiver has every event (distinct ids)."""
    create_tenant(url, f"bench-deliver-{backend}")
    with deliverer(backend, url, workdir) as pid:
        before = receiver.distinct()
        backlog(url, f"bench-deliver-{backend}", receiver.url, count)
        started, cpu_before = time.perf_counter(), cpu_seconds(pid)
        while receiver.distinct() - before < count:
            if time.perf_counter() - started > 600:
                raise RuntimeError(f"only {receiver.distinct() - before} of {count} delivered in 600 s")
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu_before
    rate = count / elapsed
    who = "bulkbill serve (background sender)" if backend == "sqlite" else "one bulkbill worker"
    print(f"(c) delivery, {backend}, {who}: {count:,} events in {elapsed:.2f} s = {rate:,.0f} events/s, {load()}")
    print(f"    CPU of the delivering process: {cpu * 1000 / count:.3f} ms per event ({cpu:.2f} s in all)")
    return rate


@contextlib.contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'deliver.db'}"
        return
    from bulkbill.devtools.pg_cluster import PgCluster

    cluster = PgCluster.start()
    try:
        yield cluster.create_database("bulkbill_events_bench")
    finally:
        cluster.stop()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4, help="hot path: alternating rounds (default 4)")
    parser.add_argument("--iterations", type=int, default=8, help="hot path: iterations per round (default 8)")
    parser.add_argument("--bill-run-lines", type=int, default=100_000, help="bill run: due lines (default 100000)")
    parser.add_argument("--bill-run-accounts", type=int, default=10_000, help="bill run: accounts (default 10000)")
    parser.add_argument("--bill-run-repeat", type=int, default=2, help="bill run: runs per variant (default 2)")
    parser.add_argument("--deliveries", type=int, default=5000, help="delivery: backlog size (default 5000)")
    parser.add_argument("--backends", default="sqlite", help="delivery: sqlite and/or postgres (default sqlite)")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: hot,bill,deliver")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    os.environ["BULKBILL_WEBHOOK_POLL_SECONDS"] = "0.05"
    workdir = Path(tempfile.mkdtemp(prefix="bulkbill-events-bench-"))
    hot = bill = rate = float("nan")
    with FastReceiver.start() as receiver:
        if "hot" not in skip:
            hot = hot_path(workdir, receiver, args.rounds, args.iterations)
        if "bill" not in skip:
            bill = bill_run_ratio(workdir, args.bill_run_lines, args.bill_run_accounts, args.bill_run_repeat)
        if "deliver" not in skip:
            for backend in args.backends.split(","):
                with database(backend, workdir) as url:
                    rate = throughput(backend, url, workdir, receiver, args.deliveries)
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"events/s={rate:.0f} hot_path_ratio={hot:.2f} bill_run_ratio={bill:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
