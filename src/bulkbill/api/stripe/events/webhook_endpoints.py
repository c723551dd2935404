"""Stripe /v1/webhook_endpoints: the signing `secret` is in the create response only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.events.endpoints as service
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import EXPAND, LIST_PARAMS, Array, Bool, Metadata, Obj, Str, Unsettable, parse
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.core.metadata import Clear
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables_events import WebhookEndpoint

router = APIRouter()

_FIELDS = {
    "url": Str(2048),
    "enabled_events": Array(Str(100), max_items=100),
    "description": Unsettable(Str(5000)),
    "metadata": Metadata(),
    "expand": EXPAND,
}
CREATE = Obj({**_FIELDS, "api_version": Str(32), "connect": Bool()}, required=frozenset({"url", "enabled_events"}))
UPDATE = Obj({**_FIELDS, "disabled": Bool()})
RETRIEVE = Obj({"expand": EXPAND})
LIST = Obj(LIST_PARAMS)


def render_endpoint(e: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": e.id,
        "object": "webhook_endpoint",
        "api_version": e.api_version,
        "application": None,
        "created": e.created,
        "description": e.description,
        "enabled_events": e.enabled_events,
        "livemode": False,
        "metadata": e.metadata_,
        "status": e.status,
        "url": e.url,
    }
    if with_secret:
        body["secret"] = e.secret
    return body


def _fields(p: dict[str, Any]) -> service.EndpointFields:
    description = p.get("description")
    return service.EndpointFields(
        url=p.get("url"),
        enabled_events=p.get("enabled_events"),
        description="" if isinstance(description, Clear) else description,
        metadata=p.get("metadata"),
        disabled=p.get("disabled"),
        api_version=p.get("api_version"),
    )


@router.post("/v1/webhook_endpoints", openapi_extra=body_params(CREATE))
def create_endpoint(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        check_expand(p, ())
        return render_endpoint(service.create_endpoint(uow, _fields(p)), with_secret=True)

    return execute(call, run)


@router.get("/v1/webhook_endpoints/{endpoint_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_endpoint(endpoint_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), ())
        return render_endpoint(service.get_endpoint(uow, endpoint_id))

    return execute(call, run)


@router.post("/v1/webhook_endpoints/{endpoint_id}", openapi_extra=body_params(UPDATE))
def update_endpoint(endpoint_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        check_expand(p, ())
        return render_endpoint(service.update_endpoint(uow, endpoint_id, _fields(p)))

    return execute(call, run)


@router.delete("/v1/webhook_endpoints/{endpoint_id}")
def delete_endpoint(endpoint_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        parse(Obj({}), params)
        endpoint = service.delete_endpoint(uow, endpoint_id)
        return {"id": endpoint.id, "object": "webhook_endpoint", "deleted": True}

    return execute(call, run)


@router.get("/v1/webhook_endpoints", openapi_extra=query_params(LIST))
def list_endpoints(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        check_expand(p, ())
        return list_object("/v1/webhook_endpoints", service.list_endpoints(uow, cursor_from(p)), render_endpoint)

    return execute(call, run)
