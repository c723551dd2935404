"""Stripe /v1/tax_rates (no delete: Stripe archives tax rates with active=false)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.catalog.tax_rates as service
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.filters import CREATED_LIST_PARAMS
from bulkbill.api.stripe.edge.numbers import decimal_number
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import (
    EXPAND,
    PERCENTAGE,
    Bool,
    Enum,
    Metadata,
    Obj,
    Str,
    Unsettable,
    parse,
)
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import TaxRate

router = APIRouter()

_UPDATABLE = {
    "display_name": Str(50),
    "active": Bool(),
    "country": Unsettable(Str(2)),
    "state": Unsettable(Str(8)),
    "jurisdiction": Unsettable(Str(200)),
    "description": Unsettable(Str()),
    "tax_type": Unsettable(Enum(service.TAX_TYPES)),
    "metadata": Metadata(),
    "expand": EXPAND,
}
CREATE = Obj(
    {**_UPDATABLE, "percentage": PERCENTAGE, "inclusive": Bool()},
    required=frozenset({"display_name", "percentage", "inclusive"}),
)
UPDATE = Obj(_UPDATABLE)
RETRIEVE = Obj({"expand": EXPAND})
LIST = Obj({**CREATED_LIST_PARAMS, "active": Bool(), "inclusive": Bool()})


def render_tax_rate(t: TaxRate) -> dict[str, Any]:
    return {
        "id": t.id,
        "object": "tax_rate",
        "active": t.active,
        "country": t.country,
        "created": t.created,
        "description": t.description,
        "display_name": t.display_name,
        "effective_percentage": decimal_number(t.percentage),
        "flat_amount": None,
        "inclusive": t.inclusive,
        "jurisdiction": t.jurisdiction,
        "jurisdiction_level": None,
        "livemode": False,
        "metadata": t.metadata_,
        "percentage": decimal_number(t.percentage),
        "rate_type": "percentage",
        "state": t.state,
        "tax_type": t.tax_type,
    }


def _fields(p: dict[str, Any]) -> service.TaxRateFields:
    return service.TaxRateFields(
        display_name=p.get("display_name"),
        percentage=p.get("percentage"),
        inclusive=p.get("inclusive"),
        active=p.get("active"),
        country=p.get("country"),
        state=p.get("state"),
        jurisdiction=p.get("jurisdiction"),
        description=p.get("description"),
        tax_type=p.get("tax_type"),
        metadata=p.get("metadata"),
    )


@router.post("/v1/tax_rates", openapi_extra=body_params(CREATE))
def create_tax_rate(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        check_expand(p, ())
        return render_tax_rate(service.create_tax_rate(uow, _fields(p)))

    return execute(call, run)


@router.get("/v1/tax_rates/{tax_rate_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_tax_rate(tax_rate_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), ())
        return render_tax_rate(service.get_tax_rate(uow, tax_rate_id))

    return execute(call, run)


@router.post("/v1/tax_rates/{tax_rate_id}", openapi_extra=body_params(UPDATE))
def update_tax_rate(tax_rate_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        check_expand(p, ())
        return render_tax_rate(service.update_tax_rate(uow, tax_rate_id, _fields(p)))

    return execute(call, run)


@router.get("/v1/tax_rates", openapi_extra=query_params(LIST))
def list_tax_rates(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        check_expand(p, ())
        page = service.list_tax_rates(uow, cursor_from(p), active=p.get("active"), inclusive=p.get("inclusive"))
        return list_object("/v1/tax_rates", page, render_tax_rate)

    return execute(call, run)
