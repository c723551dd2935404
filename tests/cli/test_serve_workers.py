"""`bulkbill serve --workers N`: N processes serve one inherited socket; one killed is replaced while the
others go on serving; the start-up line comes once, from the manager, naming the workers; each log
line names the process that wrote it."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bulkbill.cli.serve import default_workers, startup_line
from bulkbill.devtools.listener import listening_socket, spawn_serve
from tests.cli.test_serve import LINE_WAIT_SECONDS, read_lines

MAX_REQUESTS = 400  # bounds the search for a request served by each worker; nothing is timed


def test_default_workers_are_the_cores_on_postgresql_and_one_on_sqlite() -> None:
    assert default_workers("sqlite:///bulkbill.db") == 1
    assert default_workers("sqlite://") == 1
    assert default_workers("postgresql://bill@db.local/bulkbill") == len(os.sched_getaffinity(0))


def test_the_startup_line_names_the_workers() -> None:
    message, fields = startup_line("127.0.0.1", 8080, "sqlite:///b.db", [41, 42])
    assert "database sqlite:///b.db, 2 workers (pids 41, 42). " in message
    assert fields["workers"] == [41, 42]
    assert "workers" not in startup_line("127.0.0.1", 8080, "sqlite:///b.db")[1]


@contextmanager
def serving_workers(tmp_path: Path, workers: int) -> Iterator[tuple[subprocess.Popen[str], int, queue.Queue[str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULKBILL_")} | {"BULKBILL_RATE_LIMIT": "off"}
    args = ("--database-url", f"sqlite:///{tmp_path}/w.db", "--log-format", "json", "--workers", str(workers))
    with listening_socket() as sock:
        port = sock.getsockname()[1]
        pipe = subprocess.PIPE
        process = spawn_serve(sock, *args, env=env, stdout=pipe, stderr=subprocess.STDOUT, text=True)
    with read_lines(process) as lines:
        try:
            yield process, port, lines
        finally:
            process.terminate()
            process.wait(timeout=LINE_WAIT_SECONDS)


class Records:
    """The server's JSON log records, taken by kind: those skipped while looking for another kind are kept."""

    def __init__(self, lines: queue.Queue[str]) -> None:
        self.lines = lines
        self.skipped: list[dict[str, Any]] = []

    def next(self, **wanted: Any) -> dict[str, Any]:
        """The first record not yet taken with the wanted fields."""
        for record in self.skipped:
            if self._matches(record, wanted):
                self.skipped.remove(record)
                return record
        while True:
            record = json.loads(self.lines.get(timeout=LINE_WAIT_SECONDS))
            if self._matches(record, wanted):
                return record
            self.skipped.append(record)

    @staticmethod
    def _matches(record: dict[str, Any], wanted: dict[str, Any]) -> bool:
        return all(record.get(k) == v for k, v in wanted.items())


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def serving_pids(port: int, records: Records, wanted: set[int]) -> set[int]:
    """The processes that answered requests (sent 8 at a time on fresh connections) until all `wanted` did."""
    seen: set[int] = set()
    sent = 0
    with ThreadPoolExecutor(8) as pool:
        while not wanted <= seen and sent < MAX_REQUESTS:
            urls = [f"http://127.0.0.1:{port}/stripe/openapi.json"] * 8
            assert all(status == 200 for status in pool.map(lambda url: httpx.get(url).status_code, urls))
            sent += len(urls)
            for _ in urls:
                seen.add(records.next(logger="bulkbill.access")["pid"])
    return seen


def test_workers_serve_from_separate_processes_and_survive_a_killed_one(tmp_path: Path) -> None:
    with serving_workers(tmp_path, 2) as (process, port, lines):
        records = Records(lines)
        started = records.next(logger="bulkbill.serve")
        pids = started["workers"]
        assert len(set(pids)) == 2 and process.pid not in pids
        assert started["pid"] == process.pid  # the manager writes it, once
        assert all(parent_of(pid) == process.pid for pid in pids)
        assert serving_pids(port, records, set(pids)) == set(pids)

        os.kill(pids[0], signal.SIGKILL)
        # The other worker keeps serving while the manager replaces the killed one.
        assert serving_pids(port, records, {pids[1]}) >= {pids[1]}
        replaced = records.next(logger="bulkbill.serve", level="WARNING")
        assert replaced["exited_pid"] == pids[0] and replaced["started_pid"] not in pids
        assert parent_of(replaced["started_pid"]) == process.pid
    assert process.returncode == 0
    assert gone(pids[1]) and gone(replaced["started_pid"])  # stopped with their manager


def test_workers_end_with_a_killed_manager(tmp_path: Path) -> None:
    # As one process killed would: no worker is left serving the socket on its own.
    with serving_workers(tmp_path, 2) as (process, _port, lines):
        pids = Records(lines).next(logger="bulkbill.serve")["workers"]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=LINE_WAIT_SECONDS)
        for pid in pids:
            assert gone(pid)


def gone(pid: int) -> bool:
    """Whether the process ended (waiting for it, within a bound on a hung one)."""
    deadline = time.monotonic() + LINE_WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":  # ended, not yet reaped by its new parent
            return True
        time.sleep(0.05)
    return False
