"""Stripe /v1/test_helpers/test_clocks: create, retrieve, list, delete, advance.

Stripe advances a clock in the background (status `advancing`, then `ready`); bulkbill advances it
inside the request, so `advance` answers with the clock already `ready` at its new frozen time and
every renewal, invoice and finalization that fell due on the way already made.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.subscriptions.test_clocks as service
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import ANCHOR_TIME, EXPAND, LIST_PARAMS, Obj, Str, parse
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables_subscriptions import BillingClock

router = APIRouter()

OBJECT = "test_helpers.test_clock"
TIME = ANCHOR_TIME
CREATE = Obj(
    {"frozen_time": TIME, "name": Str(300), "customer": Str(), "expand": EXPAND}, required=frozenset({"frozen_time"})
)
ADVANCE = Obj({"frozen_time": TIME, "expand": EXPAND}, required=frozenset({"frozen_time"}))
RETRIEVE = Obj({"expand": EXPAND})
LIST = Obj(LIST_PARAMS)


def render_clock(c: BillingClock) -> dict[str, Any]:
    return {
        "id": c.id,
        "object": OBJECT,
        "created": c.created,
        "deletes_after": c.deletes_after,
        "frozen_time": c.frozen_time,
        "livemode": False,
        "name": c.name,
        "status": c.status,
        "status_details": {},
    }


def expanded_clock(uow: UnitOfWork, clock_id: str) -> dict[str, Any] | str:
    """`expand[]=test_clock` on a customer, invoice, invoice item or subscription: the clock; a clock deleted
    since (its customers' invoices stay) is left as its id, since Stripe's schemas allow no deleted stub there."""
    clock = service.get_clock(uow, clock_id, include_deleted=True)
    return clock.id if clock.deleted else render_clock(clock)


@router.post("/v1/test_helpers/test_clocks", openapi_extra=body_params(CREATE))
def create_clock(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        service.delete_expired_clocks(uow)
        p = parse(CREATE, params)
        check_expand(p, ())
        return render_clock(service.create_clock(uow, p["frozen_time"], p.get("name"), customer=p.get("customer")))

    return execute(call, run)


@router.get("/v1/test_helpers/test_clocks/{clock_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_clock(clock_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        service.delete_expired_clocks(uow)
        check_expand(parse(RETRIEVE, params), ())
        return render_clock(service.get_clock(uow, clock_id))

    return execute(call, run)


@router.get("/v1/test_helpers/test_clocks", openapi_extra=query_params(LIST))
def list_clocks(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        service.delete_expired_clocks(uow)
        p = parse(LIST, params)
        check_expand(p, ())
        return list_object("/v1/test_helpers/test_clocks", service.list_clocks(uow, cursor_from(p)), render_clock)

    return execute(call, run)


@router.delete("/v1/test_helpers/test_clocks/{clock_id}")
def delete_clock(clock_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        service.delete_expired_clocks(uow)
        parse(Obj({}), params)
        clock = service.delete_clock(uow, clock_id)
        return {"id": clock.id, "object": OBJECT, "deleted": True}

    return execute(call, run)


@router.post("/v1/test_helpers/test_clocks/{clock_id}/advance", openapi_extra=body_params(ADVANCE))
def advance_clock(clock_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        service.delete_expired_clocks(uow)
        p = parse(ADVANCE, params)
        check_expand(p, ())
        return render_clock(service.advance_clock(uow, clock_id, p["frozen_time"]))

    return execute(call, run)
