"""Every target of issue 16 (speed, round 2) measured in one run, each figure beside its goal and baseline.

Runs, in one process, the benchmarks that measure each target (each starts the real server over
loopback HTTP, or the real CLI, on a fresh database) and ends with one table:

  hot path        stripe_bulk_lines: 50-line add / update / remove on a 200-line draft, and the same 50
                  updates as single calls (the baseline a bulk call is compared with), per database;
                  plus here: GET /v1/customers/{id} and a 1-field POST /v1/customers/{id}
  Zuora bulk      zuora_bulk: order-line-items/bulk 100, fulfillments 100, PUT /v1/invoices 50 x 20
  concurrency     concurrency: 16 clients each on its own draft; SQLite with the writer queue,
                  PostgreSQL with one worker (the baseline) and two
  bill run        bill_run: PostgreSQL at 200k lines / 20k accounts and 1M / 100k, against the raw-SQL
                  baseline on the same schema, and shared by 2 workers

PostgreSQL's figures are also read as a ratio to SQLite's of the same run (the issue's "within 1.5x").
The machine's load average is printed at the start and the end: on shared cores wall times follow it.

    .venv/bin/python -m benchmarks.targets                 # everything (about 15 minutes on 2 cores)
    .venv/bin/python -m benchmarks.targets --quick         # fewer iterations, bill run at 200k only
    .venv/bin/python -m benchmarks.targets --skip bill_run,concurrency
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import bill_run, concurrency, stripe_bulk_lines, zuora_bulk
from benchmarks.stripe_bulk_lines import BenchError, StripeHttp, create_tenant, percentile, start_server

PARTS = ("hot_path", "zuora", "concurrency", "bill_run")
FIXED_CALLS = 200  # per fixed-cost call and database


@dataclass(frozen=True)
class Figure:
    """One target: what was measured, the goal, and whether the goal is a ceiling or a floor."""

    target: str
    value: float
    goal: float
    unit: str
    at_most: bool = True  # the figure must be <= goal (else >=)

    @property
    def met(self) -> bool:
        return self.value <= self.goal if self.at_most else self.value >= self.goal

    def line(self) -> str:
        sign = "<=" if self.at_most else ">="
        ratio = self.value / self.goal if self.goal else float("nan")
        return (
            f"{self.target:<58}{self.value:>10.2f} {self.unit:<8}{sign} {self.goal:<8g}x{ratio:>6.2f}  "
            f"{'MET' if self.met else 'NOT MET'}"
        )


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


@contextlib.contextmanager
def shared_postgres(wanted: bool) -> Iterator[Callable[[str], str] | None]:
    """One throw-away cluster for the whole run; yields a maker of fresh databases on it."""
    if not wanted:
        yield None
        return
    from bulkbill.devtools.pg_cluster import PgCluster

    cluster = PgCluster.start()
    try:
        yield cluster.create_database
    finally:
        cluster.stop()


# --- fixed costs: a GET and a 1-field update ---------------------------------------------------


def fixed_costs(database_url: str, calls: int) -> dict[str, float]:
    """p50 ms over HTTP of GET /v1/customers/{id} and of a 1-field POST /v1/customers/{id} (new key each)."""
    workdir = Path(tempfile.mkdtemp(prefix="bulkbill-targets-"))
    server = None
    try:
        key = create_tenant(database_url, name="targets-fixed-costs")  # beside the hot path's tenant
        server = start_server(database_url, workdir / "server.log")
        api = StripeHttp(server.port, key)
        try:
            customer = api.json("POST", "/v1/customers", {"name": "Fixed costs"})["id"]
            samples: dict[str, list[float]] = {"get": [], "update": []}
            for n in range(calls + 10):  # 10 unmeasured first
                start = time.perf_counter()
                api.request("GET", f"/v1/customers/{customer}")
                middle = time.perf_counter()
                api.request("POST", f"/v1/customers/{customer}", {"name": f"Fixed costs {n}"})
                end = time.perf_counter()
                if n >= 10:
                    samples["get"].append((middle - start) * 1000)
                    samples["update"].append((end - middle) * 1000)
        finally:
            api.close()
        return {name: percentile(values, 50) for name, values in samples.items()}
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


# --- the parts ---------------------------------------------------------------------------------


def hot_path(backend: str, pg_url: str | None, quick: bool) -> tuple[Figure, dict[str, float]]:
    """One database's 50-line calls and fixed costs: the bulk speed-up figure, and each call's p50 (ms)."""
    iterations, warmup = (8, 2) if quick else (20, 3)
    args = argparse.Namespace(iterations=iterations, warmup=warmup, pg_url=pg_url)
    print(f"[hot path, {backend}] 50-line calls on a 200-line draft ...", file=sys.stderr, flush=True)
    result = stripe_bulk_lines.bench_backend(backend, args)
    stripe_bulk_lines.print_table(result)
    print(stripe_bulk_lines.summary_line(result))
    fixed_url = pg_url if backend == "postgres" else f"sqlite:///{tempfile.mkdtemp(prefix='bulkbill-fixed-')}/f.db"
    assert fixed_url is not None
    fixed = fixed_costs(fixed_url, FIXED_CALLS // 2 if quick else FIXED_CALLS)
    print(f"{backend}: GET /v1/customers/{{id}} p50={fixed['get']:.2f}ms  POST 1 field p50={fixed['update']:.2f}ms")
    p50 = {call: result.p(call, 50) for call in ("add_lines", "update_lines", "remove_lines")}
    p50["get"], p50["update_1_field"] = fixed["get"], fixed["update"]
    speedup = Figure(f"{backend}: bulk update vs 50 single calls (speed-up)", result.speedup, 10.0, "x", at_most=False)
    return speedup, p50


HOT_PATH_GOALS_MS = {"add_lines": 10.0, "update_lines": 10.0, "remove_lines": 10.0, "get": 2.0, "update_1_field": 4.0}
HOT_PATH_LABELS = {
    "add_lines": "50-line add_lines p50",
    "update_lines": "50-line update_lines p50",
    "remove_lines": "50-line remove_lines p50",
    "get": "GET /v1/customers/{id} p50",
    "update_1_field": "1-field POST /v1/customers/{id} p50",
}


def hot_path_figures(p50: dict[str, dict[str, float]]) -> list[Figure]:
    """Each call's p50 against its goal (PostgreSQL's: x1.5), and PostgreSQL's over SQLite's of this run."""
    figures: list[Figure] = []
    sqlite, postgres = p50.get("sqlite", {}), p50.get("postgres", {})
    for call, goal in HOT_PATH_GOALS_MS.items():
        label = HOT_PATH_LABELS[call]
        if call in sqlite:
            figures.append(Figure(f"sqlite: {label}", sqlite[call], goal, "ms"))
        if call in postgres:
            figures.append(Figure(f"postgres: {label}", postgres[call], goal * 1.5, "ms"))
            if call in sqlite:
                figures.append(Figure(f"postgres / sqlite: {label}", postgres[call] / sqlite[call], 1.5, "x"))
    return figures


def zuora(backend: str, pg_url: str | None, quick: bool) -> list[Figure]:
    """One database's Zuora bulk calls against their goals."""
    iterations, warmup = (5, 1) if quick else (10, 2)
    args = argparse.Namespace(iterations=iterations, warmup=warmup, pg_url=pg_url, analyze=True)
    print(f"[zuora bulk, {backend}] ...", file=sys.stderr, flush=True)
    result = zuora_bulk.bench_backend(backend, args)
    zuora_bulk.print_table(result)
    print(zuora_bulk.summary_line(result))
    return [
        Figure(f"{backend}: Zuora {call} p50", result.p(call, 50), goal, "ms")
        for call, goal in zuora_bulk.TARGETS_MS[backend].items()
    ]


def settle(pg_url: str) -> None:
    """Do now what PostgreSQL would do in the background after a part's writes (autovacuum, analyze, the
    next checkpoint), so it does not run during the next part: a SQLite part measured after a PostgreSQL
    one read ~1.2-1.6x its figures measured alone."""
    import psycopg

    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")


def single_calls(
    backends: Sequence[str], new_pg_database: Callable[[str], str] | None, skip: Sequence[str], quick: bool
) -> list[Figure]:
    """The hot path and the Zuora bulk calls, one database after the other (SQLite first, so that no
    PostgreSQL background work from an earlier part falls on it); PostgreSQL settles after each part."""
    speedups: list[Figure] = []
    zuora_figures: list[Figure] = []
    p50: dict[str, dict[str, float]] = {}
    for backend in sorted(backends, key=lambda b: b != "sqlite"):
        if "hot_path" not in skip:
            pg_url = new_pg_database("targets_hot") if backend == "postgres" and new_pg_database else None
            speedup, p50[backend] = hot_path(backend, pg_url, quick)
            speedups.append(speedup)
            if pg_url is not None:
                settle(pg_url)
        if "zuora" not in skip:
            pg_url = new_pg_database("targets_zuora") if backend == "postgres" and new_pg_database else None
            zuora_figures += zuora(backend, pg_url, quick)
            if pg_url is not None:
                settle(pg_url)
    return speedups + hot_path_figures(p50) + zuora_figures


def concurrent(backends: Sequence[str], quick: bool) -> list[Figure]:
    servers = []
    if "sqlite" in backends:
        servers.append("sqlite-queue")
    if "postgres" in backends:
        servers += ["postgres-1", "postgres-2"]
    args = argparse.Namespace(servers=servers, rounds=1 if quick else 2, seconds=3.0, warmup=1.0, pg_url=None)
    print("\n== Concurrency: 50-line update_lines, clients each on its own draft or one shared ==")
    print(concurrency.HEADER)
    rows = concurrency.measure(args)
    for line in concurrency.ratios(rows):
        print(line)
    figures: list[Figure] = []
    for row in rows:
        if (row.scenario, row.clients) != ("own drafts", concurrency.TARGET_CLIENTS):
            continue
        p99 = percentile(row.run.latencies, 99)
        if row.server.startswith("sqlite"):
            figures.append(Figure(f"{row.server} @16: p99", p99, concurrency.TARGET_SQLITE_P99_MS, "ms"))
        else:
            rate = row.run.calls_per_s()
            goal = concurrency.TARGET_PG_CALLS_PER_S
            figures.append(Figure(f"{row.server} @16: calls/s", rate, goal, "calls/s", at_most=False))
            figures.append(Figure(f"{row.server} @16: p99", p99, concurrency.TARGET_PG_P99_MS, "ms"))
        figures.append(Figure(f"{row.server} @16: errors", float(row.run.errors), 0.0, "errors"))
    return figures


def billing(quick: bool) -> list[Figure]:
    sizes = "200000:20000" if quick else "200000:20000,1000000:100000"
    args = bill_run.parse_args(["--backends", "postgres", "--sizes", sizes, "--workers", "2"])
    figures: list[Figure] = []
    for lines, accounts in args.sizes:
        args.lines, args.accounts = lines, accounts
        result = bill_run.bench_postgres(args)
        bill_run.report_postgres(result)
        label = f"bill run {lines // 1000}k lines"
        rate = result.bulkbill.rate
        figures.append(Figure(f"postgres: {label}, lines/s (1 process)", rate, 50_000, "lines/s", at_most=False))
        ratio = result.bulkbill.rate / result.baseline_rate
        figures.append(Figure(f"postgres: {label}, ratio to raw-SQL baseline", ratio, 0.5, "x", at_most=False))
        if 2 in result.workers:
            scaling = result.workers[2].rate / result.bulkbill.rate
            figures.append(Figure(f"postgres: {label}, 2 workers / 1 process", scaling, 1.0, "x", at_most=False))
    return figures


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    parser.add_argument("--skip", default="", help=f"comma-separated parts to leave out, of: {', '.join(PARTS)}")
    parser.add_argument("--quick", action="store_true", help="fewer iterations; bill run at 200k lines only")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if set(args.backends) - {"sqlite", "postgres"} or not args.backends:
        parser.error("--backends takes sqlite and/or postgres")
    if args.skip - set(PARTS):
        parser.error(f"--skip takes {', '.join(PARTS)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    print(f"== Issue 16 targets, one run (start: {load_average()}) ==")
    figures: list[Figure] = []
    try:
        with shared_postgres("postgres" in args.backends) as new_pg_database:
            figures += single_calls(args.backends, new_pg_database, args.skip, args.quick)
        if "concurrency" not in args.skip:
            figures += concurrent(args.backends, args.quick)
        if "bill_run" not in args.skip and "postgres" in args.backends:
            figures += billing(args.quick)
    except BenchError as exc:
        print(f"\nABORTED: {exc}", file=sys.stderr)
        return 2
    minutes = (time.perf_counter() - started) / 60
    print(f"\n== Targets (end: {load_average()}; {minutes:.1f} min) ==")
    header = f"{'target':<58}{'figure':>10} {'unit':<8}{'goal':<11}{'/goal':>7}"
    print(header)
    print("-" * (len(header) + 10))
    for figure in figures:
        print(figure.line())
    met = sum(f.met for f in figures)
    print(f"targets met: {met} of {len(figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
