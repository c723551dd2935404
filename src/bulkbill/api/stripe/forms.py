"""Stripe's bracket form encoding (lines[0][pricing][price]=…) decoded with qs-codec."""

from __future__ import annotations

from typing import Any

import qs_codec

from bulkbill.core.errors import FieldError, InvalidInput

# Enough for 1,000-element lists (well past the 50-line cap) while refusing abusive input.
_OPTIONS = qs_codec.DecodeOptions(
    list_limit=1000, depth=8, strict_depth=True, parameter_limit=10_000, raise_on_limit_exceeded=True
)


def decode_form(raw: bytes | str) -> dict[str, Any]:
    """Decode a form body or query string; indexed and [] arrays become lists, in index order."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    if not text:
        return {}
    try:
        decoded = qs_codec.decode(text, _OPTIONS)
    except (ValueError, IndexError, TypeError, RecursionError) as exc:
        raise InvalidInput([FieldError((), "invalid_request_body", f"Invalid request body: {exc}")]) from exc
    if not isinstance(decoded, dict):
        raise InvalidInput([FieldError((), "invalid_request_body", "Invalid request body.")])
    return decoded
