"""Stripe /v1/billing/meters, /v1/billing/meter_events and meters' event_summaries: translation only.

The rules (formulas, event times, values, the active/inactive moves) are core.catalog.meters'; metered
prices (recurring[usage_type]=metered, recurring[meter]) bill through them on subscriptions.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.catalog.meters as service
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import EXPAND, LIST_PARAMS, Enum, Obj, Str, StrMap, Time, parse
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.core.catalog.meters import DEFAULT_CUSTOMER_KEY, DEFAULT_VALUE_KEY, MeterFormula, MeterMove
from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput, NotFound
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.thresholds import invoice_reached_thresholds
from bulkbill.storage.tables_usage import BillingMeter, BillingMeterEvent

router = APIRouter()


WINDOWS = ("day", "hour")
CREATE = Obj(
    {
        "display_name": Str(250),
        "event_name": Str(100),
        "default_aggregation": Obj({"formula": Enum(tuple(MeterFormula))}, required=frozenset({"formula"})),
        "customer_mapping": Obj(
            {"event_payload_key": Str(100), "type": Enum(("by_id",))},
            required=frozenset({"event_payload_key", "type"}),
        ),
        "value_settings": Obj({"event_payload_key": Str(100)}, required=frozenset({"event_payload_key"})),
        "event_time_window": Enum(WINDOWS),
        "expand": EXPAND,
    },
    required=frozenset({"display_name", "event_name", "default_aggregation"}),
)
UPDATE = Obj({"display_name": Str(250), "expand": EXPAND})
RETRIEVE = Obj({"expand": EXPAND})
LIST = Obj({**LIST_PARAMS, "status": Enum(("active", "inactive"))})
EVENT_CREATE = Obj(
    {
        "event_name": Str(100),
        "payload": StrMap(),
        "identifier": Str(100),
        "timestamp": Time(),
        "expand": EXPAND,
    },
    required=frozenset({"event_name", "payload"}),
)
SUMMARIES = Obj(
    {
        **LIST_PARAMS,
        "customer": Str(),
        "start_time": Time(),
        "end_time": Time(),
        "value_grouping_window": Enum(WINDOWS),
    },
    required=frozenset({"customer", "start_time", "end_time"}),
)


def render_meter(m: BillingMeter) -> dict[str, Any]:
    return {
        "id": m.id,
        "object": "billing.meter",
        "created": m.created,
        "customer_mapping": {"event_payload_key": m.customer_key, "type": "by_id"},
        "default_aggregation": {"formula": m.formula},
        "display_name": m.display_name,
        "event_name": m.event_name,
        "event_time_window": m.event_time_window,
        "livemode": False,
        "status": m.status,
        "status_transitions": {"deactivated_at": m.deactivated_at},
        "updated": m.updated,
        "value_settings": {"event_payload_key": m.value_key},
    }


def render_event(e: BillingMeterEvent) -> dict[str, Any]:
    return {
        "object": "billing.meter_event",
        "created": e.created,
        "event_name": e.event_name,
        "identifier": e.identifier,
        "livemode": False,
        "payload": dict(e.payload),
        "timestamp": e.timestamp,
    }


@router.post("/v1/billing/meters", openapi_extra=body_params(CREATE))
def create_meter(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        check_expand(p, ())
        fields = service.MeterFields(
            display_name=p["display_name"],
            event_name=p["event_name"],
            formula=MeterFormula(p["default_aggregation"]["formula"]),
            customer_key=(p.get("customer_mapping") or {}).get("event_payload_key") or DEFAULT_CUSTOMER_KEY,
            value_key=(p.get("value_settings") or {}).get("event_payload_key") or DEFAULT_VALUE_KEY,
            event_time_window=p.get("event_time_window"),
        )
        return render_meter(service.create_meter(uow, fields))

    return execute(call, run)


@router.get("/v1/billing/meters", openapi_extra=query_params(LIST))
def list_meters(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        check_expand(p, ())
        page = service.list_meters(uow, cursor_from(p), p.get("status"))
        return list_object("/v1/billing/meters", page, render_meter)

    return execute(call, run)


@router.get("/v1/billing/meters/{meter_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_meter(meter_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), ())
        return render_meter(service.get_meter(uow, meter_id))

    return execute(call, run)


@router.post("/v1/billing/meters/{meter_id}", openapi_extra=body_params(UPDATE))
def update_meter(meter_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        check_expand(p, ())
        return render_meter(service.update_meter(uow, meter_id, p.get("display_name")))

    return execute(call, run)


def _move(meter_id: str, call: StripeRequest, move: MeterMove) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), ())
        return render_meter(service.move_meter(uow, meter_id, move))

    return execute(call, run)


@router.post("/v1/billing/meters/{meter_id}/deactivate", openapi_extra=body_params(RETRIEVE))
def deactivate_meter(meter_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    return _move(meter_id, call, MeterMove.DEACTIVATE)


@router.post("/v1/billing/meters/{meter_id}/reactivate", openapi_extra=body_params(RETRIEVE))
def reactivate_meter(meter_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    return _move(meter_id, call, MeterMove.REACTIVATE)


@router.post("/v1/billing/meter_events", openapi_extra=body_params(EVENT_CREATE))
def create_meter_event(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(EVENT_CREATE, params)
        check_expand(p, ())
        fields = service.EventFields(p["event_name"], p["payload"], p.get("identifier"), p.get("timestamp"))
        event = service.record_event(uow, fields)
        invoice_reached_thresholds(uow, event.customer_id)
        return render_event(event)

    return execute(call, run)


@router.get("/v1/billing/meters/{meter_id}/event_summaries", openapi_extra=query_params(SUMMARIES))
def list_event_summaries(meter_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    """The customer's usage on the meter per window of [start_time, end_time), newest window first (Stripe's order).

    Pagination walks the windows: `starting_after`/`ending_before` name a summary id.
    """

    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(SUMMARIES, params)  # first, as on every route: an unknown parameter is a 400 before any lookup
        meter = service.get_meter(uow, meter_id)
        check_expand(p, ())
        customer = get_customer(uow, p["customer"])
        start, end = p["start_time"], p["end_time"]
        if end <= start:
            raise InvalidInput(
                [FieldError(("end_time",), ErrorCode.PARAMETER_INVALID, "end_time must be after start_time.")]
            )
        window = p.get("value_grouping_window")
        prefix = f"mtrusg_{meter.id}_{customer.id}_"
        limit = p.get("limit") or 10
        first, stop = 0, limit
        for name in ("starting_after", "ending_before"):
            cursor = p.get(name)
            if cursor is None:
                continue
            begins = cursor.removeprefix(prefix).split("_")[0]
            index = service.summary_index(start, end, window, int(begins)) if begins.isdigit() else None
            if not cursor.startswith(prefix) or index is None:
                raise NotFound("billing.meter_event_summary", cursor, path=(name,))
            first, stop = (index + 1, index + 1 + limit) if name == "starting_after" else (max(index - limit, 0), index)
        page = []
        for k in range(first, stop):
            bounds = service.summary_window(start, end, window, k)
            if bounds is None:
                break
            a, b = bounds
            page.append(
                {
                    "id": f"{prefix}{a}_{b}",
                    "object": "billing.meter_event_summary",
                    "aggregated_value": service.usage(uow, meter, customer.id, a, b),
                    "end_time": b,
                    "livemode": False,
                    "meter": meter.id,
                    "start_time": a,
                }
            )
        more = (
            service.summary_window(start, end, window, stop) is not None
            if p.get("ending_before") is None
            else first > 0
        )
        return {
            "object": "list",
            "data": page,
            "has_more": more,
            "url": f"/v1/billing/meters/{meter.id}/event_summaries",
        }

    return execute(call, run)
