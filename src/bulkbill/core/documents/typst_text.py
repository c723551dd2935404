"""Values written into typst source as literals, so no user text is ever read as markup or code.

Every string becomes a typst string literal ("..."): inside one, `$`, `#`, `[`, `]`, `*`, `_`,
backticks, `@` and `<` are plain characters; only the backslash, the double quote and control
characters need escapes. Text shown with `#value` is then set verbatim.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def typst_string(text: str) -> str:
    """A typst string literal showing `text` exactly (escapes \\ and ", and every control character)."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def typst_value(value: object) -> str:
    """A typst literal for a Python value: str, int, Decimal (as a string), bool, None, list, dict."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return typst_string(str(value))
    if isinstance(value, str):
        return typst_string(value)
    if isinstance(value, Mapping):
        if not value:
            return "(:)"
        return "(" + ", ".join(f"{typst_string(str(k))}: {typst_value(v)}" for k, v in value.items()) + ")"
    if isinstance(value, Sequence):
        items = [typst_value(v) for v in value]
        # A one-element array needs its trailing comma, or typst reads a parenthesized value.
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    raise TypeError(f"no typst literal for {type(value).__name__}")
