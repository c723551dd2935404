"""What the ASGI stack alone costs per request, in-process: every Stripe handler answers at once.

The real application (outer app, access log, the dialect's envelope, FastAPI's routing, dependencies
and form decoding, the response) is driven as benchmarks/profile_hot_path.py drives it, but each
route's `execute` (idempotency, the work, rendering) is replaced by a fixed 200 answer: what is left
is the per-request fixed cost of everything around the billing work, read as this thread's CPU time
(p25, p50, min over many calls: steady under a neighbour's load, unlike wall time). FastAPI's thread
pool is a direct call here, so the hop to a worker thread is not counted (benchmarks/server_cpu.py
measures it over HTTP).

    .venv/bin/python -m benchmarks.asgi_stack [--calls 2000]
    PYTHONPATH=<other tree>/src .venv/bin/python -m benchmarks.asgi_stack   # A/B against another tree
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.profile_hot_path import Client, run_inline
from benchmarks.stripe_bulk_lines import form, line_update


def _answer_at_once() -> None:
    """Every Stripe route module's `execute` becomes a fixed answer (the edge's own Response)."""
    import bulkbill.api.stripe.edge.call as call

    real = call.execute

    def answer(request: Any, _handler: Any) -> Any:
        return call.json_response(200, '{"id":"x"}', request)

    for name, module in list(sys.modules.items()):
        if name.startswith("bulkbill.api.stripe") and getattr(module, "execute", None) is real:
            module.execute = answer  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)
    os.environ["BULKBILL_RATE_LIMIT"] = "off"
    # The access log is written (to nowhere), as a server writes it.
    logging.basicConfig(stream=open(os.devnull, "w"), level=logging.INFO)  # noqa: SIM115 - for the whole run

    from bulkbill.api.app import create_app
    from bulkbill.cli.serve import tune_collector
    from bulkbill.config import Settings

    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bulkbill-asgi-')) / 'stack.db'}"
    run_inline()
    app = create_app(Settings(database_url=url, rate_limit="off"))
    _answer_at_once()
    tune_collector()
    loop = asyncio.new_event_loop()
    loop.run_until_complete(app.router.lifespan_context(app).__aenter__())
    api = Client(app, "sk_test_stack", loop)
    lines = form({"lines": [{"id": f"il_{'x' * 24}{j}", **line_update(3, j, "bulk")} for j in range(50)]})
    calls: list[tuple[str, Callable[[int], object], int]] = [
        ("GET /healthz (outer app only)", lambda _i: api.call("GET", "/healthz"), args.calls),
        ("GET /v1/customers/{id}", lambda _i: api.call("GET", "/stripe/v1/customers/cus_1"), args.calls),
        (
            "POST /v1/customers/{id} (1 field)",
            lambda i: api.call("POST", "/stripe/v1/customers/cus_1", f"name=n{i}"),
            args.calls,
        ),
        (
            "POST /v1/subscriptions/{id}",
            lambda _i: api.call("POST", "/stripe/v1/subscriptions/sub_1", "metadata[a]=1"),
            args.calls,
        ),
        (
            "POST update_lines (50-line body)",
            lambda _i: api.call("POST", "/stripe/v1/invoices/in_1/update_lines", lines),
            args.calls // 4,
        ),
        ("GET an unknown path (404)", lambda _i: api.call("GET", "/stripe/v1/nothing/x"), args.calls // 4),
    ]
    print(f"ASGI stack CPU per request, handlers answering at once (load {os.getloadavg()[0]:.2f})")
    for label, call, n in calls:
        for i in range(50):
            call(i)
        cpu: list[float] = []
        for i in range(n):
            start = time.thread_time()
            call(i)
            cpu.append((time.thread_time() - start) * 1000)
        cpu.sort()
        print(f"  {label:<36} CPU p25 {cpu[len(cpu) // 4]:.3f}  p50 {statistics.median(cpu):.3f}  min {cpu[0]:.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
