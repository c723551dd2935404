"""What the pytest plugin costs a test suite: the server's start, and a fresh tenant per test.

  start       `serve_in_thread()` on a new SQLite file (or --database-url): app, migrations, listening,
              measured --starts times in this process after the imports (the imports are printed apart:
              a test session pays them once, whatever it runs);
  tenant      `bulkbill_server.new_tenant()`, what the `bulkbill_tenant` fixture does, --tenants times;
  per test    A/B in one pytest session each, back to back: --tests tests that take `bulkbill_tenant`
              against the same number taking nothing, on one server; the difference per test is what
              the fixture adds to each test (pytest's own bookkeeping cancels out).

    .venv/bin/python benchmarks/plugin.py
    .venv/bin/python benchmarks/plugin.py --database-url postgresql://postgres@127.0.0.1:5432/bench

The last line reads: start_ms=<median> tenant_ms=<median> per_test_ms=<n> (targets: 1000, 5, 5)
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The first test starts the server (not counted); then tests with and without a tenant alternate,
# so a change of the machine's load over the run falls on both halves alike.
FIRST = "def test_start(bulkbill_server):\n    assert bulkbill_server.url\n"
PAIR = """
def test_with_tenant_{n}(bulkbill_tenant):
    assert bulkbill_tenant.stripe_secret_key

def test_without_{n}(bulkbill_server):
    assert bulkbill_server.url
"""


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def measure_starts(database_url: str | None, starts: int) -> list[float]:
    from bulkbill.testing import serve_in_thread

    times = []
    for _ in range(starts):
        began = time.perf_counter()
        with serve_in_thread(database_url):
            times.append(time.perf_counter() - began)
    return times


def measure_tenants(database_url: str | None, tenants: int) -> list[float]:
    from bulkbill.testing import serve_in_thread

    times = []
    with serve_in_thread(database_url) as server:
        for _ in range(tenants):
            began = time.perf_counter()
            server.new_tenant("bench")
            times.append(time.perf_counter() - began)
    return times


def measure_per_test(database_url: str | None, count: int) -> tuple[float, float]:
    """Seconds the tests with a tenant and those without took in one pytest session (setup, call, teardown)."""
    import pytest

    class Timer:
        def __init__(self) -> None:
            self.spent = {"with": 0.0, "without": 0.0}

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_protocol(self, item: pytest.Item) -> object:
            began = time.perf_counter()
            yield
            if item.name != "test_start":
                half = "with" if item.name.startswith("test_with_tenant") else "without"
                self.spent[half] += time.perf_counter() - began

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "test_overhead.py"
        path.write_text(FIRST + "".join(PAIR.format(n=n) for n in range(count)))
        timer = Timer()
        args = [str(path), "-q", "-p", "no:cacheprovider", "--rootdir", folder, "-W", "ignore"]
        if database_url:
            args += ["--bulkbill-database-url", database_url]
        assert pytest.main(args, plugins=[timer]) == 0
    return timer.spent["with"], timer.spent["without"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BULKBILL_TEST_DATABASE_URL"))
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--tenants", type=int, default=300)
    parser.add_argument("--tests", type=int, default=300)
    args = parser.parse_args()

    print(f"load before: {load()}")
    began = time.perf_counter()
    importlib.import_module("bulkbill.testing.server")  # the app and all it needs: what a first start imports

    print(f"imports (once per test session): {(time.perf_counter() - began) * 1000:.0f} ms")
    database = args.database_url or "SQLite in a temporary folder"
    starts = measure_starts(args.database_url, args.starts)
    start_ms = statistics.median(starts) * 1000
    print(
        f"server start ({database}, migrations included), {args.starts} starts: median {start_ms:.0f} ms, "
        f"best {min(starts) * 1000:.0f} ms, worst {max(starts) * 1000:.0f} ms"
    )
    tenants = measure_tenants(args.database_url, args.tenants)
    tenant_ms = statistics.median(tenants) * 1000
    print(
        f"new tenant, {args.tenants} tenants: median {tenant_ms:.2f} ms, p90 "
        f"{statistics.quantiles(tenants, n=10)[-1] * 1000:.2f} ms"
    )
    with_tenant, without = measure_per_test(args.database_url, args.tests)
    per_test_ms = (with_tenant - without) / args.tests * 1000
    print(
        f"pytest, {args.tests} tests each: with bulkbill_tenant {with_tenant * 1000 / args.tests:.2f} ms/test, "
        f"without {without * 1000 / args.tests:.2f} ms/test: the fixture adds {per_test_ms:.2f} ms per test"
    )
    print(f"load after: {load()}")
    print(f"start_ms={start_ms:.0f} tenant_ms={tenant_ms:.2f} per_test_ms={per_test_ms:.2f} (targets: 1000, 5, 5)")


if __name__ == "__main__":
    sys.exit(main())
