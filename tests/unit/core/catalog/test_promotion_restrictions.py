"""A promotion code's restrictions: first-time customers only, and a minimum subtotal per currency."""

from __future__ import annotations

import pytest

from bulkbill.core.catalog.promotion_restrictions import (
    FIRST_TIME_MESSAGE,
    PromotionRestrictions,
    first_time_problem,
    minimum_amount_problem,
)

STORED = {
    "first_time_transaction": True,
    "minimum_amount": 1000,
    "minimum_amount_currency": "usd",
    "currency_options": {"eur": {"minimum_amount": 800}},
}


def test_first_time_codes_refuse_customers_who_purchased() -> None:
    restricted = PromotionRestrictions.stored(STORED)
    assert first_time_problem(restricted, customer_has_purchased=True) == FIRST_TIME_MESSAGE
    assert first_time_problem(restricted, customer_has_purchased=False) is None
    assert first_time_problem(PromotionRestrictions.stored({}), customer_has_purchased=True) is None


@pytest.mark.parametrize(
    ("currency", "subtotal", "refused"),
    [("usd", 999, True), ("usd", 1000, False), ("eur", 799, True), ("eur", 800, False), ("gbp", 10**6, True)],
)
def test_the_minimum_is_the_invoice_currencys(currency: str, subtotal: int, refused: bool) -> None:
    problem = minimum_amount_problem("SPRING", PromotionRestrictions.stored(STORED), currency, subtotal)
    assert (problem is not None) == refused


def test_no_minimum_no_problem() -> None:
    assert not PromotionRestrictions.stored({"first_time_transaction": True}).has_minimum
    assert minimum_amount_problem("X", PromotionRestrictions.stored(None), "usd", 0) is None
