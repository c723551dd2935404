"""Stripe /v1/events: the tenant's events, newest first, kept `BULKBILL_EVENTS_RETENTION_SECONDS`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.events.events as service
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.openapi import query_params
from bulkbill.api.stripe.edge.params import EXPAND, LIST_PARAMS, Array, Bool, Obj, Str, Time, parse
from bulkbill.api.stripe.edge.render import check_expand, cursor_from
from bulkbill.core.errors import InputCollector, Path
from bulkbill.services.platform.uow import UnitOfWork

router = APIRouter()

_RANGE = Obj({"gt": Time(), "gte": Time(), "lt": Time(), "lte": Time()})


class CreatedFilter(Time):
    """`created=<t>` (exactly) or `created[gt|gte|lt|lte]=<t>`: a Unix time, or a range of them."""

    def json_schema(self) -> dict[str, Any]:
        return {"anyOf": [super().json_schema(), _RANGE.json_schema()]}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        if isinstance(value, Mapping):
            return _RANGE.check(value, path, errors)
        exact = super().check(value, path, errors)
        return None if exact is None else {"gte": exact, "lte": exact}


LIST = Obj(
    {
        **LIST_PARAMS,
        "type": Str(),
        "types": Array(Str(), max_items=20),
        "created": CreatedFilter(),
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
        created = p.get("created") or {}
        types = [*([p["type"]] if p.get("type") else []), *(p.get("types") or [])]
        where = service.EventFilter(
            types=types,
            created_gt=created.get("gt"),
            created_gte=created.get("gte"),
            created_lt=created.get("lt"),
            created_lte=created.get("lte"),
            delivery_success=p.get("delivery_success"),
        )
        # `created` narrows through EventFilter (its own Time bounds), not the shared list Range.
        page = service.list_events(uow, cursor_from({**p, "created": None}), where)
        data = service.event_bodies(uow, page.data)
        return {"object": "list", "data": data, "has_more": page.has_more, "url": "/v1/events"}

    return execute(call, run)
