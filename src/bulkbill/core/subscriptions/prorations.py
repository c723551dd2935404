"""Prorations of a subscription change: credit for the unused time of what was billed, charge for the rest.

Stripe's classic rule (docs: billing/subscriptions/prorations), to the second:
* A change at `at` (the proration date) inside the current period [start, end) leaves the fraction
  (end - at) / (end - start) of the period. Each item whose price or quantity changed gets a credit
  line for that fraction of what a full period of its old state bills ("Unused time on ...", negative)
  and a charge line for that fraction of what a full period of its new state bills ("Remaining time on
  ..."); a deleted item gets only the credit, a new one only the charge. Unchanged items get nothing.
* Each line's amount is the full-period amount × (end - at) / (end - start), computed exactly in
  Decimal (one division) and rounded once, half away from zero. Its period is [at, end).
* Ending the period early (cancel with `prorate`, resetting the cycle with `billing_cycle_anchor=now`,
  starting a trial) credits every item's unused time the same way.
* The lines are pending invoice items of the subscription (`proration: true`): the next invoice takes
  them, or, with `always_invoice`, an invoice made at once.
* Discounts are netted in, as Stripe's classic mode (`proration_discounts=included`) does: each item's
  discounts on a full period (its own coupons and the subscription's, as a renewal invoice would
  give them: core.invoicing.totals) are prorated like its amount, each rounded once, and the line is
  the prorated amount less them. So the credit for unused time is discounted as the period was, and
  the charge as the rest will be. A proration line is not discountable again on its invoice; it names
  the discounts it netted, and keeps their prorated amounts (signed as the line: a credit's are
  negative), so its amount plus them is the undiscounted share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from bulkbill.core.invoicing.commands import DiscountRef, ItemKind
from bulkbill.core.invoicing.items import ItemValues, evolve
from bulkbill.core.invoicing.totals import DiscountAmount
from bulkbill.core.money import round_half_up

# The key of an invoice item's `extras` that marks it as a proration (what `proration: true` shows).
PRORATION = "proration"
# The key of a credit proration's `extras` naming the invoice line whose period it credits.
CREDITED = "credited_items"
# The key of a proration's `extras` keeping the discount amounts netted into it (proration_details).
PRORATION_DISCOUNTS = "proration_discount_amounts"


class ProrationBehavior(StrEnum):
    CREATE_PRORATIONS = "create_prorations"  # Stripe's default on update: pending items for the next invoice
    ALWAYS_INVOICE = "always_invoice"  # the same items, invoiced at once
    NONE = "none"  # no prorations: the change applies from the next period


@dataclass(frozen=True, slots=True)
class BilledItem:
    """What a full period of one subscription item bills, and the name its lines show."""

    item_id: str
    values: ItemValues  # the full period's line (price, quantity, amount, tax rates)
    product_name: str
    # What a full period's discounts take off that line (positive amounts), each discount once.
    discounts: tuple[DiscountAmount, ...] = ()


@dataclass(frozen=True, slots=True)
class Proration:
    """One proration line: a credit (negative) or a charge for one item from the proration date on."""

    item_id: str
    values: ItemValues
    credit: bool
    # The discounts netted into the amount, prorated and signed as the line (Stripe's proration_details).
    discount_amounts: tuple[DiscountAmount, ...] = ()


def prorated_share(full_amount: int, at: int, period: tuple[int, int]) -> int:
    """The part of a full period's amount for [at, end): amount × (end - at) / (end - start), rounded once."""
    start, end = period
    return round_half_up(Decimal(full_amount * (end - at)) / Decimal(end - start))


def _day(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%d %b %Y")


def _line(billed: BilledItem, at: int, period: tuple[int, int], *, credit: bool) -> Proration:
    sign = -1 if credit else 1
    off = tuple(DiscountAmount(d.discount_id, sign * prorated_share(d.amount, at, period)) for d in billed.discounts)
    share = sign * prorated_share(billed.values.amount, at, period) - sum(d.amount for d in off)
    quantity = billed.values.quantity
    what = f"{quantity:f} × {billed.product_name}"
    description = f"{'Unused' if credit else 'Remaining'} time on {what} after {_day(at)}"
    values = evolve(
        billed.values,
        kind=ItemKind.INVOICE_ITEM,
        amount=share,
        amount_defined=True,
        description=description,
        discountable=False,  # its discounts are netted in already
        discounts=tuple(DiscountRef(discount=d.discount_id) for d in off),
        period=(at, period[1]),
    )
    return Proration(billed.item_id, values, credit, off)


def _same(a: ItemValues, b: ItemValues) -> bool:
    return a.price_id == b.price_id and a.quantity == b.quantity and a.amount == b.amount


def proration_lines(
    before: Sequence[BilledItem], after: Sequence[BilledItem], at: int, period: tuple[int, int]
) -> list[Proration]:
    """The lines a change at `at` makes: per changed item a credit of its old state and a charge of its new one.

    `before` is what each item billed for the current period, `after` what it would bill for a full period
    after the change (empty when the period ends at `at`: every item is credited). Items come in the
    order given; the credit of an item comes before its charge.
    """
    if at >= period[1]:
        return []
    new: Mapping[str, BilledItem] = {b.item_id: b for b in after}
    old_ids = {b.item_id for b in before}
    lines: list[Proration] = []
    for old in before:
        changed = new.get(old.item_id)
        if changed is not None and _same(old.values, changed.values):
            continue
        lines.append(_line(old, at, period, credit=True))
        if changed is not None:
            lines.append(_line(changed, at, period, credit=False))
    lines.extend(_line(b, at, period, credit=False) for b in after if b.item_id not in old_ids)
    return [line for line in lines if line.values.amount != 0]
