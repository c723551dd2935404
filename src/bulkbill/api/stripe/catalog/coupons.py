"""Stripe /v1/coupons."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.catalog.coupons as service
from bulkbill.api.stripe.catalog.price_params import CurrencyMap
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.expansion import allowed, listed
from bulkbill.api.stripe.edge.filters import CREATED_LIST_PARAMS
from bulkbill.api.stripe.edge.numbers import decimal_number
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import (
    AMOUNT,
    EXPAND,
    MAX_INT32,
    PERCENTAGE,
    Array,
    Currency,
    Enum,
    Int,
    Metadata,
    Obj,
    Str,
    Time,
    Unsettable,
    parse,
)
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Coupon

router = APIRouter()

_UPDATABLE = {"name": Unsettable(Str(40)), "metadata": Metadata(), "expand": EXPAND}
_CURRENCY_OPTIONS = CurrencyMap(Obj({"amount_off": AMOUNT}, required=frozenset({"amount_off"})))
CREATE = Obj(
    {
        **_UPDATABLE,
        "currency_options": _CURRENCY_OPTIONS,
        "id": Str(64),
        "percent_off": PERCENTAGE,
        "amount_off": AMOUNT,
        "currency": Currency(),
        "duration": Enum(service.DURATIONS),
        "duration_in_months": Int(1, 1200),
        "max_redemptions": Int(1, MAX_INT32),
        "redeem_by": Time(),
        "applies_to": Obj({"products": Array(Str(), max_items=100)}),
    }
)
_EXPANDABLE = allowed("coupon")
UPDATE = Obj({**_UPDATABLE, "currency_options": _CURRENCY_OPTIONS})
RETRIEVE = Obj({"expand": EXPAND})
LIST = Obj(CREATED_LIST_PARAMS)


def render_coupon(c: Coupon, now: int, expand: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": c.id,
        "object": "coupon",
        "amount_off": c.amount_off,
        "created": c.created,
        "currency": c.currency,
        "duration": c.duration,
        "duration_in_months": c.duration_in_months,
        "livemode": False,
        "max_redemptions": c.max_redemptions,
        "metadata": c.metadata_,
        "name": c.name,
        "percent_off": decimal_number(c.percent_off) if c.percent_off is not None else None,
        "redeem_by": c.redeem_by,
        "times_redeemed": c.times_redeemed,
        "valid": service.coupon_is_valid(c, now),
    }
    # Like Stripe, applies_to and currency_options are included only when expanded.
    if "applies_to" in expand and c.applies_to is not None:
        body["applies_to"] = {"products": list(c.applies_to)}
    if "currency_options" in expand:
        body["currency_options"] = dict(c.currency_options or {})
    return body


def _fields(p: dict[str, Any]) -> service.CouponFields:
    return service.CouponFields(
        percent_off=p.get("percent_off"),
        amount_off=p.get("amount_off"),
        currency=p.get("currency"),
        duration=p.get("duration"),
        duration_in_months=p.get("duration_in_months"),
        max_redemptions=p.get("max_redemptions"),
        redeem_by=p.get("redeem_by"),
        name=p.get("name"),
        metadata=p.get("metadata"),
        applies_to_products=tuple((p.get("applies_to") or {}).get("products") or ()) if p.get("applies_to") else None,
        currency_options={c: o["amount_off"] for c, o in p["currency_options"].items()}
        if p.get("currency_options")
        else None,
    )


@router.post("/v1/coupons", openapi_extra=body_params(CREATE))
def create_coupon(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        expand = check_expand(p, _EXPANDABLE)
        return render_coupon(service.create_coupon(uow, _fields(p), coupon_id=p.get("id")), uow.now, expand)

    return execute(call, run)


@router.get("/v1/coupons/{coupon_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_coupon(coupon_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        expand = check_expand(parse(RETRIEVE, params), _EXPANDABLE)
        return render_coupon(service.get_coupon(uow, coupon_id), uow.now, expand)

    return execute(call, run)


@router.post("/v1/coupons/{coupon_id}", openapi_extra=body_params(UPDATE))
def update_coupon(coupon_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        expand = check_expand(p, _EXPANDABLE)
        return render_coupon(service.update_coupon(uow, coupon_id, _fields(p)), uow.now, expand)

    return execute(call, run)


@router.delete("/v1/coupons/{coupon_id}")
def delete_coupon(coupon_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        parse(Obj({}), params)
        coupon = service.delete_coupon(uow, coupon_id)
        return {"id": coupon.id, "object": "coupon", "deleted": True}

    return execute(call, run)


@router.get("/v1/coupons", openapi_extra=query_params(LIST))
def list_coupons(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        check_expand(p, listed("coupon"))
        page = service.list_coupons(uow, cursor_from(p))
        return list_object("/v1/coupons", page, lambda c: render_coupon(c, uow.now))

    return execute(call, run)
