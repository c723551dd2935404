"""Profile the Stripe hot path in-process, phase by phase (docs/performance.md, "Hot path").

The real ASGI application (every middleware, the dialect's sub-app, FastAPI's routing) is driven
with hand-made ASGI messages on one event loop. FastAPI's thread pool is replaced by a direct call,
so that cProfile sees the synchronous handler on the same thread as the ASGI layers. SQL statements
are counted and timed with the engine's cursor events.

For each call it prints the mean wall time, the statements (count and time) and, from cProfile,
the inclusive time of each phase and the self time of each layer (bulkbill.core / services / api,
SQLAlchemy, the database driver, Starlette + FastAPI, JSON, the rest). Under cProfile every call
costs more than without it: read the phases as shares, the wall time as the figure.

    .venv/bin/python benchmarks/profile_hot_path.py
    .venv/bin/python benchmarks/profile_hot_path.py --iterations 30 --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

BASE_LINES = 200
BATCH = 50

# Inclusive phases: (label, (file suffix, function name)...). They overlap (SQL runs inside most).
PHASES: list[tuple[str, tuple[tuple[str, str], ...]]] = [
    ("whole request (ASGI app)", (("api/access_log.py", "__call__"),)),
    ("form decoding", (("stripe/edge/forms.py", "decode_form"),)),
    ("auth (key -> tenant)", (("platform/tenants.py", "tenant_id_for_stripe_key"),)),
    ("idempotency claim (own txn)", (("api/idempotent.py", "_claim"),)),
    ("idempotency finish", (("platform/idempotency.py", "finish"),)),
    ("parameter checks", (("stripe/edge/params.py", "parse"),)),
    ("handler (service + render)", (("api/idempotent.py", "<lambda>"),)),
    (
        "core rules (planning)",
        (
            ("core/invoicing/lines.py", "plan_add_lines"),
            ("core/invoicing/lines.py", "plan_update_lines"),
            ("core/invoicing/lines.py", "plan_remove_lines"),
        ),
    ),
    ("totals (recalculate)", (("invoicing/invoice_totals.py", "recalculate_rows"),)),
    ("rendering (invoice_response)", (("invoicing/invoices.py", "invoice_response"),)),
    ("JSON encoding", (("edge/call.py", "encode"),)),
    ("events: object before the change", (("events/outbox.py", "changing"),)),
    ("events: written at commit", (("events/outbox.py", "_write"),)),
    ("commit", (("sqlalchemy/orm/session.py", "commit"),)),
]

LAYERS = [
    ("bulkbill.core", "bulkbill/core/"),
    ("bulkbill.services", "bulkbill/services/"),
    ("bulkbill.storage", "bulkbill/storage/"),
    ("bulkbill.api", "bulkbill/api/"),
    ("SQLAlchemy", "sqlalchemy/"),
    ("Starlette/FastAPI/pydantic", ("starlette/", "fastapi/", "pydantic")),
    ("json/orjson", ("json/", "orjson")),
]


# (label, untimed step before, the timed call, untimed step after)
Op = tuple[str, Callable[[], None] | None, Callable[[], None], Callable[[], None] | None]


class Client:
    """Drives the ASGI application directly: one request, one response, on the caller's loop."""

    def __init__(self, app: Any, key: str, loop: asyncio.AbstractEventLoop) -> None:
        self.app, self.key, self.loop = app, key, loop
        self.profiler: cProfile.Profile | None = None  # on only while the application runs

    def call(self, method: str, path: str, body: str = "") -> tuple[int, bytes]:
        return self.loop.run_until_complete(self._call(method, path, body))

    async def _call(
        self, method: str, path: str, body: str, extra: list[tuple[bytes, bytes]] | None = None
    ) -> tuple[int, bytes]:
        """One request; `extra`: its headers (default: the Stripe key, and a form body on POST)."""
        raw_path, _, query = path.partition("?")
        headers = [(b"host", b"127.0.0.1")]
        if extra is not None:
            headers += [*extra, (b"content-length", str(len(body.encode())).encode())]
        else:
            headers.append((b"authorization", f"Bearer {self.key}".encode()))
        if method == "POST" and extra is None:
            headers.append((b"content-type", b"application/x-www-form-urlencoded"))
            headers.append((b"idempotency-key", str(uuid.uuid4()).encode()))
            headers.append((b"content-length", str(len(body.encode())).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": raw_path,
            "raw_path": raw_path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        messages = [{"type": "http.request", "body": body.encode(), "more_body": False}]
        status, chunks = 0, []

        async def receive() -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        if self.profiler is not None:
            self.profiler.enable()
        try:
            await self.app(scope, receive, send)
        finally:
            if self.profiler is not None:
                self.profiler.disable()
        return status, b"".join(chunks)

    def json(self, method: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        import json

        from benchmarks.stripe_bulk_lines import form

        if method == "GET":
            status, data = self.call(method, f"{path}?{form(params)}" if params else path)
        else:
            status, data = self.call(method, path, form(params or {}))
        if status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {data[:500]!r}")
        result: dict[str, Any] = json.loads(data)
        return result


def run_inline() -> None:
    """FastAPI's thread pool becomes a direct call: the handler runs on the profiled thread."""
    import fastapi.dependencies.utils
    import fastapi.routing

    async def inline(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    fastapi.routing.run_in_threadpool = inline  # type: ignore[assignment]
    fastapi.dependencies.utils.run_in_threadpool = inline  # type: ignore[assignment]


class Statements:
    """Counts and times the statements the engine sends."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.count, self.seconds, self._start = 0, 0.0, 0.0
        self.log: list[str] | None = None  # the statements' text, while a list is set
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *args: Any) -> None:
        if self.log is not None:
            self.log.append(" ".join(str(args[2]).split())[:150])
        self._start = time.perf_counter()

    def _after(self, *_args: Any) -> None:
        self.count += 1
        self.seconds += time.perf_counter() - self._start


def phase_times(
    stats: pstats.Stats, n: int, phases: list[tuple[str, tuple[tuple[str, str], ...]]] | None = None
) -> list[tuple[str, float, int]]:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    out = []
    for label, keys in PHASES if phases is None else phases:
        total, calls = 0.0, 0
        for (filename, _line, name), (_cc, nc, _tt, ct, _callers) in raw.items():
            if any(filename.endswith(suffix) and name == fn for suffix, fn in keys):
                total += ct
                calls += nc
        out.append((label, total * 1000 / n, calls // n))
    return out


def layer_times(stats: pstats.Stats, n: int) -> list[tuple[str, float]]:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    sums = {label: 0.0 for label, _ in LAYERS}
    sums["database driver (C)"] = 0.0
    sums["other"] = 0.0
    for (filename, _line, name), (_cc, _nc, tt, _ct, _callers) in raw.items():
        for label, marks in LAYERS:
            if any(m in filename for m in ((marks,) if isinstance(marks, str) else marks)):
                sums[label] += tt
                break
        else:
            driver = filename == "~" and ("sqlite3" in name or "psycopg" in name or "execute" in name)
            sums["database driver (C)" if driver else "other"] += tt
    return [(label, s * 1000 / n) for label, s in sums.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary file")
    parser.add_argument("--statements", action="store_true", help="also print the statements of one call")
    parser.add_argument("--top", type=int, default=0, help="also print the N functions with most self time")
    parser.add_argument("--dump", default=None, help="also write each call's cProfile stats to DIR/<n>.prof")
    parser.add_argument("--timing-only", action="store_true", help="only the unprofiled timings (no cProfile run)")
    parser.add_argument("--only", default=None, help="profile only the calls whose label contains this text")
    parser.add_argument(
        "--default-collector", action="store_true", help="leave Python's cyclic collector as it starts (no tuning)"
    )
    args = parser.parse_args(argv)
    os.environ["BULKBILL_RATE_LIMIT"] = "off"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

    from benchmarks.stripe_bulk_lines import new_lines
    from bulkbill.api.app import create_app
    from bulkbill.config import Settings
    from bulkbill.services.platform.tenants import create_tenant

    workdir = Path(tempfile.mkdtemp(prefix="bulkbill-profile-"))
    url = args.database_url or f"sqlite:///{workdir / 'profile.db'}"
    run_inline()
    app = create_app(Settings(database_url=url, rate_limit="off"))
    if not args.default_collector:
        from bulkbill.cli.serve import tune_collector

        tune_collector()  # as `bulkbill serve` does once the application is built
    state = app.state.bulkbill
    loop = asyncio.new_event_loop()
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())
    with state.sessions.begin() as session:
        key = create_tenant(session, f"profile-{uuid.uuid4().hex[:8]}", now=int(time.time())).stripe_secret_key
    api = Client(app, key, loop)
    sql = Statements(state.engine)

    customer = api.json("POST", "/stripe/v1/customers", {"name": "Profile Customer"})
    product = api.json("POST", "/stripe/v1/products", {"name": "Profile Widget"})
    price = api.json("POST", "/stripe/v1/prices", {"product": product["id"], "currency": "usd", "unit_amount": 1500})
    invoice_id = api.json("POST", "/stripe/v1/invoices", {"customer": customer["id"], "currency": "usd"})["id"]
    for chunk in range(BASE_LINES // BATCH):
        lines = new_lines(price["id"], f"base{chunk}")
        api.json("POST", f"/stripe/v1/invoices/{invoice_id}/add_lines", {"lines": lines})
    base: list[str] = []
    params: dict[str, Any] = {"limit": 100}
    while len(base) < BASE_LINES:
        page = api.json("GET", f"/stripe/v1/invoices/{invoice_id}/lines", params)["data"]
        base += [line["id"] for line in page]
        params = {"limit": 100, "starting_after": base[-1]}
    added: list[str] = []
    counter = [0]

    def add() -> None:
        api.json("POST", f"/stripe/v1/invoices/{invoice_id}/add_lines", {"lines": new_lines(price["id"], "p")})

    def find_added() -> None:
        after = {"limit": 100, "starting_after": base[-1]}
        added[:] = [line["id"] for line in api.json("GET", f"/stripe/v1/invoices/{invoice_id}/lines", after)["data"]]

    def remove() -> None:
        removes = {"lines": [{"id": i, "behavior": "delete"} for i in added]}
        api.json("POST", f"/stripe/v1/invoices/{invoice_id}/remove_lines", removes)

    def add_and_find() -> None:
        add()
        find_added()

    def update() -> None:
        counter[0] += 1
        n = counter[0]
        lines = [
            {"id": line_id, "description": f"u {n} {j}", "quantity": 2 + n % 7, "metadata": {"i": str(n)}}
            for j, line_id in enumerate(base[:BATCH])
        ]
        api.json("POST", f"/stripe/v1/invoices/{invoice_id}/update_lines", {"lines": lines})

    def get_customer() -> None:
        api.json("GET", f"/stripe/v1/customers/{customer['id']}")

    def update_customer() -> None:
        counter[0] += 1
        api.json("POST", f"/stripe/v1/customers/{customer['id']}", {"description": f"d{counter[0]}"})

    def get_invoice() -> None:
        api.json("GET", f"/stripe/v1/invoices/{invoice_id}")

    ops: list[Op] = [
        ("add_lines 50 (200-line draft)", None, add, lambda: (find_added(), remove())),
        ("remove_lines 50 (250-line draft)", add_and_find, remove, None),
        ("update_lines 50 (200-line draft)", None, update, None),
        ("GET /v1/customers/{id}", None, get_customer, None),
        ("POST /v1/customers/{id} (1 field)", None, update_customer, None),
        ("GET /v1/invoices/{id} (200 lines)", None, get_invoice, None),
    ]
    print(f"database: {'sqlite' if url.startswith('sqlite') else 'postgres'}; load: {os.getloadavg()[0]:.2f}")
    for number, (label, before, fn, after) in enumerate(ops):
        if args.only and args.only not in label:
            continue
        for _ in range(3):  # warm-up
            if before:
                before()
            fn()
            if after:
                after()
        walls: list[float] = []
        cpus: list[float] = []  # this thread's CPU time: the work itself, whatever else the machine runs
        for _ in range(args.iterations):
            if before:
                before()
            start, start_cpu = time.perf_counter(), time.thread_time()
            fn()
            walls.append((time.perf_counter() - start) * 1000)
            cpus.append((time.thread_time() - start_cpu) * 1000)
            if after:
                after()
        walls.sort()
        cpus.sort()
        if args.timing_only:
            print(
                f"== {label}: p50 {walls[len(walls) // 2]:.2f} ms, CPU p50 {cpus[len(cpus) // 2]:.2f} ms,"
                f" CPU min {cpus[0]:.2f} ms"
            )
            continue
        profiler = cProfile.Profile()
        counted, sql_seconds = 0, 0.0
        for _ in range(args.iterations):
            if before:
                before()
            before_count, before_time = sql.count, sql.seconds
            api.profiler = profiler
            fn()
            api.profiler = None
            counted, sql_seconds = counted + sql.count - before_count, sql_seconds + sql.seconds - before_time
            if after:
                after()
        n = args.iterations
        statements = counted / n
        sql_ms = sql_seconds * 1000 / n
        stats = pstats.Stats(profiler)
        if args.dump:
            stats.dump_stats(str(Path(args.dump) / f"{number}.prof"))
        print(
            f"\n== {label}: p50 {walls[len(walls) // 2]:.2f} ms, CPU p50 {cpus[len(cpus) // 2]:.2f} ms"
            f" (in-process, no HTTP), {n} iterations =="
        )
        print(f"  SQL statements per call: {statements:.1f}, {sql_ms:.2f} ms in the driver (profiled)")
        print("  phases (inclusive, profiled ms per call):")
        for phase, ms, calls in phase_times(stats, n):
            if calls:
                print(f"    {phase:<34}{ms:>8.2f}  ({calls} calls)")
        print("  self time by layer (profiled ms per call):")
        for layer, ms in layer_times(stats, n):
            print(f"    {layer:<34}{ms:>8.2f}")
        if args.statements:
            if before:
                before()
            sql.log = []
            fn()
            print("  statements of one call:")
            for text in sql.log:
                print(f"    {text}")
            sql.log = None
            if after:
                after()
        if args.top:
            stats.sort_stats("tottime").print_stats(args.top)
    loop.run_until_complete(lifespan.__aexit__(None, None, None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
