"""How a document is laid out beyond its figures (Stripe's invoice `rendering`): the paper, and whether
line amounts show the tax inside them.

Neither changes a figure the API shows: they change what the PDF and the hosted page print.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from bulkbill.core.metadata import Clear


class AmountTaxDisplay(StrEnum):
    """Stripe's `rendering.amount_tax_display`."""

    # Line amounts without any tax: inclusive tax is taken out of them and added below, like exclusive tax.
    EXCLUDE_TAX = "exclude_tax"
    # Line amounts as priced: inclusive tax inside them (shown as "incl."), exclusive tax added below.
    INCLUDE_INCLUSIVE_TAX = "include_inclusive_tax"


class PageSize(StrEnum):
    """Stripe's `rendering.pdf.page_size`."""

    A4 = "a4"
    LETTER = "letter"
    AUTO = "auto"


class Paper(StrEnum):
    """The paper a PDF is set on (typst's names)."""

    A4 = "a4"
    US_LETTER = "us-letter"


# What a document is printed on when nothing chose a page size (bulkbill's default, and Zuora's documents).
DEFAULT_PAPER = Paper.A4


def paper_for(page_size: PageSize | None, locale: str) -> Paper:
    """`auto` is A4 for a Japanese customer and US Letter for any other (Stripe's rule); unset is A4."""
    if page_size is PageSize.A4:
        return Paper.A4
    if page_size is PageSize.LETTER:
        return Paper.US_LETTER
    if page_size is PageSize.AUTO:
        return Paper.A4 if locale.split("_")[0] == "ja" else Paper.US_LETTER
    return DEFAULT_PAPER


def shows_inclusive_tax(display: AmountTaxDisplay | None) -> bool:
    """Line amounts keep their inclusive tax unless the invoice asks to exclude all tax (unset: as priced)."""
    return display is not AmountTaxDisplay.EXCLUDE_TAX


def unit_amount_shown(amount: int, quantity: Decimal, unit_amount: Decimal, shown: int) -> Decimal:
    """The unit price that goes with a line amount shown without its inclusive tax (Stripe's
    unit_amount_excluding_tax: the amount shown over the quantity, to the price's own precision, at least
    whole minor units); the price itself when nothing was taken out."""
    if shown == amount or quantity == 0:
        return unit_amount
    exponent = min(0, int(unit_amount.normalize().as_tuple().exponent))
    return (Decimal(shown) / quantity).quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class RenderingChange:
    """What a request sets of an invoice's rendering: None leaves a value, CLEAR unsets it."""

    amount_tax_display: AmountTaxDisplay | Clear | None = None
    page_size: PageSize | None = None


def changed_rendering(stored: Mapping[str, str] | None, change: RenderingChange) -> dict[str, str] | None:
    """The rendering an invoice keeps after a change: set values replace, CLEAR removes, nothing left is None."""
    out = dict(stored or {})
    if isinstance(change.amount_tax_display, Clear):
        out.pop("amount_tax_display", None)
    elif change.amount_tax_display is not None:
        out["amount_tax_display"] = change.amount_tax_display.value
    if change.page_size is not None:
        out["page_size"] = change.page_size.value
    return out or None
