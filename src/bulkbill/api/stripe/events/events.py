"""Stripe /v1/events: the tenant's events, newest first, kept `BULKBILL_EVENTS_RETENTION_SECONDS`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.events.events as service
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.filters import CREATED_LIST_PARAMS
from bulkbill.api.stripe.edge.openapi import query_params
from bulkbill.api.stripe.edge.params import EXPAND, Array, Bool, Obj, Str, parse
from bulkbill.api.stripe.edge.render import check_expand, cursor_from
from bulkbill.services.platform.uow import UnitOfWork

router = APIRouter()

LIST = Obj(
    {
        **CREATED_LIST_PARAMS,
        "type": Str(),
        "types": Array(Str(), max_items=20),
        "delivery_success": Bool(),
    }
)
RETRIEVE = Obj({"expand": EXPAND})


@router.get("/v1/events/{event_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_event(event_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), ())
        return service.event_bodies(uow, [service.get_event(uow, event_id)])[0]

    return execute(call, run)


@router.get("/v1/events", openapi_extra=query_params(LIST))
def list_events(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        check_expand(p, ())
        types = [*([p["type"]] if p.get("type") else []), *(p.get("types") or [])]
        where = service.EventFilter(
            types=types,
            delivery_success=p.get("delivery_success"),
        )
        page = service.list_events(uow, cursor_from(p), where)  # `created`: the shared list Range
        data = service.event_bodies(uow, page.data)
        return {"object": "list", "data": data, "has_more": page.has_more, "url": "/v1/events"}

    return execute(call, run)
