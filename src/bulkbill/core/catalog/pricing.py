"""How a price turns a quantity into an amount: per unit, tiered (graduated or volume), transformed, custom.

Stripe's arithmetic, kept exact until one final rounding:
* per_unit: unit amount × quantity; with `transform_quantity`, the quantity is first divided by
  `divide_by` and rounded to a whole number, `up` or `down` as the price says.
* tiered, `graduated`: each tier prices the units that fall inside it (units above the previous
  tier's `up_to`, up to its own), plus its flat amount once any unit reaches it; the line is the sum.
* tiered, `volume`: the one tier the whole quantity falls in prices every unit, plus its flat amount.
* A quantity of 0 enters no tier, so it bills 0 under both modes.
* `custom_unit_amount`: the customer chooses the amount (the line gives it, or the price's preset),
  within the price's minimum and maximum.
Every partial sum is an exact Decimal (unit and flat amounts may carry 12 decimal places); the line
amount rounds once, half away from zero (core.money.line_amount's policy), to a minor unit.
`currency_options` give the same definitions in other currencies: an invoice in EUR uses the EUR option.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum

from bulkbill.core.errors import ErrorCode, InputCollector, Path
from bulkbill.core.money import MAX_AMOUNT, MAX_UNIT_PRICE_PLACES, places, round_half_up

# Stripe caps a price at 250 tiers (more than anyone writes by hand, few enough to price in a loop).
MAX_TIERS = 250


class BillingScheme(StrEnum):
    PER_UNIT = "per_unit"
    TIERED = "tiered"


class TiersMode(StrEnum):
    GRADUATED = "graduated"
    VOLUME = "volume"


class Rounding(StrEnum):
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class Tier:
    """One tier: units up to `up_to` (None: infinity) at `unit_amount` each, plus `flat_amount` (minor units)."""

    up_to: int | None
    unit_amount: Decimal = Decimal(0)
    flat_amount: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class CustomUnitAmount:
    """A pay-what-you-want price: bounds and a suggested amount, in minor units."""

    minimum: int | None = None
    maximum: int | None = None
    preset: int | None = None


@dataclass(frozen=True, slots=True)
class CurrencyPricing:
    """A price's amounts in one currency: a unit amount, tiers, or a custom amount."""

    unit_amount: Decimal | None = None
    tiers: tuple[Tier, ...] = ()
    custom: CustomUnitAmount | None = None


@dataclass(frozen=True, slots=True)
class Transform:
    """transform_quantity: bill ceil/floor(quantity / divide_by) units."""

    divide_by: int
    round: Rounding


@dataclass(frozen=True, slots=True)
class PriceScheme:
    """Everything about a price that decides a line's amount."""

    currency: str
    billing_scheme: BillingScheme = BillingScheme.PER_UNIT
    base: CurrencyPricing = field(default_factory=CurrencyPricing)
    tiers_mode: TiersMode | None = None
    transform: Transform | None = None
    options: Mapping[str, CurrencyPricing] = field(default_factory=dict)

    def in_currency(self, currency: str) -> CurrencyPricing | None:
        """The price's definition in `currency`: its own currency, or one of its currency_options."""
        if currency == self.currency:
            return self.base
        return self.options.get(currency)

    @property
    def is_plain(self) -> bool:
        """A plain per-unit price: amount = unit amount × quantity, nothing else."""
        return (
            self.billing_scheme == BillingScheme.PER_UNIT
            and self.transform is None
            and self.base.custom is None
            and not self.options
        )


def billed_quantity(quantity: Decimal, transform: Transform | None) -> Decimal:
    """transform_quantity: the quantity divided by divide_by, rounded up or down to a whole number."""
    if transform is None:
        return quantity
    rounding = ROUND_CEILING if transform.round == Rounding.UP else ROUND_FLOOR
    return (quantity / Decimal(transform.divide_by)).to_integral_value(rounding=rounding)


def tiered_total(tiers: Sequence[Tier], mode: TiersMode, quantity: Decimal) -> Decimal:
    """The exact, unrounded amount of `quantity` units under graduated or volume tiers."""
    if quantity <= 0:
        return Decimal(0)
    if mode == TiersMode.VOLUME:
        for tier in tiers:
            if tier.up_to is None or quantity <= tier.up_to:
                return tier.unit_amount * quantity + tier.flat_amount
        return Decimal(0)  # unreachable for checked tiers: the last one is up_to=inf
    total = Decimal(0)
    below = Decimal(0)
    for tier in tiers:
        top = quantity if tier.up_to is None else min(quantity, Decimal(tier.up_to))
        total += tier.unit_amount * (top - below) + tier.flat_amount
        if tier.up_to is None or quantity <= tier.up_to:
            break
        below = Decimal(tier.up_to)
    return total


def price_amount(scheme: PriceScheme, pricing: CurrencyPricing, quantity: Decimal) -> int:
    """A line's amount under a price (in the currency `pricing` belongs to), rounded once to a minor unit."""
    if scheme.billing_scheme == BillingScheme.TIERED:
        return round_half_up(tiered_total(pricing.tiers, scheme.tiers_mode or TiersMode.GRADUATED, quantity))
    unit = pricing.unit_amount if pricing.unit_amount is not None else Decimal(0)
    return round_half_up(unit * billed_quantity(quantity, scheme.transform))


def shown_unit_amount(amount: int, quantity: Decimal) -> Decimal:
    """The unit amount a tiered line shows: its amount spread over its quantity (12 places at most)."""
    if quantity <= 0:
        return Decimal(0)
    return (Decimal(amount) / quantity).quantize(Decimal(1).scaleb(-MAX_UNIT_PRICE_PLACES)).normalize()


def _check_amount(value: Decimal, path: Path, errors: InputCollector) -> None:
    if not 0 <= value <= MAX_AMOUNT or places(value) > MAX_UNIT_PRICE_PLACES:
        errors.add(
            path,
            ErrorCode.PARAMETER_INVALID,
            f"Invalid amount: must be between 0 and {MAX_AMOUNT} with at most {MAX_UNIT_PRICE_PLACES} decimal places.",
        )


def check_tiers(tiers: Sequence[Tier], path: Path, errors: InputCollector) -> None:
    """Tiers ascend strictly by up_to, the last (and only the last) is up_to=inf; amounts are 0..MAX_AMOUNT."""
    if not tiers:
        errors.add(path, ErrorCode.PARAMETER_MISSING, "Tiered prices need at least one tier in `tiers`.")
        return
    if len(tiers) > MAX_TIERS:
        errors.add(path, ErrorCode.PARAMETER_INVALID, f"A price can have at most {MAX_TIERS} tiers.")
    previous = 0
    for i, tier in enumerate(tiers):
        last = i == len(tiers) - 1
        if tier.up_to is None and not last:
            errors.add((*path, i, "up_to"), ErrorCode.PARAMETER_INVALID, "Only the last tier can have up_to=inf.")
        elif tier.up_to is not None and last:
            errors.add((*path, i, "up_to"), ErrorCode.PARAMETER_INVALID, "The last tier must have up_to=inf.")
        elif tier.up_to is not None:
            if tier.up_to <= previous:
                errors.add(
                    (*path, i, "up_to"),
                    ErrorCode.PARAMETER_INVALID,
                    "Each tier's up_to must be greater than the previous tier's (and than 0).",
                )
            previous = max(previous, tier.up_to)
        _check_amount(tier.unit_amount, (*path, i, "unit_amount"), errors)
        _check_amount(tier.flat_amount, (*path, i, "flat_amount"), errors)


def check_custom(custom: CustomUnitAmount, path: Path, errors: InputCollector) -> None:
    """minimum ≤ preset ≤ maximum, all between 0 and MAX_AMOUNT."""
    for name in ("minimum", "maximum", "preset"):
        value = getattr(custom, name)
        if value is not None and not 0 <= value <= MAX_AMOUNT:
            errors.add((*path, name), ErrorCode.PARAMETER_INVALID, f"{name} must be between 0 and {MAX_AMOUNT}.")
    low, high = custom.minimum, custom.maximum
    if low is not None and high is not None and low > high:
        errors.add((*path, "maximum"), ErrorCode.PARAMETER_INVALID, "maximum must be at least minimum.")
    if custom.preset is not None and not custom_amount_fits(custom, custom.preset):
        errors.add((*path, "preset"), ErrorCode.PARAMETER_INVALID, "preset must be between minimum and maximum.")


def custom_amount_fits(custom: CustomUnitAmount, amount: int) -> bool:
    """A chosen amount respects the price's minimum and maximum."""
    return (custom.minimum is None or amount >= custom.minimum) and (custom.maximum is None or amount <= custom.maximum)
