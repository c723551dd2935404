"""Stripe /v1/subscription_schedules: create, retrieve, update, list, cancel, release. Translation only.

Phases are checked here and kept as given (services.subscriptions.schedules makes them real through the
subscription code; core.subscriptions.schedules times them and holds the status moves). A phase ends at
its `end_date`, after its `duration`, or after `iterations` periods of its prices (the older parameter;
one period when none is given). Refused with a 400 naming the parameter: `end_behavior` `none` and `renew`
(Stripe's legacy behaviors: a schedule here releases or cancels), `pause_schedules` (pausing a subscription
is not modelled), a phase item's `price_data` (create the price first) and `billing_thresholds` (usage
thresholds need metered usage); payments and Connect as everywhere (edge/no_money.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy import select

import bulkbill.services.subscriptions.schedules as service
from bulkbill.api.stripe.catalog.tax_rates import render_tax_rate
from bulkbill.api.stripe.customers.customers import render_customer
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.filters import CREATED_LIST_PARAMS, RANGE, bounds
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import (
    AMOUNT,
    AMOUNT_DECIMAL,
    AUTOMATIC_TAX,
    EXPAND,
    QUANTITY,
    Array,
    Bool,
    Currency,
    Enum,
    Int,
    Metadata,
    Obj,
    OrWord,
    Refused,
    Str,
    Time,
    Unsettable,
    parse,
)
from bulkbill.api.stripe.edge.render import check_expand, check_list_expand, cursor_from
from bulkbill.api.stripe.invoicing.line_params import DISCOUNTS, TAX_RATES
from bulkbill.api.stripe.subscriptions.subscriptions import (
    _INVOICE_SETTINGS,
    INTERVALS,
    PRORATION_BEHAVIORS,
    render_billing_mode,
)
from bulkbill.api.stripe.subscriptions.subscriptions import CREATE as SUBSCRIPTION_CREATE
from bulkbill.api.stripe.subscriptions.subscriptions import _one as render_one_subscription
from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput
from bulkbill.core.metadata import Clear
from bulkbill.core.money import MAX_AMOUNT
from bulkbill.core.subscriptions.prorations import ProrationBehavior
from bulkbill.core.subscriptions.schedules import ScheduleStatus
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.subscriptions import get_subscription
from bulkbill.storage.tables import TaxRate
from bulkbill.storage.tables_subscriptions import SubscriptionSchedule

router = APIRouter()

EXPANDABLE = ("customer", "subscription")
END_BEHAVIORS = ("cancel", "none", "release", "renew")
_LEGACY_END = "Stripe's legacy end behaviors (`none`, `renew`) are not supported: a schedule releases or cancels."
_COLLECTION = Enum(("charge_automatically", "send_invoice"))
_ANCHOR = Enum(("automatic", "phase_start"))
_THRESHOLDS = Unsettable(Obj({"amount_gte": Int(1, MAX_AMOUNT), "reset_billing_cycle_anchor": Bool()}))
_SETTINGS = Obj({**_INVOICE_SETTINGS.fields, "days_until_due": Int(0, 3650)})
_ITEM = Obj(
    {
        "price": Str(),
        "plan": Str(),  # a recurring price's older name
        "quantity": QUANTITY,
        "tax_rates": TAX_RATES,
        "discounts": DISCOUNTS,
        "metadata": Metadata(),
        "price_data": Refused(
            "inline prices on schedule phases are not supported; create the price first.", {"type": "object"}
        ),
        "billing_thresholds": Refused(
            "usage thresholds need metered usage, which bulkbill does not model.", {"type": "object"}
        ),
    }
)
_PERIOD_END = {"type": Enum(("min_item_period_end", "phase_end", "timestamp")), "timestamp": Time()}
_PERIOD_START = {"type": Enum(("max_item_period_start", "phase_start", "timestamp")), "timestamp": Time()}
_ADD_INVOICE_ITEM = Obj(
    {
        "discountable": Bool(),
        "discounts": DISCOUNTS,
        "metadata": Metadata(),
        "period": Obj(
            {
                "start": Obj(_PERIOD_START, required=frozenset({"type"})),
                "end": Obj(_PERIOD_END, required=frozenset({"type"})),
            },
            required=frozenset({"start", "end"}),
        ),
        "price": Str(),
        "price_data": Obj(
            {
                "currency": Currency(),
                "product": Str(),
                "tax_behavior": Enum(("exclusive", "inclusive", "unspecified")),
                "unit_amount": AMOUNT,
                "unit_amount_decimal": AMOUNT_DECIMAL,
            },
            required=frozenset({"currency", "product"}),
        ),
        "quantity": QUANTITY,
        "tax_rates": TAX_RATES,
    }
)
_PHASE_FIELDS = {
    "add_invoice_items": Array(_ADD_INVOICE_ITEM, max_items=20),
    "automatic_tax": AUTOMATIC_TAX,
    "billing_cycle_anchor": _ANCHOR,
    "billing_thresholds": _THRESHOLDS,
    "collection_method": _COLLECTION,
    "currency": Currency(),
    "default_tax_rates": TAX_RATES,
    "description": Unsettable(Str(500)),
    "discounts": DISCOUNTS,
    "duration": Obj({"interval": Enum(INTERVALS), "interval_count": Int(1, 1095)}, required=frozenset({"interval"})),
    "end_date": Time(),
    "iterations": Int(1, 1095),  # the older way to give a phase's length
    "invoice_settings": _SETTINGS,
    "items": Array(_ITEM, max_items=20),
    "metadata": Metadata(),
    "proration_behavior": Enum(PRORATION_BEHAVIORS),
    "trial": Bool(),
    "trial_end": Time(),
}
_CREATE_PHASE = Obj(_PHASE_FIELDS, required=frozenset({"items"}))
_UPDATE_PHASE = Obj({**_PHASE_FIELDS, "start_date": OrWord(("now",), Time())}, required=frozenset({"items"}))
DEFAULT_SETTINGS = Obj(
    {
        "automatic_tax": AUTOMATIC_TAX,
        "billing_cycle_anchor": _ANCHOR,
        "billing_thresholds": _THRESHOLDS,
        "collection_method": _COLLECTION,
        "description": Unsettable(Str(500)),
        "invoice_settings": _SETTINGS,
    }
)
_PAUSE = Refused("pausing a subscription on a schedule is not modelled (pause_collection is).", {"type": "array"})
CREATE = Obj(
    {
        "billing_mode": SUBSCRIPTION_CREATE.fields["billing_mode"],
        "customer": Str(),
        "default_settings": DEFAULT_SETTINGS,
        "end_behavior": Enum(END_BEHAVIORS),
        "expand": EXPAND,
        "from_subscription": Str(),
        "metadata": Metadata(),
        "pause_schedules": _PAUSE,
        "phases": Array(_CREATE_PHASE, max_items=10),
        "start_date": OrWord(("now",), Time()),
    }
)
UPDATE = Obj(
    {
        "default_settings": DEFAULT_SETTINGS,
        "end_behavior": Enum(END_BEHAVIORS),
        "expand": EXPAND,
        "metadata": Metadata(),
        "pause_schedules": _PAUSE,
        "phases": Array(_UPDATE_PHASE, max_items=10),
        "proration_behavior": Enum(PRORATION_BEHAVIORS),
    }
)
# POST /v1/invoices/create_preview's schedule_details: an update's phases (the first one's start_date starts a
# new schedule) and settings.
SCHEDULE_DETAILS = Obj(
    {
        "billing_mode": SUBSCRIPTION_CREATE.fields["billing_mode"],
        "end_behavior": Enum(END_BEHAVIORS),
        "pause_schedules": _PAUSE,
        "phases": Array(_UPDATE_PHASE, max_items=10),
        "proration_behavior": Enum(PRORATION_BEHAVIORS),
    }
)
CANCEL = Obj({"expand": EXPAND, "invoice_now": Bool(), "prorate": Bool()})
RELEASE = Obj({"expand": EXPAND, "preserve_cancel_date": Bool()})
RETRIEVE = Obj({"expand": EXPAND})
_RANGES = ("canceled_at", "completed_at", "released_at")  # created: the cursor's
LIST = Obj(
    {
        **CREATED_LIST_PARAMS,
        "canceled_at": RANGE,
        "completed_at": RANGE,
        "released_at": RANGE,
        "customer": Str(),
        "scheduled": Bool(),
    }
)


# --- translation -----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A checked value as stored JSON: "" for a cleared value (Stripe's own), strings for decimals."""
    if isinstance(value, Clear):
        return ""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _phase(p: dict[str, Any], i: int) -> dict[str, Any]:
    phase = _plain({k: v for k, v in p.items() if k != "automatic_tax"})
    for k, item in enumerate(phase.get("items") or ()):
        if "plan" in item:
            if "price" in item:
                raise InvalidInput(
                    [
                        FieldError(
                            ("phases", i, "items", k, "plan"),
                            ErrorCode.PARAMETERS_EXCLUSIVE,
                            "Pass either price or plan, not both.",
                        )
                    ]
                )
            item["price"] = item.pop("plan")
        if "price" not in item:
            raise InvalidInput(
                [FieldError(("phases", i, "items", k, "price"), ErrorCode.PARAMETER_MISSING, "Missing price.")]
            )
    return dict(phase)


def schedule_fields(p: dict[str, Any]) -> service.ScheduleFields:
    """Checked create or update parameters, as the schedule service takes them."""
    if p.get("end_behavior") in ("none", "renew"):
        raise InvalidInput([FieldError(("end_behavior",), ErrorCode.PARAMETER_UNSUPPORTED, _LEGACY_END)])
    phases = p.get("phases")
    settings = p.get("default_settings")
    behavior = p.get("proration_behavior")
    return service.ScheduleFields(
        customer=p.get("customer"),
        from_subscription=p.get("from_subscription"),
        start_date=p.get("start_date"),
        phases=tuple(_phase(ph, i) for i, ph in enumerate(phases)) if phases is not None else None,
        end_behavior=p.get("end_behavior"),
        default_settings=_plain({k: v for k, v in settings.items() if k != "automatic_tax"}) if settings else None,
        billing_mode=p.get("billing_mode"),
        metadata=p.get("metadata"),
        proration_behavior=ProrationBehavior(behavior) if behavior else None,
    )


# --- rendering -------------------------------------------------------------------------------

_NO_TAX = {"disabled_reason": None, "enabled": False, "liability": None}


def _discounts(value: Any) -> list[dict[str, Any]]:
    return [
        {"coupon": d.get("coupon"), "discount": d.get("discount"), "promotion_code": d.get("promotion_code")}
        for d in value or ()
        if isinstance(d, dict)
    ]


def _invoice_settings(settings: dict[str, Any] | None, *, always: bool) -> dict[str, Any] | None:
    if not settings and not always:
        return None
    settings = settings or {}
    return {
        "account_tax_ids": settings.get("account_tax_ids") or None,
        "custom_fields": settings.get("custom_fields") or None,
        "days_until_due": settings.get("days_until_due"),
        "description": settings.get("description") or None,
        "footer": settings.get("footer") or None,
        "issuer": {"type": "self"},
    }


def _thresholds(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {
        "amount_gte": value.get("amount_gte"),
        "reset_billing_cycle_anchor": value.get("reset_billing_cycle_anchor"),
    }


def _rates(ids: Any, rates: dict[str, TaxRate]) -> list[dict[str, Any]] | None:
    if not isinstance(ids, list):
        return None
    return [render_tax_rate(rates[r]) for r in ids if r in rates]


def _added(a: dict[str, Any], rates: dict[str, TaxRate]) -> dict[str, Any]:
    period = a.get("period") or {}
    start, end = period.get("start") or {}, period.get("end") or {}
    return {
        "discountable": a.get("discountable", True),
        "discounts": _discounts(a.get("discounts")),
        "metadata": a.get("metadata") or {},
        "period": {
            "end": {"timestamp": end.get("timestamp"), "type": end.get("type", "min_item_period_end")},
            "start": {"timestamp": start.get("timestamp"), "type": start.get("type", "max_item_period_start")},
        },
        "price": a.get("price"),
        "quantity": a.get("quantity", 1),
        "tax_rates": _rates(a.get("tax_rates"), rates) or [],
    }


def _render_phase(ph: dict[str, Any], currency: str, rates: dict[str, TaxRate]) -> dict[str, Any]:
    return {
        "add_invoice_items": [_added(a, rates) for a in ph.get("add_invoice_items") or ()],
        "application_fee_percent": None,
        "automatic_tax": None,
        "billing_cycle_anchor": ph.get("billing_cycle_anchor"),
        "billing_thresholds": _thresholds(ph.get("billing_thresholds")),
        "collection_method": ph.get("collection_method"),
        "currency": ph.get("currency") or currency,
        "default_payment_method": None,
        "default_tax_rates": _rates(ph.get("default_tax_rates"), rates) or [],
        "description": ph.get("description") or None,
        "discounts": _discounts(ph.get("discounts")),
        "end_date": ph["end_date"],
        "invoice_settings": _invoice_settings(ph.get("invoice_settings"), always=False),
        "items": [
            {
                "billing_thresholds": None,
                "discounts": _discounts(i.get("discounts")),
                "metadata": i.get("metadata") or {},
                "plan": i["price"],
                "price": i["price"],
                "quantity": i.get("quantity", 1),
                "tax_rates": _rates(i.get("tax_rates"), rates) or [],
            }
            for i in ph.get("items") or ()
        ],
        "metadata": ph.get("metadata") or {},
        "on_behalf_of": None,
        "proration_behavior": ph.get("proration_behavior") or "create_prorations",
        "start_date": ph["start_date"],
        "transfer_data": None,
        "trial": bool(ph.get("trial")) if "trial" in ph else None,
        "trial_end": ph.get("trial_end") or (ph["end_date"] if ph.get("trial") else None),
    }


def _tax_rates(uow: UnitOfWork, schedules: list[SubscriptionSchedule]) -> dict[str, TaxRate]:
    ids: set[str] = set()
    for s in schedules:
        for ph in s.phases:
            for holder in [ph, *(ph.get("items") or ()), *(ph.get("add_invoice_items") or ())]:
                for key in ("default_tax_rates", "tax_rates"):
                    if isinstance(holder.get(key), list):
                        ids.update(holder[key])
    if not ids:
        return {}
    rows = uow.session.scalars(select(TaxRate).where(TaxRate.tenant_id == uow.tenant_id, TaxRate.id.in_(ids)))
    return {r.id: r for r in rows}


def render_schedule(schedule: SubscriptionSchedule, currency: str, rates: dict[str, TaxRate]) -> dict[str, Any]:
    settings = schedule.default_settings or {}
    current = None
    if schedule.status == ScheduleStatus.ACTIVE and schedule.current_phase >= 0:
        phase = schedule.phases[schedule.current_phase]
        current = {"end_date": phase["end_date"], "start_date": phase["start_date"]}
    return {
        "id": schedule.id,
        "object": "subscription_schedule",
        "application": None,
        "billing_mode": render_billing_mode(schedule.billing_mode, schedule.created),
        "canceled_at": schedule.canceled_at,
        "completed_at": schedule.completed_at,
        "created": schedule.created,
        "current_phase": current,
        "customer": schedule.customer_id,
        "customer_account": None,
        "default_settings": {
            "application_fee_percent": None,
            "automatic_tax": _NO_TAX,
            "billing_cycle_anchor": settings.get("billing_cycle_anchor") or "automatic",
            "billing_thresholds": _thresholds(settings.get("billing_thresholds")),
            "collection_method": settings.get("collection_method"),
            "default_payment_method": None,
            "description": settings.get("description") or None,
            "invoice_settings": _invoice_settings(settings.get("invoice_settings"), always=True),
            "on_behalf_of": None,
            "transfer_data": None,
        },
        "end_behavior": schedule.end_behavior,
        "livemode": False,
        "metadata": dict(schedule.metadata_),
        "pause_schedules": [],
        "phases": [_render_phase(ph, currency, rates) for ph in schedule.phases],
        "released_at": schedule.released_at,
        "released_subscription": schedule.released_subscription_id,
        "status": schedule.status,
        "subscription": schedule.subscription_id,
        "test_clock": schedule.test_clock_id,
    }


def render_schedules(uow: UnitOfWork, schedules: list[SubscriptionSchedule]) -> list[dict[str, Any]]:
    """Schedules as this dialect renders them (events carry the same)."""
    return _render(uow, schedules, set())


def _render(uow: UnitOfWork, schedules: list[SubscriptionSchedule], expand: set[str]) -> list[dict[str, Any]]:
    rates = _tax_rates(uow, schedules)
    bodies = []
    for s in schedules:
        customer = get_customer(uow, s.customer_id, include_deleted=True)
        body = render_schedule(s, customer.currency or "usd", rates)
        if "customer" in expand:
            body["customer"] = render_customer(customer)
        if "subscription" in expand and s.subscription_id is not None:
            body["subscription"] = render_one_subscription(uow, get_subscription(uow, s.subscription_id), set())
        bodies.append(body)
    return bodies


def _one(uow: UnitOfWork, schedule: SubscriptionSchedule, expand: set[str]) -> dict[str, Any]:
    return _render(uow, [schedule], expand)[0]


# --- endpoints -------------------------------------------------------------------------------


@router.post("/v1/subscription_schedules", openapi_extra=body_params(CREATE))
def create_schedule(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        expand = check_expand(p, EXPANDABLE)
        return _one(uow, service.create_schedule(uow, schedule_fields(p)), expand)

    return execute(call, run)


@router.get("/v1/subscription_schedules/{schedule_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_schedule(schedule_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        expand = check_expand(parse(RETRIEVE, params), EXPANDABLE)
        schedule = service.get_schedule(uow, schedule_id, for_update=True)
        service.catch_up_schedules(uow, [schedule])
        return _one(uow, schedule, expand)

    return execute(call, run)


@router.post("/v1/subscription_schedules/{schedule_id}", openapi_extra=body_params(UPDATE))
def update_schedule(schedule_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        expand = check_expand(p, EXPANDABLE)
        return _one(uow, service.update_schedule(uow, schedule_id, schedule_fields(p)), expand)

    return execute(call, run)


@router.post("/v1/subscription_schedules/{schedule_id}/cancel", openapi_extra=body_params(CANCEL))
def cancel_schedule(schedule_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CANCEL, params)
        expand = check_expand(p, EXPANDABLE)
        schedule = service.cancel_schedule(
            uow, schedule_id, invoice_now=p.get("invoice_now", True), prorate=p.get("prorate", True)
        )
        return _one(uow, schedule, expand)

    return execute(call, run)


@router.post("/v1/subscription_schedules/{schedule_id}/release", openapi_extra=body_params(RELEASE))
def release_schedule(schedule_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(RELEASE, params)
        expand = check_expand(p, EXPANDABLE)
        schedule = service.release_schedule(uow, schedule_id, preserve_cancel_date=bool(p.get("preserve_cancel_date")))
        return _one(uow, schedule, expand)

    return execute(call, run)


@router.get("/v1/subscription_schedules", openapi_extra=query_params(LIST))
def list_schedules(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        expand = check_list_expand(p, EXPANDABLE)
        page = service.list_schedules(
            uow,
            cursor_from(p),
            customer=p.get("customer"),
            scheduled=p.get("scheduled"),
            ranges={name: bounds(p, name) for name in _RANGES},
        )
        return {
            "object": "list",
            "data": _render(uow, page.data, expand),
            "has_more": page.has_more,
            "url": "/v1/subscription_schedules",
        }

    return execute(call, run)
