"""Stripe /v1/prices (no delete: Stripe archives prices with active=false)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.catalog.prices as service
from bulkbill.api.stripe.catalog.products import render_deleted_product, render_product
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.filters import CREATED_LIST_PARAMS
from bulkbill.api.stripe.edge.numbers import decimal_string
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import (
    AMOUNT,
    AMOUNT_DECIMAL,
    EXPAND,
    MAX_INT32,
    Array,
    Bool,
    Currency,
    Enum,
    Int,
    Metadata,
    Obj,
    Spec,
    Str,
    Unsettable,
    parse,
)
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.core.catalog.pricing import MAX_TIERS, CurrencyPricing, CustomUnitAmount, Rounding, Tier, Transform
from bulkbill.core.errors import ErrorCode, InputCollector, Path, dotted
from bulkbill.core.money import MAX_AMOUNT
from bulkbill.services.catalog.price_schemes import scheme_of
from bulkbill.services.catalog.products import ProductFields, get_product
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Price

router = APIRouter()


@dataclass(frozen=True)
class UpTo(Int):
    """A tier's up_to: a positive integer, or "inf" for the last tier (returned as None)."""

    minimum: int = 1
    maximum: int = MAX_AMOUNT

    def json_schema(self) -> dict[str, Any]:
        return {"anyOf": [super().json_schema(), {"type": "string", "enum": ["inf"]}]}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        if value == "inf":
            return None
        return super().check(value, path, errors)


@dataclass(frozen=True)
class CurrencyMap(Spec):
    """A hash keyed by three-letter currency codes (currency_options)."""

    inner: Spec

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": self.inner.json_schema()}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        if not isinstance(value, Mapping):
            errors.add(path, ErrorCode.PARAMETER_INVALID_TYPE, f"Invalid object: {dotted(path)}")
            return None
        out: dict[str, Any] = {}
        for key, item in value.items():
            currency = Currency().check(str(key), (*path, str(key)), errors)
            if currency is not None:
                out[currency] = self.inner.check(item, (*path, str(key)), errors)
        return out


_TIER = Obj(
    {
        "up_to": UpTo(),
        "unit_amount": AMOUNT,
        "unit_amount_decimal": AMOUNT_DECIMAL,
        "flat_amount": AMOUNT,
        "flat_amount_decimal": AMOUNT_DECIMAL,
    },
    required=frozenset({"up_to"}),
)
_TIERS = Array(_TIER, max_items=MAX_TIERS)
_CUSTOM = Obj(
    {"enabled": Bool(), "minimum": Int(0, MAX_AMOUNT), "maximum": Int(0, MAX_AMOUNT), "preset": Int(0, MAX_AMOUNT)},
    required=frozenset({"enabled"}),
)
_CURRENCY_OPTION = Obj(
    {
        "custom_unit_amount": _CUSTOM,
        "tax_behavior": Enum(service.TAX_BEHAVIORS),
        "tiers": _TIERS,
        "unit_amount": AMOUNT,
        "unit_amount_decimal": AMOUNT_DECIMAL,
    }
)

_UPDATABLE = {
    "active": Bool(),
    "nickname": Unsettable(Str(256)),
    "lookup_key": Unsettable(Str(200)),
    "transfer_lookup_key": Bool(),
    "tax_behavior": Enum(service.TAX_BEHAVIORS),
    "metadata": Metadata(),
    "expand": EXPAND,
}
_PRODUCT_DATA = Obj(
    {"name": Str(256), "active": Bool(), "unit_label": Str(12), "metadata": Metadata()},
    required=frozenset({"name"}),
)
_RECURRING = Obj(
    {
        "interval": Enum(service.INTERVALS),
        "interval_count": Int(-MAX_INT32, MAX_INT32),
        "usage_type": Enum(("licensed",)),
    },
    required=frozenset({"interval"}),
)
CREATE = Obj(
    {
        **_UPDATABLE,
        "currency": Currency(),
        "product": Str(64),
        "product_data": _PRODUCT_DATA,
        "unit_amount": AMOUNT,
        "unit_amount_decimal": AMOUNT_DECIMAL,
        "recurring": _RECURRING,
        "billing_scheme": Enum(("per_unit", "tiered")),
        "tiers_mode": Enum(("graduated", "volume")),
        "tiers": _TIERS,
        "transform_quantity": Obj(
            {"divide_by": Int(1, MAX_INT32), "round": Enum(("up", "down"))},
            required=frozenset({"divide_by", "round"}),
        ),
        "custom_unit_amount": _CUSTOM,
        "currency_options": CurrencyMap(_CURRENCY_OPTION),
    },
    required=frozenset({"currency"}),
)
UPDATE = Obj({**_UPDATABLE, "currency_options": CurrencyMap(_CURRENCY_OPTION)})
RETRIEVE = Obj({"expand": EXPAND})
LIST = Obj(
    {
        **CREATED_LIST_PARAMS,
        "recurring": Obj(
            {
                "interval": Enum(("day", "month", "week", "year")),
                "meter": Str(),
                "usage_type": Enum(("licensed", "metered")),
            }
        ),
        "active": Bool(),
        "product": Str(64),
        "currency": Currency(),
        "type": Enum(service.PRICE_TYPES),
        "lookup_keys": Array(Str(200), max_items=10),
    }
)


_EXPANDABLE = ("product", "tiers", "currency_options")


def _amount_pair(amount: Decimal | None) -> tuple[int | None, str | None]:
    """Stripe's integer and decimal spellings of one amount (the integer only when it is whole)."""
    if amount is None:
        return None, None
    whole = amount == amount.to_integral_value()
    return (int(amount) if whole else None), decimal_string(amount)


def _render_tiers(tiers: tuple[Tier, ...]) -> list[dict[str, Any]]:
    out = []
    for t in tiers:
        unit, unit_decimal = _amount_pair(t.unit_amount)
        flat, flat_decimal = _amount_pair(t.flat_amount)
        out.append(
            {
                "flat_amount": flat,
                "flat_amount_decimal": flat_decimal,
                "unit_amount": unit,
                "unit_amount_decimal": unit_decimal,
                "up_to": t.up_to,
            }
        )
    return out


def _render_custom(c: CustomUnitAmount | None) -> dict[str, Any] | None:
    return None if c is None else {"maximum": c.maximum, "minimum": c.minimum, "preset": c.preset}


def _render_option(p: Price, pricing: CurrencyPricing) -> dict[str, Any]:
    unit, unit_decimal = _amount_pair(pricing.unit_amount)
    return {
        "custom_unit_amount": _render_custom(pricing.custom),
        "tax_behavior": p.tax_behavior,
        "tiers": _render_tiers(pricing.tiers),
        "unit_amount": unit,
        "unit_amount_decimal": unit_decimal,
    }


def render_price(p: Price, expand: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    scheme = scheme_of(p)
    unit_amount, unit_amount_decimal = _amount_pair(p.unit_amount_decimal)
    recurring = None
    if p.recurring_interval is not None:
        recurring = {
            "interval": p.recurring_interval,
            "interval_count": p.recurring_interval_count or 1,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
    body: dict[str, Any] = {
        "id": p.id,
        "object": "price",
        "active": p.active,
        "billing_scheme": scheme.billing_scheme.value,
        "created": p.created,
        "currency": p.currency,
        "custom_unit_amount": _render_custom(scheme.base.custom),
        "livemode": False,
        "lookup_key": p.lookup_key,
        "metadata": p.metadata_,
        "nickname": p.nickname,
        "product": p.product_id,
        "recurring": recurring,
        "tax_behavior": p.tax_behavior,
        "tiers_mode": scheme.tiers_mode.value if scheme.tiers_mode else None,
        "transform_quantity": None
        if scheme.transform is None
        else {"divide_by": scheme.transform.divide_by, "round": scheme.transform.round.value},
        "type": p.type,
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount_decimal,
    }
    # Like Stripe, tiers and currency_options are included only when expanded.
    if "tiers" in expand:
        body["tiers"] = _render_tiers(scheme.base.tiers)
    if "currency_options" in expand:
        options = {p.currency: scheme.base, **scheme.options}
        body["currency_options"] = {cur: _render_option(p, pricing) for cur, pricing in sorted(options.items())}
    return body


def _render(uow: UnitOfWork, price: Price, expand: set[str]) -> dict[str, Any]:
    body = render_price(price, expand)
    if "product" in expand:
        product = get_product(uow, price.product_id, include_deleted=True)
        body["product"] = render_deleted_product(product) if product.deleted else render_product(product)
    return body


def _tiers(raw: list[dict[str, Any]] | None, path: Path, errors: InputCollector) -> tuple[Tier, ...] | None:
    """Wire tiers to core tiers: each amount given once, as an integer or as a decimal string."""
    if raw is None:
        return None
    tiers = []
    for i, t in enumerate(raw):
        amounts = []
        for name in ("unit_amount", "flat_amount"):
            whole, exact = t.get(name), t.get(f"{name}_decimal")
            if whole is not None and exact is not None:
                errors.add(
                    (*path, i, f"{name}_decimal"),
                    ErrorCode.PARAMETERS_EXCLUSIVE,
                    f"You may only specify one of these parameters: {name}, {name}_decimal.",
                )
            amounts.append(Decimal(whole) if whole is not None else exact if exact is not None else Decimal(0))
        tiers.append(Tier(t.get("up_to"), amounts[0], amounts[1]))
    return tuple(tiers)


def _custom(raw: dict[str, Any] | None, path: Path, errors: InputCollector) -> CustomUnitAmount | None:
    if raw is None or raw.get("enabled") is not True:
        if raw is not None and any(raw.get(k) is not None for k in ("minimum", "maximum", "preset")):
            errors.add(
                (*path, "enabled"),
                ErrorCode.PARAMETER_INVALID,
                "custom_unit_amount[enabled] must be true to set minimum, maximum or preset.",
            )
        return None
    return CustomUnitAmount(raw.get("minimum"), raw.get("maximum"), raw.get("preset"))


def _options(raw: dict[str, Any] | None, errors: InputCollector) -> dict[str, service.CurrencyOption] | None:
    if raw is None:
        return None
    return {
        cur: service.CurrencyOption(
            unit_amount=o.get("unit_amount"),
            unit_amount_decimal=o.get("unit_amount_decimal"),
            tiers=_tiers(o.get("tiers"), ("currency_options", cur, "tiers"), errors),
            custom=_custom(o.get("custom_unit_amount"), ("currency_options", cur, "custom_unit_amount"), errors),
        )
        for cur, o in raw.items()
    }


def _fields(p: dict[str, Any]) -> service.PriceFields:
    data = p.get("product_data")
    recurring = p.get("recurring")
    transform = p.get("transform_quantity")
    errors = InputCollector()
    tiers = _tiers(p.get("tiers"), ("tiers",), errors)
    custom = _custom(p.get("custom_unit_amount"), ("custom_unit_amount",), errors)
    options = _options(p.get("currency_options"), errors)
    errors.raise_if_any()
    return service.PriceFields(
        currency=p.get("currency"),
        product=p.get("product"),
        product_data=ProductFields(
            name=data.get("name"),
            active=data.get("active"),
            unit_label=data.get("unit_label"),
            metadata=data.get("metadata"),
        )
        if data is not None
        else None,
        unit_amount=p.get("unit_amount"),
        unit_amount_decimal=p.get("unit_amount_decimal"),
        recurring=service.Recurring(recurring["interval"], recurring.get("interval_count")) if recurring else None,
        tax_behavior=p.get("tax_behavior"),
        active=p.get("active"),
        nickname=p.get("nickname"),
        lookup_key=p.get("lookup_key"),
        transfer_lookup_key=bool(p.get("transfer_lookup_key")),
        metadata=p.get("metadata"),
        billing_scheme=p.get("billing_scheme"),
        tiers_mode=p.get("tiers_mode"),
        tiers=tiers,
        transform=Transform(transform["divide_by"], Rounding(transform["round"])) if transform else None,
        custom=custom,
        currency_options=options,
    )


@router.post("/v1/prices", openapi_extra=body_params(CREATE))
def create_price(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        expand = check_expand(p, _EXPANDABLE)
        return _render(uow, service.create_price(uow, _fields(p)), expand)

    return execute(call, run)


@router.get("/v1/prices/{price_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_price(price_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        expand = check_expand(parse(RETRIEVE, params), _EXPANDABLE)
        return _render(uow, service.get_price(uow, price_id), expand)

    return execute(call, run)


@router.post("/v1/prices/{price_id}", openapi_extra=body_params(UPDATE))
def update_price(price_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        expand = check_expand(p, _EXPANDABLE)
        return _render(uow, service.update_price(uow, price_id, _fields(p)), expand)

    return execute(call, run)


@router.get("/v1/prices", openapi_extra=query_params(LIST))
def list_prices(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        listed = check_expand(p, tuple(f"data.{name}" for name in _EXPANDABLE))
        expand = {name.removeprefix("data.") for name in listed}
        where = service.PriceFilter(
            active=p.get("active"),
            product=p.get("product"),
            currency=p.get("currency"),
            type=p.get("type"),
            lookup_keys=p.get("lookup_keys"),
            recurring=p.get("recurring"),
        )
        page = service.list_prices(uow, cursor_from(p), where)
        return list_object("/v1/prices", page, lambda price: _render(uow, price, expand))

    return execute(call, run)
