"""Rate limiting per API key, shared by both dialects: the `limits` library's moving window.

A request is counted against the credential it carries (a Stripe secret key, a Zuora OAuth token),
identified by its SHA-256 hash; a request without one (Zuora's POST /oauth/token) is counted against
its client address. The rate comes from `settings.rate_limit` ("100/second"; "" or "off" disables
it) and the windows live in `settings.rate_limit_storage_uri` (this process's memory by default).
Each dialect answers a refused request in its own envelope, with a Retry-After header (api/envelope.py).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from bulkbill.config import Settings

DISABLED = frozenset({"", "off", "none", "0", "false", "disabled"})

# (seconds to wait) -> (HTTP status, JSON body) in the dialect's envelope.
Refusal = Callable[[int], tuple[int, dict[str, Any]]]


class RateLimiter:
    """Moving-window limits per identity; `hit` counts a request and says how long to wait if refused."""

    def __init__(self, rate: str, storage_uri: str = "memory://") -> None:
        self.items: list[RateLimitItem] = parse_many(rate)
        storage = storage_from_string(storage_uri)
        if not isinstance(storage, Storage):
            raise ValueError(f"rate_limit_storage_uri must name a synchronous storage, not {storage_uri!r}")
        self.strategy = MovingWindowRateLimiter(storage)
        # A network storage (redis://...) is called from a worker thread, never from the event loop.
        self.in_memory = storage_uri.startswith("memory://")

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter | None:
        if settings.rate_limit.strip().lower() in DISABLED:
            return None
        return cls(settings.rate_limit, settings.rate_limit_storage_uri)

    def hit(self, identity: str) -> float | None:
        """Count one request; None when it may go on, else the seconds until the window lets it."""
        for item in self.items:
            if not self.strategy.hit(item, identity):
                reset = self.strategy.get_window_stats(item, identity).reset_time
                return max(0.0, reset - time.time())
        return None


def identity(scope: Scope) -> str:
    """The hash of the request's credential (Bearer token, or Basic user name), else its client address."""
    credential = ""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, rest = value.decode("latin-1").partition(" ")
            credential = rest.strip()
            if scheme.lower() == "basic":
                with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                    credential = base64.b64decode(credential, validate=True).decode("utf-8").partition(":")[0]
            break
    if credential:
        return "key:" + hashlib.sha256(credential.encode("utf-8", "replace")).hexdigest()
    client = scope.get("client")
    return "addr:" + (str(client[0]) if client else "unknown")


async def over_rate(scope: Scope) -> int | None:
    """Count an HTTP request against its key's rate (settings.rate_limit); None when it may go on, else the
    whole seconds to wait (its Retry-After). Done by each dialect's envelope (api/envelope.py) before any work."""
    limiter: RateLimiter | None = getattr(scope.get("bulkbill_state"), "limiter", None)
    if limiter is None:
        return None
    who = identity(scope)
    wait = limiter.hit(who) if limiter.in_memory else await run_in_threadpool(limiter.hit, who)
    return None if wait is None else max(1, math.ceil(wait))
