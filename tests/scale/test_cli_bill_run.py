"""`bulkbill bill-run create / follow / commit / retry` and `bulkbill worker`, through the command line."""

from __future__ import annotations

import json
import random
import re
import shlex
import threading
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bulkbill.cli.main import app
from bulkbill.config import Settings
from bulkbill.jobs.worker import run_worker
from bulkbill.storage.db import create_db_engine, make_sessionmaker
from tests.scale.data import make_dataset

runner = CliRunner()


def cli(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result


def last_json(output: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return data


def _tenant_with_data(url: str, name: str, *, seed: int = 11) -> str:
    tenant_id = str(json.loads(cli("tenants", "create", name, "--database-url", url, "--json").output)["id"])
    engine = create_db_engine(url)
    with make_sessionmaker(engine).begin() as session:
        make_dataset(session, tenant_id, random.Random(seed), accounts=12, lines=60)
    engine.dispose()
    return tenant_id


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_create_follow_and_plan_commit_on_sqlite(sqlite_url: str) -> None:
    _tenant_with_data(sqlite_url, "acme")
    common = ("--tenant", "acme", "--database-url", sqlite_url)
    made = last_json(
        cli("bill-run", "create", "--target-date", "2024-06-30", "--json", "--no-progress", *common).output
    )
    assert made["status"] == "Completed" and made["billRunNumber"] == "BR-00000001"
    assert made["lines"] == made["plannedLines"] > 0 and made["invoices"] > 0 and made["chunks"] >= 1
    followed = last_json(cli("bill-run", "follow", "BR-00000001", "--json", *common).output)
    assert {k: followed[k] for k in ("id", "status", "lines")} == {k: made[k] for k in ("id", "status", "lines")}
    # Nothing is left: a second run bills nothing (and says so in one line).
    again = cli("bill-run", "create", "--target-date", "2024-06-30", "--no-progress", *common).output
    assert "BR-00000002 Completed: 0 accounts" in again

    # Plan, then commit: the plan is shown, nothing billed until the commit.
    planned = last_json(
        cli("bill-run", "create", "--target-date", "2024-12-31", "--plan-only", "--json", *common).output
    )
    assert planned["status"] == "Planned" and planned["items"] > 0
    shown = cli("bill-run", "follow", planned["billRunNumber"], "--no-progress", *common).output
    assert "Planned" in shown
    committed = last_json(
        cli("bill-run", "commit", planned["billRunNumber"], "--json", "--no-progress", *common).output
    )
    assert committed["status"] == "Completed" and committed["lines"] == planned["items"]
    cli("bill-run", "commit", planned["billRunNumber"], *common, code=1)  # not Planned any more


def test_the_plan_hint_commits_as_printed(sqlite_url: str) -> None:
    """The command `create --plan-only` prints to commit the plan works when pasted (tenant and database named)."""
    _tenant_with_data(sqlite_url, "Big Co")
    common = ("--tenant", "Big Co", "--database-url", sqlite_url)
    planned = cli("bill-run", "create", "--target-date", "2024-06-30", "--plan-only", *common).output
    hint = re.search(r"commit with `([^`]+)`", planned)
    assert hint is not None, planned
    words = shlex.split(hint.group(1))
    assert words[:3] == ["bulkbill", "bill-run", "commit"]
    committed = last_json(cli(*words[1:], "--json", "--no-progress").output)
    assert committed["status"] == "Completed" and committed["lines"] > 0


def test_progress_bar_and_errors(sqlite_url: str) -> None:
    _tenant_with_data(sqlite_url, "bar")
    shown = cli(
        "bill-run",
        "create",
        "--tenant",
        "bar",
        "--target-date",
        "2024-06-30",
        "--progress",
        "--database-url",
        sqlite_url,
    )
    assert "lines" in shown.output and "Completed" in shown.output
    assert (
        "no tenant"
        in cli(
            "bill-run",
            "create",
            "--tenant",
            "nobody",
            "--target-date",
            "2024-06-30",
            "--database-url",
            sqlite_url,
            code=2,
        ).output
    )
    assert (
        "--target-date"
        in cli(
            "bill-run", "create", "--tenant", "bar", "--target-date", "June", "--database-url", sqlite_url, code=2
        ).output
    )
    assert (
        "bill run"
        in cli("bill-run", "follow", "BR-404", "--tenant", "bar", "--database-url", sqlite_url, code=1).output
    )


def test_follow_a_run_that_workers_bill(settings: Settings) -> None:
    """`create --no-work` only queues and follows; a worker (another process, here a thread) bills it."""
    if not settings.database_url.startswith("postgres"):
        pytest.skip("workers in other processes need PostgreSQL")
    url = settings.database_url
    _tenant_with_data(url, "followed")
    worker_settings = settings.model_copy(update={"bill_run_chunk_lines": 10, "worker_poll_seconds": 0.05})
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(worker_settings,), kwargs={"worker": "bg", "stop": stop})
    thread.start()
    try:
        result = cli(
            "bill-run",
            "create",
            "--tenant",
            "followed",
            "--target-date",
            "2024-06-30",
            "--no-work",
            "--json",
            "--no-progress",
            "--database-url",
            url,
        )
    finally:
        stop.set()
        thread.join(timeout=30)
    made = last_json(result.output)
    assert made["status"] == "Completed" and made["lines"] == made["plannedLines"] > 0
