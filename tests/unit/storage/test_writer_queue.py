"""The SQLite writer queue: the lock goes to its waiters in the order they asked; a wait that runs out
leaves the queue without blocking it; and one database file has one queue however many engines open it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from bulkbill.storage.db import create_db_engine
from bulkbill.storage.writer_queue import FifoLock, QueuedConnection, queue_for

WAIT = 30.0  # only a bound on a hung thread; nothing asserts how long anything took


def _queue_up(lock: FifoLock, count: int, order: list[int]) -> list[threading.Thread]:
    """`count` threads asking for `lock` one after another (each once the previous one waits)."""
    threads = []
    for n in range(count):

        def take(n: int = n) -> None:
            assert lock.acquire(WAIT)
            order.append(n)
            lock.release()

        thread = threading.Thread(target=take)
        thread.start()
        threads.append(thread)
        _wait_for_waiters(lock, n + 1)
    return threads


def _wait_for_waiters(lock: FifoLock, count: int) -> None:
    done = threading.Event()
    while lock.waiting < count:
        done.wait(0.001)


def test_waiters_get_the_lock_in_the_order_they_asked() -> None:
    lock = FifoLock()
    assert lock.acquire()
    order: list[int] = []
    threads = _queue_up(lock, 12, order)
    lock.release()
    for thread in threads:
        thread.join(WAIT)
    assert order == list(range(12))
    assert lock.acquire(0) and lock.waiting == 0


def test_a_wait_that_runs_out_leaves_the_queue() -> None:
    lock = FifoLock()
    assert lock.acquire()
    assert not lock.acquire(0.01)
    assert lock.waiting == 0
    order: list[int] = []
    threads = _queue_up(lock, 2, order)
    lock.release()
    for thread in threads:
        thread.join(WAIT)
    assert order == [0, 1]


def test_release_of_a_free_lock_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        FifoLock().release()


def test_one_database_file_has_one_queue(tmp_path: Path) -> None:
    assert queue_for(str(tmp_path / "a.db")) is queue_for(str(tmp_path / "." / "a.db"))
    assert queue_for(str(tmp_path / "a.db")) is not queue_for(str(tmp_path / "b.db"))


def test_a_write_transaction_holds_its_turn_until_it_ends(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path}/w.db")
    queue = queue_for(str(tmp_path / "w.db"))
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (n INTEGER)"))
            raw = conn.connection.dbapi_connection
            assert isinstance(raw, QueuedConnection) and raw.in_queue_turn
            assert not queue.acquire(0)  # the turn is taken for the whole transaction
        assert queue.acquire(0)  # committed: the turn is free again
        queue.release()
        with pytest.raises(ZeroDivisionError), engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            raise ZeroDivisionError
        assert queue.acquire(0)  # rolled back: free again
        queue.release()
    finally:
        engine.dispose()


def test_more_writers_than_a_default_pool_still_queue_in_the_order_they_asked(tmp_path: Path) -> None:
    # 30 threads (the server runs up to 40 requests at once) each write once. Behind a bounded pool
    # (SQLAlchemy's default 5 + 10) the 16th would wait for a connection outside the queue, in no order.
    writers = 30
    engine = create_db_engine(f"sqlite:///{tmp_path}/p.db")
    queue = queue_for(str(tmp_path / "p.db"))
    order: list[int] = []
    threads: list[threading.Thread] = []
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (n INTEGER)"))
        with engine.begin() as holder:  # every writer below queues behind this transaction
            holder.execute(text("INSERT INTO t VALUES (-1)"))
            for n in range(writers):

                def write(n: int = n) -> None:
                    with engine.begin() as conn:
                        order.append(n)
                        conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

                thread = threading.Thread(target=write, daemon=True)
                thread.start()
                threads.append(thread)
                deadline = threading.Event()
                for _ in range(int(WAIT / 0.001)):
                    if queue.waiting > n:
                        break
                    deadline.wait(0.001)
                assert queue.waiting == n + 1, f"writer {n} never reached the queue"
        for thread in threads:
            thread.join(WAIT)
        assert order == list(range(writers))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == writers + 1
    finally:
        engine.dispose()
