"""Tiered, transformed and custom prices: the core's arithmetic against a unit-by-unit recount."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkbill.core.catalog.pricing import (
    BillingScheme,
    CurrencyPricing,
    CustomUnitAmount,
    PriceScheme,
    Rounding,
    Tier,
    TiersMode,
    Transform,
    billed_quantity,
    check_custom,
    check_tiers,
    price_amount,
    tiered_total,
)
from bulkbill.core.errors import InputCollector

TIERS = (
    Tier(5, Decimal(1000), Decimal(0)),
    Tier(10, Decimal("800.5"), Decimal(300)),
    Tier(None, Decimal(500), Decimal(0)),
)


def _tier_of(tiers: tuple[Tier, ...], unit_number: int) -> int:
    return next(i for i, t in enumerate(tiers) if t.up_to is None or unit_number <= t.up_to)


def _graduated_by_units(tiers: tuple[Tier, ...], quantity: int) -> Decimal:
    """Recount: each unit priced by the tier it falls in, each reached tier's flat amount once."""
    entered = {_tier_of(tiers, n) for n in range(1, quantity + 1)}
    per_unit = sum((tiers[_tier_of(tiers, n)].unit_amount for n in range(1, quantity + 1)), Decimal(0))
    return per_unit + sum((tiers[i].flat_amount for i in entered), Decimal(0))


@given(st.integers(min_value=0, max_value=40))
def test_graduated_prices_each_unit_in_its_tier(quantity: int) -> None:
    assert tiered_total(TIERS, TiersMode.GRADUATED, Decimal(quantity)) == _graduated_by_units(TIERS, quantity)


@given(st.integers(min_value=1, max_value=40))
def test_volume_prices_every_unit_in_the_tier_of_the_total(quantity: int) -> None:
    tier = TIERS[_tier_of(TIERS, quantity)]
    assert tiered_total(TIERS, TiersMode.VOLUME, Decimal(quantity)) == tier.unit_amount * quantity + tier.flat_amount


def test_a_quantity_of_zero_enters_no_tier() -> None:
    assert tiered_total(TIERS, TiersMode.VOLUME, Decimal(0)) == 0
    assert tiered_total(TIERS, TiersMode.GRADUATED, Decimal(0)) == 0


def test_the_line_rounds_once_half_up() -> None:
    scheme = PriceScheme("usd", BillingScheme.TIERED, CurrencyPricing(None, TIERS), TiersMode.VOLUME)
    # 7 units at 800.5 + 300 = 5903.5 → 5904 (rounded once, half away from zero)
    exact = tiered_total(TIERS, TiersMode.VOLUME, Decimal(7))
    assert exact != exact.to_integral_value()
    assert price_amount(scheme, scheme.base, Decimal(7)) == int(exact + Decimal("0.5"))


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=100), st.booleans())
def test_transform_quantity_divides_then_rounds(quantity: int, divide_by: int, up: bool) -> None:
    transform = Transform(divide_by, Rounding.UP if up else Rounding.DOWN)
    billed = billed_quantity(Decimal(quantity), transform)
    assert billed == (-(-quantity // divide_by) if up else quantity // divide_by)
    scheme = PriceScheme("usd", base=CurrencyPricing(Decimal(250)), transform=transform)
    assert price_amount(scheme, scheme.base, Decimal(quantity)) == 250 * int(billed)


def test_currency_options_pick_the_invoice_currency() -> None:
    eur = CurrencyPricing(Decimal(90))
    scheme = PriceScheme("usd", base=CurrencyPricing(Decimal(100)), options={"eur": eur})
    assert scheme.in_currency("usd") == scheme.base and scheme.in_currency("eur") == eur
    assert scheme.in_currency("gbp") is None and not scheme.is_plain


@pytest.mark.parametrize(
    ("tiers", "where"),
    [
        ((), ("tiers",)),
        ((Tier(5), Tier(10)), ("tiers", 1, "up_to")),
        ((Tier(None), Tier(None)), ("tiers", 0, "up_to")),
        ((Tier(10), Tier(10), Tier(None)), ("tiers", 1, "up_to")),
        ((Tier(10, Decimal(-1)), Tier(None)), ("tiers", 0, "unit_amount")),
    ],
)
def test_bad_tiers_are_refused_where_they_are(tiers: tuple[Tier, ...], where: tuple[object, ...]) -> None:
    errors = InputCollector()
    check_tiers(tiers, ("tiers",), errors)
    assert [e.path for e in errors.errors] == [where]


def test_good_tiers_pass() -> None:
    errors = InputCollector()
    check_tiers(TIERS, ("tiers",), errors)
    assert errors.errors == []


def test_custom_amount_bounds() -> None:
    errors = InputCollector()
    check_custom(CustomUnitAmount(minimum=500, maximum=100, preset=50), ("c",), errors)
    assert sorted(e.path for e in errors.errors) == [("c", "maximum"), ("c", "preset")]
