"""The command line's rough edges: bad databases, tenant names, unknown tenants, `tenants list`, `--version`."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

import bulkbill.services.platform.tenants as tenant_service
from bulkbill.cli.main import app
from bulkbill.config import Settings
from bulkbill.storage.db import make_sessionmaker
from bulkbill.storage.migrate import open_migrated

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def run(*args: str, code: int = 0) -> Result:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    return result


def one_error_line(result: Result) -> str:
    """What a failed command printed: exactly one line on stderr, `error: …`, nothing on stdout."""
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# Every command that opens the database, with the arguments it needs to get that far.
DATABASE_COMMANDS = {
    "serve": ["serve"],
    "migrate": ["migrate"],
    "worker": ["worker", "--once"],
    "tenants create": ["tenants", "create", "acme"],
    "tenants update": ["tenants", "update", "acme", "--zuora-version", "current"],
    "tenants list": ["tenants", "list"],
    "bill-run create": ["bill-run", "create", "--tenant", "acme", "--target-date", "2024-06-30"],
    "bill-run follow": ["bill-run", "follow", "BR-00000001", "--tenant", "acme"],
    "bill-run commit": ["bill-run", "commit", "BR-00000001", "--tenant", "acme"],
    "bill-run retry": ["bill-run", "retry", "BR-00000001", "--tenant", "acme"],
    "documents render": ["documents", "render", "--bill-run", "BR-00000001", "--tenant", "acme"],
}


def _command_paths(command: Any, prefix: str = "") -> set[str]:
    subcommands = getattr(command, "commands", None)  # a group (typer vendors its own click)
    if subcommands is None:
        return {prefix.strip()}
    return {path for name, sub in subcommands.items() for path in _command_paths(sub, f"{prefix}{name} ")}


def test_every_command_is_checked_for_a_bad_database() -> None:
    assert _command_paths(typer.main.get_command(app)) == set(DATABASE_COMMANDS)


@pytest.fixture(params=["unknown scheme", "unreachable server", "unwritable file"])
def bad_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """A database URL bulkbill cannot use, and what the error line must say about it."""
    if request.param == "unknown scheme":
        return "nonsense://x", "'nonsense'"
    if request.param == "unreachable server":
        return "postgresql://nobody:hunter2@127.0.0.1:1/x", "Connection refused"
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    return f"sqlite:///{not_a_folder / 'bulkbill.db'}", "unable to open database file"


@pytest.mark.parametrize("command", list(DATABASE_COMMANDS))
def test_a_bad_database_url_is_one_line(command: str, bad_url: tuple[str, str]) -> None:
    url, says = bad_url
    line = one_error_line(runner.invoke(app, [*DATABASE_COMMANDS[command], "--database-url", url]))
    assert says in line
    assert "hunter2" not in line  # a password is never printed


def test_a_bad_database_url_from_the_environment_is_one_line_in_a_real_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bulkbill", "migrate"],
        capture_output=True,
        text=True,
        env={"BULKBILL_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x", "PATH": ""},
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: cannot open database postgresql://nobody@127.0.0.1:1/x: ")
    assert len(done.stderr.splitlines()) == 1, done.stderr


def test_a_malformed_setting_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BULKBILL_MAX_BODY_BYTES", "a lot")
    assert "BULKBILL_MAX_BODY_BYTES" in one_error_line(runner.invoke(app, ["migrate", "--database-url", "sqlite://"]))


def _names(url: str) -> list[str]:
    return [tenant["name"] for tenant in json.loads(run("tenants", "list", "--json", "--database-url", url).output)]


def test_a_second_tenant_of_a_name_is_refused(settings: Settings) -> None:
    url, name = settings.database_url, "acme-" + uuid.uuid4().hex[:6]
    run("tenants", "create", name, "--database-url", url)
    for again in (name, f"  {name}\t"):  # outer spaces are not part of a name
        line = one_error_line(runner.invoke(app, ["tenants", "create", again, "--database-url", url]))
        assert line == f"error: a tenant named {name!r} already exists (`bulkbill tenants list` shows them)"
    assert _names(url).count(name) == 1


def test_the_database_keeps_names_unique_under_races(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes creating one name at once both pass the check; the unique index refuses the second."""
    engine = open_migrated(settings.database_url)
    sessions = make_sessionmaker(engine)
    name = "race-" + uuid.uuid4().hex[:6]
    with sessions.begin() as session:
        tenant_service.create_tenant(session, name, now=1)
    monkeypatch.setattr(tenant_service, "_id_of_name", lambda _session, _name: None)  # the check saw nothing yet
    refused = pytest.raises(tenant_service.TenantNameRefused, match=f"a tenant named '{name}' already exists")
    with refused, sessions.begin() as session:
        tenant_service.create_tenant(session, name, now=2)
    monkeypatch.undo()
    assert _names(settings.database_url).count(name) == 1
    engine.dispose()


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_an_empty_tenant_name_is_refused(name: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    line = one_error_line(runner.invoke(app, ["tenants", "create", name, "--database-url", url]))
    assert line == "error: a tenant name must not be empty"
    assert _names(url) == []


def test_a_tenant_name_longer_than_the_column_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    too_long = "x" * (tenant_service.TENANT_NAME_MAX + 1)
    assert "at most" in one_error_line(runner.invoke(app, ["tenants", "create", too_long, "--database-url", url]))


@pytest.mark.parametrize(
    "command",
    [
        ["tenants", "update", "nosuch", "--zuora-version", "current"],
        ["bill-run", "create", "--tenant", "nosuch", "--target-date", "2024-06-30"],
        ["bill-run", "follow", "BR-00000001", "--tenant", "nosuch"],
    ],
)
def test_an_unknown_tenant_is_one_line(command: list[str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run("tenants", "create", "acme", "--database-url", url)
    line = one_error_line(runner.invoke(app, [*command, "--database-url", url]))
    assert line == "error: no tenant with id or name 'nosuch' (`bulkbill tenants list` shows them)"


def test_tenants_list_shows_id_name_and_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert json.loads(run("tenants", "list", "--json", "--database-url", url).output) == []
    made = [
        json.loads(run("tenants", "create", name, "--json", "--database-url", url).output)
        for name in ("acme", "Big Co")
    ]
    listed = json.loads(run("tenants", "list", "--json", "--database-url", url).output)
    assert sorted((t["id"], t["name"]) for t in listed) == sorted((t["id"], t["name"]) for t in made)
    assert all(isinstance(t["created"], int) and t["created"] > 0 for t in listed)
    header, *rows = run("tenants", "list", "--database-url", url).output.splitlines()
    assert header.split() == ["ID", "NAME", "CREATED"] and len(rows) == 2
    for tenant in made:
        row = next(row for row in rows if row.startswith(tenant["id"]))
        assert f"  {tenant['name']}  " in row and row.endswith(" UTC")
    # Found by id as well as by name.
    run("tenants", "update", made[1]["id"], "--zuora-version", "196.0", "--database-url", url)


def test_version_is_the_package_version() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert run("--version").output == f"bulkbill {declared}\n"
