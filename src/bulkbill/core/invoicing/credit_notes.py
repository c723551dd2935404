"""Credit notes (Stripe) / credit memos (Zuora) on a finalized invoice: how much, against what, and their states.

A credit note never credits more than is left on its invoice: the invoice's total minus every
credit note already issued on it (void ones give their amount back). Its amount first reduces what
the invoice still asks for (pre-payment); the rest credits what was already paid (post-payment),
which must be given as `credit_amount` (to the customer's balance) or `out_of_band_amount`
(settled elsewhere): bulkbill moves no money, so it refunds nothing.

Nor does a line credit more of an invoice line than is left of it (its amount minus what issued
credit notes already credited of it).

Tax is credited as invoiced. A line crediting an invoice line credits each of that line's taxes in
the share of the line it credits: tax × credited / line amount, exact in Decimal and rounded half-up
once per line and tax (its taxable amount likewise), never more than is left of that tax; the part
that completes the line credits exactly what is left of each tax, so a line credited in any number
of parts (some voided and credited again) credits exactly its taxes in total (no cent drifts). The
credited amount is in the line's own terms: an inclusive rate's tax is inside it, an exclusive
rate's tax comes on top. A custom line is taxed by the `tax_rates` it names (the invoice
arithmetic's rule, core.invoicing.totals.taxes_for), or takes the `tax_amounts` given (so can a line
crediting an invoice line). What is left to credit is the invoice's total, tax included, so a credit
note's total counts its exclusive tax too.

Discounts are credited as invoiced too, by the same rule as taxes (credited_share): a line crediting
an invoice line credits each of that line's discount amounts in the share of the line it credits
(discount × credited / line amount, rounded half-up once per line and discount, the completing part
taking what is left). The credited `amount` stays the line's gross amount (Stripe's: before
discounts); the line credits `amount` minus its discounts, plus its exclusive taxes (which were
charged on the discounted amount).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from bulkbill.core.errors import ErrorCode, InputCollector, InvalidTransition, Path, RuleViolation
from bulkbill.core.invoicing.lifecycle import InvoiceStatus
from bulkbill.core.invoicing.totals import DiscountAmount, TaxAmount, TaxExempt, TaxRateTerms, taxes_for
from bulkbill.core.money import MAX_AMOUNT, line_amount, round_half_up


class CreditNoteStatus(StrEnum):
    ISSUED = "issued"
    VOID = "void"


class CreditNoteAction(StrEnum):
    VOID = "void"


_ALLOWED_FROM = {CreditNoteAction.VOID: frozenset({CreditNoteStatus.ISSUED})}

# Only finalized invoices take credit notes (a draft is edited instead; a void one owes nothing).
CREDITABLE = frozenset({InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE})


class CreditLineType(StrEnum):
    INVOICE_LINE_ITEM = "invoice_line_item"
    CUSTOM_LINE_ITEM = "custom_line_item"


def credit_note_status(document_status: str) -> CreditNoteStatus | None:
    """A credit memo as a Stripe credit note: void once cancelled, else issued; a draft is none yet
    (Stripe issues a credit note when it is made: a Zuora draft memo becomes one when it is posted)."""
    if document_status == InvoiceStatus.DRAFT:
        return None
    return CreditNoteStatus.VOID if document_status == InvoiceStatus.VOID else CreditNoteStatus.ISSUED


def ensure_creditable(invoice_status: str) -> None:
    """A credit note needs a finalized invoice (open, paid or uncollectible)."""
    if invoice_status not in CREDITABLE:
        raise InvalidTransition(
            f"A credit note can only be issued on an open, paid or uncollectible invoice; this invoice is "
            f"{invoice_status}.",
            path=("invoice",),
        )


def ensure_credit_note_transition(action: CreditNoteAction, status: str) -> None:
    """Only an issued credit note can be voided, once."""
    if status not in _ALLOWED_FROM[action]:
        raise InvalidTransition(f"You can only void an issued credit note; this credit note is {status}.")


@dataclass(frozen=True, slots=True)
class InvoicedLine:
    """What a credited invoice line holds: its amount, unit amount, quantity and the taxes it was charged."""

    id: str
    amount: int
    unit_amount: Decimal
    quantity: Decimal
    description: str | None
    taxes: tuple[TaxAmount, ...] = ()
    # What issued (not void) credit notes already credited of this line, and of each of its taxes.
    credited: int = 0
    credited_taxes: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    # The discount amounts the line was given, and what issued credit notes already credited of each.
    discounts: tuple[DiscountAmount, ...] = ()
    credited_discounts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GivenTax:
    """A tax amount given for a credit note line (Stripe's lines[][tax_amounts][])."""

    tax_rate: str
    amount: int
    taxable_amount: int


@dataclass(frozen=True, slots=True)
class CreditLineInput:
    type: str
    invoice_line_item: str | None = None
    amount: int | None = None
    quantity: int | None = None
    unit_amount: Decimal | None = None
    description: str | None = None
    tax_rates: tuple[str, ...] | None = None
    tax_amounts: tuple[GivenTax, ...] | None = None


@dataclass(frozen=True, slots=True)
class CreditLine:
    """One checked credit note line, in positive minor units, with the taxes it credits."""

    type: CreditLineType
    amount: int
    unit_amount: Decimal
    quantity: Decimal
    description: str | None
    invoice_line_item: str | None
    taxes: tuple[TaxAmount, ...] = ()
    discounts: tuple[DiscountAmount, ...] = ()

    @property
    def discount_total(self) -> int:
        """The discounts the line credits back (its share of the credited invoice line's discounts)."""
        return sum(d.amount for d in self.discounts)

    @property
    def total(self) -> int:
        """What the line credits: its amount less its discounts, plus its exclusive taxes (inclusive ones are
        inside the amount)."""
        return self.amount - self.discount_total + sum(t.amount for t in self.taxes if not t.inclusive)


def credit_total(lines: Sequence[CreditLine]) -> int:
    """A credit note's total: its lines' amounts and their exclusive taxes."""
    return sum(line.total for line in lines)


def credited_share(value: int, taken: int, credited: int, line_amount: int, *, completes: bool) -> int:
    """The part of a line's figure (a tax, a discount) a credit of `credited` takes: value × credited / line
    amount, rounded half-up once, at most what is left of it (value - taken); completing the line takes the rest."""
    left = value - taken
    if completes:
        return left
    share = round_half_up(Decimal(value) * credited / line_amount) if line_amount else 0
    return max(0, min(share, left))


def credited_taxes(
    taxes: Sequence[TaxAmount],
    credited: int,
    line_amount: int,
    *,
    before: int = 0,
    already: Mapping[str, tuple[int, int]] | None = None,
) -> tuple[TaxAmount, ...]:
    """Each tax of an invoice line credited in the share credited / line_amount (credited_share), at most what
    is left of it (`already`: tax rate → amount, taxable amount credited); completing the line takes the rest."""
    already = already or {}
    completes = before + credited == line_amount
    out = []
    for t in taxes:
        amount, taxable = already.get(t.tax_rate_id, (0, 0))
        out.append(
            replace(
                t,
                amount=credited_share(t.amount, amount, credited, line_amount, completes=completes),
                taxable_amount=credited_share(t.taxable_amount, taxable, credited, line_amount, completes=completes),
            )
        )
    return tuple(out)


def credited_discounts(
    discounts: Sequence[DiscountAmount],
    credited: int,
    line_amount: int,
    *,
    before: int = 0,
    already: Mapping[str, int] | None = None,
) -> tuple[DiscountAmount, ...]:
    """Each discount of an invoice line credited back in the share credited / line_amount, by the taxes' rule
    (credited_share): so a line credited in parts credits exactly its discounts in all."""
    already = already or {}
    completes = before + credited == line_amount
    return tuple(
        DiscountAmount(
            d.discount_id,
            credited_share(d.amount, already.get(d.discount_id, 0), credited, line_amount, completes=completes),
        )
        for d in discounts
    )


@dataclass(frozen=True, slots=True)
class TaxContext:
    """What taxing a custom line needs: the tax rates named, and whether the customer is exempt."""

    rates: Mapping[str, TaxRateTerms]
    exempt: TaxExempt = TaxExempt.NONE


def _given_taxes(
    given: CreditLineInput, tax: TaxContext, path: Path, errors: InputCollector
) -> tuple[TaxAmount, ...] | None:
    """The line's tax amounts as given, or its tax rates' taxes (None: neither given, or one refused)."""
    if given.tax_rates is not None and given.tax_amounts is not None:
        errors.add(
            (*path, "tax_amounts"),
            ErrorCode.PARAMETERS_EXCLUSIVE,
            "You may only specify one of these parameters: tax_amounts, tax_rates.",
        )
        return None
    if given.tax_rates is not None and given.type != CreditLineType.CUSTOM_LINE_ITEM:
        errors.add(
            (*path, "tax_rates"),
            ErrorCode.PARAMETER_INVALID,
            "tax_rates can only be set on lines of type custom_line_item: a line crediting an invoice line "
            "credits that line's taxes.",
        )
        return None
    out: list[TaxAmount] = []
    ok = True
    for j, t in enumerate(given.tax_amounts or ()):
        rate = tax.rates.get(t.tax_rate)
        if rate is None:
            errors.not_found((*path, "tax_amounts", j, "tax_rate"), "tax rate", t.tax_rate)
            ok = False
        else:
            out.append(TaxAmount(rate.tax_rate_id, rate.inclusive, t.amount, t.taxable_amount))
    if given.tax_amounts is not None:
        return tuple(out) if ok else None
    if given.tax_rates is None:
        return None
    missing = [j for j, rate_id in enumerate(given.tax_rates) if rate_id not in tax.rates]
    for j in missing:
        errors.not_found((*path, "tax_rates", j), "tax rate", given.tax_rates[j])
    return None if missing else ()  # computed on the line's amount, once it is known (credit_line)


def credit_line(
    given: CreditLineInput,
    invoiced: dict[str, InvoicedLine],
    path: Path,
    errors: InputCollector,
    tax: TaxContext | None = None,
) -> CreditLine | None:
    """A line crediting an invoice line (by amount, or by quantity at its unit amount) or a custom amount,
    with the taxes it credits (see the module docstring)."""
    tax = tax or TaxContext({})
    manual = _given_taxes(given, tax, path, errors)
    if (given.tax_rates is not None or given.tax_amounts is not None) and manual is None:
        return None
    if given.type == CreditLineType.INVOICE_LINE_ITEM:
        if given.invoice_line_item is None:
            errors.missing((*path, "invoice_line_item"))
            return None
        line = invoiced.get(given.invoice_line_item)
        if line is None:
            errors.not_found((*path, "invoice_line_item"), "invoice line item on this invoice", given.invoice_line_item)
            return None
        if given.amount is not None and given.quantity is not None:
            errors.add(
                (*path, "quantity"),
                ErrorCode.PARAMETERS_EXCLUSIVE,
                "You may only specify one of these parameters: amount, quantity.",
            )
            return None
        if given.quantity is not None and given.quantity > line.quantity:
            errors.add(
                (*path, "quantity"),
                ErrorCode.PARAMETER_INVALID,
                f"The quantity credited ({given.quantity}) exceeds the line's quantity ({line.quantity}).",
            )
            return None
        if given.amount is not None:
            amount, quantity, unit = given.amount, Decimal(1), Decimal(given.amount)
        elif given.quantity is not None:
            quantity, unit = Decimal(given.quantity), line.unit_amount
            amount = line_amount(unit, quantity)
        elif line.credited:  # neither: what is left of the line
            amount, quantity, unit = line.amount - line.credited, Decimal(1), Decimal(line.amount - line.credited)
        else:
            amount, quantity, unit = line.amount, line.quantity, line.unit_amount
        if amount > line.amount - line.credited:
            errors.add(
                (*path, "amount"),
                ErrorCode.PARAMETER_INVALID,
                f"The amount credited ({amount}) exceeds what is left to credit on the line "
                f"({line.amount - line.credited} of {line.amount}).",
            )
        taxes = (
            manual
            if given.tax_amounts is not None and manual is not None
            else credited_taxes(line.taxes, amount, line.amount, before=line.credited, already=line.credited_taxes)
        )
        discounts = credited_discounts(
            line.discounts, amount, line.amount, before=line.credited, already=line.credited_discounts
        )
        return CreditLine(
            CreditLineType.INVOICE_LINE_ITEM,
            amount,
            unit,
            quantity,
            given.description or line.description,
            line.id,
            taxes,
            discounts,
        )
    if given.invoice_line_item is not None:
        errors.add(
            (*path, "invoice_line_item"),
            ErrorCode.PARAMETER_INVALID,
            "invoice_line_item can only be set on lines of type invoice_line_item.",
        )
    quantity = Decimal(given.quantity if given.quantity is not None else 1)
    if given.unit_amount is None:
        errors.missing((*path, "unit_amount"))
        return None
    amount = line_amount(given.unit_amount, quantity)
    if not 0 <= amount <= MAX_AMOUNT:
        errors.add((*path, "unit_amount"), ErrorCode.AMOUNT_TOO_LARGE, f"A line is at most {MAX_AMOUNT}.")
    if given.tax_rates is not None:
        manual = taxes_for(amount, [tax.rates[r] for r in given.tax_rates], tax.exempt)
    return CreditLine(
        CreditLineType.CUSTOM_LINE_ITEM, amount, given.unit_amount, quantity, given.description, None, manual or ()
    )


@dataclass(frozen=True, slots=True)
class CreditSplit:
    """How a credit note's total divides: what it takes off the amount still due, what it credits after payment."""

    pre_payment: int
    post_payment: int

    @property
    def type(self) -> str:
        if self.post_payment and self.pre_payment:
            return "mixed"
        return "post_payment" if self.post_payment else "pre_payment"


def split_credit(
    total: int,
    *,
    invoice_total: int,
    already_credited: int,
    amount_remaining: int,
    credit_amount: int | None,
    out_of_band_amount: int | None,
) -> CreditSplit:
    """Check a credit note's total against what is left to credit, and split it (see the module docstring)."""
    left = invoice_total - already_credited
    if total <= 0:
        raise RuleViolation("A credit note must credit a positive amount.", path=("amount",))
    if total > left:
        raise RuleViolation(
            f"The credit note's amount ({total}) exceeds what is left to credit on the invoice ({max(left, 0)}).",
            path=("amount",),
        )
    pre = min(total, max(amount_remaining, 0))
    post = total - pre
    settled = (credit_amount or 0) + (out_of_band_amount or 0)
    if settled != post:
        raise RuleViolation(
            f"This credit note credits {post} after payment: credit_amount + out_of_band_amount must equal it "
            f"(they are {settled}); bulkbill moves no money, so refunds are not available.",
            path=("credit_amount",),
        )
    return CreditSplit(pre, post)
