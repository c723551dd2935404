"""The harness tools own their ports: no other process can take one between a probe and the server's bind."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest
import requests

import bulkbill.devtools.pg_cluster as pg_cluster
from bulkbill.devtools.listener import listening_socket, spawn_serve
from bulkbill.devtools.pg_cluster import PgCluster, PostgresUnavailable


def _healthz(port: int) -> int:
    return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=60).status_code


def _bindable(port: int) -> bool:
    """Whether another process could take the port now."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_serve_keeps_the_harness_socket_across_a_restart(tmp_path: Path) -> None:
    # given a socket the harness bound, and the server started on it
    sock = listening_socket()
    port = sock.getsockname()[1]
    env = {**os.environ, "BULKBILL_DATABASE_URL": f"sqlite:///{tmp_path / 'fd.db'}"}
    try:
        for _ in range(2):
            server = spawn_serve(sock, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            try:
                # then it answers on that port (a call made before it is ready waits in the queue)
                assert _healthz(port) == 200
            finally:
                server.kill()
                server.wait()
            # and after a kill the port is still the harness's: nobody else can take it before the restart
            assert not _bindable(port)
    finally:
        sock.close()


def test_the_cluster_moves_to_another_port_when_its_port_was_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a port that another process takes between the probe and PostgreSQL's bind
    holder = listening_socket()
    taken = holder.getsockname()[1]
    probes = iter([taken])
    free_port = pg_cluster._free_port
    monkeypatch.setattr(pg_cluster, "_free_port", lambda: next(probes, None) or free_port())
    try:
        try:
            cluster = PgCluster.start()
        except PostgresUnavailable as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL is required in CI: {exc}")
            pytest.skip(f"PostgreSQL not available: {exc}")
        # then it started on another port, and serves there
        try:
            assert cluster.port != taken
            assert cluster.create_database("bb_moved").endswith(f":{cluster.port}/bb_moved")
        finally:
            cluster.stop()
    finally:
        holder.close()


def test_stripe_coverage_compares_the_sdk_with_the_served_parameters() -> None:
    from bulkbill.devtools.stripe_coverage import coverage

    rows = {(r.operation.verb, r.operation.path): r for r in coverage()}
    assert len(rows) >= 50  # every SDK operation bulkbill routes is matched to its route
    create = rows[("post", "/v1/customers")]
    assert {"email", "name", "metadata", "invoice_prefix"} <= create.recognised
    assert create.recognised <= create.declared and "api_key" not in create.declared  # request options left out
    assert rows[("post", "/v1/invoices/{invoice}/add_lines")].recognised >= {"lines"}
