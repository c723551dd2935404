"""What a promotion code's `restrictions` ask of the purchase it is redeemed on (Stripe's rules).

`first_time_transaction`: only a customer who never made a purchase (no finalized invoice that was not
voided) redeems the code; checked when the code is applied. `minimum_amount`: the invoice's subtotal
before discounts reaches the minimum in the invoice's currency (`minimum_amount_currency`, or a
`currency_options` entry); checked when the invoice is finalized, because a draft's lines still change
after a code is applied (a code applied to an empty draft, then lines added, is the common order).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FIRST_TIME_MESSAGE = "This promotion code cannot be redeemed because the associated customer has prior transactions."


@dataclass(frozen=True, slots=True)
class PromotionRestrictions:
    """A code's restrictions as stored: the minimum in its own currency and in other currencies."""

    first_time_transaction: bool = False
    minimum_amount: int | None = None
    minimum_amount_currency: str | None = None
    # {currency: minimum_amount} for currencies other than minimum_amount_currency.
    currency_options: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def stored(cls, value: Mapping[str, Any] | None) -> PromotionRestrictions:
        """From the stored JSON (PromotionCode.restrictions)."""
        value = value or {}
        options = value.get("currency_options") or {}
        return cls(
            first_time_transaction=bool(value.get("first_time_transaction")),
            minimum_amount=value.get("minimum_amount"),
            minimum_amount_currency=value.get("minimum_amount_currency"),
            currency_options={
                cur: int(opt["minimum_amount"])
                for cur, opt in options.items()
                if isinstance(opt, Mapping) and opt.get("minimum_amount") is not None
            },
        )

    @property
    def has_minimum(self) -> bool:
        return self.minimum_amount is not None or bool(self.currency_options)


NO_RESTRICTIONS = PromotionRestrictions()


def first_time_problem(restrictions: PromotionRestrictions, customer_has_purchased: bool) -> str | None:
    """A first-time-only code is refused to a customer who already made a purchase."""
    if restrictions.first_time_transaction and customer_has_purchased:
        return FIRST_TIME_MESSAGE
    return None


def minimum_amount_problem(code: str, restrictions: PromotionRestrictions, currency: str, subtotal: int) -> str | None:
    """The subtotal before discounts must reach the code's minimum in the invoice's currency; a code whose
    minimum is set in other currencies only cannot be redeemed in this one."""
    if not restrictions.has_minimum:
        return None
    if currency == restrictions.minimum_amount_currency:
        minimum = restrictions.minimum_amount
    else:
        minimum = restrictions.currency_options.get(currency)
    if minimum is None:
        known = ", ".join(
            sorted(c for c in (restrictions.minimum_amount_currency, *restrictions.currency_options) if c)
        )
        return (
            f"This promotion code ({code}) cannot be redeemed on a {currency} invoice: its minimum amount is set in "
            f"{known} only."
        )
    if subtotal < minimum:
        return (
            f"This promotion code ({code}) cannot be redeemed because the invoice's subtotal ({subtotal} {currency}) "
            f"is below its minimum amount ({minimum} {currency})."
        )
    return None
