"""Money, quantities and dates as a customer in a locale reads them (babel's CLDR data).

`de` writes 1.234,56 €, `en` writes €1,234.56; JPY has no minor unit (¥1,235). An unknown or
malformed locale falls back to English rather than failing a document.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from bulkbill.core.money import minor_to_major

DEFAULT_LOCALE = "en"


def choose_locale(preferences: list[str] | tuple[str, ...] | None) -> str:
    """The first preferred locale babel knows (`de-DE` → `de_DE`), else English."""
    for wanted in preferences or ():
        if not isinstance(wanted, str) or not wanted.strip():
            continue
        try:
            return str(Locale.parse(wanted.strip().replace("-", "_")))
        except (ValueError, UnknownLocaleError):
            continue
    return DEFAULT_LOCALE


@dataclass(frozen=True, slots=True)
class Formatter:
    """Formats one document's figures in its currency and locale."""

    currency: str
    locale: str = DEFAULT_LOCALE

    def money(self, minor: int | Decimal) -> str:
        """An amount in minor units, in the currency's own precision (unit prices may show more)."""
        major = minor_to_major(minor, self.currency)
        return format_currency(major, self.currency.upper(), locale=self.locale, currency_digits=True)

    def unit_price(self, minor: Decimal) -> str:
        """A unit price: the currency's precision, or more digits when the price has them."""
        major = minor_to_major(minor, self.currency)
        plain = format_currency(major, self.currency.upper(), locale=self.locale, currency_digits=True)
        exact = format_currency(
            major,
            self.currency.upper(),
            locale=self.locale,
            currency_digits=False,
            format_type="standard",
            decimal_quantization=False,
        )
        return plain if len(exact) <= len(plain) else exact

    def quantity(self, value: Decimal) -> str:
        return format_decimal(value.normalize() if value == value.to_integral() else value, locale=self.locale)

    def date(self, timestamp: int | None) -> str:
        if timestamp is None:
            return ""
        day = dt.datetime.fromtimestamp(timestamp, dt.UTC).date()
        return format_date(day, format="medium", locale=self.locale)
