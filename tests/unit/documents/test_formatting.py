"""Money and dates per currency and locale (babel): what the documents show."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bulkbill.core.documents.formatting import Formatter, choose_locale


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
