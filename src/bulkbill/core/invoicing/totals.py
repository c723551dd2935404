"""Invoice arithmetic: discounts, taxes and totals from the lines, in minor units.

Order of operations (Stripe's documented rules):
1. each line's own discounts, in order, on what is left of that line;
2. invoice-level discounts over every discountable line;
3. taxes on each line's amount after all discounts: exclusive rates add to the total,
   inclusive rates are already inside the amount;
4. invoice totals are sums of the line figures, so they always match the lines.
Lines with `discountable = False` take no discount at all; a coupon with applies_to[products] discounts
only the lines of those products (an amount_off spreads over them alone).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bulkbill.core.money import allocate, check_total, round_half_up

HUNDRED = Decimal(100)


class TaxExempt(StrEnum):
    """A customer's tax status: exempt and reverse-charge customers are charged no tax (Stripe's tax_exempt)."""

    NONE = "none"
    EXEMPT = "exempt"
    REVERSE = "reverse"

    @property
    def taxability_reason(self) -> str:
        """Why a tax line is what it is, in Stripe's words."""
        return _REASONS[self]


_REASONS = {TaxExempt.NONE: "standard_rated", TaxExempt.EXEMPT: "customer_exempt", TaxExempt.REVERSE: "reverse_charge"}


@dataclass(frozen=True, slots=True)
class CouponTerms:
    """What a discount takes off: a percentage or a fixed amount in the invoice currency."""

    discount_id: str
    percent_off: Decimal | None = None
    amount_off: int | None = None
    # applies_to[products]: only lines of these products take the discount (None: every line).
    products: frozenset[str] | None = None

    def applies_to(self, line: LineTerms) -> bool:
        """A coupon limited to products discounts only the lines of those products."""
        return self.products is None or line.product_id in self.products


@dataclass(frozen=True, slots=True)
class TaxRateTerms:
    tax_rate_id: str
    percentage: Decimal
    inclusive: bool


@dataclass(frozen=True, slots=True)
class LineTerms:
    """The inputs of one line's arithmetic."""

    amount: int
    discountable: bool = True
    discounts: tuple[CouponTerms, ...] = ()
    # None: the invoice's default tax rates apply; a tuple (even empty) overrides them.
    tax_rates: tuple[TaxRateTerms, ...] | None = None
    product_id: str | None = None
    # Tax amounts given by hand (computed elsewhere): the line's taxes, as given, instead of its rates'.
    manual_taxes: tuple[TaxAmount, ...] | None = None


@dataclass(frozen=True, slots=True)
class DiscountAmount:
    discount_id: str
    amount: int


@dataclass(frozen=True, slots=True)
class TaxAmount:
    tax_rate_id: str
    inclusive: bool
    amount: int
    taxable_amount: int
    exempt: TaxExempt = TaxExempt.NONE
    # A manual amount's own taxability reason (Stripe's tax_amounts[][taxability_reason]).
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class LineFigures:
    amount: int
    discount_amounts: tuple[DiscountAmount, ...]
    taxes: tuple[TaxAmount, ...]

    @property
    def item_discount_total(self) -> int:
        return sum(d.amount for d in self.discount_amounts)


@dataclass(frozen=True, slots=True)
class InvoiceFigures:
    lines: tuple[LineFigures, ...]
    subtotal: int
    subtotal_excluding_tax: int
    total_excluding_tax: int
    total: int
    total_discount_amounts: tuple[DiscountAmount, ...]
    total_taxes: tuple[TaxAmount, ...]


def discount_for(terms: CouponTerms, base: int) -> int:
    """A discount never exceeds what is left of the line, and never goes below zero."""
    if base <= 0:
        return 0
    if terms.percent_off is not None:
        return min(base, round_half_up(Decimal(base) * terms.percent_off / HUNDRED))
    return min(base, terms.amount_off or 0)


def taxes_for(base: int, rates: Sequence[TaxRateTerms], exempt: TaxExempt = TaxExempt.NONE) -> tuple[TaxAmount, ...]:
    """Exclusive tax is base × r; inclusive tax is the part of base above base / (1 + Σr); none when exempt."""
    if not rates:
        return ()
    if exempt is not TaxExempt.NONE:  # each rate still shows, at 0 and with the reason (Stripe)
        return tuple(TaxAmount(r.tax_rate_id, r.inclusive, 0, base, exempt) for r in rates)
    out: list[TaxAmount] = []
    inclusive = [r for r in rates if r.inclusive]
    if inclusive:
        rate_sum = sum((r.percentage for r in inclusive), Decimal(0))
        net = round_half_up(Decimal(base) / (1 + rate_sum / HUNDRED))
        parts = allocate(base - net, [r.percentage for r in inclusive])
        for rate, part in zip(inclusive, parts, strict=True):
            out.append(TaxAmount(rate.tax_rate_id, True, part, net))
    for rate in rates:
        if not rate.inclusive:
            tax = round_half_up(Decimal(base) * rate.percentage / HUNDRED)
            out.append(TaxAmount(rate.tax_rate_id, False, tax, base))
    return tuple(out)


def compute_invoice(
    lines: Sequence[LineTerms],
    *,
    invoice_discounts: Sequence[CouponTerms] = (),
    default_tax_rates: Sequence[TaxRateTerms] = (),
    tax_exempt: TaxExempt = TaxExempt.NONE,
) -> InvoiceFigures:
    """Totals equal the sums of the line figures; item discounts apply before invoice ones."""
    remaining = [line.amount for line in lines]
    applied: list[list[DiscountAmount]] = [[] for _ in lines]

    for i, line in enumerate(lines):
        if not line.discountable:
            continue
        for terms in line.discounts:
            off = discount_for(terms, remaining[i]) if terms.applies_to(line) else 0
            remaining[i] -= off
            applied[i].append(DiscountAmount(terms.discount_id, off))
    item_discounts = sum(d.amount for ds in applied for d in ds)

    invoice_discount_total = 0
    for terms in invoice_discounts:
        eligible = [i for i, line in enumerate(lines) if line.discountable and terms.applies_to(line)]
        if terms.percent_off is not None:
            shares = [discount_for(terms, remaining[i]) for i in eligible]
        else:
            bases = [max(0, remaining[i]) for i in eligible]
            shares = allocate(min(terms.amount_off or 0, sum(bases)), bases)
        for i, off in zip(eligible, shares, strict=True):
            remaining[i] -= off
            applied[i].append(DiscountAmount(terms.discount_id, off))
            invoice_discount_total += off

    figures: list[LineFigures] = []
    defaults = tuple(default_tax_rates)
    for line, left, discounts in zip(lines, remaining, applied, strict=True):
        rates = line.tax_rates if line.tax_rates is not None else defaults
        taxes = line.manual_taxes if line.manual_taxes is not None else taxes_for(left, rates, tax_exempt)
        figures.append(LineFigures(line.amount, tuple(discounts) if discounts else (), taxes))

    all_taxes = [t for f in figures for t in f.taxes]
    exclusive_tax = sum(t.amount for t in all_taxes if not t.inclusive)
    inclusive_tax = sum(t.amount for t in all_taxes if t.inclusive)
    subtotal = sum(line.amount for line in lines) - item_discounts
    total = subtotal - invoice_discount_total + exclusive_tax
    result = InvoiceFigures(
        lines=tuple(figures),
        subtotal=subtotal,
        subtotal_excluding_tax=subtotal - inclusive_tax,
        total_excluding_tax=total - exclusive_tax - inclusive_tax,
        total=total,
        total_discount_amounts=_sum_discounts(d for f in figures for d in f.discount_amounts),
        total_taxes=_sum_taxes(all_taxes),
    )
    _check_stored_sums(result)
    return result


def _check_stored_sums(figures: InvoiceFigures) -> None:
    # Every line is within MAX_AMOUNT; enough of them (or of their taxes) could still pass what a
    # document may total: refused as input, before any column could overflow.
    sums = [figures.subtotal, figures.subtotal_excluding_tax, figures.total_excluding_tax, figures.total]
    sums += [d.amount for d in figures.total_discount_amounts]
    sums += [n for t in figures.total_taxes for n in (t.amount, t.taxable_amount)]
    for value in sums:
        check_total(value, what="The invoice's total")


def amount_due(total: int, *, starting_balance: int) -> int:
    """What the customer owes: the total plus a debit balance (minus a credit), never below zero."""
    return max(0, total + starting_balance)


def _sum_discounts(items: Iterable[DiscountAmount]) -> tuple[DiscountAmount, ...]:
    sums: dict[str, int] = {}
    for d in items:
        sums[d.discount_id] = sums.get(d.discount_id, 0) + d.amount
    return tuple(DiscountAmount(k, v) for k, v in sums.items())


def _sum_taxes(items: Sequence[TaxAmount]) -> tuple[TaxAmount, ...]:
    sums: dict[tuple[str, bool, TaxExempt], list[int]] = {}
    for t in items:
        entry = sums.setdefault((t.tax_rate_id, t.inclusive, t.exempt), [0, 0])
        entry[0] += t.amount
        entry[1] += t.taxable_amount
    return tuple(TaxAmount(rate, inc, amt, taxable, ex) for (rate, inc, ex), (amt, taxable) in sums.items())
