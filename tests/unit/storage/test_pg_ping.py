"""PostgreSQL connections are pinged before use only after being idle: a dead idle one is replaced,
a busy one costs no extra round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from bulkbill.storage import db
from tests.helpers import new_database_url


@pytest.fixture
def pg_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return new_database_url("postgres", request, tmp_path)


def _engine(url: str, idle_seconds: float, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", idle_seconds)
    return db.create_db_engine(url, pool_size=1)


def _kill_pooled_connection(engine: Engine, admin: Engine) -> None:
    """Terminate the backend of the engine's one pooled connection (as a database restart would)."""
    with engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    with admin.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()


def test_a_connection_idle_past_the_limit_is_pinged_and_replaced_when_dead(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, admin = _engine(pg_url, 0.0, monkeypatch), db.create_db_engine(pg_url)
    try:
        _kill_pooled_connection(engine, admin)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
        admin.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Seen from outside: its backend killed just after its use, the next statement meets the dead
    # connection itself (no ping went first to replace it) and the pool replaces it afterwards.
    engine, admin = _engine(pg_url, 3600.0, monkeypatch), db.create_db_engine(pg_url)
    try:
        _kill_pooled_connection(engine, admin)
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
        admin.dispose()
