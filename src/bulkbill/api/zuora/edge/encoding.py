"""Zuora response bodies as JSON text, amounts (Decimals) as JSON numbers with their exact digits.

Zuora's wire carries amounts and unit prices as JSON numbers. A Decimal goes out as its own digits
(`99999999.999999999`), never through float (which would send `100000000.0`): an integral one as
an integer, any other with its trailing zeros dropped (`33.50` → `33.5`, as before). orjson writes
the body (several times faster than the json module) and takes each Decimal's text as a Fragment.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

_INT64 = range(-(2**63), 2**64)  # the integers orjson writes itself


def dumps(body: dict[str, Any]) -> str:
    """The body as compact JSON text."""
    try:
        return orjson.dumps(body, default=_exact).decode()
    except orjson.JSONEncodeError:
        # An integer past 64 bits (a custom field's value, say) or a non-string key: rare, walk it first.
        return orjson.dumps(_wide(body), default=_exact, option=orjson.OPT_NON_STR_KEYS).decode()


def _exact(value: Any) -> orjson.Fragment:
    if isinstance(value, Decimal) and value.is_finite():
        if value == value.to_integral_value():
            return orjson.Fragment(str(int(value)))
        return orjson.Fragment(format(value.normalize(), "f"))
    raise TypeError(f"not JSON serialisable: {value!r:.40}")


def _wide(value: Any) -> Any:
    """The value with integers orjson cannot write as Fragments of their digits."""
    if isinstance(value, dict):
        return {key: _wide(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_wide(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        return orjson.Fragment(str(value))
    return value
