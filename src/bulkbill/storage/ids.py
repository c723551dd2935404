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


# Random bytes below 248 map evenly onto the 62 characters (248 = 4 × 62); the rest are dropped.
_UNIFORM = bytes(ord(_ALPHABET[b % 62]) for b in range(248)) + bytes(8)
_DROPPED = bytes(range(248, 256))
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # every 2-character base62 string, in order


def _random_chars(count: int) -> str:
    out = b""
    while len(out) < count:
        missing = count - len(out)
        out += secrets.token_bytes(missing + missing // 16 + 8).translate(_UNIFORM, _DROPPED)
    return out[:count].decode("ascii")


def new_ids(prefix: str, count: int, length: int = 24) -> list[str]:
    """`count` fresh ids at once, exactly as `new_id` makes them (and in creation order), for bulk writes."""
    global _last
    width = max(4, length - 9)
    with _lock:
        now = time.time_ns() // 1000
        first = now if now > _last else _last + 1
        _last = first + count - 1
    randomness = _random_chars(width * count)
    high, low = divmod(first, len(_PAIRS))
    head = prefix + _base62(high, 7)
    out = []
    for i in range(0, width * count, width):
        out.append(head + _PAIRS[low] + randomness[i : i + width])
        low += 1
        if low == len(_PAIRS):
            high, low = high + 1, 0
            head = prefix + _base62(high, 7)
    return out
