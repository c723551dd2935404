"""API calls in flight in this process, so that background work (webhook delivery) can yield to them.

`bulkbill serve` delivers webhooks from a thread of the process that answers calls: on two cores a
delivery backlog (a 50-line bulk call tells 51 events: 153 deliveries with 3 endpoints) would take the
CPU, the GIL and SQLite's write lock from the calls that made it. The calls come first: a sender waits
for a quiet moment before each transaction and each delivery, at most a bounded time, so under a
steady stream of calls deliveries still go out (slower), and in any pause they go at full speed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

# Quiet means no call in flight for this long: a client's next call follows its last answer within a
# millisecond or two, and a delivery started in that gap would run beside the next call.
SETTLE_SECONDS = 0.01


class Activity:
    """A count of calls in flight and when the last one was answered."""

    def __init__(self) -> None:
        self._quiet = threading.Condition()
        self._in_flight = 0
        self._last_answered = 0.0

    @contextlib.contextmanager
    def call_in_flight(self) -> Iterator[None]:
        """Count one API call for as long as the block runs."""
        with self._quiet:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._quiet:
                self._in_flight -= 1
                self._last_answered = time.monotonic()
                if self._in_flight == 0:
                    self._quiet.notify_all()

    def wait_for_quiet(self, timeout: float) -> bool:
        """Wait until no call has been in flight for SETTLE_SECONDS, at most `timeout` seconds; True if so."""
        if timeout <= 0:
            return True
        deadline = time.monotonic() + timeout
        with self._quiet:
            while True:
                now = time.monotonic()
                if self._in_flight == 0 and now - self._last_answered >= SETTLE_SECONDS:
                    return True
                if now >= deadline:
                    return False
                # Woken when the last call ends; otherwise look again once the settle time may have passed.
                self._quiet.wait(min(deadline - now, SETTLE_SECONDS))

    @property
    def calls_in_flight(self) -> int:
        """How many API calls are being answered now."""
        with self._quiet:
            return self._in_flight


# The process's calls: counted by the API's outermost layer, waited on by serve's webhook sender.
API_CALLS = Activity()
