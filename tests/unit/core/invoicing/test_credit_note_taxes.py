"""Credit note tax arithmetic (core.invoicing.credit_notes): an invoice line's taxes credited in proportion."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkbill.core.errors import InputCollector, InvalidInput
from bulkbill.core.invoicing.credit_notes import (
    CreditLine,
    CreditLineInput,
    CreditLineType,
    GivenTax,
    InvoicedLine,
    TaxContext,
    credit_line,
    credit_total,
    credited_discounts,
    credited_taxes,
)
from bulkbill.core.invoicing.totals import DiscountAmount, TaxAmount, TaxExempt, TaxRateTerms, taxes_for
from bulkbill.core.money import round_half_up

VAT = TaxRateTerms("txr_vat", Decimal(20), inclusive=False)
INCL = TaxRateTerms("txr_incl", Decimal(20), inclusive=True)


def _line(amount: int, rates: list[TaxRateTerms], exempt: TaxExempt = TaxExempt.NONE) -> InvoicedLine:
    return InvoicedLine("il_1", amount, Decimal(amount), Decimal(1), "line", taxes_for(amount, rates, exempt))


def _credit(
    given: CreditLineInput, line: InvoicedLine, tax: TaxContext | None = None
) -> tuple[CreditLine | None, InputCollector]:
    errors = InputCollector()
    return credit_line(given, {line.id: line}, ("lines", 0), errors, tax), errors


def _ok(given: CreditLineInput, line: InvoicedLine, tax: TaxContext | None = None) -> CreditLine:
    credited, errors = _credit(given, line, tax)
    assert credited is not None and not errors.errors
    return credited


def test_a_share_of_each_tax_rounded_half_up_once() -> None:
    # 999 at 20 % + 5 %: taxes 199.8 -> 200 and 49.95 -> 50. A third: 66.67 -> 67, 16.67 -> 17; taxable 333.
    five = TaxRateTerms("txr_five", Decimal(5), inclusive=False)
    taxes = taxes_for(999, [VAT, five])
    assert [(t.amount, t.taxable_amount) for t in credited_taxes(taxes, 333, 999)] == [(67, 333), (17, 333)]
    # Half a cent rounds up: 5 × 1/2 = 2.5 -> 3.
    assert credited_taxes((TaxAmount("t", False, 5, 25),), 1, 2)[0].amount == 3


def test_the_whole_line_credits_exactly_its_taxes_and_nothing_credits_none() -> None:
    taxes = taxes_for(1234, [VAT, INCL])
    assert credited_taxes(taxes, 1234, 1234) == taxes
    assert [(t.amount, t.taxable_amount) for t in credited_taxes(taxes, 0, 1234)] == [(0, 0), (0, 0)]


def test_the_part_completing_a_line_takes_what_is_left_of_each_tax() -> None:
    taxes = taxes_for(999, [VAT])  # 199.8 -> 200
    first = credited_taxes(taxes, 333, 999)
    second = credited_taxes(taxes, 333, 999, before=333, already={"txr_vat": (67, 333)})
    last = credited_taxes(taxes, 333, 999, before=666, already={"txr_vat": (134, 666)})
    assert [p[0].amount for p in (first, second, last)] == [67, 67, 66]
    assert sum(p[0].taxable_amount for p in (first, second, last)) == 999
    # Never more than is left, even where the rounded share would be: 1 of 3 when 0 is left.
    assert credited_taxes((TaxAmount("t", False, 1, 3),), 1, 3, before=1, already={"t": (1, 1)})[0].amount == 0


@given(st.integers(1, 10**9), st.data())
def test_a_share_never_exceeds_the_tax(amount: int, data: st.DataObject) -> None:
    credited = data.draw(st.integers(0, amount))
    taxes = taxes_for(amount, [VAT, INCL])
    for original, share in zip(taxes, credited_taxes(taxes, credited, amount), strict=True):
        assert 0 <= share.amount <= original.amount and 0 <= share.taxable_amount <= original.taxable_amount


def test_an_exempt_customer_s_zero_tax_keeps_its_reason() -> None:
    line = _line(1000, [VAT], TaxExempt.REVERSE)
    credited = _ok(CreditLineInput(CreditLineType.INVOICE_LINE_ITEM, "il_1", amount=500), line)
    assert [(t.amount, t.exempt) for t in credited.taxes] == [(0, TaxExempt.REVERSE)]


def test_exclusive_tax_adds_to_the_total_inclusive_does_not() -> None:
    excl = _ok(CreditLineInput(CreditLineType.INVOICE_LINE_ITEM, "il_1", amount=500), _line(1000, [VAT]))
    incl = _ok(CreditLineInput(CreditLineType.INVOICE_LINE_ITEM, "il_1", amount=600), _line(1200, [INCL]))
    assert [t.amount for t in excl.taxes] == [100] and [t.amount for t in incl.taxes] == [100]
    assert credit_total([excl, incl]) == 500 + 100 + 600


def test_custom_lines_take_rates_or_amounts_and_the_customer_s_exemption() -> None:
    tax = TaxContext({VAT.tax_rate_id: VAT})
    given_rates = CreditLineInput(
        CreditLineType.CUSTOM_LINE_ITEM, unit_amount=Decimal(250), quantity=2, tax_rates=("txr_vat",)
    )
    rated = _ok(given_rates, _line(1, []), tax)
    assert [(t.amount, t.taxable_amount) for t in rated.taxes] == [(100, 500)]
    exempt = _ok(given_rates, _line(1, []), TaxContext(tax.rates, TaxExempt.EXEMPT))
    assert [t.amount for t in exempt.taxes] == [0]
    given_amounts = CreditLineInput(
        CreditLineType.CUSTOM_LINE_ITEM, unit_amount=Decimal(100), tax_amounts=(GivenTax("txr_vat", 7, 100),)
    )
    manual = _ok(given_amounts, _line(1, []), tax)
    assert [(t.amount, t.taxable_amount, t.inclusive) for t in manual.taxes] == [(7, 100, False)]


@pytest.mark.parametrize(
    ("given", "path"),
    [
        (CreditLineInput(CreditLineType.INVOICE_LINE_ITEM, "il_1", tax_rates=("txr_vat",)), ("lines", 0, "tax_rates")),
        (
            CreditLineInput(
                CreditLineType.CUSTOM_LINE_ITEM,
                unit_amount=Decimal(1),
                tax_rates=("txr_vat",),
                tax_amounts=(GivenTax("txr_vat", 1, 1),),
            ),
            ("lines", 0, "tax_amounts"),
        ),
        (
            CreditLineInput(CreditLineType.CUSTOM_LINE_ITEM, unit_amount=Decimal(1), tax_rates=("txr_gone",)),
            ("lines", 0, "tax_rates", 0),
        ),
        (
            CreditLineInput(
                CreditLineType.CUSTOM_LINE_ITEM, unit_amount=Decimal(1), tax_amounts=(GivenTax("txr_gone", 1, 1),)
            ),
            ("lines", 0, "tax_amounts", 0, "tax_rate"),
        ),
    ],
)
def test_bad_taxes_are_refused_with_their_path(given: CreditLineInput, path: tuple[object, ...]) -> None:
    credited, errors = _credit(given, _line(1000, [VAT]), TaxContext({VAT.tax_rate_id: VAT}))
    assert credited is None
    with pytest.raises(InvalidInput) as caught:
        errors.raise_if_any()
    assert [e.path for e in caught.value.errors] == [path]


@given(st.integers(min_value=1, max_value=10_000), st.data())
def test_discounts_credited_in_parts_add_up_to_the_line_s_discounts(amount: int, data: st.DataObject) -> None:
    off = data.draw(st.integers(min_value=0, max_value=amount))
    line = InvoicedLine("il_1", amount, Decimal(amount), Decimal(1), "line", discounts=(DiscountAmount("di_1", off),))
    cut = data.draw(st.integers(min_value=0, max_value=amount))
    first = credited_discounts(line.discounts, cut, amount)
    rest = credited_discounts(line.discounts, amount - cut, amount, before=cut, already={"di_1": first[0].amount})
    assert first[0].amount == round_half_up(Decimal(off) * cut / amount)  # the taxes' rule, half-up once
    assert first[0].amount + rest[0].amount == off
    credited = _ok(CreditLineInput("invoice_line_item", "il_1", amount=cut), line)
    assert credited.discounts == first and credited.total == cut - first[0].amount
