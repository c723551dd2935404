"""Per-request fixed costs over loopback HTTP: the server process's CPU time per call, thread by thread.

Starts `bulkbill serve` (as benchmarks/stripe_bulk_lines.py does, per backend), then for each call
sends it N times over one keep-alive connection and prints the wall p50 beside the CPU the server
process spent per call, read from /proc (Linux) before and after: user and system time, and how it
splits between the event loop thread (uvicorn, the ASGI layers, routing, form decoding, sending),
the worker threads (the synchronous handlers: idempotency, the work, rendering) and the webhook
sender. On a shared machine the CPU times are the steadier figure: a neighbour's load stretches the
wall time, much less the CPU a call takes.

Targets of issue 16 read here (wall p50, SQLite; PostgreSQL within 1.5x): `GET` of an object <= 2 ms,
a 1-field update <= 4 ms.

    .venv/bin/python -m benchmarks.server_cpu
    .venv/bin/python -m benchmarks.server_cpu --backends sqlite,postgres --calls 300
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.stripe_bulk_lines import (
    BenchError,
    StripeHttp,
    all_line_ids,
    create_tenant,
    database,
    line_update,
    new_lines,
    start_server,
)

TARGETS_MS = {"GET /v1/customers/{id}": 2.0, "POST /v1/customers/{id} (1 field)": 4.0}
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _thread_cpu(pid: int) -> dict[str, tuple[float, float]]:
    """(user, system) seconds per thread group: "event loop" (the main thread), "webhooks", "workers"."""
    out: dict[str, tuple[float, float]] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            group = "event loop" if tid == str(pid) else "webhooks" if name.startswith("bulkbill-web") else "workers"
            user, system = out.get(group, (0.0, 0.0))
            out[group] = (user + int(fields[11]) / _TICK, system + int(fields[12]) / _TICK)
    return out


def measure(pid: int, label: str, call: Callable[[int], object], n: int) -> float:
    """Print one call's line; returns its wall p50 (ms)."""
    for i in range(3):
        call(-1 - i)
    walls: list[float] = []
    before, client_before = _thread_cpu(pid), time.process_time()
    for i in range(n):
        start = time.perf_counter()
        call(i)
        walls.append((time.perf_counter() - start) * 1000)
    after, client_after = _thread_cpu(pid), time.process_time()

    def per_call(group: str, part: int) -> float:
        return 1000 * (after.get(group, (0.0, 0.0))[part] - before.get(group, (0.0, 0.0))[part]) / n

    user = sum(per_call(g, 0) for g in after)
    system = sum(per_call(g, 1) for g in after)
    threads = "  ".join(f"{g} {per_call(g, 0) + per_call(g, 1):.2f}" for g in ("event loop", "workers", "webhooks"))
    p50 = statistics.median(walls)
    target = TARGETS_MS.get(label)
    verdict = "" if target is None else f"  target <= {target:g} ms: {'MET' if p50 <= target else 'NOT MET'}"
    print(
        f"  {label:<36} wall p50 {p50:7.2f} ms  server CPU {user + system:6.2f} ms/call (user {user:.2f} sys "
        f"{system:.2f}; {threads})  client CPU {1000 * (client_after - client_before) / n:.2f}{verdict}"
    )
    return p50


def bench(backend: str, args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"bulkbill-server-cpu-{backend}-"))
    with database(backend, workdir, args.pg_url) as url:
        key = create_tenant(url)
        # One process: its CPU is read from /proc (several workers would be child processes).
        server = start_server(url, workdir / "server.log", serve_args=("--workers", "1"))
        api = StripeHttp(server.port, key)
        try:
            pid = server.process.pid
            customer = api.json("POST", "/v1/customers", {"name": "Bench"})["id"]
            product = api.json("POST", "/v1/products", {"name": "Widget"})["id"]
            price = api.json("POST", "/v1/prices", {"product": product, "currency": "usd", "unit_amount": 1500})["id"]
            invoice = api.json("POST", "/v1/invoices", {"customer": customer, "currency": "usd"})["id"]
            for chunk in range(4):
                api.request("POST", f"/v1/invoices/{invoice}/add_lines", {"lines": new_lines(price, f"base{chunk}")})
            lines = all_line_ids(api, invoice)[:50]
            print(
                f"\n== {backend}: {args.calls} calls each (update_lines: {max(1, args.calls // 5)}), "
                f"load {os.getloadavg()[0]:.2f} =="
            )

            def healthz(_i: int) -> None:
                api.conn.request("GET", "/healthz")
                api.conn.getresponse().read()

            def update_lines(i: int) -> None:
                body = {"lines": [{"id": line, **line_update(i, j, "bulk")} for j, line in enumerate(lines)]}
                api.request("POST", f"/v1/invoices/{invoice}/update_lines", body)

            measure(pid, "GET /healthz (no dialect)", healthz, args.calls)
            measure(
                pid, "GET /v1/customers/{id}", lambda _i: api.request("GET", f"/v1/customers/{customer}"), args.calls
            )
            measure(
                pid,
                "POST /v1/customers/{id} (1 field)",
                lambda i: api.request("POST", f"/v1/customers/{customer}", {"name": f"Bench {i}"}),
                args.calls,
            )
            measure(pid, "update_lines 50 (200-line draft)", update_lines, max(1, args.calls // 5))
        finally:
            api.close()
            server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite, postgres")
    parser.add_argument("--calls", type=int, default=200, help="calls per measured endpoint")
    parser.add_argument("--pg-url", default=None, help="an existing PostgreSQL database instead of a throw-away one")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("server CPU is read from /proc: Linux only", file=sys.stderr)
        return 2
    try:
        for backend in args.backends.split(","):
            bench(backend.strip(), args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
