"""Text as both dialects read it: the NUL character (U+0000) is refused where it is read.

PostgreSQL cannot store NUL in text while SQLite keeps it, so without this one rule the same request
would be stored on one database and refused on the other (with a misleading "out of range"). No Stripe
or Zuora field has a use for it. Bodies are checked by each dialect's decoder (Stripe forms, Zuora
JSON and forms) with `refuse_nul`; URLs (path and query string) with `url_nul`, before routing,
for every route of a dialect at once (by its envelope, api/envelope.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Scope

from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput, Path

NUL = "\x00"
INVALID_CHARACTERS = ErrorCode.INVALID_CHARACTERS
MESSAGE = "Invalid string: text must not contain the NUL character (U+0000)."


def nul_path(value: Any, root: Path = ()) -> Path | None:
    """Where the first NUL is in decoded input (a key or a string, in nested dicts and lists), or None."""
    stack: list[tuple[Any, Path]] = [(value, root)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if NUL in node:
                return path
        elif isinstance(node, dict):
            for key, child in reversed(list(node.items())):
                if isinstance(key, str) and NUL in key:
                    return (*path, key)
                stack.append((child, (*path, key)))
        elif isinstance(node, list):
            stack.extend((child, (*path, i)) for i, child in reversed(list(enumerate(node))))
    return None


def nul_refusal(path: Path) -> InvalidInput:
    return InvalidInput([FieldError(path, INVALID_CHARACTERS, MESSAGE)])


def refuse_nul(value: Any, root: Path = ()) -> None:
    """Refuse decoded input holding a NUL anywhere, naming the parameter it is in."""
    path = nul_path(value, root)
    if path is not None:
        raise nul_refusal(path)


def url_nul(scope: Scope) -> Path | None:
    """Where a NUL is in the request's URL: () in the path, (name,) in a query parameter; None without one.
    Checked by each dialect's envelope (api/envelope.py) before routing."""
    if NUL in scope.get("path", ""):
        return ()
    query = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if NUL in key or NUL in value:
            return (key,)
    return ()
