"""Stripe /v1/prices (no delete: Stripe archives prices with active=false)."""

from __future__ import annotations

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
    Str,
    Unsettable,
    parse,
)
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.services.catalog.products import ProductFields, get_product
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
    },
    required=frozenset({"currency"}),
)
UPDATE = Obj(_UPDATABLE)
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


def render_price(p: Price) -> dict[str, Any]:
    amount = p.unit_amount_decimal
    whole = amount is not None and amount == amount.to_integral_value()
    recurring = None
    if p.recurring_interval is not None:
        recurring = {
            "interval": p.recurring_interval,
            "interval_count": p.recurring_interval_count or 1,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
    return {
        "id": p.id,
        "object": "price",
        "active": p.active,
        "billing_scheme": "per_unit",
        "created": p.created,
        "currency": p.currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": p.lookup_key,
        "metadata": p.metadata_,
        "nickname": p.nickname,
        "product": p.product_id,
        "recurring": recurring,
        "tax_behavior": p.tax_behavior,
        "tiers_mode": None,
        "transform_quantity": None,
        "type": p.type,
        "unit_amount": int(amount) if amount is not None and whole else None,
        "unit_amount_decimal": decimal_string(amount) if amount is not None else None,
    }


def _render(uow: UnitOfWork, price: Price, expand_product: bool) -> dict[str, Any]:
    body = render_price(price)
    if expand_product:
        product = get_product(uow, price.product_id, include_deleted=True)
        body["product"] = render_deleted_product(product) if product.deleted else render_product(product)
    return body


def _fields(p: dict[str, Any]) -> service.PriceFields:
    data = p.get("product_data")
    recurring = p.get("recurring")
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
    )


@router.post("/v1/prices", openapi_extra=body_params(CREATE))
def create_price(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        expand = check_expand(p, ("product",))
        return _render(uow, service.create_price(uow, _fields(p)), "product" in expand)

    return execute(call, run)


@router.get("/v1/prices/{price_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_price(price_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        expand = check_expand(parse(RETRIEVE, params), ("product",))
        return _render(uow, service.get_price(uow, price_id), "product" in expand)

    return execute(call, run)


@router.post("/v1/prices/{price_id}", openapi_extra=body_params(UPDATE))
def update_price(price_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        expand = check_expand(p, ("product",))
        return _render(uow, service.update_price(uow, price_id, _fields(p)), "product" in expand)

    return execute(call, run)


@router.get("/v1/prices", openapi_extra=query_params(LIST))
def list_prices(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        expand_product = "data.product" in check_expand(p, ("data.product",))
        where = service.PriceFilter(
            active=p.get("active"),
            product=p.get("product"),
            currency=p.get("currency"),
            type=p.get("type"),
            lookup_keys=p.get("lookup_keys"),
            recurring=p.get("recurring"),
        )
        page = service.list_prices(uow, cursor_from(p), where)
        return list_object("/v1/prices", page, lambda price: _render(uow, price, expand_product))

    return execute(call, run)
