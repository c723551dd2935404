"""Zuora amounts are major-unit decimals (10.50 USD); the core keeps minor units. Convert here only."""

from __future__ import annotations

from decimal import Decimal

from bulkbill.core.money import major_to_minor, minor_to_major


def to_minor(amount: Decimal, currency: str) -> Decimal:
    """10.50 USD → 1050 (unrounded: unit prices stay exact, amounts are rounded by the core)."""
    return major_to_minor(amount, currency)


def to_major(minor: int | Decimal, currency: str) -> Decimal:
    """1050 → 10.50 USD, with the currency's decimal places for amounts."""
    return minor_to_major(minor, currency)
