"""Stripe's bracket form encoding (lines[0][pricing][price]=…) decoded into nested dicts and lists.

Splitting and percent-decoding use the standard library's `parse_qsl`; nesting is one linear pass
here. (qs-codec, the maintained port of JavaScript's `qs`, was used first: its merge step is
quadratic and took 7 ms of a 10 ms budget for a 50-line body, against 0.3 ms for this.)
Indexed (`a[0]`) and empty-bracket (`a[]`) arrays become lists in index order; gaps are compacted.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from bulkbill.api.text_input import refuse_nul
from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput

MAX_DEPTH = 8
MAX_PARAMETERS = 10_000
MAX_INDEX = 9_999
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def _refuse(message: str) -> InvalidInput:
    return InvalidInput([FieldError((), ErrorCode.INVALID_REQUEST_BODY, message)])


def _segments(key: str) -> list[str]:
    bracket = key.find("[")
    if bracket == -1:
        segments = [key]
    else:
        # Fast path for the common, well-formed shape name[a][b]...; anything else goes to the regex.
        segments = [key[:bracket], *key[bracket + 1 : -1].split("][")] if key.endswith("]") else []
        if not segments or not segments[0] or any("[" in p or "]" in p for p in segments):
            match = _KEY.match(key)
            if match is None:
                raise _refuse(f"Invalid parameter name: {key[:80]}")
            segments = [match.group(1), *_SEGMENT.findall(match.group(2))]
    if not segments[0] or "]" in segments[0]:
        raise _refuse(f"Invalid parameter name: {key[:80]}")
    if len(segments) > MAX_DEPTH:
        raise _refuse(f"Parameter nested too deeply: {key[:80]}")
    return segments


class _Node(dict[str, Any]):
    """A container being built; becomes a list when every key is an index."""

    next_auto = 0


def _insert(root: _Node, segments: list[str], value: str) -> None:
    node = root
    for depth, segment in enumerate(segments):
        if segment == "":
            segment = f"{node.next_auto}"
        if segment.isascii() and segment.isdigit():
            if int(segment) > MAX_INDEX:
                raise _refuse(f"Array index too large in {''.join(segments)[:80]}")
            node.next_auto = max(node.next_auto, int(segment) + 1)
        last = depth == len(segments) - 1
        existing = node.get(segment)
        if last:
            if isinstance(existing, _Node):
                raise _refuse(f"Parameter {segments[0]} is given both as a value and as a hash.")
            node[segment] = value
        else:
            if existing is None:
                existing = node[segment] = _Node()
            elif not isinstance(existing, _Node):
                raise _refuse(f"Parameter {segments[0]} is given both as a value and as a hash.")
            node = existing


def _finish(value: Any) -> Any:
    if not isinstance(value, _Node):
        return value
    if value and all(k.isascii() and k.isdigit() for k in value):
        return [_finish(value[k]) for k in sorted(value, key=int)]
    return {k: _finish(v) for k, v in value.items()}


def decode_form(raw: bytes | str) -> dict[str, Any]:
    """Decode a form body or query string into nested dicts and lists (values stay strings)."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    if not text:
        return {}
    try:
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=False, errors="strict", max_num_fields=MAX_PARAMETERS
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise _refuse(f"Invalid request body: {exc}") from exc
    root = _Node()
    for key, value in pairs:
        _insert(root, _segments(key), value)
    result = _finish(root)
    assert isinstance(result, dict)
    refuse_nul(result)
    return result
