"""Stripe /v1/products."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.catalog.products as service
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.filters import CREATED_LIST_PARAMS
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import EXPAND, Array, Bool, Enum, Metadata, Obj, Str, Unsettable, parse
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Product

router = APIRouter()

_FIELDS = {
    "name": Str(256),
    "active": Bool(),
    "description": Unsettable(Str(40000)),
    "unit_label": Unsettable(Str(12)),
    "metadata": Metadata(),
    "expand": EXPAND,
}
TYPES = ("good", "service")
CREATE = Obj({**_FIELDS, "id": Str(64), "type": Enum(TYPES)}, required=frozenset({"name"}))
UPDATE = Obj({**_FIELDS, "default_price": Unsettable(Str(64))})
RETRIEVE = Obj({"expand": EXPAND})
LIST = Obj({**CREATED_LIST_PARAMS, "active": Bool(), "ids": Array(Str(64), max_items=100), "type": Enum(TYPES)})


def render_product(p: Product) -> dict[str, Any]:
    return {
        "id": p.id,
        "object": "product",
        "active": p.active,
        "created": p.created,
        "default_price": p.default_price_id,
        "description": p.description,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": p.metadata_,
        "name": p.name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": p.type,
        "unit_label": p.unit_label,
        "updated": p.updated,
        "url": None,
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
    )


@router.post("/v1/products", openapi_extra=body_params(CREATE))
def create_product(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        check_expand(p, ())
        return render_product(service.create_product(uow, product_fields(p), product_id=p.get("id")))

    return execute(call, run)


@router.get("/v1/products/{product_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_product(product_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), ())
        return render_product(service.get_product(uow, product_id))

    return execute(call, run)


@router.post("/v1/products/{product_id}", openapi_extra=body_params(UPDATE))
def update_product(product_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        check_expand(p, ())
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
        check_expand(p, ())
        page = service.list_products(uow, cursor_from(p), active=p.get("active"), ids=p.get("ids"), type_=p.get("type"))
        return list_object("/v1/products", page, render_product)

    return execute(call, run)
