"""Money rules: one rounding policy, exact allocation, minor units, no floats."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkbill.core.errors import RuleViolation
from bulkbill.core.money import (
    MAX_AMOUNT,
    MAX_TOTAL,
    Money,
    allocate,
    currency_exponent,
    is_known_currency,
    line_amount,
    major_to_minor,
    minor_to_major,
    parse_decimal,
    parse_integer,
    places,
    round_half_up,
    truncate,
)

PROPERTY = settings(max_examples=200, derandomize=True, deadline=None)


class TestRoundHalfUp:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("0.5", 1),
            ("1.5", 2),
            ("2.5", 3),
            ("2.4999", 2),
            ("2.5001", 3),
            ("-0.5", -1),
            ("-1.5", -2),
            ("-2.5", -3),
            ("-2.4999", -2),
            ("-2.5001", -3),
            ("0", 0),
            ("-0.4", 0),
            ("7", 7),
        ],
    )
    def test_ties_go_away_from_zero(self, value: str, expected: int) -> None:
        assert round_half_up(Decimal(value)) == expected

    @given(st.decimals(min_value=-(10**12), max_value=10**12, places=4))
    @PROPERTY
    def test_symmetric_for_negatives(self, value: Decimal) -> None:
        assert round_half_up(-value) == -round_half_up(value)

    def test_returns_an_int(self) -> None:
        assert type(round_half_up(Decimal("2.5"))) is int

    def test_refuses_floats(self) -> None:
        with pytest.raises(TypeError):
            round_half_up(2.5)  # type: ignore[arg-type]


class TestLineAmount:
    @pytest.mark.parametrize(
        ("unit", "quantity", "expected"),
        [
            ("1500", "2", 3000),
            ("0.5", "3", 2),  # 1.5 rounds up once, on the line
            ("0.333333333333", "3", 1),
            ("-0.5", "3", -2),
            ("12.345", "1", 12),
            ("1000", "0", 0),
            ("100", "1.005", 101),  # 100.5
        ],
    )
    def test_rounds_unit_times_quantity_once(self, unit: str, quantity: str, expected: int) -> None:
        assert line_amount(Decimal(unit), Decimal(quantity)) == expected


class TestTruncate:
    @pytest.mark.parametrize(("value", "expected"), [("2.9", 2), ("2", 2), ("-2.9", -2), ("0.999999999999", 0)])
    def test_drops_the_fraction_toward_zero(self, value: str, expected: int) -> None:
        assert truncate(Decimal(value)) == expected


class TestAllocate:
    def test_parts_are_proportional_when_exact(self) -> None:
        assert allocate(600, [1, 2, 3]) == [100, 200, 300]

    def test_largest_remainder_gets_the_leftover_first(self) -> None:
        # exact shares 16.67, 33.33, 50: one unit left over, the .67 takes it
        assert allocate(100, [100, 200, 300]) == [17, 33, 50]
        # exact shares 3.4, 3.6: the larger remainder wins regardless of position
        assert allocate(7, [34, 36]) == [3, 4]

    def test_ties_go_to_the_earliest_index(self) -> None:
        assert allocate(1, [1, 1, 1]) == [1, 0, 0]
        assert allocate(2, [1, 1, 1]) == [1, 1, 0]

    def test_negative_totals_mirror_positive_ones(self) -> None:
        assert allocate(-100, [100, 200, 300]) == [-17, -33, -50]
        assert allocate(-7, [1, 1, 1]) == [-3, -2, -2]

    def test_zero_weights_get_nothing(self) -> None:
        assert allocate(10, [0, 1, 0, 1]) == [0, 5, 0, 5]
        assert allocate(3, [0, 1, 0]) == [0, 3, 0]

    def test_all_zero_weights_allocate_nothing(self) -> None:
        assert allocate(7, [0, 0]) == [0, 0]
        assert allocate(7, [Decimal(0)]) == [0]

    def test_no_weights_no_parts(self) -> None:
        assert allocate(100, []) == []

    def test_decimal_weights(self) -> None:
        assert allocate(100, [Decimal("0.5"), 0, Decimal("1.5")]) == [25, 0, 75]
        assert allocate(10, [Decimal("20"), Decimal("7.5")]) == [7, 3]

    def test_zero_total(self) -> None:
        assert allocate(0, [1, 2]) == [0, 0]

    def test_huge_amounts_still_sum_exactly(self) -> None:
        parts = allocate(MAX_TOTAL - 1, [1, MAX_TOTAL - 2, 3])
        assert sum(parts) == MAX_TOTAL - 1
        assert parts == [1, 999_999_999_999_995, 3]

    @given(
        st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT),
        st.lists(
            st.one_of(
                st.just(0),
                st.integers(min_value=0, max_value=MAX_AMOUNT),
                st.decimals(min_value=0, max_value=10**6, places=6, allow_nan=False, allow_infinity=False),
            ),
            min_size=1,
            max_size=30,
        ),
    )
    @PROPERTY
    def test_parts_always_sum_to_the_total(self, total: int, weights: list[int | Decimal]) -> None:
        parts = allocate(total, weights)
        assert len(parts) == len(weights)
        assert all(type(p) is int for p in parts)
        if sum(weights) == 0:
            assert parts == [0] * len(weights)
            return
        assert sum(parts) == total
        weight_sum = sum(Decimal(w) for w in weights)
        for part, weight in zip(parts, weights, strict=True):
            # same sign as the total, never more than one unit off the exact share
            assert part * total >= 0
            exact = Decimal(total) * Decimal(weight) / weight_sum
            assert abs(Decimal(part) - exact) < 1 + Decimal("1e-9")
            if weight == 0:
                assert part == 0

    def test_remainders_are_ranked_exactly_at_huge_amounts(self) -> None:
        # the first two remainders (0.5622…) differ by 1/sum ≈ 7e-16, below what Decimal division keeps
        weights = [573_159_068_434_103, 758_159_594_347_612, 146_554_885_983_515]
        assert allocate(140_233_564_855_249, weights) == [54_386_344_124_490, 71_940_811_670_529, 13_906_409_060_230]

    @given(
        st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT),
        st.lists(st.integers(min_value=0, max_value=MAX_AMOUNT), min_size=1, max_size=30).filter(any),
    )
    @PROPERTY
    def test_leftover_units_go_to_the_largest_remainders(self, total: int, weights: list[int]) -> None:
        parts = allocate(total, weights)
        magnitude, weight_sum = abs(total), sum(weights)
        exact = [Fraction(magnitude * w, weight_sum) for w in weights]
        floors = [math.floor(e) for e in exact]
        got_extra = [abs(p) - f for p, f in zip(parts, floors, strict=True)]
        assert set(got_extra) <= {0, 1}
        remainders = [e - f for e, f in zip(exact, floors, strict=True)]
        for i, extra_i in enumerate(got_extra):
            for j, extra_j in enumerate(got_extra):
                if extra_i and not extra_j:
                    # a unit never skips a larger remainder, nor an equal one at an earlier index
                    assert remainders[i] > remainders[j] or (remainders[i] == remainders[j] and i < j)


class TestCurrencies:
    @pytest.mark.parametrize(("currency", "exponent"), [("usd", 2), ("USD", 2), ("jpy", 0), ("kwd", 3)])
    def test_exponent(self, currency: str, exponent: int) -> None:
        assert currency_exponent(currency) == exponent

    @pytest.mark.parametrize(
        ("major", "currency", "minor"),
        [
            ("10.50", "usd", 1050),
            ("10.5", "USD", 1050),
            ("0.01", "usd", 1),
            ("500", "jpy", 500),
            ("1.234", "kwd", 1234),
            ("-2.5", "usd", -250),
        ],
    )
    def test_major_to_minor(self, major: str, currency: str, minor: int) -> None:
        assert major_to_minor(Decimal(major), currency) == minor

    def test_major_to_minor_keeps_sub_minor_precision(self) -> None:
        assert major_to_minor(Decimal("10.505"), "usd") == Decimal("1050.5")

    @pytest.mark.parametrize(
        ("minor", "currency", "major"),
        [(1050, "usd", "10.50"), (1, "usd", "0.01"), (500, "jpy", "500"), (1234, "kwd", "1.234"), (10, "kwd", "0.010")],
    )
    def test_minor_to_major_shows_the_currency_places(self, minor: int, currency: str, major: str) -> None:
        assert str(minor_to_major(minor, currency)) == major

    def test_minor_to_major_leaves_decimals_unrounded(self) -> None:
        assert minor_to_major(Decimal("1050.5"), "usd") == Decimal("10.505")

    @given(st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT), st.sampled_from(["usd", "jpy", "kwd"]))
    @PROPERTY
    def test_round_trip(self, minor: int, currency: str) -> None:
        assert major_to_minor(minor_to_major(minor, currency), currency) == minor

    @pytest.mark.parametrize(("code", "known"), [("usd", True), ("EUR", True), ("xyz", False), ("usdd", False)])
    def test_known_currency(self, code: str, known: bool) -> None:
        assert is_known_currency(code) is known


class TestMoney:
    def test_holds_minor_units(self) -> None:
        assert Money(1050, "usd").minor == 1050

    @pytest.mark.parametrize("bad", [10.5, 10.0, Decimal("10.5"), True, "1050"])
    def test_refuses_anything_but_an_int(self, bad: object) -> None:
        with pytest.raises(TypeError):
            Money(bad, "usd")  # type: ignore[arg-type]

    def test_adds_in_one_currency(self) -> None:
        assert Money(100, "usd") + Money(-30, "usd") == Money(70, "usd")

    def test_refuses_to_add_across_currencies(self) -> None:
        with pytest.raises(RuleViolation):
            _ = Money(100, "usd") + Money(100, "eur")

    def test_is_immutable(self) -> None:
        money = Money(1, "usd")
        with pytest.raises(AttributeError):
            money.minor = 2  # type: ignore[misc]


class TestPlaces:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [("1", 0), ("100", 0), ("1E+2", 0), ("1.50", 1), ("0.000000000001", 12), ("-3.25", 2), ("NaN", 0)],
    )
    def test_counts_significant_fraction_digits(self, value: str, expected: int) -> None:
        assert places(Decimal(value)) == expected


class TestParseDecimal:
    @pytest.mark.parametrize(("text", "expected"), [("1.5", "1.5"), ("-0.25", "-0.25"), ("10", "10"), ("1e3", "1000")])
    def test_parses_finite_numbers(self, text: str, expected: str) -> None:
        assert parse_decimal(text) == Decimal(expected)

    @pytest.mark.parametrize("text", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "abc", "", "1,5"])
    def test_refuses_nan_infinity_and_garbage(self, text: str) -> None:
        assert parse_decimal(text) is None

    @pytest.mark.parametrize("text", ["1_000", "١٢٣", "１２", " 1", "1 ", "1.5\n", "1e", "+", ".", "9" * 101])
    def test_refuses_what_python_alone_would_take(self, text: str) -> None:
        assert parse_decimal(text) is None

    def test_exponent_only_when_asked(self) -> None:
        assert parse_decimal("1.5E+3") == Decimal(1500)
        assert parse_decimal("1.5E+3", exponent=False) is None
        assert parse_decimal("1E+99999999999999999999") is None


class TestParseInteger:
    @pytest.mark.parametrize(("text", "expected"), [("0", 0), ("-12", -12), ("+7", 7), ("0012", 12)])
    def test_ascii_digits(self, text: str, expected: int) -> None:
        assert parse_integer(text) == expected

    @pytest.mark.parametrize("text", ["1_000", "١٢٣", "１２", " 1", "1 ", "1.0", "1e3", "", "-", "0x10", "9" * 101])
    def test_refuses_anything_else(self, text: str) -> None:
        assert parse_integer(text) is None
