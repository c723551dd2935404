"""A throw-away PostgreSQL cluster for tests and benchmarks, started with the machine's initdb/pg_ctl.

PostgreSQL refuses to run as root, so as root the binaries run through `runuser -u postgres`
in a directory that user owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def find_pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl, newest version first."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(candidate).parent
    return None


def _free_port() -> int:
    """A port free at this instant; another process may take it before PostgreSQL binds it (start retries)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# PostgreSQL binds its port itself and cannot be handed a socket: when the port was taken between the
# probe and its bind, it is started again on another one.
START_ATTEMPTS = 5


@dataclass
class PgCluster:
    root: Path
    port: int
    bin_dir: Path
    run_as: str | None

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=self.root)

    @classmethod
    def start(cls) -> PgCluster:
        bin_dir = find_pg_bin()
        if bin_dir is None:
            raise PostgresUnavailable("initdb/pg_ctl not found (install the postgresql package)")
        run_as = "postgres" if os.geteuid() == 0 else None
        root = Path(tempfile.mkdtemp(prefix="bulkbill-pg-"))
        if run_as:
            user = pwd.getpwnam(run_as)
            os.chown(root, user.pw_uid, user.pw_gid)
        cluster = cls(root, _free_port(), bin_dir, run_as)
        cluster._run("initdb", "-D", str(root / "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                cluster._start_postmaster()
                return cluster
            except subprocess.CalledProcessError:
                if attempt == START_ATTEMPTS or not cluster._port_was_taken():
                    raise
                cluster.port = _free_port()
        raise AssertionError("unreachable")

    def _start_postmaster(self) -> None:
        (self.root / "log").unlink(missing_ok=True)
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.root / "data"), "-o", opts, "-l", str(self.root / "log"), "-w", "start")

    def _port_was_taken(self) -> bool:
        """Whether the last start failed because the TCP port was in use (PostgreSQL logs why it stopped)."""
        try:
            log = (self.root / "log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
        return "could not bind" in log or "Address already in use" in log

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        import psycopg

        for _ in range(50):
            try:
                with psycopg.connect(
                    f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
                ) as conn:
                    tmpl = f" TEMPLATE {template}" if template else ""
                    conn.execute(f'CREATE DATABASE "{name}"{tmpl}')
                return self.url(name)
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise PostgresUnavailable("could not connect to the test cluster")
