"""Bring a database to the newest schema with Alembic; open a database for a command, or say why not."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from bulkbill.storage.db import create_db_engine, normalize_url

MIGRATIONS = Path(__file__).with_name("migrations")
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
URL_EXAMPLES = "e.g. sqlite:///bulkbill.db or postgresql://USER@HOST/DB"


class DatabaseUnavailable(Exception):
    """The database URL is malformed or names a database bulkbill cannot use, or the database cannot be opened."""


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


# Held (PostgreSQL, for the migration's transaction) while migrating: servers starting together on one
# database (pytest-xdist workers, a rolling restart) migrate one after the other; the later ones find
# the schema current and change nothing. SQLite's write lock already does this.
MIGRATION_LOCK = 0x62756C6B  # "bulk"


def upgrade(engine: Engine, to: str = "heads") -> None:
    """Apply every pending migration, or those up to revision `to` (idempotent; safe to run at every start,
    by several processes at once)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, to)


def open_migrated(url: str, *, busy_timeout_ms: int = 10_000) -> Engine:
    """An engine on a reachable database brought to the newest schema; DatabaseUnavailable (one line) if not."""
    parsed = _parse(url)
    shown = parsed.render_as_string(hide_password=True)
    try:
        engine = create_db_engine(url, busy_timeout_ms=busy_timeout_ms)
    except (NoSuchModuleError, ImportError) as exc:  # a backend SQLAlchemy knows but whose driver is missing
        raise DatabaseUnavailable(f"cannot use database URL {shown!r}: {_first_line(exc)}") from None
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        engine.dispose()
        raise DatabaseUnavailable(f"cannot open database {shown}: {_reason(exc, parsed)}") from None
    try:
        upgrade(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise DatabaseUnavailable(f"cannot migrate database {shown}: {_reason(exc, parsed)}") from None
    return engine


def _parse(url: str) -> URL:
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        raise DatabaseUnavailable(f"not a database URL: {url!r} ({URL_EXAMPLES})") from None
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise DatabaseUnavailable(
            f"cannot use database URL {url!r}: bulkbill runs on SQLite or PostgreSQL, "
            f"not {parsed.get_backend_name()!r} ({URL_EXAMPLES})"
        )
    return make_url(url)


def _reason(exc: DBAPIError, url: URL) -> str:
    reason = _first_line(exc.orig) if exc.orig is not None else _first_line(exc)
    if url.get_backend_name() == "sqlite" and url.database and "unable to open" in reason:
        folder = Path(url.database).resolve().parent
        reason += f" (is {folder} a folder bulkbill can write to?)"
    return reason


def _first_line(exc: BaseException) -> str:
    """Drivers explain on several lines (psycopg adds a hint, SQLAlchemy a link): the first says what is wrong."""
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
