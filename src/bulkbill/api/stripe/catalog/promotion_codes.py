"""Stripe /v1/promotion_codes: codes customers redeem for a coupon (no delete: Stripe deactivates them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.catalog.promotion_codes as service
from bulkbill.api.stripe.catalog.price_params import CurrencyMap
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.expansion import allowed, listed
from bulkbill.api.stripe.edge.filters import CREATED_LIST_PARAMS
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import (
    EXPAND,
    MAX_INT32,
    Bool,
    Currency,
    Enum,
    Int,
    Metadata,
    Obj,
    Str,
    Time,
    parse,
)
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.core.money import MAX_AMOUNT
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import PromotionCode

router = APIRouter()

_CURRENCY_OPTIONS = CurrencyMap(Obj({"minimum_amount": Int(0, MAX_AMOUNT)}, required=frozenset({"minimum_amount"})))
_RESTRICTIONS = Obj(
    {
        "first_time_transaction": Bool(),
        "minimum_amount": Int(0, MAX_AMOUNT),
        "minimum_amount_currency": Currency(),
        "currency_options": _CURRENCY_OPTIONS,
    }
)
CREATE = Obj(
    {
        "promotion": Obj({"type": Enum(("coupon",)), "coupon": Str()}, required=frozenset({"type"})),
        "code": Str(500),
        "customer": Str(),
        "active": Bool(),
        "expires_at": Time(),
        "max_redemptions": Int(1, MAX_INT32),
        "restrictions": _RESTRICTIONS,
        "metadata": Metadata(),
        "expand": EXPAND,
    },
    required=frozenset({"promotion"}),
)
# Of the restrictions, Stripe lets an update change the per-currency minimums only.
UPDATE = Obj(
    {
        "active": Bool(),
        "metadata": Metadata(),
        "restrictions": Obj({"currency_options": _CURRENCY_OPTIONS}),
        "expand": EXPAND,
    }
)
RETRIEVE = Obj({"expand": EXPAND})
LIST = Obj({**CREATED_LIST_PARAMS, "active": Bool(), "code": Str(500), "coupon": Str(), "customer": Str()})


def render_promotion_code(p: PromotionCode) -> dict[str, Any]:
    r = p.restrictions or {}
    return {
        "id": p.id,
        "object": "promotion_code",
        "active": p.active,
        "code": p.code,
        "created": p.created,
        "customer": p.customer_id,
        "customer_account": None,
        "expires_at": p.expires_at,
        "livemode": False,
        "max_redemptions": p.max_redemptions,
        "metadata": dict(p.metadata_),
        "promotion": {"type": "coupon", "coupon": p.coupon_id},
        "restrictions": {
            "currency_options": {
                currency: {"minimum_amount": option["minimum_amount"]}
                for currency, option in sorted((r.get("currency_options") or {}).items())
            },
            "first_time_transaction": bool(r.get("first_time_transaction")),
            "minimum_amount": r.get("minimum_amount"),
            "minimum_amount_currency": r.get("minimum_amount_currency"),
        },
        "times_redeemed": p.times_redeemed,
    }


def _minimums(options: dict[str, dict[str, int]] | None) -> dict[str, int] | None:
    return None if options is None else {currency: o["minimum_amount"] for currency, o in options.items()}


@router.post("/v1/promotion_codes", openapi_extra=body_params(CREATE))
def create_promotion_code(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        check_expand(p, allowed("promotion_code"))
        r = p.get("restrictions") or {}
        fields = service.PromotionCodeFields(
            coupon=(p.get("promotion") or {}).get("coupon"),
            code=p.get("code"),
            customer=p.get("customer"),
            active=p.get("active"),
            expires_at=p.get("expires_at"),
            max_redemptions=p.get("max_redemptions"),
            restrictions=service.Restrictions(
                r.get("first_time_transaction"),
                r.get("minimum_amount"),
                r.get("minimum_amount_currency"),
                _minimums(r.get("currency_options")),
            ),
            metadata=p.get("metadata"),
        )
        return render_promotion_code(service.create_promotion_code(uow, fields))

    return execute(call, run)


@router.get("/v1/promotion_codes/{promo_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_promotion_code(promo_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), allowed("promotion_code"))
        return render_promotion_code(service.get_promotion_code(uow, promo_id))

    return execute(call, run)


@router.post("/v1/promotion_codes/{promo_id}", openapi_extra=body_params(UPDATE))
def update_promotion_code(promo_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        check_expand(p, allowed("promotion_code"))
        promo = service.update_promotion_code(
            uow,
            promo_id,
            active=p.get("active"),
            metadata=p.get("metadata"),
            currency_options=_minimums((p.get("restrictions") or {}).get("currency_options")),
        )
        return render_promotion_code(promo)

    return execute(call, run)


@router.get("/v1/promotion_codes", openapi_extra=query_params(LIST))
def list_promotion_codes(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        check_expand(p, listed("promotion_code"))
        page = service.list_promotion_codes(
            uow,
            cursor_from(p),
            active=p.get("active"),
            code=p.get("code"),
            coupon=p.get("coupon"),
            customer=p.get("customer"),
        )
        return list_object("/v1/promotion_codes", page, render_promotion_code)

    return execute(call, run)
