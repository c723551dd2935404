"""Benchmark the Stripe bulk line endpoints against the real server, over loopback HTTP.

For each backend (SQLite in a temp file, PostgreSQL from a throw-away PgCluster or --pg-url) this
creates a tenant with the CLI, starts `bulkbill serve` as a subprocess, builds a draft invoice
holding 200 lines, then times per iteration:

  add_lines     50 new lines                  (draft 200 -> 250)
  remove_lines  those 50 lines, behavior=delete (draft 250 -> 200)
  update_lines  50 of the base lines: description + quantity + metadata
  single_x50    the same 50 updates as 50 `POST /v1/invoices/{id}/lines/{line_id}` calls,
                the whole batch timed as one sample

Requests are encoded the way stripe-python sends them: form bodies with literal brackets, a
Bearer key, and a fresh Idempotency-Key on every POST, over one keep-alive connection.

    .venv/bin/python benchmarks/stripe_bulk_lines.py
    .venv/bin/python benchmarks/stripe_bulk_lines.py --iterations 5 --warmup 1 --backends sqlite

Target: on SQLite every bulk call's p50 <= 10 ms; on every backend the single_x50 batch p50 is
at least 10x the update_lines p50. --check makes the exit status 1 when a target is not met.
"""

from __future__ import annotations

import argparse
import contextlib
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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

BASE_LINES = 200
BATCH = 50
TARGET_P50_MS = 10.0
TARGET_SPEEDUP = 10.0
CALLS = ("add_lines", "update_lines", "remove_lines", "single_x50")


class BenchError(RuntimeError):
    """A step of the benchmark failed (non-200 response, server did not start, ...)."""


# --- form encoding (as stripe-python does it) -------------------------------------------------


def encode(params: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested dicts in brackets, lists indexed, booleans as true/false, None omitted."""
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, dict):
            out.extend(encode(value, name))
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    out.extend(encode(item, f"{name}[{i}]"))
                else:
                    out.append((f"{name}[{i}]", _scalar(item)))
        else:
            out.append((name, _scalar(value)))
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def form(params: dict[str, Any]) -> str:
    # stripe-python url-encodes, then turns %5B/%5D back into literal brackets.
    return "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in encode(params))


# --- HTTP client ------------------------------------------------------------------------------


class StripeHttp:
    """One persistent keep-alive connection to the server's /stripe API."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.key = key
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def close(self) -> None:
        self.conn.close()

    def request(self, method: str, path: str, params: dict[str, Any] | None = None) -> bytes:
        """Send one call and return the raw body; anything but 200 raises BenchError."""
        headers = {"Authorization": f"Bearer {self.key}"}
        body: str | None = None
        url = "/stripe" + path
        if method == "POST":
            body = form(params or {})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Idempotency-Key"] = str(uuid.uuid4())
        elif params:
            url += "?" + form(params)
        status, data = self._send(method, url, body, headers)
        if status != 200:
            text = data.decode("utf-8", "replace")
            raise BenchError(f"{method} {path} returned HTTP {status}: {text[:2000]}")
        return data

    def json(self, method: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.request(method, path, params))
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
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError("unreachable")


# --- server lifecycle -------------------------------------------------------------------------


def create_tenant(database_url: str, name: str = "bench") -> str:
    """Create a tenant through the CLI; return its Stripe secret key."""
    cmd = [sys.executable, "-m", "bulkbill", "tenants", "create", name, "--database-url", database_url, "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
        raise BenchError(f"`bulkbill tenants create` failed ({done.returncode}):\n{tail}")
    try:
        return str(json.loads(done.stdout.strip().splitlines()[-1])["stripe_secret_key"])
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


def start_server(
    database_url: str,
    log_path: Path,
    timeout: float = 60.0,
    *,
    serve_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Server:
    """`bulkbill serve` on `database_url` (plus `serve_args`, environment `env` on top of this one's), once
    /healthz answers."""
    from bulkbill.devtools.listener import listening_socket, spawn_serve

    # The server inherits a socket bound here: no other process can take the port before it serves.
    with listening_socket() as sock, log_path.open("wb") as log:
        port = sock.getsockname()[1]
        # Measure the engine, not the rate limiter (its default would refuse a benchmark's burst).
        environment = {**os.environ, "BULKBILL_RATE_LIMIT": "off", **(env or {})}
        args = ("--database-url", database_url, *serve_args)
        process = spawn_serve(sock, *args, stdout=log, stderr=subprocess.STDOUT, cwd=log_path.parent, env=environment)
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


def all_line_ids(api: StripeHttp, invoice_id: str) -> list[str]:
    ids: list[str] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = api.json("GET", f"/v1/invoices/{invoice_id}/lines", params)
        ids.extend(line["id"] for line in page["data"])
        if not page["has_more"] or not page["data"]:
            return ids
        params = {"limit": 100, "starting_after": page["data"][-1]["id"]}


def new_lines(price: str, tag: str) -> list[dict[str, Any]]:
    return [
        {"pricing": {"price": price}, "quantity": 1, "description": f"{tag} line {i}", "metadata": {"tag": tag}}
        for i in range(BATCH)
    ]


def line_update(iteration: int, j: int, variant: str) -> dict[str, Any]:
    """Description + quantity + metadata; the values differ every iteration so each is a real change."""
    return {
        "description": f"{variant} {iteration} line {j}",
        "quantity": 2 + (iteration * 2 + (variant == "single")) % 7,
        "metadata": {"bench_iteration": str(iteration), "variant": variant},
    }


def timed(samples: list[float] | None, fn: Any, *args: Any) -> Any:
    start = time.perf_counter()
    result = fn(*args)
    elapsed = (time.perf_counter() - start) * 1000.0
    if samples is not None:
        samples.append(elapsed)
    return result


def run_scenario(api: StripeHttp, iterations: int, warmup: int, *, progress: bool) -> Samples:
    customer = api.json("POST", "/v1/customers", {"name": "Bench Customer"})
    product = api.json("POST", "/v1/products", {"name": "Bench Widget"})
    price = api.json("POST", "/v1/prices", {"product": product["id"], "currency": "usd", "unit_amount": 1500})
    invoice = api.json("POST", "/v1/invoices", {"customer": customer["id"], "currency": "usd"})
    invoice_id = invoice["id"]
    for chunk in range(BASE_LINES // BATCH):
        api.request("POST", f"/v1/invoices/{invoice_id}/add_lines", {"lines": new_lines(price["id"], f"base{chunk}")})
    base = all_line_ids(api, invoice_id)
    if len(base) != BASE_LINES:
        raise BenchError(f"expected {BASE_LINES} lines on the draft after setup, found {len(base)}")
    base_set = set(base)
    chunks = [base[i : i + BATCH] for i in range(0, BASE_LINES, BATCH)]

    samples = Samples()
    for n in range(warmup + iterations):
        ms: dict[str, list[float]] | None = samples.ms if n >= warmup else None

        def bucket(name: str, ms: dict[str, list[float]] | None = ms) -> list[float] | None:
            return ms[name] if ms is not None else None

        # (a) add 50 lines: the draft goes 200 -> 250.
        path = f"/v1/invoices/{invoice_id}/add_lines"
        timed(bucket("add_lines"), api.request, "POST", path, {"lines": new_lines(price["id"], f"iter{n}")})
        added = [i for i in all_line_ids(api, invoice_id) if i not in base_set]
        if len(added) != BATCH:
            raise BenchError(f"iteration {n}: expected {BATCH} added lines, found {len(added)}")

        # (c) remove those 50 (behavior delete): back to 200.
        path = f"/v1/invoices/{invoice_id}/remove_lines"
        removes = {"lines": [{"id": line_id, "behavior": "delete"} for line_id in added]}
        timed(bucket("remove_lines"), api.request, "POST", path, removes)

        # (b) update 50 base lines in one call.
        targets = chunks[n % len(chunks)]
        path = f"/v1/invoices/{invoice_id}/update_lines"
        updates = {"lines": [{"id": line_id, **line_update(n, j, "bulk")} for j, line_id in enumerate(targets)]}
        timed(bucket("update_lines"), api.request, "POST", path, updates)

        # (d) the same 50 updates as 50 single-line calls, timed as one batch.
        singles = [
            (f"/v1/invoices/{invoice_id}/lines/{line_id}", line_update(n, j, "single"))
            for j, line_id in enumerate(targets)
        ]

        def single_batch(singles: list[tuple[str, dict[str, Any]]] = singles) -> None:
            for single_path, params in singles:
                api.request("POST", single_path, params)

        timed(bucket("single_x50"), single_batch)

        if progress:
            label = "warmup" if n < warmup else "iter"
            index = n + 1 if n < warmup else n - warmup + 1
            total = warmup if n < warmup else iterations
            print(f"  {label} {index}/{total}", end="\r", file=sys.stderr, flush=True)
    if progress:
        print(" " * 40, end="\r", file=sys.stderr, flush=True)

    remaining = all_line_ids(api, invoice_id)
    if len(remaining) != BASE_LINES:
        raise BenchError(f"expected {BASE_LINES} lines on the draft at the end, found {len(remaining)}")
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

    @property
    def speedup(self) -> float:
        bulk = self.p("update_lines", 50)
        return self.p("single_x50", 50) / bulk if bulk > 0 else math.inf

    @property
    def target_met(self) -> bool:
        fast = all(self.p(c, 50) <= TARGET_P50_MS for c in ("add_lines", "update_lines", "remove_lines"))
        # The absolute latency target is for SQLite; every backend must show the bulk speed-up.
        return (fast or self.backend != "sqlite") and self.speedup >= TARGET_SPEEDUP


def print_table(result: Result) -> None:
    n = len(result.samples.ms["add_lines"])
    print(f"\n== {result.backend}: draft of {BASE_LINES} lines, {BATCH} lines per call, {n} iterations ==")
    header = f"{'call':<34}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}{'min ms':>10}{'max ms':>10}"
    print(header)
    print("-" * len(header))
    labels = {
        "add_lines": f"add_lines ({BATCH} new)",
        "update_lines": f"update_lines ({BATCH} lines)",
        "remove_lines": f"remove_lines ({BATCH}, delete)",
        "single_x50": f"{BATCH} x POST /lines/{{id}} (batch)",
    }
    for call in CALLS:
        values = result.samples.ms[call]
        print(
            f"{labels[call]:<34}{result.p(call, 50):>10.2f}{result.p(call, 95):>10.2f}"
            f"{sum(values) / len(values):>10.2f}{min(values):>10.2f}{max(values):>10.2f}"
        )
    per_single = result.p("single_x50", 50) / BATCH
    print(f"(one single-line call, p50 of batch / {BATCH}: {per_single:.2f} ms)")
    print(f"bulk is {result.speedup:.1f}x faster (single_x50 p50 / update_lines p50)")


def summary_line(result: Result) -> str:
    def pair(call: str) -> str:
        return f"p50={result.p(call, 50):.2f}ms p95={result.p(call, 95):.2f}ms"

    return (
        f"{result.backend}: add_lines {pair('add_lines')} update_lines {pair('update_lines')} "
        f"remove_lines {pair('remove_lines')} single_x50 {pair('single_x50')} speedup={result.speedup:.1f}x "
        f"target(p50<={TARGET_P50_MS:g}ms sqlite, >={TARGET_SPEEDUP:g}x): {'MET' if result.target_met else 'NOT MET'}"
    )


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
    workdir = Path(tempfile.mkdtemp(prefix=f"bulkbill-bench-{backend}-"))
    server: Server | None = None
    api: StripeHttp | None = None
    try:
        with database(backend, workdir, args.pg_url) as url:
            key = create_tenant(url)
            server = start_server(url, workdir / "server.log")
            api = StripeHttp(server.port, key)
            try:
                samples = run_scenario(api, args.iterations, args.warmup, progress=sys.stderr.isatty())
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
    parser.add_argument("--iterations", type=int, default=30, help="measured iterations (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured iterations first (default 3)")
    parser.add_argument(
        "--pg-url",
        "--database-url",
        dest="pg_url",
        default=os.environ.get("BULKBILL_BENCH_PG_URL"),
        help="PostgreSQL SQLAlchemy URL to use instead of a throw-away cluster (postgresql+psycopg://...)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a backend misses the target")
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
        print(f"[{backend}] starting server, building a {BASE_LINES}-line draft ...", file=sys.stderr, flush=True)
        try:
            results.append(bench_backend(backend, args))
        except BenchError as exc:
            print(f"\nABORTED ({backend}): {exc}", file=sys.stderr)
            return 2
        print_table(results[-1])
    print()
    for result in results:
        print(summary_line(result))
    if args.check and not all(r.target_met for r in results):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
