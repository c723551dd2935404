"""Invoice arithmetic (spec §3.3-3.5): discounts, taxes and totals always match the lines."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkbill.core.errors import InvalidInput
from bulkbill.core.invoicing.totals import (
    CouponTerms,
    DiscountAmount,
    InvoiceFigures,
    LineTerms,
    TaxAmount,
    TaxRateTerms,
    amount_due,
    compute_invoice,
    discount_for,
    taxes_for,
)
from bulkbill.core.money import MAX_AMOUNT, MAX_TOTAL

PROPERTY = settings(max_examples=200, derandomize=True, deadline=None)

VAT_20 = TaxRateTerms("txr_vat", Decimal(20), inclusive=False)
TEN_PERCENT = CouponTerms("di_ten", percent_off=Decimal(10))


def percent(discount_id: str, value: str) -> CouponTerms:
    return CouponTerms(discount_id, percent_off=Decimal(value))


def amount_off(discount_id: str, value: int) -> CouponTerms:
    return CouponTerms(discount_id, amount_off=value)


def discounts_of(figures: InvoiceFigures, line: int) -> list[tuple[str, int]]:
    return [(d.discount_id, d.amount) for d in figures.lines[line].discount_amounts]


class TestWorkedExample:
    """Spec §3.5: 7500 + 2 × 1500 with 20 % exclusive VAT on the second line, a 10 % invoice coupon."""

    def figures(self) -> InvoiceFigures:
        return compute_invoice(
            [LineTerms(7500), LineTerms(3000, tax_rates=(VAT_20,))],
            invoice_discounts=[TEN_PERCENT],
        )

    def test_line_figures(self) -> None:
        figures = self.figures()
        assert discounts_of(figures, 0) == [("di_ten", 750)]
        assert discounts_of(figures, 1) == [("di_ten", 300)]
        assert figures.lines[0].taxes == ()
        assert figures.lines[1].taxes == (TaxAmount("txr_vat", False, 540, 2700),)

    def test_invoice_totals(self) -> None:
        figures = self.figures()
        assert figures.subtotal == 10500
        assert figures.subtotal_excluding_tax == 10500
        assert figures.total_discount_amounts == (DiscountAmount("di_ten", 1050),)
        assert figures.total_taxes == (TaxAmount("txr_vat", False, 540, 2700),)
        assert figures.total == 9990
        assert figures.total_excluding_tax == 9450
        assert amount_due(figures.total, starting_balance=0) == 9990

    def test_after_removing_line_a(self) -> None:
        figures = compute_invoice([LineTerms(3000, tax_rates=(VAT_20,))], invoice_discounts=[TEN_PERCENT])
        assert figures.subtotal == 3000
        assert figures.total_discount_amounts == (DiscountAmount("di_ten", 300),)
        assert figures.total_taxes == (TaxAmount("txr_vat", False, 540, 2700),)
        assert figures.total == 3240

    def test_same_result_with_the_rate_as_invoice_default(self) -> None:
        # line A overrides the default with no rates at all; line B inherits the default
        figures = compute_invoice(
            [LineTerms(7500, tax_rates=()), LineTerms(3000)],
            invoice_discounts=[TEN_PERCENT],
            default_tax_rates=[VAT_20],
        )
        assert figures.total == 9990
        assert figures.lines[0].taxes == ()


class TestDiscounts:
    def test_item_discounts_apply_before_invoice_discounts(self) -> None:
        figures = compute_invoice(
            [LineTerms(1000, discounts=(amount_off("di_item", 200),))],
            invoice_discounts=[TEN_PERCENT],
        )
        # 10 % of what is left after the item discount (800), not of 1000
        assert discounts_of(figures, 0) == [("di_item", 200), ("di_ten", 80)]
        assert figures.subtotal == 800  # item discounts are inside the subtotal
        assert figures.total == 720

    def test_item_discounts_apply_in_order_on_the_remainder(self) -> None:
        figures = compute_invoice(
            [LineTerms(1000, discounts=(percent("di_half", "50"), amount_off("di_100", 100), percent("di_10", "10")))]
        )
        assert discounts_of(figures, 0) == [("di_half", 500), ("di_100", 100), ("di_10", 40)]
        assert figures.subtotal == 360
        assert figures.total == 360

    def test_percent_rounds_half_up_per_line(self) -> None:
        figures = compute_invoice([LineTerms(5), LineTerms(15)], invoice_discounts=[TEN_PERCENT])
        # 0.5 → 1 and 1.5 → 2, per line (not 10 % of 20 = 2 overall)
        assert discounts_of(figures, 0) == [("di_ten", 1)]
        assert discounts_of(figures, 1) == [("di_ten", 2)]
        assert figures.total_discount_amounts == (DiscountAmount("di_ten", 3),)

    def test_hundred_percent_takes_everything(self) -> None:
        figures = compute_invoice([LineTerms(999)], invoice_discounts=[percent("di_all", "100")])
        assert figures.total == 0

    def test_non_discountable_lines_take_no_discount_at_all(self) -> None:
        figures = compute_invoice(
            [
                LineTerms(1000, discountable=False, discounts=(amount_off("di_item", 300),)),
                LineTerms(1000),
            ],
            invoice_discounts=[TEN_PERCENT, amount_off("di_fixed", 500)],
        )
        assert discounts_of(figures, 0) == []
        assert discounts_of(figures, 1) == [("di_ten", 100), ("di_fixed", 500)]
        assert figures.subtotal == 2000
        assert figures.total == 1400

    def test_item_amount_off_is_capped_at_the_line(self) -> None:
        figures = compute_invoice([LineTerms(300, discounts=(amount_off("di_big", 1000), percent("di_10", "10")))])
        assert discounts_of(figures, 0) == [("di_big", 300), ("di_10", 0)]
        assert figures.subtotal == 0

    def test_invoice_amount_off_is_allocated_by_largest_remainder(self) -> None:
        figures = compute_invoice(
            [LineTerms(100), LineTerms(200), LineTerms(300)], invoice_discounts=[amount_off("di_100", 100)]
        )
        # exact 16.67, 33.33, 50: the leftover unit goes to the largest remainder
        assert [discounts_of(figures, i) for i in range(3)] == [[("di_100", 17)], [("di_100", 33)], [("di_100", 50)]]
        assert figures.total_discount_amounts == (DiscountAmount("di_100", 100),)
        assert figures.total == 500

    def test_invoice_amount_off_is_capped_at_the_remainder(self) -> None:
        figures = compute_invoice(
            [LineTerms(100, discounts=(amount_off("di_item", 40),)), LineTerms(200)],
            invoice_discounts=[amount_off("di_big", 10_000)],
        )
        assert discounts_of(figures, 0) == [("di_item", 40), ("di_big", 60)]
        assert discounts_of(figures, 1) == [("di_big", 200)]
        assert figures.total_discount_amounts == (DiscountAmount("di_item", 40), DiscountAmount("di_big", 260))
        assert figures.total == 0

    def test_invoice_amount_off_skips_negative_lines(self) -> None:
        figures = compute_invoice([LineTerms(-500), LineTerms(1000)], invoice_discounts=[amount_off("di_fixed", 300)])
        assert discounts_of(figures, 0) == [("di_fixed", 0)]
        assert discounts_of(figures, 1) == [("di_fixed", 300)]
        assert figures.total == 200

    def test_negative_and_zero_lines_take_no_percent_discount(self) -> None:
        figures = compute_invoice(
            [LineTerms(-500, discounts=(percent("di_item", "50"),)), LineTerms(0)],
            invoice_discounts=[TEN_PERCENT],
        )
        assert discounts_of(figures, 0) == [("di_item", 0), ("di_ten", 0)]
        assert discounts_of(figures, 1) == [("di_ten", 0)]
        assert figures.total == -500

    def test_two_invoice_discounts_stack_on_the_remainder(self) -> None:
        figures = compute_invoice([LineTerms(1000)], invoice_discounts=[amount_off("di_fixed", 500), TEN_PERCENT])
        assert discounts_of(figures, 0) == [("di_fixed", 500), ("di_ten", 50)]
        assert figures.total == 450

    def test_discount_for(self) -> None:
        assert discount_for(percent("d", "12.5"), 1000) == 125
        assert discount_for(percent("d", "150"), 1000) == 1000
        assert discount_for(amount_off("d", 200), 150) == 150
        assert discount_for(CouponTerms("d"), 150) == 0
        assert discount_for(amount_off("d", 200), 0) == 0
        assert discount_for(amount_off("d", 200), -10) == 0


class TestTaxes:
    def test_exclusive_tax_is_added_on_top(self) -> None:
        figures = compute_invoice([LineTerms(1005)], default_tax_rates=[TaxRateTerms("txr_10", Decimal(10), False)])
        assert figures.lines[0].taxes == (TaxAmount("txr_10", False, 101, 1005),)  # 100.5 → 101
        assert figures.subtotal == 1005
        assert figures.total == 1106
        assert figures.total_excluding_tax == 1005

    def test_inclusive_tax_is_inside_the_amount(self) -> None:
        figures = compute_invoice([LineTerms(1200)], default_tax_rates=[TaxRateTerms("txr_inc", Decimal(20), True)])
        assert figures.lines[0].taxes == (TaxAmount("txr_inc", True, 200, 1000),)
        assert figures.subtotal == 1200
        assert figures.subtotal_excluding_tax == 1000
        assert figures.total == 1200
        assert figures.total_excluding_tax == 1000

    def test_inclusive_tax_rounds_the_net_half_up(self) -> None:
        # 1000 / 1.07 = 934.58 → net 935, tax 65
        assert taxes_for(1000, [TaxRateTerms("t", Decimal(7), True)]) == (TaxAmount("t", True, 65, 935),)

    def test_two_inclusive_rates_divide_by_the_sum_then_split(self) -> None:
        rates = [TaxRateTerms("txr_7", Decimal(7), True), TaxRateTerms("txr_3", Decimal(3), True)]
        # net = round(1000 / 1.10) = 909; tax 91 split 7:3 = 63.7 / 27.3 → 64 / 27
        assert taxes_for(1000, rates) == (TaxAmount("txr_7", True, 64, 909), TaxAmount("txr_3", True, 27, 909))
        figures = compute_invoice([LineTerms(1000, tax_rates=tuple(rates))])
        assert figures.total == 1000
        assert figures.total_excluding_tax == 909
        assert sum(t.amount for t in figures.total_taxes) == 91

    def test_inclusive_and_exclusive_on_one_line(self) -> None:
        rates = (TaxRateTerms("txr_inc", Decimal(10), True), TaxRateTerms("txr_ex", Decimal(5), False))
        figures = compute_invoice([LineTerms(1100, tax_rates=rates)])
        assert figures.lines[0].taxes == (TaxAmount("txr_inc", True, 100, 1000), TaxAmount("txr_ex", False, 55, 1100))
        assert figures.total == 1155
        assert figures.total_excluding_tax == 1000
        assert figures.subtotal_excluding_tax == 1000

    def test_tax_is_on_the_amount_after_all_discounts(self) -> None:
        figures = compute_invoice(
            [LineTerms(1000, discounts=(amount_off("di_item", 100),), tax_rates=(VAT_20,))],
            invoice_discounts=[TEN_PERCENT],
        )
        assert figures.lines[0].taxes == (TaxAmount("txr_vat", False, 162, 810),)
        assert figures.total == 972

    def test_empty_tax_rates_override_the_defaults_and_none_uses_them(self) -> None:
        figures = compute_invoice(
            [LineTerms(1000, tax_rates=()), LineTerms(1000, tax_rates=None)], default_tax_rates=[VAT_20]
        )
        assert figures.lines[0].taxes == ()
        assert figures.lines[1].taxes == (TaxAmount("txr_vat", False, 200, 1000),)
        assert figures.total == 2200

    def test_line_rates_replace_the_defaults(self) -> None:
        own = TaxRateTerms("txr_own", Decimal(5), False)
        figures = compute_invoice([LineTerms(1000, tax_rates=(own,))], default_tax_rates=[VAT_20])
        assert figures.lines[0].taxes == (TaxAmount("txr_own", False, 50, 1000),)

    def test_total_taxes_aggregate_per_rate_and_behaviour(self) -> None:
        inc = TaxRateTerms("txr_vat", Decimal(20), True)
        figures = compute_invoice(
            [
                LineTerms(1000, tax_rates=(VAT_20,)),
                LineTerms(500, tax_rates=(VAT_20,)),
                LineTerms(1200, tax_rates=(inc,)),
            ]
        )
        assert figures.total_taxes == (TaxAmount("txr_vat", False, 300, 1500), TaxAmount("txr_vat", True, 200, 1000))

    def test_negative_line_gets_negative_tax(self) -> None:
        figures = compute_invoice([LineTerms(-1000)], default_tax_rates=[VAT_20])
        assert figures.lines[0].taxes == (TaxAmount("txr_vat", False, -200, -1000),)
        assert figures.total == -1200


class TestAmountDue:
    def test_debit_balance_adds_and_credit_subtracts(self) -> None:
        assert amount_due(1000, starting_balance=0) == 1000
        assert amount_due(1000, starting_balance=250) == 1250
        assert amount_due(1000, starting_balance=-250) == 750

    def test_never_below_zero(self) -> None:
        assert amount_due(1000, starting_balance=-5000) == 0
        assert amount_due(-100, starting_balance=0) == 0


class TestStoredSums:
    """Every line within MAX_AMOUNT still lets enough lines (or their taxes) pass MAX_TOTAL: refused, never stored."""

    def test_a_total_at_the_limit_is_kept(self) -> None:
        lines = [LineTerms(MAX_AMOUNT)] * (MAX_TOTAL // MAX_AMOUNT)
        assert compute_invoice(lines).total == MAX_TOTAL
        assert compute_invoice([LineTerms(-MAX_AMOUNT)] * (MAX_TOTAL // MAX_AMOUNT)).total == -MAX_TOTAL

    @pytest.mark.parametrize(
        ("lines", "rates"),
        [
            ([LineTerms(MAX_AMOUNT)] * (MAX_TOTAL // MAX_AMOUNT + 1), []),
            ([LineTerms(-MAX_AMOUNT)] * (MAX_TOTAL // MAX_AMOUNT + 1), []),
            ([LineTerms(MAX_AMOUNT)] * (MAX_TOTAL // MAX_AMOUNT // 2 + 1), [TaxRateTerms("t", Decimal(100), False)]),
        ],
    )
    def test_past_the_limit_is_invalid_input(self, lines: list[LineTerms], rates: list[TaxRateTerms]) -> None:
        with pytest.raises(InvalidInput) as refused:
            compute_invoice(lines, default_tax_rates=rates)
        assert refused.value.first.code == "amount_too_large" and str(MAX_TOTAL) in refused.value.first.message


def test_empty_invoice() -> None:
    figures = compute_invoice([], invoice_discounts=[TEN_PERCENT, amount_off("di", 100)], default_tax_rates=[VAT_20])
    assert (figures.subtotal, figures.total, figures.total_excluding_tax) == (0, 0, 0)
    assert figures.total_discount_amounts == ()
    assert figures.total_taxes == ()


# --- properties -----------------------------------------------------------------------------

RATE_POOL = [
    TaxRateTerms("txr_ex_20", Decimal(20), False),
    TaxRateTerms("txr_ex_7_25", Decimal("7.25"), False),
    TaxRateTerms("txr_ex_0", Decimal(0), False),
    TaxRateTerms("txr_in_10", Decimal(10), True),
    TaxRateTerms("txr_in_5_5", Decimal("5.5"), True),
    TaxRateTerms("txr_in_19", Decimal(19), True),
]
rate_sets = st.lists(st.sampled_from(RATE_POOL), unique=True, max_size=4).map(tuple)
percents = st.decimals(min_value=Decimal("0.01"), max_value=100, places=2)


def coupons(prefix: str) -> st.SearchStrategy[CouponTerms]:
    return st.one_of(
        st.builds(CouponTerms, st.sampled_from([f"{prefix}_p1", f"{prefix}_p2"]), percent_off=percents),
        st.builds(
            CouponTerms,
            st.sampled_from([f"{prefix}_a1", f"{prefix}_a2"]),
            amount_off=st.integers(min_value=0, max_value=2_000_000),
        ),
    )


line_terms = st.builds(
    LineTerms,
    amount=st.integers(min_value=-1_000_000, max_value=10_000_000),
    discountable=st.booleans(),
    discounts=st.lists(coupons("di_item"), max_size=3).map(tuple),
    tax_rates=st.one_of(st.none(), rate_sets),
)
invoices = st.tuples(
    st.lists(line_terms, max_size=12),
    st.lists(coupons("di_inv"), max_size=3),
    st.lists(st.sampled_from(RATE_POOL), unique=True, max_size=3),
)


def _all_ints(figures: InvoiceFigures) -> bool:
    numbers: list[object] = [
        figures.subtotal,
        figures.subtotal_excluding_tax,
        figures.total,
        figures.total_excluding_tax,
        *(d.amount for d in figures.total_discount_amounts),
        *(n for t in figures.total_taxes for n in (t.amount, t.taxable_amount)),
    ]
    for line in figures.lines:
        numbers.append(line.amount)
        numbers.extend(d.amount for d in line.discount_amounts)
        numbers.extend(n for t in line.taxes for n in (t.amount, t.taxable_amount))
    return all(type(n) is int for n in numbers)


@given(invoices)
@PROPERTY
def test_totals_are_the_sums_of_the_line_figures(
    invoice: tuple[list[LineTerms], list[CouponTerms], list[TaxRateTerms]],
) -> None:
    lines, invoice_discounts, default_rates = invoice
    figures = compute_invoice(lines, invoice_discounts=invoice_discounts, default_tax_rates=default_rates)

    assert _all_ints(figures)
    assert len(figures.lines) == len(lines)
    line_discounts = [d for f in figures.lines for d in f.discount_amounts]
    line_taxes = [t for f in figures.lines for t in f.taxes]
    item_discounts = sum(d.amount for d in line_discounts if d.discount_id.startswith("di_item"))
    invoice_discount_total = sum(d.amount for d in line_discounts if d.discount_id.startswith("di_inv"))
    exclusive = sum(t.amount for t in line_taxes if not t.inclusive)
    inclusive = sum(t.amount for t in line_taxes if t.inclusive)

    assert figures.subtotal == sum(line.amount for line in lines) - item_discounts
    assert figures.total == figures.subtotal - invoice_discount_total + exclusive
    assert figures.total_excluding_tax == figures.total - exclusive - inclusive
    assert figures.subtotal_excluding_tax == figures.subtotal - inclusive

    # aggregates equal the sums of the line entries, per discount and per (rate, behaviour)
    assert sum(d.amount for d in figures.total_discount_amounts) == sum(d.amount for d in line_discounts)
    for total_discount in figures.total_discount_amounts:
        assert total_discount.amount == sum(
            d.amount for d in line_discounts if d.discount_id == total_discount.discount_id
        )
    assert sum(t.amount for t in figures.total_taxes) == exclusive + inclusive
    for total_tax in figures.total_taxes:
        same = [t for t in line_taxes if (t.tax_rate_id, t.inclusive) == (total_tax.tax_rate_id, total_tax.inclusive)]
        assert total_tax.amount == sum(t.amount for t in same)
        assert total_tax.taxable_amount == sum(t.taxable_amount for t in same)


@given(invoices)
@PROPERTY
def test_no_discount_exceeds_what_is_left_of_its_line(
    invoice: tuple[list[LineTerms], list[CouponTerms], list[TaxRateTerms]],
) -> None:
    lines, invoice_discounts, default_rates = invoice
    figures = compute_invoice(lines, invoice_discounts=invoice_discounts, default_tax_rates=default_rates)

    for terms, line in zip(lines, figures.lines, strict=True):
        if not terms.discountable:
            assert line.discount_amounts == ()
            continue
        # item discounts first, in order, then the invoice's, in order
        expected_ids = [d.discount_id for d in terms.discounts] + [d.discount_id for d in invoice_discounts]
        assert [d.discount_id for d in line.discount_amounts] == expected_ids
        remaining = terms.amount
        for applied in line.discount_amounts:
            assert 0 <= applied.amount <= max(0, remaining)
            remaining -= applied.amount
        assert line.item_discount_total == terms.amount - remaining

    # invoice amount_off coupons never take more than their amounts, summed over the lines
    fixed_ids = {c.discount_id for c in invoice_discounts if c.amount_off is not None}
    for discount_id in fixed_ids:
        taken = sum(d.amount for f in figures.lines for d in f.discount_amounts if d.discount_id == discount_id)
        assert taken <= sum(c.amount_off or 0 for c in invoice_discounts if c.discount_id == discount_id)


@given(invoices)
@PROPERTY
def test_taxes_follow_the_rates_and_the_discounted_base(
    invoice: tuple[list[LineTerms], list[CouponTerms], list[TaxRateTerms]],
) -> None:
    lines, invoice_discounts, default_rates = invoice
    figures = compute_invoice(lines, invoice_discounts=invoice_discounts, default_tax_rates=default_rates)

    for terms, line in zip(lines, figures.lines, strict=True):
        rates = terms.tax_rates if terms.tax_rates is not None else tuple(default_rates)
        assert sorted(t.tax_rate_id for t in line.taxes) == sorted(r.tax_rate_id for r in rates)
        base = terms.amount - sum(d.amount for d in line.discount_amounts)
        inclusive = [t for t in line.taxes if t.inclusive]
        if inclusive:
            # the net plus the inclusive taxes rebuild the base exactly
            assert len({t.taxable_amount for t in inclusive}) == 1
            assert inclusive[0].taxable_amount + sum(t.amount for t in inclusive) == base
        for tax in line.taxes:
            if not tax.inclusive:
                assert tax.taxable_amount == base


class TestAppliesToProducts:
    """A coupon with applies_to[products] discounts only the lines of those products."""

    LINES = (LineTerms(1000, product_id="prod_a"), LineTerms(3000, product_id="prod_b"), LineTerms(600))

    def test_invoice_level_amount_off_spreads_over_matching_lines_only(self) -> None:
        terms = CouponTerms("di_1", amount_off=500, products=frozenset({"prod_a"}))
        figures = compute_invoice(self.LINES, invoice_discounts=[terms])
        assert [f.item_discount_total for f in figures.lines] == [500, 0, 0]
        assert figures.total == sum(line.amount for line in self.LINES) - 500

    def test_line_level_percent_off_skips_other_products(self) -> None:
        terms = CouponTerms("di_2", percent_off=Decimal(10), products=frozenset({"prod_b"}))
        lines = [LineTerms(line.amount, discounts=(terms,), product_id=line.product_id) for line in self.LINES]
        figures = compute_invoice(lines)
        assert [f.item_discount_total for f in figures.lines] == [0, 300, 0]
