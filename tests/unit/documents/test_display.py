"""Stripe's invoice `rendering` as the core keeps and applies it: paper, tax display, changes."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from bulkbill.core.documents.display import (
    AmountTaxDisplay,
    PageSize,
    Paper,
    RenderingChange,
    changed_rendering,
    paper_for,
    unit_amount_shown,
)
from bulkbill.core.documents.formatting import Formatter
from bulkbill.core.documents.model import Adjustment
from bulkbill.core.documents.presentation import present
from bulkbill.core.metadata import CLEAR
from bulkbill.devtools.sample_documents import invoice


@pytest.mark.parametrize(
    ("size", "locale", "paper"),
    [
        (None, "en", Paper.A4),
        (None, "ja", Paper.A4),
        (PageSize.LETTER, "ja", Paper.US_LETTER),
        (PageSize.A4, "en_US", Paper.A4),
        (PageSize.AUTO, "ja_JP", Paper.A4),
        (PageSize.AUTO, "en_US", Paper.US_LETTER),
        (PageSize.AUTO, "de", Paper.US_LETTER),
    ],
)
def test_the_paper_follows_stripe_s_page_size_rule(size: PageSize | None, locale: str, paper: Paper) -> None:
    assert paper_for(size, locale) is paper


def test_a_change_merges_and_an_empty_one_leaves_nothing() -> None:
    both = changed_rendering(None, RenderingChange(AmountTaxDisplay.EXCLUDE_TAX, PageSize.LETTER))
    assert both == {"amount_tax_display": "exclude_tax", "page_size": "letter"}
    assert changed_rendering(both, RenderingChange(page_size=PageSize.A4)) == {
        "amount_tax_display": "exclude_tax",
        "page_size": "a4",
    }
    assert changed_rendering(both, RenderingChange(amount_tax_display=CLEAR)) == {"page_size": "letter"}
    assert changed_rendering({"amount_tax_display": "exclude_tax"}, RenderingChange(CLEAR)) is None


def test_a_unit_price_without_tax_keeps_the_price_s_precision() -> None:
    assert unit_amount_shown(1200, Decimal(3), Decimal(400), 1000) == Decimal(333)
    assert unit_amount_shown(1200, Decimal(3), Decimal("400.5"), 1000) == Decimal("333.3")
    assert unit_amount_shown(1200, Decimal(0), Decimal(400), 1000) == Decimal(400)  # no quantity: the price


def test_exclude_tax_takes_inclusive_tax_out_of_lines_and_subtotal_but_not_the_total() -> None:
    base = invoice(2)
    lines = tuple(dataclasses.replace(line, inclusive_tax=line.amount // 6) for line in base.lines)
    taxed = dataclasses.replace(
        base, lines=lines, taxes=(Adjustment("VAT 20 %", sum(line.inclusive_tax for line in lines), True),)
    )
    as_priced = present(taxed)
    without = present(dataclasses.replace(taxed, tax_display=AmountTaxDisplay.EXCLUDE_TAX))
    assert as_priced["totals"][-1] == without["totals"][-1]  # the amount due does not change
    assert as_priced["totals"][2]["label"] == "VAT 20 % (incl.)" and without["totals"][2]["label"] == "VAT 20 %"
    money = Formatter(taxed.currency).money
    assert [row["amount"] for row in as_priced["lines"]] == [money(line.amount) for line in lines]
    assert [row["amount"] for row in without["lines"]] == [money(line.amount - line.inclusive_tax) for line in lines]
    assert as_priced["totals"][0]["value"] == money(taxed.subtotal)
    assert without["totals"][0]["value"] == money(taxed.subtotal - taxed.taxes[0].amount)
