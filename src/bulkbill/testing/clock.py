"""Stripe test clocks for tests: create one, put customers in it, move it forward and wait until it is ready.

bulkbill advances a clock inside the `advance` request; Stripe does it in the background (`advancing`,
then `ready`). `Clock.advance` waits for `ready` either way, so a test written against bulkbill runs
unchanged against Stripe's test mode.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

READY = "ready"
ADVANCE_TIMEOUT_SECONDS = 120.0
POLL_SECONDS = 0.05


class ClockFailed(RuntimeError):
    """A clock ended in `internal_failure`, or did not come back to `ready` in time."""


def unix_time(moment: int | datetime) -> int:
    """Seconds since the epoch; a naive datetime is refused (a test clock's time must not depend on the machine)."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError(f"a test clock needs an aware datetime (tzinfo=UTC), not {moment!r}")
        return int(moment.timestamp())
    return int(moment)


@dataclass
class Clock:
    """One test clock of a StripeClient's account."""

    client: Any
    id: str
    frozen_time: int

    def customer(self, **params: Any) -> Any:
        """A customer living in this clock (its subscriptions renew as the clock moves)."""
        return self.client.v1.customers.create({**params, "test_clock": self.id})

    def advance(
        self, to: int | datetime | None = None, *, days: float = 0, hours: float = 0, seconds: float = 0
    ) -> Any:
        """Move the clock to `to`, or forward by the given amount, and return it once `ready` again."""
        step = timedelta(days=days, hours=hours, seconds=seconds)
        if (to is None) == (not step):
            raise ValueError("advance(to=...) or advance(days=/hours=/seconds=...), one of the two")
        target = unix_time(to) if to is not None else self.frozen_time + int(step.total_seconds())
        clock = self.client.v1.test_helpers.test_clocks.advance(self.id, {"frozen_time": target})
        deadline = time.monotonic() + ADVANCE_TIMEOUT_SECONDS
        while clock.status != READY:
            if clock.status == "internal_failure" or time.monotonic() > deadline:
                raise ClockFailed(f"test clock {self.id} is {clock.status!r} after advancing to {target}")
            time.sleep(POLL_SECONDS)
            clock = self.client.v1.test_helpers.test_clocks.retrieve(self.id)
        self.frozen_time = clock.frozen_time
        return clock


@dataclass
class Clocks:
    """The `bulkbill_clock` fixture: makes test clocks on one StripeClient."""

    client: Any

    def create(self, frozen_time: int | datetime, name: str | None = None) -> Clock:
        """A new clock, ready, frozen at `frozen_time` (an epoch second or an aware datetime)."""
        params: dict[str, Any] = {"frozen_time": unix_time(frozen_time)}
        if name is not None:
            params["name"] = name
        made = self.client.v1.test_helpers.test_clocks.create(params)
        return Clock(self.client, made.id, made.frozen_time)
