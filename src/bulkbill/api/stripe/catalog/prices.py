"""Stripe /v1/prices (no delete: Stripe archives prices with active=false)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.catalog.prices as service
from bulkbill.api.stripe.catalog.price_params import (
    CURRENCY_OPTION,
    CUSTOM,
    RECURRING,
    TIERS,
    CurrencyMap,
    price_fields,
)
from bulkbill.api.stripe.catalog.products import (
    PRODUCT_DATA_DETAILS,
    product_data_details,
    render_deleted_product,
    render_product,
)
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.expansion import allowed
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
    Str,
    Unsettable,
    parse,
)
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.core.catalog.pricing import CurrencyPricing, CustomUnitAmount, Tier
from bulkbill.services.catalog.price_schemes import scheme_of
from bulkbill.services.catalog.products import get_product
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Price

router = APIRouter()


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
    {
        "name": Str(256),
        "active": Bool(),
        "unit_label": Str(12),
        "metadata": Metadata(),
        "id": Str(64),
        **PRODUCT_DATA_DETAILS,
    },
    required=frozenset({"name"}),
)
CREATE = Obj(
    {
        **_UPDATABLE,
        "currency": Currency(),
        "product": Str(64),
        "product_data": _PRODUCT_DATA,
        "unit_amount": AMOUNT,
        "unit_amount_decimal": AMOUNT_DECIMAL,
        "recurring": RECURRING,
        "billing_scheme": Enum(("per_unit", "tiered")),
        "tiers_mode": Enum(("graduated", "volume")),
        "tiers": TIERS,
        "transform_quantity": Obj(
            {"divide_by": Int(1, MAX_INT32), "round": Enum(("up", "down"))},
            required=frozenset({"divide_by", "round"}),
        ),
        "custom_unit_amount": CUSTOM,
        "currency_options": CurrencyMap(CURRENCY_OPTION),
    },
    required=frozenset({"currency"}),
)
UPDATE = Obj({**_UPDATABLE, "currency_options": CurrencyMap(CURRENCY_OPTION)})
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


_EXPANDABLE = allowed("price")


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
            "meter": p.meter_id,
            "trial_period_days": None,
            "usage_type": p.usage_type or "licensed",
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


def _with_product_data(p: dict[str, Any], fields: service.PriceFields) -> service.PriceFields:
    """product_data's id and details (statement_descriptor, tax_code, tax_details), kept as the product keeps them."""
    data = p.get("product_data")
    if data is None or fields.product_data is None:
        return fields
    product = replace(fields.product_data, details=product_data_details(data) or None)
    return replace(fields, product_data=product, product_data_id=data.get("id"))


@router.post("/v1/prices", openapi_extra=body_params(CREATE))
def create_price(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        expand = check_expand(p, _EXPANDABLE)
        return _render(uow, service.create_price(uow, _with_product_data(p, price_fields(p))), expand)

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
        return _render(uow, service.update_price(uow, price_id, price_fields(p)), expand)

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
