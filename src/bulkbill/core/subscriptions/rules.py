"""Subscriptions: billing periods, what falls due when, which items and discounts bill, the draft hour.

Pure rules over unix seconds (UTC). A subscription bills in advance: its first invoice covers the
first period and is finalized at once; at each period end a renewal invoice for the next period is
created as a draft, stays editable for one hour, and is then finalized (Stripe's `auto_advance`).
Period boundaries are always counted from the billing cycle anchor, so month ends never drift
(Jan 31 → Feb 28 → Mar 31). Time comes from the caller: a test clock's frozen time, or real time.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from babel.numbers import format_currency

from bulkbill.core.catalog.pricing import PriceScheme
from bulkbill.core.errors import ErrorCode, FieldError, InputCollector, InvalidInput, InvalidTransition, Path
from bulkbill.core.invoicing.commands import DiscountRef, ItemKind
from bulkbill.core.invoicing.items import (
    ItemOwner,
    ItemValues,
    References,
    check_discounts,
    check_tax_rates,
    priced_line,
)
from bulkbill.core.metadata import Clear, MetadataUpdate, check_metadata, merge_metadata
from bulkbill.core.money import MAX_AMOUNT, minor_to_major

# Stripe caps a subscription at 20 items and a billing interval at three years.
MAX_ITEMS = 20
MAX_INTERVAL_COUNT = {"day": 1095, "week": 156, "month": 36, "year": 3}
# A renewal invoice stays a draft this long after it is created, then it is finalized.
DRAFT_WINDOW_SECONDS = 3600
# A test clock moves at most this many intervals of its shortest subscription cadence per advance.
MAX_ADVANCE_INTERVALS = 2
# Stripe deletes a test clock 30 days after it was created.
CLOCK_LIFETIME_SECONDS = 30 * 86400
DAY = 86400


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class SubscriptionStatus(StrEnum):
    # bulkbill takes no payments, so a subscription is never incomplete or past due: it is trialing,
    # active, paused (a trial ended without a payment method, end behavior `pause`) or canceled.
    # The moves between them are core.subscriptions.terms.TRANSITIONS.
    TRIALING = "trialing"
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELED = "canceled"


class BillingReason(StrEnum):
    CREATE = "subscription_create"
    CYCLE = "subscription_cycle"
    UPDATE = "subscription_update"  # prorations invoiced at once (always_invoice, cancel with invoice_now)
    THRESHOLD = "subscription_threshold"  # metered usage reached a billing threshold (core.subscriptions.usage)


@dataclass(frozen=True, slots=True)
class Cadence:
    """How often a subscription bills: every `count` intervals."""

    interval: Interval
    count: int = 1


# --- periods ---------------------------------------------------------------------------------


def add_months(at: int, months: int) -> int:
    """Add calendar months keeping the day of month and the time, clamped to the target month's last day."""
    moment = datetime.fromtimestamp(at, UTC)
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return int(moment.replace(year=year, month=month + 1, day=day).timestamp())


def boundary(anchor: int, cadence: Cadence, periods: int) -> int:
    """The instant `periods` billing intervals after the anchor, always counted from the anchor (no drift)."""
    steps = periods * cadence.count
    if cadence.interval == Interval.DAY:
        return anchor + steps * DAY
    if cadence.interval == Interval.WEEK:
        return anchor + steps * 7 * DAY
    if cadence.interval == Interval.MONTH:
        return add_months(anchor, steps)
    return add_months(anchor, 12 * steps)


def period(anchor: int, cadence: Cadence, index: int) -> tuple[int, int]:
    """Period `index` (0 = the first) runs from one boundary to the next; the end is exclusive."""
    return boundary(anchor, cadence, index), boundary(anchor, cadence, index + 1)


def is_due(status: str, current_period_end: int, at: int) -> bool:
    """An active or trialing subscription renews (or ends) once the time reaches its current period's end."""
    return status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING) and current_period_end <= at


def finalizes_at(created: int, chosen: int | None = None) -> int:
    """A renewal invoice is finalized one hour after it was created, when it still auto-advances, or at the
    time chosen for it (`automatically_finalizes_at`)."""
    return chosen if chosen is not None else created + DRAFT_WINDOW_SECONDS


def auto_finalizes(status: str, auto_advance: bool, billing_reason: str) -> bool:
    """Only renewal drafts that still auto-advance are finalized by the passing of time."""
    return status == "draft" and auto_advance and billing_reason == BillingReason.CYCLE


# --- what falls due --------------------------------------------------------------------------


class EventKind(StrEnum):
    FINALIZE = "finalize"  # a renewal draft's hour is over
    RENEW = "renew"  # a period ended: invoice the next one
    END = "end"  # a period ended on a subscription set to cancel at period end, or cancel_at came
    TRIAL_END = "trial_end"  # the trial is over: its end behavior decides what follows
    RESUME = "resume"  # paused collection resumes (pause_collection[resumes_at])


@dataclass(frozen=True, slots=True)
class SubscriptionTiming:
    id: str
    status: str
    current_period_end: int
    cancel_at_period_end: bool = False
    cancel_at: int | None = None
    resumes_at: int | None = None

    def ends_at(self) -> int | None:
        """When the subscription ends on its own: cancel_at, or the period end when set to cancel then."""
        if self.cancel_at is not None and self.cancel_at <= self.current_period_end:
            return self.cancel_at
        return self.current_period_end if self.cancel_at_period_end else None


@dataclass(frozen=True, slots=True)
class DraftTiming:
    id: str
    created: int
    chosen: int | None = None  # a chosen automatically_finalizes_at


@dataclass(frozen=True, slots=True)
class DueEvent:
    kind: EventKind
    at: int
    target: str


_EVENT_ORDER = {
    EventKind.FINALIZE: 0,
    EventKind.RESUME: 1,
    EventKind.END: 2,
    EventKind.TRIAL_END: 3,
    EventKind.RENEW: 4,
}
_LIVE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAUSED)


def next_event(
    subscriptions: Sequence[SubscriptionTiming], drafts: Sequence[DraftTiming], until: int
) -> DueEvent | None:
    """The earliest work due by `until`: older drafts finalize before periods roll over at the same instant."""
    events = [
        DueEvent(EventKind.FINALIZE, finalizes_at(d.created, d.chosen), d.id)
        for d in drafts
        if finalizes_at(d.created, d.chosen) <= until
    ]
    for s in subscriptions:
        ends_at = s.ends_at()
        if s.resumes_at is not None and s.resumes_at <= until and s.status in _LIVE:
            events.append(DueEvent(EventKind.RESUME, s.resumes_at, s.id))
        if ends_at is not None and ends_at <= until and s.status in _LIVE:
            events.append(DueEvent(EventKind.END, ends_at, s.id))
        elif is_due(s.status, s.current_period_end, until):
            kind = EventKind.TRIAL_END if s.status == SubscriptionStatus.TRIALING else EventKind.RENEW
            events.append(DueEvent(kind, s.current_period_end, s.id))
    if not events:
        return None
    return min(events, key=lambda e: (e.at, _EVENT_ORDER[e.kind], e.target))


def check_advance(frozen_time: int, target: int, cadences: Sequence[Cadence]) -> None:
    """A clock only moves forward, at most two intervals of its shortest subscription cadence per advance."""
    errors = InputCollector()
    if target < frozen_time:
        errors.add(
            ("frozen_time",),
            ErrorCode.INVALID_FROZEN_TIME,
            f"The new frozen_time ({target}) must be after the clock's current frozen_time ({frozen_time}).",
        )
    elif cadences:
        limit = min(boundary(frozen_time, c, MAX_ADVANCE_INTERVALS) for c in cadences)
        if target > limit:
            errors.add(
                ("frozen_time",),
                ErrorCode.INVALID_FROZEN_TIME,
                f"A test clock can advance at most {MAX_ADVANCE_INTERVALS} intervals of its shortest subscription "
                f"interval at a time; advance to {limit} or earlier first.",
            )
    errors.raise_if_any()


# --- discounts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiscountTerm:
    """A discount held by a subscription or one of its items, with its coupon's duration."""

    id: str
    duration: str
    duration_in_months: int | None
    start: int


@dataclass(frozen=True, slots=True)
class DiscountSplit:
    applied: tuple[str, ...]
    kept: tuple[str, ...]


def split_discounts(discounts: Sequence[DiscountTerm], at: int) -> DiscountSplit:
    """An invoice at `at` takes once-coupons (then dropped), repeating ones until start + n months, forever ones."""
    applied: list[str] = []
    kept: list[str] = []
    for d in discounts:
        if d.duration == "once":
            applied.append(d.id)
        elif d.duration == "repeating":
            if at < add_months(d.start, d.duration_in_months or 0):
                applied.append(d.id)
                kept.append(d.id)
        else:
            applied.append(d.id)
            kept.append(d.id)
    return DiscountSplit(tuple(applied), tuple(kept))


# --- items -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecurringPrice:
    id: str
    currency: str
    unit_amount_decimal: Decimal | None
    product_id: str
    cadence: Cadence | None  # None for a one-time price
    active: bool = True
    scheme: PriceScheme | None = None  # tiers, transform_quantity (None: plain per unit)
    metered: bool = False  # bills its meter's usage in arrears (core.subscriptions.usage), has no quantity


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One `items[i]` entry: a new item (no id), or an existing item changed or deleted (id)."""

    id: str | None = None
    price: str | None = None
    quantity: int | None = None
    deleted: bool = False
    tax_rates: tuple[str, ...] | Clear | None = None
    discounts: tuple[DiscountRef, ...] | Clear | None = None
    metadata: MetadataUpdate | None = None
    usage_gte: int | Clear | None = None  # billing_thresholds[usage_gte] ("" clears it)
    quantity_given: bool = False  # quantity was sent (a metered item takes none)
    inline_price: bool = False  # `price` was made from price_data for this item: inactive, as Stripe makes it


@dataclass(frozen=True, slots=True)
class ItemState:
    id: str
    price_id: str
    quantity: int
    tax_rates: tuple[str, ...] | None
    discounts: tuple[str, ...]
    metadata: Mapping[str, str] = field(default_factory=dict)
    usage_gte: int | None = None


@dataclass(frozen=True, slots=True)
class PlannedItem:
    """An item as it will be stored; `id` None for a new one. Discounts may name coupons to apply."""

    id: str | None
    price: RecurringPrice
    quantity: int
    tax_rates: tuple[str, ...] | None
    discounts: tuple[DiscountRef, ...]
    metadata: dict[str, str]
    usage_gte: int | None = None


@dataclass(frozen=True, slots=True)
class ItemsPlan:
    items: tuple[PlannedItem, ...]
    deleted: tuple[str, ...]
    currency: str
    cadence: Cadence


def plan_items(
    current: Sequence[ItemState],
    changes: Sequence[ItemChange],
    prices: Mapping[str, RecurringPrice],
    refs: References,
    owner: ItemOwner,
    errors: InputCollector,
    *,
    currency: str | None,
    cadence: Cadence | None = None,
) -> ItemsPlan | None:
    """Items need an active recurring per-unit price, one currency, one cadence, distinct prices, 1 to 20 items.

    An update may move every item to another cadence at once: the plan then carries the new one."""
    # `currency` and `cadence` are the subscription's (or the customer's currency) once fixed; else the first item's.
    by_id = {i.id: i for i in current}
    # Each item with the path its price came from: existing items keep ("items",) unless a change names a price.
    kept: dict[str, tuple[Path, PlannedItem]] = {}
    for state in current:
        price = prices.get(state.price_id)
        if price is not None:
            discounts = tuple(DiscountRef(discount=d) for d in state.discounts)
            kept[state.id] = (
                ("items",),
                PlannedItem(
                    state.id, price, state.quantity, state.tax_rates, discounts, dict(state.metadata), state.usage_gte
                ),
            )
    added: list[tuple[Path, PlannedItem]] = []
    deleted: list[str] = []
    touched: set[str] = set()
    for i, change in enumerate(changes):
        path: Path = ("items", i)
        if change.id is None:
            if change.deleted:
                errors.missing((*path, "id"))
            elif change.price is None:
                errors.missing((*path, "price"))
            else:
                checked = _checked_price(change.price, prices, (*path, "price"), errors, inline=change.inline_price)
                if checked is not None:
                    blank = PlannedItem(None, checked, 1, None, (), {})
                    new_item = _apply_item_change(blank, change, prices, refs, owner, path, errors)
                    if new_item is not None:
                        added.append(((*path, "price"), new_item))
            continue
        if change.id not in by_id or change.id in touched:
            errors.not_found((*path, "id"), "subscription item", change.id)
            continue
        touched.add(change.id)
        if change.deleted:
            deleted.append(change.id)
            kept.pop(change.id, None)
        elif change.id in kept:
            where, base = kept[change.id]
            changed = _apply_item_change(base, change, prices, refs, owner, path, errors)
            if changed is not None:
                kept[change.id] = ((*path, "price") if change.price is not None else where, changed)
    entries = [*kept.values(), *added]
    if not entries:
        if not errors.errors:
            errors.add(("items",), ErrorCode.PARAMETER_MISSING, "A subscription needs at least one item with a price.")
        return None
    if len(entries) > MAX_ITEMS:
        errors.add(("items",), ErrorCode.TOO_MANY_ITEMS, f"A subscription can have at most {MAX_ITEMS} items.")
    plan_currency = currency or entries[0][1].price.currency
    cadence = cadence or entries[0][1].price.cadence
    cadence = _new_billing_period(cadence, [item for _, item in entries])
    seen: set[str] = set()
    for where, item in entries:
        if not bills_in(item.price, plan_currency):
            errors.add(
                where,
                ErrorCode.CURRENCY_MISMATCH,
                f"The price {item.price.id} is in {item.price.currency}; every item of this subscription must be "
                f"in {plan_currency}.",
            )
        if item.price.cadence != cadence:
            errors.add(
                where,
                ErrorCode.INTERVAL_MISMATCH,
                "All prices on a subscription must have the same recurring interval and interval_count.",
            )
        if item.price.id in seen:
            errors.add(
                where,
                ErrorCode.DUPLICATE_PRICE,
                f"Cannot add multiple subscription items with the same price: {item.price.id}.",
            )
        seen.add(item.price.id)
    if cadence is None:
        return None
    return ItemsPlan(tuple(item for _, item in entries), tuple(deleted), plan_currency, cadence)


def _new_billing_period(cadence: Cadence | None, items: Sequence[PlannedItem]) -> Cadence | None:
    """Items that all move to another billing period change the subscription's (Stripe's "changing the billing
    period": the cycle restarts now); items that would mix periods keep the subscription's, and are refused."""
    resulting = {item.price.cadence for item in items}
    if cadence is not None and len(resulting) == 1 and cadence not in resulting:
        return next(iter(resulting))
    return cadence


def bills_in(price: RecurringPrice, currency: str) -> bool:
    """A price bills in its own currency and in each of its currency_options."""
    return price.currency == currency or (price.scheme is not None and price.scheme.in_currency(currency) is not None)


def _checked_price(
    price_id: str, prices: Mapping[str, RecurringPrice], path: Path, errors: InputCollector, *, inline: bool = False
) -> RecurringPrice | None:
    price = prices.get(price_id)
    if price is None:
        errors.not_found(path, "price", price_id)
        return None
    if price.cadence is None:
        errors.add(
            path,
            ErrorCode.PRICE_NOT_RECURRING,
            "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.",
        )
        return None
    if not price.active and not inline:  # an item's own price_data makes an inactive price it may use
        errors.add(
            path, ErrorCode.PRICE_INACTIVE, "The price specified is inactive. This field only accepts active prices."
        )
        return None
    if price.unit_amount_decimal is None and price.scheme is None:
        errors.add(path, ErrorCode.PRICE_UNSUPPORTED, "Only prices with a unit amount or tiers are supported.")
        return None
    return price


def _apply_item_change(
    base: PlannedItem,
    change: ItemChange,
    prices: Mapping[str, RecurringPrice],
    refs: References,
    owner: ItemOwner,
    path: Path,
    errors: InputCollector,
) -> PlannedItem | None:
    price = base.price
    if change.price is not None and change.price != base.price.id:
        checked = _checked_price(change.price, prices, (*path, "price"), errors, inline=change.inline_price)
        if checked is None:
            return None
        price = checked
    quantity = base.quantity if change.quantity is None else change.quantity
    usage_gte = base.usage_gte
    if change.usage_gte is not None:
        usage_gte = None if isinstance(change.usage_gte, Clear) else change.usage_gte
    if price.metered:
        if change.quantity_given:
            errors.add(
                (*path, "quantity"),
                ErrorCode.INVALID_QUANTITY,
                "Quantity should not be specified where usage_type is `metered`: its usage is the meter's.",
            )
    elif usage_gte is not None:
        errors.add(
            (*path, "billing_thresholds", "usage_gte"),
            ErrorCode.PARAMETER_INVALID,
            "billing_thresholds[usage_gte] applies to metered prices only (recurring[usage_type]=metered).",
        )
    if quantity < 0:
        errors.add((*path, "quantity"), ErrorCode.INVALID_QUANTITY, "Quantity must be greater than or equal to 0.")
    elif abs(_item_amount(price, Decimal(quantity))) > MAX_AMOUNT:
        errors.add(
            (*path, "quantity"), ErrorCode.AMOUNT_TOO_LARGE, "The item amount (unit amount × quantity) is too large."
        )
    tax_rates = base.tax_rates
    if change.tax_rates is not None:
        tax_rates = None if isinstance(change.tax_rates, Clear) else change.tax_rates
        check_tax_rates(tax_rates or (), refs, (*path, "tax_rates"), errors)
    discounts = base.discounts
    if change.discounts is not None:
        discounts = () if isinstance(change.discounts, Clear) else change.discounts
        check_discounts(discounts, owner, refs, (*path, "discounts"), errors)
    check_metadata(change.metadata, (*path, "metadata"), errors)
    metadata = merge_metadata(base.metadata, change.metadata, (*path, "metadata"), errors)
    return PlannedItem(base.id, price, quantity, tax_rates, discounts, metadata, usage_gte)


# --- lifecycle -------------------------------------------------------------------------------

# What a canceled subscription still accepts (Stripe: cancellation_details and metadata).
EDITABLE_WHEN_CANCELED = frozenset({"metadata", "cancellation_details"})


def ensure_updatable(status: str, given: frozenset[str]) -> None:
    """A canceled subscription takes only metadata and cancellation_details changes."""
    if status == SubscriptionStatus.CANCELED and given - EDITABLE_WHEN_CANCELED:
        raise InvalidTransition(
            "A canceled subscription can only update its cancellation_details and metadata.",
        )


def refuse_unsupported(name: str, reason: str) -> InvalidInput:
    """The error for a Stripe Billing feature bulkbill does not implement (proration, trials, ...)."""
    return InvalidInput(
        [FieldError((name,), ErrorCode.PARAMETER_UNSUPPORTED, f"{reason} (`{name}`) is not supported.")]
    )


# --- renewal lines ---------------------------------------------------------------------------


def describe_cadence(cadence: Cadence) -> str:
    """'/ month' for one interval, 'every 3 months' for several."""
    if cadence.count == 1:
        return f"/ {cadence.interval.value}"
    return f"every {cadence.count} {cadence.interval.value}s"


def line_description(quantity: int, product_name: str, unit_amount: Decimal, currency: str, cadence: Cadence) -> str:
    """Stripe's wording for a subscription line: '2 × Widget (at $15.00 / month)'."""
    price = format_currency(minor_to_major(unit_amount, currency), currency.upper(), locale="en_US")
    return f"{quantity} × {product_name} (at {price} {describe_cadence(cadence)})"


def subscription_line(
    *,
    currency: str,
    price: RecurringPrice,
    quantity: int | Decimal,
    bills: tuple[int, int],
    description: str | None,
    tax_rates: tuple[str, ...] | None,
    discounts: tuple[str, ...],
    metadata: Mapping[str, str],
) -> ItemValues:
    """A subscription item's period as a billable line priced through its price (per unit or tiers)."""
    unit = price.unit_amount_decimal if price.unit_amount_decimal is not None else Decimal(0)
    unit, amount = priced_line(price.scheme, currency, unit, Decimal(quantity))
    return ItemValues(
        kind=ItemKind.SUBSCRIPTION,
        currency=currency,
        unit_amount_decimal=unit,
        quantity=Decimal(quantity),
        amount=amount,
        description=description,
        discountable=True,
        discounts=tuple(DiscountRef(discount=d) for d in discounts),
        tax_rates=tax_rates,
        period=bills,
        metadata=dict(metadata),
        price_id=price.id,
        product_id=price.product_id,
        amount_defined=False,
    )


def _item_amount(price: RecurringPrice, quantity: Decimal) -> int:
    unit = price.unit_amount_decimal if price.unit_amount_decimal is not None else Decimal(0)
    return priced_line(price.scheme, price.currency, unit, quantity)[1]


# What subscription lines name as their source (an invoice item's source_type).
LINE_SOURCE_TYPE = "subscription_item"


def source_id(subscription_item_id: str, period_start: int, *, trial: bool = False, restart: int | None = None) -> str:
    """What a subscription line bills, unique per item and period: the database refuses a second bill.

    A trial's 0 line is its own source: a trial ended at once (trial_end=now) and the paid period
    that follows start at the same instant. So is a period that restarts the cycle at the instant the
    period it replaces began (a reset or a change of billing period in the subscription's first second):
    `restart` is the subscription's period index then, which no other period of it takes.
    """
    return (
        f"{subscription_item_id}:{period_start}"
        + (":trial" if trial else "")
        + (f":restart{restart}" if restart is not None else "")
    )
