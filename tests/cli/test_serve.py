"""`bulkbill serve` says where it listens, what it serves and where the docs are; then one line per request.

The start-up line is checked as built (address, masked database URL, dialects, docs URLs) and as
printed by a real `bulkbill serve` on a free port (--port 0) with a temporary SQLite database, in
plain and JSON formats, followed by the access line of a request made to it.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bulkbill.cli.main import app as cli
from bulkbill.cli.serve import base_url, masked_database_url, startup_line
from bulkbill.devtools.listener import listening_socket, spawn_serve

CHOICES = {"--log-format": "plain, json", "--log-level": "debug, info, warning, error, critical"}
LINE_WAIT_SECONDS = 90  # only a bound on a hung child; nothing asserts how long anything took


def test_the_startup_line_names_address_database_dialects_and_docs() -> None:
    message, fields = startup_line("127.0.0.1", 8080, "postgresql://bill:hunter2@db.local/bulkbill")
    assert message.startswith("bulkbill listening on http://127.0.0.1:8080, database postgresql://bill:***@db.local/")
    for url in ("http://127.0.0.1:8080/stripe/docs", "http://127.0.0.1:8080/zuora/docs"):
        assert url in message
    assert "Stripe-compatible API at http://127.0.0.1:8080/stripe " in message
    assert "Zuora-compatible API at http://127.0.0.1:8080/zuora " in message
    assert "hunter2" not in message + json.dumps(fields)
    assert fields == {
        "address": "http://127.0.0.1:8080",
        "database": "postgresql://bill:***@db.local/bulkbill",
        "dialects": ["/stripe", "/zuora"],
        "docs": {"stripe": "http://127.0.0.1:8080/stripe/docs", "zuora": "http://127.0.0.1:8080/zuora/docs"},
    }


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite:///bulkbill.db", "sqlite:///bulkbill.db"),
        ("postgresql://bill@db/b", "postgresql://bill@db/b"),
        ("postgresql://bill:s3cr%40t@db:5433/b", "postgresql://bill:***@db:5433/b"),
        (
            "postgresql://db/b?user=bill&password=s3cret&sslmode=require",
            "postgresql://db/b?password=***&sslmode=require&user=bill",  # SQLAlchemy sorts the query
        ),
        ("not-a-url://bill:s3cret@host/x", "not-a-url://bill:***@host/x"),
    ],
)
def test_database_passwords_are_masked(url: str, shown: str) -> None:
    assert masked_database_url(url) == shown


def test_a_wildcard_bind_is_shown_at_loopback() -> None:
    assert base_url("0.0.0.0", 80) == "http://127.0.0.1:80"
    assert base_url("::", 80) == "http://[::1]:80"
    assert base_url("192.0.2.7", 8080) == "http://192.0.2.7:8080"


def test_an_unknown_log_format_or_level_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    for option, value in (("--log-format", "xml"), ("--log-level", "loud")):
        database = f"sqlite:///{tmp_path}/x.db"
        done = CliRunner().invoke(cli, ["serve", option, value, "--database-url", database])
        assert done.exit_code == 2, done.output
        assert done.output.strip() == f"error: {option} must be one of {CHOICES[option]}, not {value!r}"
        assert not (tmp_path / "x.db").exists()


@contextmanager
def serving(tmp_path: Path, *options: str, sock: socket.socket | None = None) -> Iterator[queue.Queue[str]]:
    """`bulkbill serve` (on a free port it picks, or on `sock`) with a temporary SQLite database; yields its
    output lines.

    On leaving, the server is stopped and everything it printed is in the queue."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULKBILL_")}
    database = f"sqlite:///{tmp_path}/s.db"
    pipe = subprocess.PIPE
    if sock is None:
        command = [sys.executable, "-m", "bulkbill", "serve", "--port", "0", "--database-url", database, *options]
        process = subprocess.Popen(command, env=env, stdout=pipe, stderr=subprocess.STDOUT, text=True)
    else:
        args = ("--database-url", database, *options)
        process = spawn_serve(sock, *args, env=env, stdout=pipe, stderr=subprocess.STDOUT, text=True)
    with read_lines(process) as lines:
        try:
            yield lines
        finally:
            process.terminate()
            process.wait(timeout=LINE_WAIT_SECONDS)


@contextmanager
def read_lines(process: subprocess.Popen[str]) -> Iterator[queue.Queue[str]]:
    """The process's output lines as they come; on leaving (the process stopped), all of them are in."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield lines
    finally:
        reader.join(timeout=LINE_WAIT_SECONDS)


def test_serve_prints_the_startup_line_then_one_access_line_per_request(tmp_path: Path) -> None:
    with serving(tmp_path) as lines:
        first = lines.get(timeout=LINE_WAIT_SECONDS)
        assert " INFO bulkbill.serve: bulkbill listening on http://127.0.0.1:" in first, first
        address = first.split("listening on ", 1)[1].split(",", 1)[0]
        assert f"database sqlite:///{tmp_path}/s.db" in first
        assert f"(docs {address}/stripe/docs)" in first and f"(docs {address}/zuora/docs)" in first
        response = httpx.get(address + "/zuora/docs")
        assert response.status_code == 200
        access = lines.get(timeout=LINE_WAIT_SECONDS)
        assert " INFO bulkbill.access: GET /zuora/docs 200 " in access, access
        assert f"request_id={response.headers['zuora-request-id']} tenant=-" in access
    rest = [lines.get_nowait() for _ in range(lines.qsize())]
    assert not [line for line in rest if "/zuora/docs" in line], f"uvicorn's own access log is on: {rest}"


def test_serve_logs_json_when_asked(tmp_path: Path) -> None:
    with serving(tmp_path, "--log-format", "json") as lines:
        first = json.loads(lines.get(timeout=LINE_WAIT_SECONDS))
        assert first["logger"] == "bulkbill.serve" and first["level"] == "INFO"
        address = first["address"]
        assert first["docs"] == {"stripe": f"{address}/stripe/docs", "zuora": f"{address}/zuora/docs"}
        response = httpx.get(address + "/stripe/openapi.json")
        assert response.status_code == 200
        access = json.loads(lines.get(timeout=LINE_WAIT_SECONDS))
        assert {k: access[k] for k in ("logger", "method", "path", "status", "request_id", "tenant_id")} == {
            "logger": "bulkbill.access",
            "method": "GET",
            "path": "/stripe/openapi.json",
            "status": 200,
            "request_id": response.headers["request-id"],
            "tenant_id": None,
        }


def test_log_level_warning_keeps_requests_out_of_the_log(tmp_path: Path) -> None:
    # Nothing is printed to learn the port from: the test binds it and the server inherits the socket.
    with listening_socket() as sock, serving(tmp_path, "--log-level", "warning", sock=sock) as lines:
        port = sock.getsockname()[1]
        deadline = time.monotonic() + LINE_WAIT_SECONDS
        while not _answers(f"http://127.0.0.1:{port}/healthz"):
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        assert httpx.get(f"http://127.0.0.1:{port}/stripe/docs").status_code == 200
    printed = [lines.get_nowait() for _ in range(lines.qsize())]
    assert not [line for line in printed if " INFO " in line], printed


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.HTTPError:
        return False
