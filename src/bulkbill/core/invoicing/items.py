"""Billable items: how a line's price, quantity, discounts and tax rates are set and checked.

One rule set serves every way an item is written: a Stripe invoice item create or update, a
bulk add_lines/update_lines entry, a single-line update. Problems are collected, not raised,
so a bulk call reports all of them and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from bulkbill.core.catalog.pricing import (
    BillingScheme,
    PriceScheme,
    custom_amount_fits,
    price_amount,
    shown_unit_amount,
)
from bulkbill.core.catalog.promotion_restrictions import NO_RESTRICTIONS, PromotionRestrictions, first_time_problem
from bulkbill.core.errors import ErrorCode, InputCollector, Path
from bulkbill.core.invoicing.commands import DiscountRef, ItemKind, LineChanges, NewProduct, PriceData
from bulkbill.core.metadata import Clear, check_metadata, merge_metadata, replace_metadata
from bulkbill.core.money import (
    AMOUNT_TOO_LARGE,
    MAX_AMOUNT,
    MAX_QUANTITY,
    MAX_UNIT_PRICE_PLACES,
    amount_limit_message,
    line_amount,
    places,
)

# Subscription lines accept only these changes (seed 002; spec Decision 6 adds metadata).
SUBSCRIPTION_EDITABLE = frozenset({"tax_rates", "discounts", "metadata"})
PRICING_FIELDS = ("amount", "price", "pricing", "price_data")
_PRICING_FIELD_SET = frozenset(PRICING_FIELDS)
_ONE = Decimal(1)


def amount_field(changes: LineChanges) -> str:
    """The wire field that set an item's amount, to name it in an error about the amount."""
    for name in (*PRICING_FIELDS, changes.quantity_field):
        if name in changes.given:
            if name == "price_data" and changes.price_data is not None and not changes.price_data.product_required:
                return "unit_amount_decimal"  # an invoice item's own unit price
            return name
    return "amount"


@dataclass(frozen=True, slots=True)
class PriceInfo:
    id: str
    currency: str
    unit_amount_decimal: Decimal | None
    product_id: str
    recurring: bool = False
    active: bool = True
    # Tiers, transform_quantity, custom_unit_amount, currency_options (None: plain per unit).
    scheme: PriceScheme | None = None

    def priced_in(self, currency: str) -> bool:
        """The price has amounts in `currency`: its own, or one of its currency_options."""
        if self.scheme is None:
            return currency == self.currency
        return self.scheme.in_currency(currency) is not None

    def is_custom(self, currency: str) -> bool:
        """The customer chooses the amount (custom_unit_amount) in `currency`."""
        pricing = self.scheme.in_currency(currency) if self.scheme is not None else None
        return pricing is not None and pricing.custom is not None


def priced_line(scheme: PriceScheme | None, currency: str, unit: Decimal, quantity: Decimal) -> tuple[Decimal, int]:
    """A line's shown unit amount and its amount: through the price's scheme when it has one, else unit × quantity.

    A tiered line shows its amount spread over its quantity; a transformed one keeps the price's
    unit amount (its amount counts the transformed quantity).
    """
    pricing = scheme.in_currency(currency) if scheme is not None else None
    if scheme is None or pricing is None or pricing.custom is not None:
        return unit, line_amount(unit, quantity)
    amount = price_amount(scheme, pricing, quantity)
    if scheme.billing_scheme == BillingScheme.TIERED:
        return shown_unit_amount(amount, quantity), amount
    return pricing.unit_amount if pricing.unit_amount is not None else unit, amount


@dataclass(frozen=True, slots=True)
class CouponInfo:
    id: str
    percent_off: Decimal | None
    amount_off: int | None
    currency: str | None
    valid: bool = True
    # How many more times it may be redeemed before max_redemptions (None: no limit).
    redemptions_left: int | None = None
    # Other currencies its amount_off is defined in (currency_options).
    other_currencies: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PromotionCodeInfo:
    """A promotion code as the checks see it: its coupon, whether it is usable now, for whom, how often."""

    id: str
    coupon_id: str
    valid: bool  # active and not past expires_at
    customer_id: str | None = None
    redemptions_left: int | None = None
    restrictions: PromotionRestrictions = NO_RESTRICTIONS


@dataclass(frozen=True, slots=True)
class DiscountInfo:
    id: str
    coupon_id: str
    customer_id: str | None


@dataclass(frozen=True, slots=True)
class TaxRateInfo:
    id: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class ItemValues:
    """The editable state of one billable item (what its invoice line shows)."""

    kind: ItemKind
    currency: str
    unit_amount_decimal: Decimal
    quantity: Decimal
    amount: int
    description: str | None
    discountable: bool
    discounts: tuple[DiscountRef, ...]
    tax_rates: tuple[str, ...] | None
    period: tuple[int, int]
    metadata: Mapping[str, str]
    price_id: str | None = None
    product_id: str | None = None
    # Set when the client sent price_data[product_data]: the product to create.
    new_product: NewProduct | None = None
    # True when the line was defined by a total `amount` rather than a price.
    amount_defined: bool = True


_ITEM_FIELDS = tuple(f.name for f in fields(ItemValues))
_ITEM_FIELD_SET = frozenset(_ITEM_FIELDS)
_new_object = object.__new__
_set_slot = object.__setattr__


def evolve(values: ItemValues, **changes: Any) -> ItemValues:
    """dataclasses.replace for ItemValues without its per-call field introspection (2-3x faster).

    Pricing a line replaces its values several times, for every line of a bulk call: replace() was
    most of the core's time on that path. ItemValues has no __post_init__ to skip.
    """
    if not _ITEM_FIELD_SET.issuperset(changes):
        raise TypeError(f"ItemValues has no field {sorted(set(changes) - _ITEM_FIELD_SET)}")
    new = _new_object(ItemValues)
    for name in _ITEM_FIELDS:
        _set_slot(new, name, changes[name] if name in changes else getattr(values, name))
    return new


@dataclass
class References:
    """Every object a command refers to, loaded once by the service before planning."""

    prices: dict[str, PriceInfo]
    coupons: dict[str, CouponInfo]
    discounts: dict[str, DiscountInfo]
    tax_rates: dict[str, TaxRateInfo]
    products: set[str]
    # Applications of each coupon this command's checks have accepted so far: each is a redemption.
    coupon_uses: dict[str, int] = field(default_factory=dict)
    promotion_codes: dict[str, PromotionCodeInfo] = field(default_factory=dict)
    # Whether a customer already made a purchase (first_time_transaction codes ask; read when asked).
    has_purchased: Callable[[str], bool] = lambda _customer_id: False


@dataclass(frozen=True, slots=True)
class ItemOwner:
    """Who an item is billed to, and in which currency."""

    customer_id: str
    currency: str


def blank_item(owner: ItemOwner, *, now: int) -> ItemValues:
    """A new item before the client's fields are applied: nothing priced yet."""
    return ItemValues(
        kind=ItemKind.INVOICE_ITEM,
        currency=owner.currency,
        unit_amount_decimal=Decimal(0),
        quantity=Decimal(1),
        amount=0,
        description=None,
        discountable=True,
        discounts=(),
        tax_rates=None,
        period=(now, now),
        metadata={},
        amount_defined=True,
    )


def build_new_item(
    owner: ItemOwner, changes: LineChanges, refs: References, path: Path, errors: InputCollector, *, now: int
) -> ItemValues:
    """A new item is priced by exactly one of amount, a price id or price_data."""
    if changes.given.isdisjoint(_PRICING_FIELD_SET):
        errors.add(
            (*path, "amount"),
            ErrorCode.PARAMETER_MISSING,
            "You must specify one of amount, pricing[price] or price_data for a new line.",
        )
    blank = blank_item(owner, now=now)
    # Every change, the default discountable included, lands in one evolve: this runs for every new line.
    updates = _item_updates(blank, owner, changes, refs, path, errors)
    if "discountable" not in changes.given:
        updates["discountable"] = updates.get("amount", blank.amount) >= 0
    return evolve(blank, **updates)


def apply_changes(
    base: ItemValues,
    owner: ItemOwner,
    changes: LineChanges,
    refs: References,
    path: Path,
    errors: InputCollector,
) -> ItemValues:
    """Apply one line's changes to an item; invoice-item lines take every field, subscription lines three."""
    if base.kind == ItemKind.SUBSCRIPTION:
        return _apply_subscription_changes(base, changes, refs, owner, path, errors)
    updates = _item_updates(base, owner, changes, refs, path, errors)
    return evolve(base, **updates) if updates else base


def _item_updates(
    base: ItemValues,
    owner: ItemOwner,
    changes: LineChanges,
    refs: References,
    path: Path,
    errors: InputCollector,
) -> dict[str, Any]:
    """An invoice-item line's changes as the ItemValues fields they set, checked (apply_changes' rule).

    Collected as one dict, applied by the caller in one evolve: this runs for every line of a bulk call.
    """
    updates = _apply_pricing(base, owner, changes, refs, path, errors)
    if changes.currency is not None and changes.currency.lower() != owner.currency:
        errors.add(
            (*path, "currency"),
            ErrorCode.CURRENCY_MISMATCH,
            f"The currency {changes.currency.lower()} does not match the invoice currency {owner.currency}.",
        )
    if changes.discounts is not None or changes.tax_rates is not None:
        updates.update(_discount_and_tax_updates(changes, refs, owner, path, errors))
    if changes.description is not None:
        updates["description"] = changes.description
    if changes.discountable is not None:
        updates["discountable"] = changes.discountable
    if changes.period is not None:
        start, end = changes.period
        if end < start:
            errors.add(
                (*path, "period", "end"),
                ErrorCode.INVALID_PERIOD,
                "The period end must be greater than or equal to the period start.",
            )
        updates["period"] = changes.period
    if changes.metadata is not None:
        check_metadata(changes.metadata, (*path, "metadata"), errors)
        updates["metadata"] = merge_metadata(base.metadata, changes.metadata, (*path, "metadata"), errors)
    return updates


def _apply_subscription_changes(
    base: ItemValues,
    changes: LineChanges,
    refs: References,
    owner: ItemOwner,
    path: Path,
    errors: InputCollector,
) -> ItemValues:
    for name in sorted(changes.given - SUBSCRIPTION_EDITABLE):
        # A price sent with the older `price` spelling is reported where the client put it.
        errors.add(
            (*path, changes.price_path[0] if name == "pricing" else name),
            ErrorCode.FIELD_NOT_EDITABLE,
            "Only tax_rates, discounts and metadata can be updated on subscription line items.",
        )
    updates = _discount_and_tax_updates(changes, refs, owner, path, errors)
    check_metadata(changes.metadata, (*path, "metadata"), errors)
    updates["metadata"] = replace_metadata(changes.metadata, base.metadata, (*path, "metadata"), errors)
    return evolve(base, **updates)


def _apply_pricing(
    base: ItemValues,
    owner: ItemOwner,
    changes: LineChanges,
    refs: References,
    path: Path,
    errors: InputCollector,
) -> dict[str, Any]:
    """The pricing fields a line's changes set (none when its price does not change)."""
    given = changes.given
    definers: list[str] = ["amount"] if "amount" in given else []
    if "price_data" in given:
        definers.append("price_data")
    named = refs.prices.get(changes.price) if changes.price is not None else None
    custom = named is not None and named.is_custom(owner.currency)
    if changes.price is not None and not custom:
        definers.insert(1 if "amount" in definers else 0, changes.price_path[0])
    if len(definers) > 1:
        errors.add(
            (*path, definers[1]),
            ErrorCode.PARAMETERS_EXCLUSIVE,
            f"You may only specify one of these parameters: {', '.join(definers)}.",
        )
        return {}
    if custom:
        return _priced_custom(owner, changes, refs, path, errors)
    if not definers and changes.quantity is None:
        return {}  # nothing about the price changes
    quantity = base.quantity
    if changes.quantity is not None and _quantity_ok(changes.quantity, (*path, changes.quantity_field), errors):
        quantity = changes.quantity  # a refused quantity is reported, and priced as before meanwhile
    if changes.amount is not None:
        if changes.quantity is not None:
            errors.add(
                (*path, changes.quantity_field),
                ErrorCode.PARAMETERS_EXCLUSIVE,
                "You may only specify one of these parameters: amount, quantity. `amount` is the line's total.",
            )
        if abs(changes.amount) > MAX_AMOUNT:
            errors.add((*path, "amount"), AMOUNT_TOO_LARGE, amount_limit_message())
        return {
            "unit_amount_decimal": Decimal(changes.amount),
            "quantity": _ONE,
            "amount": changes.amount,
            "price_id": None,
            "product_id": None,
            "amount_defined": True,
        }
    priced: dict[str, Any] = {}
    if changes.price is not None:
        priced = _priced_by_id(owner, changes, refs, path, errors)
    elif changes.price_data is not None:
        priced = _priced_inline(owner, changes.price_data, refs, (*path, "price_data"), errors)
    # The item as priced so far: what `priced` sets, else the base's.
    price_id = priced.get("price_id", base.price_id)
    price_info = refs.prices.get(price_id) if price_id is not None else None
    scheme = price_info.scheme if price_info is not None else None
    unit_before = priced.get("unit_amount_decimal", base.unit_amount_decimal)
    unit, amount = priced_line(scheme, owner.currency, unit_before, quantity)
    if abs(amount) > MAX_AMOUNT:
        errors.add(
            (*path, changes.quantity_field),
            AMOUNT_TOO_LARGE,
            f"The line amount (unit amount × quantity) would be {amount}, past the limit of {MAX_AMOUNT} minor units.",
        )
        amount = 0
    priced["unit_amount_decimal"], priced["quantity"] = unit, quantity
    amount_defined = priced.get("amount_defined", base.amount_defined)
    if not (amount_defined and changes.quantity is None):
        priced["amount"], priced["amount_defined"] = amount, False
    return priced


def _priced_custom(
    owner: ItemOwner,
    changes: LineChanges,
    refs: References,
    path: Path,
    errors: InputCollector,
) -> dict[str, Any]:
    """A custom_unit_amount price: the line's `amount` (else the price's preset) is the amount chosen."""
    priced = _priced_by_id(owner, changes, refs, path, errors)
    assert changes.price is not None
    scheme = refs.prices[changes.price].scheme
    pricing = scheme.in_currency(owner.currency) if scheme is not None else None
    custom = pricing.custom if pricing is not None else None
    assert custom is not None
    if changes.quantity is not None and changes.quantity != 1:
        errors.add(
            (*path, changes.quantity_field),
            ErrorCode.PARAMETER_INVALID,
            "A price with custom_unit_amount bills one unit: its amount is the amount chosen.",
        )
    chosen = changes.amount if changes.amount is not None else custom.preset
    if chosen is None:
        errors.add(
            (*path, "amount"),
            ErrorCode.PARAMETER_MISSING,
            f"The price {changes.price} has custom_unit_amount and no preset: send the amount chosen in `amount`.",
        )
        chosen = 0
    elif not custom_amount_fits(custom, chosen):
        errors.add(
            (*path, "amount"),
            ErrorCode.PARAMETER_INVALID,
            f"The amount must be between the price's custom_unit_amount minimum ({custom.minimum}) "
            f"and maximum ({custom.maximum}).",
        )
    priced.update(unit_amount_decimal=Decimal(chosen), quantity=_ONE, amount=chosen, amount_defined=False)
    return priced


def _quantity_ok(quantity: Decimal, path: Path, errors: InputCollector) -> bool:
    if quantity < 0:
        errors.add(path, ErrorCode.INVALID_QUANTITY, "Quantity must be greater than or equal to 0.")
    elif places(quantity) > MAX_UNIT_PRICE_PLACES:
        errors.add(path, ErrorCode.INVALID_QUANTITY, "Quantity can have at most 12 decimal places.")
    elif quantity > MAX_QUANTITY:
        errors.add(path, ErrorCode.INVALID_QUANTITY, f"Quantity must be at most {MAX_QUANTITY}.")
    else:
        return True
    return False


def _priced_by_id(
    owner: ItemOwner,
    changes: LineChanges,
    refs: References,
    path: Path,
    errors: InputCollector,
) -> dict[str, Any]:
    """The fields a price named by id sets (none when it cannot price the line)."""
    assert changes.price is not None
    price_path = (*path, *changes.price_path)
    price = refs.prices.get(changes.price)
    if price is None:
        errors.not_found(price_path, "price", changes.price)
        return {}
    if not price.priced_in(owner.currency):
        errors.add(
            price_path,
            ErrorCode.CURRENCY_MISMATCH,
            f"The price's currency ({price.currency}) must match the invoice currency ({owner.currency}), "
            "or the price must have currency_options for it.",
        )
    if price.recurring:
        errors.add(
            price_path,
            ErrorCode.PRICE_NOT_ONE_TIME,
            "The price specified is set to `type=recurring` but this field only accepts prices with `type=one_time`.",
        )
    if not price.active:
        errors.add(price_path, ErrorCode.PRICE_INACTIVE, "The price specified is inactive.")
    if price.scheme is None and price.unit_amount_decimal is None:
        errors.add(price_path, ErrorCode.PRICE_UNSUPPORTED, "The price has neither a unit amount nor tiers.")
        return {}
    pricing = price.scheme.in_currency(owner.currency) if price.scheme is not None else None
    unit = pricing.unit_amount if pricing is not None else price.unit_amount_decimal
    return {
        "unit_amount_decimal": unit if unit is not None else Decimal(0),
        "price_id": price.id,
        "product_id": price.product_id,
        "new_product": None,
        "amount_defined": False,
    }


def _priced_inline(
    owner: ItemOwner,
    data: PriceData,
    refs: References,
    path: Path,
    errors: InputCollector,
) -> dict[str, Any]:
    """The fields inline price_data sets."""
    if data.currency is None:
        if data.product_required:
            errors.missing((*path, "currency"))
    elif data.currency.lower() != owner.currency:
        errors.add(
            (*path, "currency"),
            ErrorCode.CURRENCY_MISMATCH,
            f"The currency {data.currency.lower()} does not match the invoice currency {owner.currency}.",
        )
    if data.product_required and (data.product is None) == (data.new_product is None):
        errors.add(
            (*path, "product"),
            ErrorCode.PARAMETERS_EXCLUSIVE,
            "You must specify exactly one of price_data[product] or price_data[product_data].",
        )
    elif data.product is not None and data.product not in refs.products:
        errors.not_found((*path, "product"), "product", data.product)
    if len(data.given) > 1:
        errors.add(
            (*path, "unit_amount_decimal"),
            ErrorCode.PARAMETERS_EXCLUSIVE,
            "You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
        )
    unit = data.unit_amount_decimal
    if unit is None:
        errors.missing((*path, "unit_amount"))
        unit = Decimal(0)
    elif places(unit) > MAX_UNIT_PRICE_PLACES:
        errors.add(
            (*path, "unit_amount_decimal"),
            ErrorCode.INVALID_UNIT_AMOUNT,
            "unit_amount_decimal can have at most 12 decimal places.",
        )
        unit = Decimal(0)  # refused: priced at nothing meanwhile, so the other checks still run
    elif abs(unit) > MAX_AMOUNT:
        errors.add((*path, "unit_amount"), AMOUNT_TOO_LARGE, amount_limit_message())
        unit = Decimal(0)
    return {
        "unit_amount_decimal": unit,
        "price_id": None,
        "product_id": data.product,
        "new_product": data.new_product,
        "amount_defined": False,
    }


def _discount_and_tax_updates(
    changes: LineChanges,
    refs: References,
    owner: ItemOwner,
    path: Path,
    errors: InputCollector,
) -> dict[str, Any]:
    updates: dict[str, Any] = {}
    if changes.discounts is not None:
        discounts = () if isinstance(changes.discounts, Clear) else changes.discounts
        check_discounts(discounts, owner, refs, (*path, "discounts"), errors)
        updates["discounts"] = discounts
    if changes.tax_rates is not None:
        rates = None if isinstance(changes.tax_rates, Clear) else changes.tax_rates
        check_tax_rates(rates or (), refs, (*path, "tax_rates"), errors)
        updates["tax_rates"] = rates
    return updates


def check_discounts(
    discounts: tuple[DiscountRef, ...], owner: ItemOwner, refs: References, path: Path, errors: InputCollector
) -> None:
    """Each discount names one coupon or discount; coupons must be valid and fixed amounts in currency."""
    for i, ref in enumerate(discounts):
        named = [n for n in ("coupon", "discount", "promotion_code") if getattr(ref, n) is not None]
        if len(named) != 1:
            errors.add(
                (*path, i),
                ErrorCode.PARAMETERS_EXCLUSIVE,
                "You must specify exactly one of coupon, discount or promotion_code.",
            )
            continue
        if ref.promotion_code is not None:
            check_promotion_code(ref.promotion_code, owner, refs, (*path, i, "promotion_code"), errors)
        elif ref.discount is not None:
            found = refs.discounts.get(ref.discount)
            if found is None or found.customer_id not in (None, owner.customer_id):
                errors.not_found((*path, i, "discount"), "discount", ref.discount)
        elif ref.coupon is not None:
            check_coupon(ref.coupon, owner.currency, refs, (*path, i, "coupon"), errors)
    seen = [r for r in discounts if r.coupon is not None]
    if len({r.coupon for r in seen}) != len(seen):
        errors.add(path, ErrorCode.DUPLICATE_DISCOUNT, "The same coupon can only be applied once.")


def check_coupon(coupon_id: str, currency: str, refs: References, path: Path, errors: InputCollector) -> None:
    """A coupon applies only while valid, a fixed-amount coupon only in its own currency, and no
    command applies a coupon more often than it has redemptions left (every application counts).
    """
    coupon = refs.coupons.get(coupon_id)
    if coupon is None:
        errors.not_found(path, "coupon", coupon_id)
    elif not coupon.valid:
        errors.add(path, ErrorCode.COUPON_EXPIRED, f"Coupon {coupon_id} is no longer valid.")
    elif coupon.amount_off is not None and coupon.currency != currency and currency not in coupon.other_currencies:
        errors.add(
            path,
            ErrorCode.CURRENCY_MISMATCH,
            f"Coupon {coupon_id} is in {coupon.currency} and cannot apply to a {currency} invoice.",
        )
    else:
        uses = refs.coupon_uses.get(coupon_id, 0) + 1
        refs.coupon_uses[coupon_id] = uses
        left = coupon.redemptions_left
        if left is not None and uses > left:
            errors.add(
                path,
                ErrorCode.COUPON_EXPIRED,
                f"Coupon {coupon_id} has {left} redemption(s) left (max_redemptions) "
                "and this request applies it more often.",
            )


def check_promotion_code(code_id: str, owner: ItemOwner, refs: References, path: Path, errors: InputCollector) -> None:
    """A promotion code applies while active and unexpired, to its customer if it names one, to a customer
    who never purchased if it is first_time_transaction, within its max_redemptions (every application
    counts), and only where its coupon applies."""
    code = refs.promotion_codes.get(code_id)
    if code is None or code.customer_id not in (None, owner.customer_id):
        errors.not_found(path, "promotion code", code_id)
        return
    if not code.valid:
        errors.add(path, ErrorCode.COUPON_EXPIRED, f"Promotion code {code_id} is inactive or expired.")
        return
    first_time = code.restrictions.first_time_transaction
    problem = first_time_problem(code.restrictions, first_time and refs.has_purchased(owner.customer_id))
    if problem is not None:
        errors.add(path, ErrorCode.PROMOTION_CODE_RESTRICTED, problem)
        return
    uses = refs.coupon_uses.get(code_id, 0) + 1
    refs.coupon_uses[code_id] = uses
    if code.redemptions_left is not None and uses > code.redemptions_left:
        errors.add(
            path,
            ErrorCode.COUPON_EXPIRED,
            f"Promotion code {code_id} has {code.redemptions_left} redemption(s) left (max_redemptions).",
        )
        return
    check_coupon(code.coupon_id, owner.currency, refs, path, errors)


def check_tax_rates(rates: tuple[str, ...], refs: References, path: Path, errors: InputCollector) -> None:
    """Tax rates must exist, be active, and be listed once."""
    for i, rate_id in enumerate(rates):
        rate = refs.tax_rates.get(rate_id)
        if rate is None:
            errors.not_found((*path, i), "tax rate", rate_id)
        elif not rate.active:
            errors.add((*path, i), ErrorCode.TAX_RATE_INACTIVE, f"Tax rate {rate_id} is archived.")
    if len(set(rates)) != len(rates):
        errors.add(path, ErrorCode.DUPLICATE_TAX_RATE, "The same tax rate can only be applied once.")
