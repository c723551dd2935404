"""SQLite's writers queue in order inside a process, instead of busy-waiting on the database lock.

SQLite lets one transaction write at a time. A writer that finds the lock taken sleeps and polls
(the busy handler: 1, 2, 5, 10 ... 100 ms naps); whoever polls at the right moment wins, so under
load some requests wait seconds while later ones pass them. Here every write transaction of the
process first takes its turn in a FIFO queue (one per database file), then BEGIN IMMEDIATE: the
lock passes from one writer to the next in arrival order, and the wait follows the queue length.

Several processes on one SQLite file still meet only at the database lock (and its busy handler);
the queue orders the writers of each process among themselves.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import deque


class FifoLock:
    """A lock granted in the order it was asked for (threading.Lock may wake any waiter, or let a
    newcomer barge in ahead of those waiting)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, timeout: float | None = None) -> bool:
        """Wait for this caller's turn (at most `timeout` seconds, None: no limit); False if it did not come."""
        with self._mutex:
            if not self._held and not self._waiters:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
            return True  # handed over by release(): the lock stayed held throughout
        with self._mutex:
            try:
                self._waiters.remove(turn)
            except ValueError:
                return True  # handed over just as the wait ran out: ours now
            return False

    def release(self) -> None:
        """Hand the lock to the longest waiting caller, or free it when nobody waits."""
        with self._mutex:
            if not self._held:
                raise RuntimeError("release of an unheld FifoLock")
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False

    @property
    def waiting(self) -> int:
        """How many callers wait for the lock (not counting its holder)."""
        with self._mutex:
            return len(self._waiters)


_queues: dict[str, FifoLock] = {}
_queues_mutex = threading.Lock()


def queue_for(path: str) -> FifoLock:
    """The writer queue of one database file, shared by every engine of this process that opens it."""
    key = os.path.realpath(path)
    with _queues_mutex:
        return _queues.setdefault(key, FifoLock())


class QueuedConnection(sqlite3.Connection):
    """A SQLite connection that leaves its writer queue when its transaction ends (commit, rollback,
    close): only then may the next writer begin, so it never meets the lock still held."""

    writer_queue: FifoLock | None = None
    in_queue_turn = False

    def take_turn(self, timeout: float) -> bool:
        """Wait for this connection's turn to write; False when `timeout` seconds passed first."""
        if self.writer_queue is None or self.in_queue_turn:
            return True
        if not self.writer_queue.acquire(timeout):
            return False
        self.in_queue_turn = True
        return True

    def end_turn(self) -> None:
        """Let the next writer in (a no-op when this connection holds no turn)."""
        if self.in_queue_turn and self.writer_queue is not None:
            self.in_queue_turn = False
            self.writer_queue.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.end_turn()
