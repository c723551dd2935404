"""Use-case inputs for invoice lines, dialect-neutral. None always means 'not given'."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from bulkbill.core.metadata import Clear, MetadataUpdate


class ItemKind(StrEnum):
    """What produced a billable item: a one-off charge, or a subscription item's period."""

    INVOICE_ITEM = "invoice_item"
    SUBSCRIPTION = "subscription"


class RemoveBehavior(StrEnum):
    DELETE = "delete"
    UNASSIGN = "unassign"


@dataclass(frozen=True, slots=True)
class DiscountRef:
    """One entry of a `discounts` list: a coupon to apply, or an existing discount to reuse."""

    coupon: str | None = None
    discount: str | None = None
    promotion_code: str | None = None


@dataclass(frozen=True, slots=True)
class NewProduct:
    """price_data[product_data]: the product a line creates (metadata already checked against Stripe's limits).

    images and tax_code have no column in the product table: accepted on the wire, not carried.
    """

    name: str
    description: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    unit_label: str | None = None


@dataclass(slots=True)
class PriceData:
    """An inline one-time price (never changed once built; not frozen: a frozen dataclass's __init__
    sets each field through object.__setattr__, ~3x the cost, and one is built for every priced line)."""

    currency: str | None = None
    product: str | None = None
    new_product: NewProduct | None = None  # price_data[product_data]
    tax_behavior: str | None = None
    unit_amount_decimal: Decimal | None = None
    # Which wire field carried the unit amount ("unit_amount" or "unit_amount_decimal").
    given: frozenset[str] = frozenset()
    # False for an invoice item's own unit_amount_decimal, which needs no product.
    product_required: bool = True


@dataclass(slots=True)
class LineChanges:
    """The fields a client sent for one line; `given` holds their wire names.

    Never changed once built; not frozen for the cost of a frozen __init__ (see PriceData).
    """

    given: frozenset[str] = frozenset()
    amount: int | None = None
    currency: str | None = None
    description: str | None = None
    discountable: bool | None = None
    discounts: tuple[DiscountRef, ...] | Clear | None = None
    metadata: MetadataUpdate | None = None
    period: tuple[int, int] | None = None
    price: str | None = None
    # The wire path of the price id: ("pricing", "price") or the seeds' older ("price",).
    price_path: tuple[str, ...] = ("pricing", "price")
    price_data: PriceData | None = None
    quantity: Decimal | None = None
    quantity_field: str = "quantity"
    tax_rates: tuple[str, ...] | Clear | None = None


@dataclass(frozen=True, slots=True)
class AddLine:
    changes: LineChanges = field(default_factory=LineChanges)
    invoice_item: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateLine:
    id: str
    changes: LineChanges = field(default_factory=LineChanges)


@dataclass(frozen=True, slots=True)
class RemoveLine:
    id: str
    behavior: RemoveBehavior
