"""Background delivery waits for a quiet moment: no API call in flight for a settle time, bounded."""

from __future__ import annotations

import threading
import time

from bulkbill.services.platform.activity import SETTLE_SECONDS, Activity


def test_quiet_waits_for_the_calls_in_flight_and_the_settle_time() -> None:
    activity = Activity()
    assert activity.wait_for_quiet(0)  # a sender that does not yield never waits
    started = threading.Event()
    release = threading.Event()

    def call() -> None:
        with activity.call_in_flight():
            started.set()
            release.wait(5)

    thread = threading.Thread(target=call)
    thread.start()
    started.wait(5)
    assert activity.calls_in_flight == 1
    begun = time.monotonic()
    assert not activity.wait_for_quiet(0.05)  # bounded: a steady stream of calls does not stop delivery
    assert time.monotonic() - begun >= 0.05
    begun = time.monotonic()  # before the timer starts: it releases the call at least 0.05 s after this
    threading.Timer(0.05, release.set).start()
    assert activity.wait_for_quiet(5)
    waited = time.monotonic() - begun
    thread.join()
    # Quiet came after the call ended, plus the settle time, not before.
    assert waited >= 0.05 + SETTLE_SECONDS * 0.9
    assert activity.calls_in_flight == 0
