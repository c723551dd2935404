"""What PostgreSQL's backends wait on while benchmarks/concurrency.py runs: lock waits, or the server's Python.

Starts a throw-away cluster, runs the concurrency benchmark against a database of it (`--pg-url`), and
samples `pg_stat_activity` every 20 ms meanwhile, counting each backend's state and wait event under the
scenario the benchmark is running (read from its progress lines). A backend "idle in transaction" on
ClientRead waits for the application to send its next statement; "active" on a Lock waits for another
transaction's row, tuple or advisory lock. docs/performance.md ("Round 5: where the PostgreSQL backends
wait") holds a run.

    .venv/bin/python benchmarks/pg_waits.py --servers postgres-2
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import threading
import time

import psycopg

from bulkbill.devtools.pg_cluster import PgCluster

DATABASE = "bulkbill_pg_waits"
INTERVAL = 0.02
SAMPLE = (
    "SELECT state, wait_event_type, wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) "
    "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
)


class Sampler:
    """Backend states and lock-waiting statements, counted per scenario."""

    def __init__(self, admin_url: str) -> None:
        self.admin = psycopg.connect(admin_url, autocommit=True)
        self.scenario = "setup"
        self.samples: collections.Counter[str] = collections.Counter()
        self.states: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.locked: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            rows = self.admin.execute(SAMPLE, (DATABASE,)).fetchall()
            here = self.scenario
            self.samples[here] += 1
            for state, kind, event, query in rows:
                self.states[here][f"{state} / {kind or '-'}:{event or '-'}"] += 1
                if kind == "Lock":
                    self.locked[here][f"{event}: {query}"] += 1
            time.sleep(INTERVAL)

    def report(self) -> None:
        for here, count in self.samples.items():
            print(f"[{here}] {count} samples; backend-samples by state / wait event:")
            for name, n in self.states[here].most_common(6):
                print(f"  {n:7d}  {name}")
            for name, n in self.locked[here].most_common(3):
                print(f"  lock wait {n:6d}  {name}")


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default="postgres-2", help="as benchmarks/concurrency.py: postgres-1, postgres-2")
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    cluster = PgCluster.start()
    try:
        url = cluster.create_database(DATABASE)
        sampler = Sampler(_plain(cluster.admin_url))
        thread = threading.Thread(target=sampler.run)
        thread.start()
        command = [sys.executable, "-m", "benchmarks.concurrency", "--servers", args.servers]
        command += ["--rounds", str(args.rounds), "--seconds", str(args.seconds), "--pg-url", url]
        bench = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert bench.stdout is not None and bench.stderr is not None
        errors: collections.deque[str] = collections.deque(maxlen=20)
        for line in bench.stderr:  # progress lines: "  [server] own drafts, 16 clients, round 1"
            if "clients, round" in line:
                sampler.scenario = line.strip().split("] ", 1)[-1].rsplit(", round", 1)[0]
            else:
                errors.append(line)
        output = bench.stdout.read()
        bench.wait()
        sampler.stop.set()
        thread.join()
        print(output)
        if bench.returncode:
            print("".join(errors), file=sys.stderr)
        sampler.report()
        return bench.returncode
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
