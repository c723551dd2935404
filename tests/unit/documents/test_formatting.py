"""Money and dates per currency and locale (babel): what the documents show."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_currency, format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkbill.core.documents.formatting import Formatter, choose_locale
from bulkbill.core.money import minor_to_major


@pytest.mark.parametrize(
    ("currency", "locale", "minor", "shown"),
    [
        ("eur", "de", 123456, "1.234,56\xa0€"),
        ("jpy", "en", 1235, "¥1,235"),
        ("usd", "en", 123456, "$1,234.56"),
        ("usd", "en", -500, "-$5.00"),
        ("eur", "fr", 123456, "1\u202f234,56\xa0€"),
    ],
)
def test_money_follows_the_currency_and_the_locale(currency: str, locale: str, minor: int, shown: str) -> None:
    assert Formatter(currency, locale).money(minor) == shown


def test_a_unit_price_keeps_its_extra_digits() -> None:
    assert Formatter("usd").unit_price(Decimal("12.345")) == "$0.12345"
    assert Formatter("usd").unit_price(Decimal("1500")) == "$15.00"


def test_dates_follow_the_locale() -> None:
    assert Formatter("eur", "de").date(1700000000) == "14.11.2023"
    assert Formatter("usd").date(1700000000) == "Nov 14, 2023"


@pytest.mark.parametrize(
    ("preferences", "chosen"),
    [(None, "en"), ([], "en"), (["de-DE"], "de_DE"), (["xx", "fr"], "fr"), (["", "ja"], "ja"), (["!!"], "en")],
)
def test_the_first_known_preferred_locale_is_chosen(preferences: list[str] | None, chosen: str) -> None:
    assert choose_locale(preferences) == chosen


LOCALES = ["en", "de", "fr", "ja", "en_IN", "de_CH", "ar", "nl", "es", "pl", "sv", "hi"]


@settings(max_examples=300, deadline=None)
@given(
    minor=st.integers(-(10**15), 10**15),
    extra=st.integers(0, 10**6),
    currency=st.sampled_from(["USD", "EUR", "JPY", "KWD", "INR", "CHF"]),
    locale=st.sampled_from(LOCALES),
)
def test_the_fast_formatting_is_babel_s_exactly(minor: int, extra: int, currency: str, locale: str) -> None:
    """Whatever path a locale takes (the checked fast form, or babel), the text is babel's."""
    fmt = Formatter(currency.lower(), locale)
    major = minor_to_major(minor, currency)
    assert fmt.money(minor) == format_currency(major, currency, locale=locale, currency_digits=True)
    unit = Decimal(minor) + Decimal(extra) / 10**6
    expected = format_currency(
        minor_to_major(unit, currency).normalize()
        if unit != unit.to_integral()
        else minor_to_major(int(unit), currency),
        currency,
        locale=locale,
        currency_digits=True,
        decimal_quantization=False,
    )
    assert fmt.unit_price(unit) == expected
    quantity = Decimal(extra) / 1000
    assert fmt.quantity(quantity) == format_decimal(
        quantity.normalize() if quantity != quantity.to_integral() else quantity.quantize(Decimal(1)),
        locale=locale,
        decimal_quantization=False,
    )
