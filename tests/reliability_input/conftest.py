"""Hostile input and tenant isolation: shared counters of the cases actually run.

Every test here adds how many cases it ran (per database) to one session-wide `Counts`; the totals
are printed at the end of the run (and written as JSON to $BULKBILL_RELIABILITY_COUNTS when set),
which is where docs/reliability.md (rows 4 and 5) takes its figures from.
"""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest
from fastapi.testclient import TestClient


class Counts:
    def __init__(self) -> None:
        self.by_name: Counter[tuple[str, str]] = Counter()

    def add(self, name: str, n: int, backend: str | None = None) -> None:
        self.by_name[(name, backend or _BACKEND.get("current", "?"))] += n


_COUNTS = Counts()
_BACKEND: dict[str, str] = {}


@pytest.fixture
def counts(database_url: str) -> Counts:
    _BACKEND["current"] = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    return _COUNTS


@pytest.fixture(autouse=True)
def _no_rate_limit(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests send hundreds of requests a second with one key: rate limiting is another test's subject."""
    monkeypatch.setattr(client.app.state.bulkbill, "limiter", None, raising=False)  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _COUNTS.by_name:
        return
    terminalreporter.section("hostile input and tenant isolation: cases run")
    for (name, backend), n in sorted(_COUNTS.by_name.items()):
        terminalreporter.write_line(f"{n:>8}  {backend:<10}  {name}")
    target = os.environ.get("BULKBILL_RELIABILITY_COUNTS")
    if target:
        rows = [
            {"what": name, "database": backend, "cases": n} for (name, backend), n in sorted(_COUNTS.by_name.items())
        ]
        with open(target, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=1)
