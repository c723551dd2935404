"""The plugin as another project meets it: pytest run in a folder of its own, the fixtures found through the
`pytest11` entry point, under pytest-xdist, on a database it is told, without the SDKs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import new_database_url

RECORDING_TEST = """
import json, os
from pathlib import Path

import pytest

@pytest.mark.parametrize("n", range(8))
def test_records_its_server(n, bulkbill_server, bulkbill_tenant, stripe_client):
    stripe_client.v1.customers.create({"name": f"customer {n}"})
    assert len(stripe_client.v1.customers.list().data) == 1  # tenants keep the tests apart
    Path(os.environ["RECORDS"], f"{n}.json").write_text(json.dumps({
        "worker": os.environ.get("PYTEST_XDIST_WORKER"),
        "url": bulkbill_server.url,
        "database": bulkbill_server.database_url,
        "tenant": bulkbill_tenant.id,
    }))
"""


def run_pytest(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """pytest in `project` as its own run: its rootdir, no setting of the outer run (xdist's included)."""
    (project / "pytest.ini").write_text("[pytest]\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "BULKBILL_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", *args],
        cwd=project,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_recording(tmp_path: Path, *args: str) -> list[dict[str, Any]]:
    project, records = tmp_path / "project", tmp_path / "records"
    project.mkdir()
    records.mkdir()
    (project / "test_recording.py").write_text(RECORDING_TEST)
    done = run_pytest(project, "-n", "2", *args, env={"RECORDS": str(records)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 passed" in done.stdout, done.stdout
    return [json.loads(p.read_text()) for p in sorted(records.iterdir())]


def test_under_xdist_each_worker_starts_its_own_server_on_its_own_sqlite(tmp_path: Path) -> None:
    records = run_recording(tmp_path)
    servers = {r["worker"]: (r["url"], r["database"]) for r in records}
    assert set(servers) == {"gw0", "gw1"}
    assert all(len({(r["url"], r["database"]) for r in records if r["worker"] == w}) == 1 for w in servers)
    urls, databases = zip(*servers.values(), strict=True)
    assert len(set(urls)) == 2 and len(set(databases)) == 2
    assert all(d.startswith("sqlite:///") for d in databases)
    assert len({r["tenant"] for r in records}) == len(records)


def test_workers_share_the_postgresql_database_they_are_told(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Both workers' servers migrate the one database at the same moment (the migration lock orders them)."""
    url = new_database_url("postgres", request, tmp_path)
    records = run_recording(tmp_path, "--bulkbill-database-url", url)
    assert {r["worker"] for r in records} == {"gw0", "gw1"}
    assert {r["database"] for r in records} == {url}
    assert len({r["url"] for r in records}) == 2
    assert len({r["tenant"] for r in records}) == len(records)


def test_without_the_sdks_their_fixtures_skip_saying_what_to_install(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'from-env.db'}"
    (tmp_path / "conftest.py").write_text(
        "import sys\n\nsys.modules['stripe'] = None  # as if not installed\nsys.modules['zuora_sdk'] = None\n"
    )
    (tmp_path / "test_without_sdks.py").write_text(
        textwrap.dedent(
            f"""
            def test_the_server_still_serves(bulkbill_server, bulkbill_tenant):
                assert bulkbill_server.database_url == {database!r}  # from $BULKBILL_TEST_DATABASE_URL
                assert bulkbill_tenant.zuora_client_id

            def test_stripe(stripe_client):
                raise AssertionError("not reached")

            def test_zuora(zuora_api_client):
                raise AssertionError("not reached")

            def test_clock(bulkbill_clock):
                raise AssertionError("not reached")

            def test_webhooks(stripe_webhooks):
                raise AssertionError("not reached")
            """
        )
    )
    done = run_pytest(tmp_path, env={"BULKBILL_TEST_DATABASE_URL": database})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 4 skipped" in done.stdout, done.stdout
    assert "stripe is not installed: `pip install stripe` to use it with bulkbill" in done.stdout
    assert "zuora_sdk is not installed: `pip install zuora-sdk` to use it with bulkbill" in done.stdout
