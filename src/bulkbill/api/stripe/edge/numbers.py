"""Exact decimals on the wire: Stripe's decimal strings and its JSON-number percentages."""

from __future__ import annotations

from decimal import Decimal


def decimal_string(value: Decimal) -> str:
    """Plain notation without trailing zeros, as Stripe sends decimals: "1500", "12.345"."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def decimal_number(value: Decimal) -> int | float:
    """A JSON number (Stripe's percentages); a float exists only here, at render time."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)
