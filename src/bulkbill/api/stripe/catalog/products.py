"""Stripe /v1/products."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.catalog.products as service
from bulkbill.api.stripe.catalog.price_params import PRICE_DATA, price_fields
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.expansion import allowed, listed
from bulkbill.api.stripe.edge.filters import CREATED_LIST_PARAMS
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import EXPAND, Array, Bool, Dec, Enum, Metadata, Obj, Str, Unsettable, parse
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.core.metadata import Clear
from bulkbill.services.catalog.prices import create_product_with_default_price
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Product

router = APIRouter()

# What a product says about itself and bulkbill stores in `details` (it ships nothing, computes no tax).
_DIMENSION = Dec(Decimal(0), Decimal(10**6), 4)
_DETAILS = {
    "images": Array(Str(2048), max_items=8),
    "package_dimensions": Obj(
        {name: _DIMENSION for name in ("height", "length", "weight", "width")},
        required=frozenset({"height", "length", "weight", "width"}),
    ),
    "statement_descriptor": Str(22),
    "tax_code": Str(64),
    "marketing_features": Array(Obj({"name": Str(80)}, required=frozenset({"name"})), max_items=15),
    "tax_details": Obj({"performance_location": Str(), "tax_code": Unsettable(Str(64))}),
}
_FIELDS = {
    "name": Str(256),
    "active": Bool(),
    "description": Unsettable(Str(40000)),
    "unit_label": Unsettable(Str(12)),
    "metadata": Metadata(),
    "shippable": Bool(),
    "expand": EXPAND,
}
TYPES = ("good", "service")
CREATE = Obj(
    {**_FIELDS, **_DETAILS, "url": Str(2048), "id": Str(64), "type": Enum(TYPES), "default_price_data": PRICE_DATA},
    required=frozenset({"name"}),
)
UPDATE = Obj(
    {
        **_FIELDS,
        **{name: Unsettable(spec) for name, spec in _DETAILS.items()},
        "url": Unsettable(Str(2048)),
        "default_price": Unsettable(Str(64)),
    }
)
RETRIEVE = Obj({"expand": EXPAND})
LIST = Obj(
    {
        **CREATED_LIST_PARAMS,
        "active": Bool(),
        "ids": Array(Str(64), max_items=100),
        "type": Enum(TYPES),
        "shippable": Bool(),
        "url": Str(2048),
    }
)


def _dimensions(stored: dict[str, str] | None) -> dict[str, float] | None:
    # Stripe's dimensions are JSON numbers (inches and ounces, not money): stored exact, shown as numbers.
    return None if stored is None else {name: float(Decimal(value)) for name, value in stored.items()}


def _tax_details(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    if stored is None:
        return None
    return {"performance_location": stored.get("performance_location"), "tax_code": stored.get("tax_code")}


def render_product(p: Product) -> dict[str, Any]:
    details = p.details or {}
    return {
        "id": p.id,
        "object": "product",
        "active": p.active,
        "created": p.created,
        "default_price": p.default_price_id,
        "description": p.description,
        "images": list(details.get("images", [])),
        "livemode": False,
        "marketing_features": [{"name": name} for name in details.get("marketing_features", [])],
        "metadata": p.metadata_,
        "name": p.name,
        "package_dimensions": _dimensions(details.get("package_dimensions")),
        "shippable": p.shippable,
        "statement_descriptor": details.get("statement_descriptor"),
        "tax_code": details.get("tax_code"),
        "tax_details": _tax_details(details.get("tax_details")),
        "type": p.type,
        "unit_label": p.unit_label,
        "updated": p.updated,
        "url": p.url,
    }


def render_deleted_product(p: Product) -> dict[str, Any]:
    return {"id": p.id, "object": "product", "deleted": True}


def product_fields(p: dict[str, Any]) -> service.ProductFields:
    """Parsed product params (CLEAR kept for unset texts) as service fields."""
    return service.ProductFields(
        name=p.get("name"),
        description=p.get("description"),
        active=p.get("active"),
        unit_label=p.get("unit_label"),
        metadata=p.get("metadata"),
        default_price=p.get("default_price"),
        type=p.get("type"),
        url=p.get("url"),
        shippable=p.get("shippable"),
        details={name: _stored(name, p[name]) for name in _DETAILS if name in p},
    )


# What a price's product_data takes besides name, active, unit_label and metadata (Stripe's
# PriceCreateParamsProductData): the same details, kept the same way.
PRODUCT_DATA_DETAILS = {name: _DETAILS[name] for name in ("statement_descriptor", "tax_code", "tax_details")}


def product_data_details(data: dict[str, Any]) -> dict[str, Any]:
    """A price's product_data details, as the product's `details` keeps them."""
    return {name: _stored(name, data[name]) for name in PRODUCT_DATA_DETAILS if name in data}


def _stored(name: str, value: Any) -> Any:
    """A detail as `details` keeps it: decimals as strings, features by name; CLEAR as it is."""
    if isinstance(value, Clear):
        return value
    if name == "package_dimensions":
        return {key: format(number, "f") for key, number in value.items()}
    if name == "marketing_features":
        return [feature["name"] for feature in value]
    if name == "tax_details":
        return {key: None if isinstance(item, Clear) else item for key, item in value.items()}
    return value


@router.post("/v1/products", openapi_extra=body_params(CREATE))
def create_product(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        check_expand(p, allowed("product"))
        if "default_price_data" in p:
            price = price_fields(p["default_price_data"])
            made = create_product_with_default_price(uow, product_fields(p), price, product_id=p.get("id"))
            return render_product(made)
        return render_product(service.create_product(uow, product_fields(p), product_id=p.get("id")))

    return execute(call, run)


@router.get("/v1/products/{product_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_product(product_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), allowed("product"))
        return render_product(service.get_product(uow, product_id))

    return execute(call, run)


@router.post("/v1/products/{product_id}", openapi_extra=body_params(UPDATE))
def update_product(product_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        check_expand(p, allowed("product"))
        return render_product(service.update_product(uow, product_id, product_fields(p)))

    return execute(call, run)


@router.delete("/v1/products/{product_id}")
def delete_product(product_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        parse(Obj({}), params)
        return render_deleted_product(service.delete_product(uow, product_id))

    return execute(call, run)


@router.get("/v1/products", openapi_extra=query_params(LIST))
def list_products(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        check_expand(p, listed("product"))
        page = service.list_products(
            uow,
            cursor_from(p),
            active=p.get("active"),
            ids=p.get("ids"),
            type_=p.get("type"),
            shippable=p.get("shippable"),
            url=p.get("url"),
        )
        return list_object("/v1/products", page, render_product)

    return execute(call, run)
