"""Stripe /v1/entitlements/active_entitlements (list for a customer, retrieve): derived from its subscriptions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.subscriptions.entitlements as service
from bulkbill.api.stripe.catalog.features import render_feature
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.openapi import query_params
from bulkbill.api.stripe.edge.params import EXPAND, LIST_PARAMS, Obj, Str, parse
from bulkbill.api.stripe.edge.render import check_expand, list_of_rendered
from bulkbill.services.platform.uow import UnitOfWork

router = APIRouter()

LIST = Obj({**LIST_PARAMS, "customer": Str()}, required=frozenset({"customer"}))
RETRIEVE = Obj({"expand": EXPAND})
URL = "/v1/entitlements/active_entitlements"


def render_entitlement(e: service.ActiveEntitlement, expand: set[str]) -> dict[str, Any]:
    return {
        "id": e.id,
        "object": "entitlements.active_entitlement",
        "feature": render_feature(e.feature) if "feature" in expand else e.feature.id,
        "livemode": False,
        "lookup_key": e.feature.lookup_key,
    }


@router.get(URL, openapi_extra=query_params(LIST))
def list_active_entitlements(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        expand = {e.removeprefix("data.") for e in check_expand(p, ("data.feature",))}
        held = [render_entitlement(e, expand) for e in service.active_entitlements(uow, p["customer"])]
        return list_of_rendered(URL, held, p)

    return execute(call, run)


@router.get(URL + "/{entitlement_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_active_entitlement(entitlement_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        expand = check_expand(parse(RETRIEVE, params), ("feature",))
        return render_entitlement(service.get_active_entitlement(uow, entitlement_id), expand)

    return execute(call, run)
