"""Stripe /v1/entitlements/features (create, retrieve, update, list) and /v1/products/{product}/features
(attach, list, retrieve, delete): what a product grants its subscribers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.catalog.features as service
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import EXPAND, LIST_PARAMS, Bool, Metadata, Obj, Str, parse
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.core.catalog.features import MAX_LOOKUP_KEY, MAX_NAME
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables_entitlements import EntitlementFeature, ProductFeature

router = APIRouter()

CREATE = Obj(
    {"lookup_key": Str(MAX_LOOKUP_KEY), "name": Str(MAX_NAME), "metadata": Metadata(), "expand": EXPAND},
    required=frozenset({"lookup_key", "name"}),
)
UPDATE = Obj({"name": Str(MAX_NAME), "active": Bool(), "metadata": Metadata(), "expand": EXPAND})
RETRIEVE = Obj({"expand": EXPAND})
LIST = Obj({**LIST_PARAMS, "archived": Bool(), "lookup_key": Str(MAX_LOOKUP_KEY)})
ATTACH = Obj({"entitlement_feature": Str(), "expand": EXPAND}, required=frozenset({"entitlement_feature"}))
ATTACHED = Obj(LIST_PARAMS)


def render_feature(f: EntitlementFeature) -> dict[str, Any]:
    return {
        "id": f.id,
        "object": "entitlements.feature",
        "active": f.active,
        "livemode": False,
        "lookup_key": f.lookup_key,
        "metadata": dict(f.metadata_),
        "name": f.name,
    }


def _fields(p: dict[str, Any]) -> service.FeatureFields:
    return service.FeatureFields(
        lookup_key=p.get("lookup_key"), name=p.get("name"), active=p.get("active"), metadata=p.get("metadata")
    )


@router.post("/v1/entitlements/features", openapi_extra=body_params(CREATE))
def create_feature(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        check_expand(p, ())
        return render_feature(service.create_feature(uow, _fields(p)))

    return execute(call, run)


@router.get("/v1/entitlements/features/{feature_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_feature(feature_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), ())
        return render_feature(service.get_feature(uow, feature_id))

    return execute(call, run)


@router.post("/v1/entitlements/features/{feature_id}", openapi_extra=body_params(UPDATE))
def update_feature(feature_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        check_expand(p, ())
        return render_feature(service.update_feature(uow, feature_id, _fields(p)))

    return execute(call, run)


@router.get("/v1/entitlements/features", openapi_extra=query_params(LIST))
def list_features(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        check_expand(p, ())
        page = service.list_features(uow, cursor_from(p), archived=p.get("archived"), lookup_key=p.get("lookup_key"))
        return list_object("/v1/entitlements/features", page, render_feature)

    return execute(call, run)


# --- a product's features ------------------------------------------------------------------


def _render_attachments(uow: UnitOfWork, rows: list[ProductFeature]) -> list[dict[str, Any]]:
    features = service.features_by_id(uow, [r.feature_id for r in rows])
    return [
        {
            "id": r.id,
            "object": "product_feature",
            "entitlement_feature": render_feature(features[r.feature_id]),
            "livemode": False,
        }
        for r in rows
    ]


@router.post("/v1/products/{product_id}/features", openapi_extra=body_params(ATTACH))
def attach_feature(product_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(ATTACH, params)
        check_expand(p, ())
        return _render_attachments(uow, [service.attach_feature(uow, product_id, p["entitlement_feature"])])[0]

    return execute(call, run)


@router.get("/v1/products/{product_id}/features/{attachment_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_product_feature(
    product_id: str, attachment_id: str, call: StripeRequest = Depends(stripe_request)
) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), ())
        return _render_attachments(uow, [service.get_product_feature(uow, product_id, attachment_id)])[0]

    return execute(call, run)


@router.delete("/v1/products/{product_id}/features/{attachment_id}")
def detach_feature(product_id: str, attachment_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        parse(Obj({}), params)
        row = service.detach_feature(uow, product_id, attachment_id)
        return {"id": row.id, "object": "product_feature", "deleted": True}

    return execute(call, run)


@router.get("/v1/products/{product_id}/features", openapi_extra=query_params(ATTACHED))
def list_product_features(product_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(ATTACHED, params)
        check_expand(p, ())
        page = service.list_product_features(uow, product_id, cursor_from(p))
        rendered = dict(zip((r.id for r in page.data), _render_attachments(uow, page.data), strict=True))
        return list_object(f"/v1/products/{product_id}/features", page, lambda r: rendered[r.id])

    return execute(call, run)
