"""Engines and sessions: SQLite (WAL, foreign keys, immediate write transactions) or PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
import weakref
from typing import Any

from sqlalchemy import Engine, Select, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.pool import StaticPool

from bulkbill.storage import json_codec
from bulkbill.storage.writer_queue import QueuedConnection, queue_for

READ_ONLY = "bulkbill_read_only"


def normalize_url(url: str) -> str:
    """postgres:// and postgresql:// URLs use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def create_db_engine(
    url: str, *, busy_timeout_ms: int = 10_000, pool_size: int = 10, writer_queue: bool = True
) -> Engine:
    """An engine configured for bulkbill's transaction rules on either database (on SQLite, with
    `writer_queue`, the process's writers take turns in arrival order: storage/writer_queue.py)."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout_ms, writer_queue)
    # No server-side prepared statements: a generic plan made before the planner has statistics
    # (a fresh or freshly loaded database) scanned a whole tenant per joined row; custom plans don't.
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"prepare_threshold": None},
        json_deserializer=json_codec.loads,
    )
    _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


# A pooled PostgreSQL connection is pinged before use only when it has been idle this long. SQLAlchemy's
# pool_pre_ping pings on every checkout: one more round trip for every request (a GET's four become
# three), to learn what a connection that answered a moment ago already showed.
PING_AFTER_IDLE_SECONDS = 1.0
_LAST_USED = "bulkbill_last_used"


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection at checkout when it was last returned `idle_seconds` ago or more (a dead
    one, after a database restart say, is then replaced, and the pool's older connections with it)."""

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_LAST_USED, 0.0) < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # As pool_pre_ping does: this connection and every older pooled one are replaced.
            raise sa_exc.InvalidatePoolError(f"ping failed: {error}") from error


# Connections kept open between requests: as many as the server runs request threads (anyio's 40).
SQLITE_POOL_SIZE = 40


def _sqlite_engine(url: str, busy_timeout_ms: int, writer_queue: bool) -> Engine:
    path = make_url(url).database
    memory = path in (None, "", ":memory:")
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "factory": QueuedConnection},
        "json_deserializer": json_codec.loads,
    }
    if memory:
        kwargs["poolclass"] = StaticPool
    else:
        # A SQLite connection costs a file handle, not a server process: every thread that asks gets
        # one at once (overflow unbounded), so the writer queue is the only place a request waits.
        # A bounded pool (SQLAlchemy's default: 5 + 10) made the 16th and later of the server's 40
        # request threads wait for a connection in no order (a returned one goes to whichever thread
        # asks first, not the longest waiting): at 32 clients p99 was ~4x p50.
        kwargs["pool_size"] = SQLITE_POOL_SIZE
        kwargs["max_overflow"] = -1
    engine = create_engine(url, **kwargs)
    # One connection in memory (StaticPool): nothing to queue. A file: its writers queue in order.
    writers = None if memory or path is None or not writer_queue else queue_for(path)
    queue_timeout = busy_timeout_ms / 1000

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.writer_queue = writers
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        # SQLite's default page cache is 2 MB: a bill run inserting into indexes keyed by random ids
        # evicts and re-reads pages all the time. 64 MB per connection (allocated only as used)
        # keeps a chunk's index pages in memory.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Every transaction takes the write lock up front: two writers never deadlock on a
        # read-to-write upgrade. A transaction that only reads may begin without it (see `read_only`).
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        # Writers of this process wait their turn in order (storage/writer_queue.py), not in the busy
        # handler's lottery; the busy timeout still bounds the wait, and other processes' writers.
        dbapi_connection = conn.connection.dbapi_connection
        if not dbapi_connection.take_turn(queue_timeout):
            locked = sqlite3.OperationalError("database is locked")
            raise OperationalError("BEGIN IMMEDIATE", None, locked)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            dbapi_connection.end_turn()
            raise

    return engine


def read_only(session: Session) -> None:
    """Begin the session's transaction as one that only reads: on SQLite without the write lock
    (it neither waits for nor blocks writers); on PostgreSQL an ordinary transaction."""
    session.connection(execution_options={READ_ONLY: True})


_READ_ONLY_ENGINES: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def read_only_engine(engine: Engine) -> Engine:
    """The engine (same pool) whose transactions begin as `read_only` ones: a session bound to it begins
    one only once it reads, and then without SQLite's write lock."""
    ro = _READ_ONLY_ENGINES.get(engine)
    if ro is None:
        ro = _READ_ONLY_ENGINES[engine] = engine.execution_options(**{READ_ONLY: True})
    return ro


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "do_orm_execute", _refresh_locked_rows)
    return factory


def _refresh_locked_rows(state: ORMExecuteState) -> None:
    """A SELECT ... FOR UPDATE overwrites what the session already holds of the rows it locks.

    A row read earlier in the transaction without the lock (a handler looking the invoice up
    before the service locks it) would otherwise keep its old values in the identity map: the
    waiting request then works from a snapshot taken before the request it waited for committed,
    and writes lose that request's changes (or skip them, when a recomputed value equals the
    stale one).
    """
    statement = state.statement
    if state.is_select and isinstance(statement, Select) and statement._for_update_arg is not None:
        state.update_execution_options(populate_existing=True)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
