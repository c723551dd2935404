"""Profile the Zuora bulk calls in-process (docs/performance.md, "Zuora bulk paths").

The scenario of benchmarks/zuora_bulk.py (same data, same checks) runs against the real ASGI
application driven in-process as benchmarks/profile_hot_path.py drives it (FastAPI's thread pool
made a direct call, statements counted with the engine's cursor events). For each timed call it
prints the p50 wall and CPU time without the profiler, the statements per call and their driver time,
and from cProfile the self time per layer (and, with --top N, the N functions with most self
time). Under cProfile every call costs more: read the layers as shares.

    .venv/bin/python benchmarks/profile_zuora_bulk.py
    .venv/bin/python benchmarks/profile_zuora_bulk.py --iterations 5 --top 30 --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import zuora_bulk as bench
from benchmarks.profile_hot_path import Client, Statements, layer_times, phase_times, run_inline

# Inclusive phases (label, (file suffix, function)...); they overlap: read them as shares of the whole.
PHASES: list[tuple[str, tuple[tuple[str, str], ...]]] = [
    ("whole request (ASGI app)", (("api/access_log.py", "__call__"),)),
    ("body decoding and checks", (("zuora/edge/call.py", "_decode_body"),)),
    ("request validation (pydantic)", (("zuora/edge/validation.py", "parse_model"),)),
    ("PUT: commands (document_edit)", (("documents/invoice_models.py", "document_edit"),)),
    ("idempotency claim (own txn)", (("api/idempotent.py", "_claim"),)),
    ("PUT: service (update_documents)", (("documents/document_edits.py", "update_documents"),)),
    (
        "PUT: load lines",
        (("documents/edited_lines.py", "load_edited_lines"), ("invoicing/invoice_totals.py", "load_lines_of")),
    ),
    ("PUT: check and price items", (("documents/document_edits.py", "_check_document"),)),
    ("PUT: of which core pricing", (("invoicing/document_edits.py", "price_item"),)),
    (
        "PUT: write items",
        (("documents/document_edits.py", "_apply"), ("documents/edited_lines.py", "write_line_changes")),
    ),
    (
        "PUT: totals",
        (("invoicing/invoice_totals.py", "recalculate_many"), ("invoicing/invoice_totals.py", "recalculate_rows_many")),
    ),
    ("OLI: service (update_line_items)", (("orders/order_line_items.py", "update_line_items"),)),
    ("fulfillments: service", (("orders/fulfillments.py", "create_fulfillments"),)),
    ("runBilling", (("billing/run_billing.py", "run_billing"),)),
    ("events: object before the change", (("events/outbox.py", "changing"),)),
    ("events: written at commit", (("events/outbox.py", "_write"),)),
    ("commit", (("sqlalchemy/orm/session.py", "commit"),)),
]


class ZuoraClient(Client):
    """The in-process client speaking the benchmark's ZuoraHttp interface (JSON, bearer token)."""

    def __init__(self, app: Any, loop: asyncio.AbstractEventLoop, client_id: str, client_secret: str) -> None:
        super().__init__(app, "", loop)
        self.client_id, self.client_secret = client_id, client_secret

    def authenticate(self) -> None:
        from urllib.parse import urlencode

        body = urlencode(
            {"client_id": self.client_id, "client_secret": self.client_secret, "grant_type": "client_credentials"}
        )
        headers = [(b"content-type", b"application/x-www-form-urlencoded")]
        status, data = self.send("POST", "/zuora/oauth/token", body.encode(), headers)
        if status != 200:
            raise bench.BenchError(f"POST /oauth/token: HTTP {status}: {data[:500]!r}")
        self.key = str(json.loads(data)["access_token"])

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:  # type: ignore[override]
        headers = [(b"authorization", f"Bearer {self.key}".encode()), (b"zuora-version", bench.ZUORA_VERSION.encode())]
        payload = b""
        if body is not None:
            payload = json.dumps(body, separators=(",", ":")).encode()
            headers.append((b"content-type", b"application/json"))
        if method == "POST":
            headers.append((b"idempotency-key", str(uuid.uuid4()).encode()))
        status, data = self.send(method, "/zuora" + path, payload, headers)
        result = json.loads(data) if data else None
        if status != 200 or not isinstance(result, dict) or result.get("success") is not True:
            raise bench.BenchError(f"{method} {path}: HTTP {status}: {data[:1000]!r}")
        return result

    def send(self, method: str, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
        return self.loop.run_until_complete(self._call(method, path, body.decode(), headers))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary file")
    parser.add_argument("--postgres", action="store_true", help="a throw-away PostgreSQL cluster instead of SQLite")
    parser.add_argument("--top", type=int, default=0, help="also print the N functions with most self time")
    parser.add_argument("--cumulative", type=int, default=0, help="also print the N functions with most inclusive time")
    parser.add_argument("--callees", default="", help="also print what the functions matching this call")
    parser.add_argument("--statements", action="store_true", help="also print the statements of the last call")
    parser.add_argument("--calls", default=",".join(bench.CALLS), help="comma-separated calls to profile")
    args = parser.parse_args(argv)
    os.environ["BULKBILL_RATE_LIMIT"] = "off"
    workdir = Path(tempfile.mkdtemp(prefix="bulkbill-zprofile-"))
    url = args.database_url or f"sqlite:///{workdir / 'profile.db'}"
    cluster = None
    if args.postgres:
        from bulkbill.devtools.pg_cluster import PgCluster

        cluster = PgCluster.start()
        url = cluster.create_database("bulkbill_zprofile")
    try:
        return profile(args, url)
    finally:
        if cluster is not None:
            cluster.stop()


def profile(args: argparse.Namespace, url: str) -> int:
    from bulkbill.api.app import create_app
    from bulkbill.config import Settings
    from bulkbill.services.platform.tenants import create_tenant

    run_inline()
    app = create_app(Settings(database_url=url, rate_limit="off"))
    from bulkbill.cli.serve import tune_collector

    tune_collector()  # as `bulkbill serve` does once the application is built (profile_hot_path.py does too)
    state = app.state.bulkbill
    loop = asyncio.new_event_loop()
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())
    with state.sessions.begin() as session:
        tenant = create_tenant(session, f"zprofile-{uuid.uuid4().hex[:8]}", now=int(time.time()))
    api = ZuoraClient(app, loop, tenant.zuora_client_id, tenant.zuora_client_secret)
    sql = Statements(state.engine)
    api.authenticate()
    account_number = bench.create_account(api)  # type: ignore[arg-type]
    account_id = str(api.call("GET", f"/v1/accounts/{account_number}")["basicInfo"]["id"])
    invoices = bench.create_draft_invoices(api, account_id)  # type: ignore[arg-type]
    drafts = bench.create_item_drafts(api, account_id)  # type: ignore[arg-type]
    wanted = [c for c in args.calls.split(",") if c]
    profilers = {c: cProfile.Profile() for c in wanted}
    walls: dict[str, list[float]] = {c: [] for c in wanted}
    cpus: dict[str, list[float]] = {c: [] for c in wanted}
    logs: dict[str, list[str]] = {c: [] for c in wanted}
    statements: dict[str, list[tuple[int, float]]] = {c: [] for c in wanted}

    def run(name: str, n: int, mode: str) -> None:
        steps = {
            "oli_bulk_100": lambda s: bench.bench_oli_bulk(api, account_number, n, s),  # type: ignore[arg-type]
            "fulfillments_100": lambda s: bench.bench_fulfillments(api, account_number, n, s),  # type: ignore[arg-type]
            "invoices_put_50": lambda s: bench.bench_invoices_put(api, invoices, n, s),  # type: ignore[arg-type]
            "invoices_put_50x20": lambda s: bench.bench_item_put(api, drafts, n, s),  # type: ignore[arg-type]
        }
        if mode == "warm":
            steps[name](None)
            return
        if mode == "wall":
            # Wall and CPU time of the timed call (CPU time is what a shared machine's load disturbs least).
            original_timed = bench.timed

            def measured(samples: list[float] | None, fn: Any, *a: Any) -> Any:
                wall, cpu = time.perf_counter(), time.process_time()
                try:
                    return fn(*a)
                finally:
                    walls[name].append((time.perf_counter() - wall) * 1000)
                    cpus[name].append((time.process_time() - cpu) * 1000)

            bench.timed = measured  # type: ignore[assignment]
            try:
                steps[name](None)
            finally:
                bench.timed = original_timed
            return
        # Profiled: the profiler and the statement counters run only inside the timed call.
        original = bench.timed

        def profiled(samples: list[float] | None, fn: Any, *a: Any) -> Any:
            count, seconds = sql.count, sql.seconds
            sql.log = [] if args.statements else None
            api.profiler = profilers[name]
            try:
                return fn(*a)
            finally:
                api.profiler = None
                statements[name].append((sql.count - count, sql.seconds - seconds))
                logs[name], sql.log = sql.log or [], None

        bench.timed = profiled  # type: ignore[assignment]
        try:
            steps[name](None)
        finally:
            bench.timed = original

    n = 0
    for mode in ("warm", "wall", "profile"):
        for _ in range(1 if mode == "warm" else args.iterations):
            for name in wanted:
                run(name, n, mode)
            n += 1
    print(f"database: {'sqlite' if url.startswith('sqlite') else 'postgres'}; load: {os.getloadavg()[0]:.2f}")
    for name in wanted:
        k = args.iterations
        ordered = sorted(walls[name])
        count = sum(c for c, _ in statements[name]) / k
        driver = sum(s for _, s in statements[name]) * 1000 / k
        p50, cpu = ordered[len(ordered) // 2], sorted(cpus[name])[len(ordered) // 2]
        print(f"\n== {bench.LABELS[name]}: p50 {p50:.2f} ms, CPU p50 {cpu:.2f} ms (in-process), {k} iterations ==")
        print(f"  SQL statements per call: {count:.1f}, {driver:.2f} ms in the driver (profiled)")
        stats = pstats.Stats(profilers[name])
        print("  phases (inclusive, profiled ms per call):")
        for phase, ms, calls in phase_times(stats, k, PHASES):
            if calls:
                print(f"    {phase:<40}{ms:>8.2f}  ({calls} calls)")
        print("  self time by layer (profiled ms per call):")
        for layer, ms in layer_times(stats, k):
            print(f"    {layer:<34}{ms:>8.2f}")
        if args.statements:
            print("  statements of the last call (count × text):")
            for text, times in Counter(logs[name]).items():
                print(f"    {times:>4} × {text}")
        if args.top:
            stats.sort_stats("tottime").print_stats(args.top)
        if args.cumulative:
            stats.sort_stats("cumulative").print_stats(args.cumulative)
        if args.callees:
            stats.sort_stats("cumulative").print_callees(args.callees)
    loop.run_until_complete(lifespan.__aexit__(None, None, None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
