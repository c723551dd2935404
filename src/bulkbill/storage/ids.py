"""Object ids: a type prefix, a time-ordered part and random characters, as Stripe's look.

The time part makes ids sort in creation order (lists are newest first, ties broken by id);
the random part makes them unguessable, so an id never leaks another tenant's objects.
"""

from __future__ import annotations

import secrets
import string
import threading
import time

_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase  # ASCII order
_lock = threading.Lock()
_last = 0


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        chars.append(_ALPHABET[rest])
    return "".join(reversed(chars))


def _tick() -> int:
    global _last
    with _lock:
        now = time.time_ns() // 1000
        _last = now if now > _last else _last + 1
        return _last


def new_id(prefix: str, length: int = 24) -> str:
    """A fresh id such as in_1NuhUa2eZvKYlo2CWYVhyvD9: 9 time-ordered characters, the rest random."""
    width = max(4, length - 9)
    # One call for all the randomness: 6 bytes per 8 base62 characters is ample (62**8 < 256**6).
    random_part = _base62(int.from_bytes(secrets.token_bytes(width)), width)
    return prefix + _base62(_tick(), 9) + random_part
