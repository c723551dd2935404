"""Money rules: integers in minor units, unit prices as exact decimals, one rounding policy.

Amounts are integers in the currency's minor unit (cents). Unit prices and quantities are
unrounded Decimals; turning price × quantity into an amount rounds once, half away from zero
(ROUND_HALF_UP in Python's decimal module), per line. Totals are sums of rounded line amounts,
so a total always equals the sum of what the lines show. Spreading an amount over lines uses
`allocate` (largest remainder), whose parts always sum to the whole. Floats are refused.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from babel.numbers import get_currency_precision

from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput, Path, RuleViolation

# Stripe's unit_amount_decimal allows 12 decimal places; Zuora allows 9.
MAX_UNIT_PRICE_PLACES = 12

# Limits (README, "Limits"). Every amount a client sends or a line computes (an amount, a unit price,
# unit price × quantity, a coupon's amount_off, a customer's balance) is at most MAX_AMOUNT minor
# units in absolute value (10 billion USD); a quantity at most MAX_QUANTITY. A document holds at most
# 1,000 items with 10 discounts each, so its sums stay near MAX_TOTAL; every stored sum (a document's
# totals, discounts and taxes, a customer's balance) is checked against it (check_total), so nothing
# can approach a BIGINT column's 9.2 × 10^18.
MAX_AMOUNT = 10**12
MAX_QUANTITY = 10**12 - 1
MAX_TOTAL = 10**15
AMOUNT_TOO_LARGE = ErrorCode.AMOUNT_TOO_LARGE


def amount_limit_message(limit: int = MAX_AMOUNT) -> str:
    """The refusal of a value past a limit, naming the limit."""
    return f"This value must be between -{limit} and {limit} (minor units)."


def check_total(value: int, path: Path = (), *, what: str = "A total") -> int:
    """A computed sum that is stored stays within ±MAX_TOTAL: past it, invalid input (never an overflow)."""
    if abs(value) > MAX_TOTAL:
        message = f"{what} would be {value} minor units, past the limit of {MAX_TOTAL} in absolute value."
        raise InvalidInput([FieldError(path, AMOUNT_TOO_LARGE, message)])
    return value


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in minor units of one currency."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError("Money.minor must be an int (minor units), never a float")

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise RuleViolation(f"Currency mismatch: {self.currency} and {other.currency}")
        return Money(self.minor + other.minor, self.currency)


_WHOLE = Decimal(1)


def round_half_up(value: Decimal) -> int:
    """Round to a whole minor unit, ties away from zero (symmetric for negatives)."""
    if not isinstance(value, Decimal):
        raise TypeError("round_half_up takes a Decimal")
    return int(value.quantize(_WHOLE, rounding=ROUND_HALF_UP))


def line_amount(unit_amount: Decimal, quantity: Decimal) -> int:
    """A line's amount is unit price × quantity, rounded once to a minor unit."""
    return round_half_up(unit_amount * quantity)


def truncate(value: Decimal) -> int:
    """Whole part toward zero: Stripe's `quantity` for a `quantity_decimal`."""
    return int(value.to_integral_value(rounding=ROUND_DOWN))


@functools.lru_cache(maxsize=512)  # babel's lookup costs microseconds; bulk calls convert thousands of amounts
def currency_exponent(currency: str) -> int:
    """ISO 4217 minor-unit exponent of a currency (USD 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(currency.upper()))


def is_known_currency(currency: str) -> bool:
    """A currency is known when it is three ASCII letters that babel lists."""
    from babel.numbers import list_currencies

    return len(currency) == 3 and currency.isascii() and currency.upper() in list_currencies()


def major_to_minor(amount: Decimal, currency: str) -> Decimal:
    """Convert a major-unit decimal (Zuora's 10.50 USD) to unrounded minor units (1050)."""
    return amount.scaleb(currency_exponent(currency))


def minor_to_major(minor: int | Decimal, currency: str) -> Decimal:
    """Convert minor units to a major-unit decimal with the currency's places."""
    exponent = currency_exponent(currency)
    value = Decimal(minor).scaleb(-exponent)
    return value.quantize(Decimal(1).scaleb(-exponent)) if isinstance(minor, int) else value


def places(value: Decimal) -> int:
    """Number of fractional digits a Decimal carries (0 for integers)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return 0  # normalize() never lowers a non-negative exponent; it costs ~10x the check (every priced line)
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


# The number syntax of both wire formats: ASCII digits only. Python's int() and Decimal() also take
# "1_000", surrounding spaces and any Unicode digit ("١٢٣"), which no client means as a number.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DECIMAL_WITH_EXPONENT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Longer numbers are refused unread: int() of thousands of digits is slow, and no bound needs them.
MAX_NUMBER_TEXT = 100


def parse_integer(text: str) -> int | None:
    """An integer written in ASCII digits with an optional sign, or None for anything else."""
    if len(text) > MAX_NUMBER_TEXT or _INTEGER.fullmatch(text) is None:
        return None
    return int(text)


def parse_decimal(text: str, *, exponent: bool = True) -> Decimal | None:
    """A finite Decimal written in ASCII digits (`-12.50`, with `exponent` also `1.5E+3`), or None."""
    pattern = _DECIMAL_WITH_EXPONENT if exponent else _DECIMAL
    if len(text) > MAX_NUMBER_TEXT or pattern.fullmatch(text) is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # an exponent past what the decimal module represents (1E+99999999999999999999)
        return None


def allocate(total: int, weights: Sequence[int | Decimal]) -> list[int]:
    """Split `total` in proportion to `weights` so the parts sum exactly to `total`.

    Largest-remainder method: floor every share, then hand the leftover units to the
    largest fractional remainders (earliest index first on ties).
    """
    if not weights:
        return []
    # Exact rationals: Decimal division rounds to the context precision, which misranks
    # remainders that differ by less than 1e-12 once amounts reach the trillions.
    exact_weights = [Fraction(w) for w in weights]
    weight_sum = sum(exact_weights, Fraction(0))
    if weight_sum == 0:
        return [0] * len(weights)
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    exact = [magnitude * w / weight_sum for w in exact_weights]
    floors = [math.floor(e) for e in exact]
    leftover = magnitude - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    return [sign * f for f in floors]
