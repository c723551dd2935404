"""When a failed delivery is tried again, when it is given up, and when its endpoint is disabled."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeliveryStatus(StrEnum):
    """A delivery is pending until the receiver answers 2xx (succeeded) or its retries run out (failed)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: `first_delay * 2**(attempt-1)`, at most `max_delay`, for `give_up_after` seconds."""

    first_delay: float
    max_delay: float
    give_up_after: float
    disable_after_failures: int

    def after_failure(self, *, attempts: int, first_attempt_at: float, now: float) -> float | None:
        """When to try again after the `attempts`-th failed attempt, or None: give the delivery up."""
        delay: float = min(self.first_delay * float(1 << max(0, attempts - 1)), self.max_delay)
        if now + delay - first_attempt_at > self.give_up_after:
            return None
        return float(now + delay)

    def disables(self, consecutive_failures: int) -> bool:
        """An endpoint that failed this many attempts in a row, with no success between, is disabled (0: never)."""
        return 0 < self.disable_after_failures <= consecutive_failures
