"""Prices (Stripe price_): a unit amount in one currency for a product, one-time or recurring.

The unit amount is stored only as an exact Decimal (unit_amount_decimal); an integer unit_amount
is a Decimal without fractional part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal

from sqlalchemy import select

import bulkbill.services.catalog.products as products
from bulkbill.core.catalog.pricing import (
    BillingScheme,
    CurrencyPricing,
    CustomUnitAmount,
    PriceScheme,
    Tier,
    TiersMode,
    Transform,
    check_custom,
    check_tiers,
)
from bulkbill.core.errors import ErrorCode, InputCollector, InvalidInput, NotFound, Path, RuleViolation
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.metadata import Clear, MetadataUpdate, check_metadata, merge_metadata
from bulkbill.core.money import MAX_AMOUNT, MAX_UNIT_PRICE_PLACES, is_known_currency, places
from bulkbill.services.catalog.meters import check_meter
from bulkbill.services.catalog.price_schemes import scheme_json, scheme_of
from bulkbill.services.events.outbox import changing, emit
from bulkbill.services.platform.locks import get_row, lock_tenant
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Price, Product

INTERVALS = ("day", "week", "month", "year")
TAX_BEHAVIORS = ("exclusive", "inclusive", "unspecified")
PRICE_TYPES = ("one_time", "recurring")
# Stripe caps a billing interval at three years.
MAX_INTERVAL_COUNT = {"day": 1095, "week": 156, "month": 36, "year": 3}


@dataclass(frozen=True)
class Recurring:
    interval: str
    interval_count: int | None = None
    usage_type: str | None = None  # "metered" bills a meter's usage in arrears; licensed otherwise
    meter: str | None = None


@dataclass(frozen=True)
class CurrencyOption:
    """currency_options[<currency>]: the price's amounts in another currency."""

    unit_amount: int | None = None
    unit_amount_decimal: Decimal | None = None
    tiers: tuple[Tier, ...] | None = None
    custom: CustomUnitAmount | None = None


@dataclass(frozen=True)
class PriceFields:
    """Create uses every field; update uses active, nickname, lookup_key, tax_behavior, metadata."""

    currency: str | None = None
    product: str | None = None
    product_data: products.ProductFields | None = None
    product_data_id: str | None = None  # the id product_data's product takes (else a new prod_ id)
    unit_amount: int | None = None
    unit_amount_decimal: Decimal | None = None
    recurring: Recurring | None = None
    tax_behavior: str | None = None
    active: bool | None = None
    nickname: str | Clear | None = None
    lookup_key: str | Clear | None = None
    transfer_lookup_key: bool = False
    metadata: MetadataUpdate | None = None
    billing_scheme: str | None = None
    tiers_mode: str | None = None
    tiers: tuple[Tier, ...] | None = None
    transform: Transform | None = None
    custom: CustomUnitAmount | None = None
    currency_options: dict[str, CurrencyOption] | None = None


def check_currency(currency: str | None, path: Path, errors: InputCollector) -> None:
    """A present currency must be an ISO 4217 code (callers lowercase it)."""
    if currency is not None and not is_known_currency(currency):
        errors.add(
            path, ErrorCode.INVALID_CURRENCY, f"Invalid currency: {currency[:10]}. Use an ISO 4217 currency code."
        )


def _exclusive(errors: InputCollector, *names: str) -> None:
    errors.add((), ErrorCode.PARAMETERS_EXCLUSIVE, f"You may only specify one of these parameters: {', '.join(names)}.")


def _unit_amount(
    unit_amount: int | None,
    unit_amount_decimal: Decimal | None,
    path: Path,
    errors: InputCollector,
    *,
    required: bool,
) -> Decimal | None:
    if unit_amount is not None and unit_amount_decimal is not None:
        _exclusive(errors, "unit_amount", "unit_amount_decimal")
        return None
    if unit_amount is not None:
        if not 0 <= unit_amount <= MAX_AMOUNT:
            errors.add(
                (*path, "unit_amount"),
                ErrorCode.PARAMETER_INVALID_INTEGER,
                f"Invalid unit_amount: must be between 0 and {MAX_AMOUNT}.",
            )
        return Decimal(unit_amount)
    value = unit_amount_decimal
    if value is None:
        if required:
            errors.missing((*path, "unit_amount"))
    elif not 0 <= value <= MAX_AMOUNT or places(value) > MAX_UNIT_PRICE_PLACES:
        errors.add(
            (*path, "unit_amount_decimal"),
            ErrorCode.PARAMETER_INVALID_DECIMAL,
            f"Invalid unit_amount_decimal: must be at least 0 with at most {MAX_UNIT_PRICE_PLACES} decimal places.",
        )
    return value


def _refuse(errors: InputCollector, path: Path, message: str) -> None:
    errors.add(path, ErrorCode.PARAMETER_INVALID, message)


def _currency_pricing(
    scheme: BillingScheme,
    unit_amount: int | None,
    unit_amount_decimal: Decimal | None,
    tiers: tuple[Tier, ...] | None,
    custom: CustomUnitAmount | None,
    path: Path,
    errors: InputCollector,
) -> CurrencyPricing:
    """One currency's amounts, as the billing scheme wants them: tiers, or one of unit amount and custom amount."""
    if scheme == BillingScheme.TIERED:
        for name, given in (("unit_amount", unit_amount), ("unit_amount_decimal", unit_amount_decimal)):
            if given is not None:
                _refuse(errors, (*path, name), f"{name} cannot be set on a tiered price: each tier has its amounts.")
        if custom is not None:
            _refuse(errors, (*path, "custom_unit_amount"), "custom_unit_amount cannot be set on a tiered price.")
        check_tiers(tiers or (), (*path, "tiers"), errors)
        return CurrencyPricing(None, tiers or ())
    if tiers is not None:
        _refuse(errors, (*path, "tiers"), "tiers can only be set with billing_scheme=tiered.")
    if custom is not None:
        if unit_amount is not None or unit_amount_decimal is not None:
            _exclusive(errors, "unit_amount", "custom_unit_amount")
        check_custom(custom, (*path, "custom_unit_amount"), errors)
        return CurrencyPricing(None, (), custom)
    return CurrencyPricing(_unit_amount(unit_amount, unit_amount_decimal, path, errors, required=True))


def _scheme(fields: PriceFields, currency: str, errors: InputCollector) -> PriceScheme:
    """The price's pricing definition, checked the way Stripe checks it."""
    scheme = BillingScheme(fields.billing_scheme or "per_unit")
    mode = TiersMode(fields.tiers_mode) if fields.tiers_mode else None
    if scheme == BillingScheme.TIERED:
        if mode is None:
            errors.missing(("tiers_mode",))
        if fields.transform is not None:
            _refuse(errors, ("transform_quantity",), "transform_quantity cannot be combined with tiers.")
    elif mode is not None:
        _refuse(errors, ("tiers_mode",), "tiers_mode can only be set with billing_scheme=tiered.")
    if fields.custom is not None and fields.recurring is not None:
        _refuse(errors, ("custom_unit_amount",), "custom_unit_amount is only available on one-time prices.")
    base = _currency_pricing(
        scheme, fields.unit_amount, fields.unit_amount_decimal, fields.tiers, fields.custom, (), errors
    )
    options = _options(fields.currency_options, scheme, currency, errors)
    return PriceScheme(currency, scheme, base, mode, fields.transform, options)


def _options(
    given: dict[str, CurrencyOption] | None, scheme: BillingScheme, currency: str, errors: InputCollector
) -> dict[str, CurrencyPricing]:
    """currency_options, each checked like the price's own amounts (tiers for a tiered price)."""
    options: dict[str, CurrencyPricing] = {}
    for cur, option in (given or {}).items():
        path: Path = ("currency_options", cur)
        check_currency(cur, path, errors)
        if cur == currency:
            _refuse(errors, path, f"currency_options[{cur}] repeats the price's own currency; set its amounts.")
        options[cur] = _currency_pricing(
            scheme, option.unit_amount, option.unit_amount_decimal, option.tiers, option.custom, path, errors
        )
    return options


def _check_recurring(uow: UnitOfWork, recurring: Recurring | None, errors: InputCollector) -> None:
    if recurring is None:
        return
    if recurring.usage_type == "metered":
        if recurring.meter is None:
            errors.add(
                ("recurring", "meter"),
                ErrorCode.PARAMETER_MISSING,
                "A metered price needs recurring[meter]: the billing meter whose usage it bills.",
            )
        else:
            check_meter(uow, recurring.meter, ("recurring", "meter"), errors)
    elif recurring.meter is not None:
        errors.add(
            ("recurring", "meter"),
            ErrorCode.PARAMETER_INVALID,
            "recurring[meter] can only be set with recurring[usage_type]=metered.",
        )
    if recurring.interval not in MAX_INTERVAL_COUNT:
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
        return products.create_product(
            uow, fields.product_data, product_id=fields.product_data_id, path=("product_data",)
        ).id
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
    scheme = _scheme(fields, fields.currency or "", errors)
    _check_recurring(uow, fields.recurring, errors)
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
        unit_amount_decimal=scheme.base.unit_amount,
        pricing=scheme_json(scheme),
        type="recurring" if recurring else "one_time",
        recurring_interval=recurring.interval if recurring else None,
        recurring_interval_count=(recurring.interval_count or 1) if recurring else None,
        usage_type="metered" if recurring and recurring.usage_type == "metered" else None,
        meter_id=recurring.meter if recurring and recurring.usage_type == "metered" else None,
        tax_behavior=fields.tax_behavior or "unspecified",
        active=True if fields.active is None else fields.active,
        nickname=fields.nickname if isinstance(fields.nickname, str) else None,
        lookup_key=key,
        metadata_=metadata,
        created=uow.now,
    )
    uow.session.add(price)
    uow.session.flush()
    emit(uow, EventType.PRICE_CREATED, price.id)
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
    changing(uow, EventObject.PRICE, [price.id])
    errors = InputCollector()
    check_metadata(fields.metadata, ("metadata",), errors)
    price.metadata_ = merge_metadata(price.metadata_, fields.metadata, ("metadata",), errors)
    key = fields.lookup_key if isinstance(fields.lookup_key, str) else None
    holder = _lookup_key_holder(uow, key, price.id, fields.transfer_lookup_key, errors) if key else None
    pricing = price.pricing
    if fields.currency_options is not None:
        # Stripe merges: each currency given is set anew, the others stay.
        scheme = scheme_of(price)
        added = _options(fields.currency_options, scheme.billing_scheme, price.currency, errors)
        pricing = scheme_json(replace(scheme, options={**scheme.options, **added}))
    errors.raise_if_any()
    price.pricing = pricing
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
    emit(uow, EventType.PRICE_UPDATED, price.id)
    return price


@dataclass(frozen=True)
class PriceFilter:
    active: bool | None = None
    product: str | None = None
    currency: str | None = None
    type: str | None = None
    lookup_keys: Sequence[str] | None = None
    # Stripe's recurring[interval|usage_type|meter].
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
        usage_type = where.recurring.get("usage_type")
        if usage_type == "metered":
            query = query.where(Price.usage_type == "metered")
        elif usage_type == "licensed":
            query = query.where(Price.usage_type.is_(None))
        if "meter" in where.recurring:
            query = query.where(Price.meter_id == where.recurring["meter"])
    return paginate(uow, query, Price, cursor)


def create_product_with_default_price(
    uow: UnitOfWork, product_fields: products.ProductFields, price_fields: PriceFields, *, product_id: str | None
) -> Product:
    """A product made with default_price_data: the product, its first price, and that price as its default."""
    product = products.create_product(uow, product_fields, product_id=product_id)
    try:
        price = create_price(uow, replace(price_fields, product=product.id, product_data=None))
    except InvalidInput as exc:  # the price's problems are named under default_price_data
        raise InvalidInput([replace(e, path=("default_price_data", *e.path)) for e in exc.errors]) from None
    product.default_price_id = price.id
    uow.session.flush()
    return product
