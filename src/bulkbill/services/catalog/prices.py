"""Prices (Stripe price_): a unit amount in one currency for a product, one-time or recurring.

The unit amount is stored only as an exact Decimal (unit_amount_decimal); an integer unit_amount
is a Decimal without fractional part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from sqlalchemy import false, select

import bulkbill.services.catalog.products as products
from bulkbill.core.errors import ErrorCode, InputCollector, NotFound, Path, RuleViolation
from bulkbill.core.metadata import Clear, MetadataUpdate, check_metadata, merge_metadata
from bulkbill.core.money import MAX_AMOUNT, MAX_UNIT_PRICE_PLACES, is_known_currency, places
from bulkbill.services.platform.locks import get_row, lock_tenant
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Price

INTERVALS = ("day", "week", "month", "year")
TAX_BEHAVIORS = ("exclusive", "inclusive", "unspecified")
PRICE_TYPES = ("one_time", "recurring")
# Stripe caps a billing interval at three years.
MAX_INTERVAL_COUNT = {"day": 1095, "week": 156, "month": 36, "year": 3}


@dataclass(frozen=True)
class Recurring:
    interval: str
    interval_count: int | None = None


@dataclass(frozen=True)
class PriceFields:
    """Create uses every field; update uses active, nickname, lookup_key, tax_behavior, metadata."""

    currency: str | None = None
    product: str | None = None
    product_data: products.ProductFields | None = None
    unit_amount: int | None = None
    unit_amount_decimal: Decimal | None = None
    recurring: Recurring | None = None
    tax_behavior: str | None = None
    active: bool | None = None
    nickname: str | Clear | None = None
    lookup_key: str | Clear | None = None
    transfer_lookup_key: bool = False
    metadata: MetadataUpdate | None = None


def check_currency(currency: str | None, path: Path, errors: InputCollector) -> None:
    """A present currency must be an ISO 4217 code (callers lowercase it)."""
    if currency is not None and not is_known_currency(currency):
        errors.add(
            path, ErrorCode.INVALID_CURRENCY, f"Invalid currency: {currency[:10]}. Use an ISO 4217 currency code."
        )


def _exclusive(errors: InputCollector, *names: str) -> None:
    errors.add((), ErrorCode.PARAMETERS_EXCLUSIVE, f"You may only specify one of these parameters: {', '.join(names)}.")


def _unit_amount(fields: PriceFields, errors: InputCollector) -> Decimal | None:
    if fields.unit_amount is not None and fields.unit_amount_decimal is not None:
        _exclusive(errors, "unit_amount", "unit_amount_decimal")
        return None
    if fields.unit_amount is not None:
        if not 0 <= fields.unit_amount <= MAX_AMOUNT:
            errors.add(
                ("unit_amount",),
                ErrorCode.PARAMETER_INVALID_INTEGER,
                f"Invalid unit_amount: must be between 0 and {MAX_AMOUNT}.",
            )
        return Decimal(fields.unit_amount)
    value = fields.unit_amount_decimal
    if value is None:
        errors.missing(("unit_amount",))
    elif not 0 <= value <= MAX_AMOUNT or places(value) > MAX_UNIT_PRICE_PLACES:
        errors.add(
            ("unit_amount_decimal",),
            ErrorCode.PARAMETER_INVALID_DECIMAL,
            f"Invalid unit_amount_decimal: must be at least 0 with at most {MAX_UNIT_PRICE_PLACES} decimal places.",
        )
    return value


def _check_recurring(recurring: Recurring | None, errors: InputCollector) -> None:
    if recurring is None or recurring.interval not in MAX_INTERVAL_COUNT:
        return
    limit = MAX_INTERVAL_COUNT[recurring.interval]
    if recurring.interval_count is not None and not 1 <= recurring.interval_count <= limit:
        errors.add(
            ("recurring", "interval_count"),
            ErrorCode.PARAMETER_INVALID_INTEGER,
            f"Invalid recurring[interval_count]: must be between 1 and {limit} for interval {recurring.interval}.",
        )


def _lookup_key_holder(
    uow: UnitOfWork, key: str, price_id: str, transfer: bool, errors: InputCollector
) -> Price | None:
    """The other price holding `key`: refused, or returned to be moved off when `transfer`.

    Checked under the tenant's lock: two prices created or updated with one key at once would
    otherwise both find it free (or both take it from the same holder).
    """
    lock_tenant(uow)
    holder = uow.session.scalars(
        select(Price).where(Price.tenant_id == uow.tenant_id, Price.lookup_key == key, Price.id != price_id)
    ).first()
    if holder is not None and not transfer:
        errors.add(("lookup_key",), ErrorCode.LOOKUP_KEY_EXISTS, f"A price ({holder.id}) already uses that lookup key.")
    return holder


def _product_id(uow: UnitOfWork, fields: PriceFields) -> str:
    if fields.product_data is not None:
        return products.create_product(uow, fields.product_data, path=("product_data",)).id
    assert fields.product is not None
    try:
        # Held shared: a concurrent delete_product (which counts the product's prices) waits, or wins.
        return products.get_product(uow, fields.product, lock="share").id
    except NotFound:
        raise NotFound("product", fields.product, path=("product",)) from None


def create_price(uow: UnitOfWork, fields: PriceFields) -> Price:
    errors = InputCollector()
    if fields.currency is None:
        errors.missing(("currency",))
    check_currency(fields.currency, ("currency",), errors)
    if fields.product is not None and fields.product_data is not None:
        _exclusive(errors, "product", "product_data")
    elif fields.product is None and fields.product_data is None:
        errors.missing(("product",))
    amount = _unit_amount(fields, errors)
    _check_recurring(fields.recurring, errors)
    check_metadata(fields.metadata, ("metadata",), errors)
    metadata = merge_metadata({}, fields.metadata, ("metadata",), errors)
    price_id = new_id("price_", 24)
    key = fields.lookup_key if isinstance(fields.lookup_key, str) else None
    holder = _lookup_key_holder(uow, key, price_id, fields.transfer_lookup_key, errors) if key else None
    errors.raise_if_any()
    product_id = _product_id(uow, fields)
    if holder is not None:
        holder.lookup_key = None
    recurring = fields.recurring
    price = Price(
        tenant_id=uow.tenant_id,
        id=price_id,
        product_id=product_id,
        currency=fields.currency or "",
        unit_amount_decimal=amount,
        type="recurring" if recurring else "one_time",
        recurring_interval=recurring.interval if recurring else None,
        recurring_interval_count=(recurring.interval_count or 1) if recurring else None,
        tax_behavior=fields.tax_behavior or "unspecified",
        active=True if fields.active is None else fields.active,
        nickname=fields.nickname if isinstance(fields.nickname, str) else None,
        lookup_key=key,
        metadata_=metadata,
        created=uow.now,
    )
    uow.session.add(price)
    uow.session.flush()
    return price


def get_price(uow: UnitOfWork, price_id: str, *, lock: Literal["update"] | None = None) -> Price:
    """A price; with lock="update", held until the transaction ends (updates merge into what they read)."""
    price = get_row(uow, Price, price_id, lock=lock)
    if price is None:
        raise NotFound("price", price_id)
    return price


def update_price(uow: UnitOfWork, price_id: str, fields: PriceFields) -> Price:
    """Only the descriptive fields change; tax_behavior can be set once, while it is unspecified."""
    price = get_price(uow, price_id, lock="update")
    errors = InputCollector()
    check_metadata(fields.metadata, ("metadata",), errors)
    price.metadata_ = merge_metadata(price.metadata_, fields.metadata, ("metadata",), errors)
    key = fields.lookup_key if isinstance(fields.lookup_key, str) else None
    holder = _lookup_key_holder(uow, key, price.id, fields.transfer_lookup_key, errors) if key else None
    errors.raise_if_any()
    behavior = fields.tax_behavior
    if behavior is not None and behavior != price.tax_behavior:
        if price.tax_behavior != "unspecified":
            raise RuleViolation(
                "tax_behavior cannot be changed once it is set to exclusive or inclusive.", path=("tax_behavior",)
            )
        price.tax_behavior = behavior
    if holder is not None:
        holder.lookup_key = None
    if fields.lookup_key is not None:
        price.lookup_key = key
    if fields.nickname is not None:
        price.nickname = fields.nickname if isinstance(fields.nickname, str) else None
    if fields.active is not None:
        price.active = fields.active
    uow.session.flush()
    return price


@dataclass(frozen=True)
class PriceFilter:
    active: bool | None = None
    product: str | None = None
    currency: str | None = None
    type: str | None = None
    lookup_keys: Sequence[str] | None = None
    # Stripe's recurring[interval|usage_type|meter]: every price bulkbill holds is licensed, none metered.
    recurring: Mapping[str, str] | None = None


def list_prices(uow: UnitOfWork, cursor: Cursor, where: PriceFilter) -> Page[Price]:
    query = select(Price).where(Price.tenant_id == uow.tenant_id)
    if where.active is not None:
        query = query.where(Price.active.is_(where.active))
    if where.product is not None:
        query = query.where(Price.product_id == where.product)
    if where.currency is not None:
        query = query.where(Price.currency == where.currency)
    if where.type is not None:
        query = query.where(Price.type == where.type)
    if where.lookup_keys:
        query = query.where(Price.lookup_key.in_(list(where.lookup_keys)))
    if where.recurring is not None:
        query = query.where(Price.recurring_interval.is_not(None))
        if "interval" in where.recurring:
            query = query.where(Price.recurring_interval == where.recurring["interval"])
        if where.recurring.get("usage_type") == "metered" or "meter" in where.recurring:
            query = query.where(false())
    return paginate(uow, query, Price, cursor)
