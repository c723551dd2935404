"""Billing meters (mtr_) and meter events: what metered prices count (rules: core.catalog.meters).

An event is checked when it is recorded (its meter, customer, value and time), not later as Stripe's
asynchronous pipeline does, so a bad event is a 400 naming the parameter and nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from bulkbill.core.catalog.meters import (
    DEFAULT_CUSTOMER_KEY,
    DEFAULT_VALUE_KEY,
    MeterFormula,
    MeterMove,
    MeterStatus,
    UsageEvent,
    aggregate,
    check_event_time,
    meter_transition,
    parse_value,
)
from bulkbill.core.errors import ErrorCode, InputCollector, NotFound
from bulkbill.services.platform.locks import get_row
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Customer
from bulkbill.storage.tables_subscriptions import BillingClock
from bulkbill.storage.tables_usage import BillingMeter, BillingMeterEvent


@dataclass(frozen=True)
class MeterFields:
    display_name: str
    event_name: str
    formula: MeterFormula
    customer_key: str = DEFAULT_CUSTOMER_KEY
    value_key: str = DEFAULT_VALUE_KEY
    event_time_window: str | None = None


@dataclass(frozen=True)
class EventFields:
    event_name: str
    payload: dict[str, str]
    identifier: str | None = None
    timestamp: int | None = None


def create_meter(uow: UnitOfWork, fields: MeterFields) -> BillingMeter:
    meter = BillingMeter(
        tenant_id=uow.tenant_id,
        id=new_id("mtr_", 24),
        display_name=fields.display_name,
        event_name=fields.event_name,
        formula=fields.formula.value,
        customer_key=fields.customer_key,
        value_key=fields.value_key,
        event_time_window=fields.event_time_window,
        status=MeterStatus.ACTIVE.value,
        deactivated_at=None,
        created=uow.now,
        updated=uow.now,
    )
    uow.session.add(meter)
    uow.session.flush()
    return meter


def get_meter(uow: UnitOfWork, meter_id: str, *, for_update: bool = False) -> BillingMeter:
    meter = get_row(uow, BillingMeter, meter_id, lock="update" if for_update else None)
    if meter is None:
        raise NotFound("billing.meter", meter_id)
    return meter


def update_meter(uow: UnitOfWork, meter_id: str, display_name: str | None) -> BillingMeter:
    """Only the display name changes (Stripe's rule: what a meter counts is fixed once events use it)."""
    meter = get_meter(uow, meter_id, for_update=True)
    if display_name is not None and display_name != meter.display_name:
        meter.display_name = display_name
        meter.updated = uow.now
    return meter


def move_meter(uow: UnitOfWork, meter_id: str, move: MeterMove) -> BillingMeter:
    """Deactivate or reactivate, by core.catalog.meters' transition table."""
    meter = get_meter(uow, meter_id, for_update=True)
    meter.status = meter_transition(meter.status, move).value
    meter.deactivated_at = uow.now if meter.status == MeterStatus.INACTIVE else None
    meter.updated = uow.now
    return meter


def list_meters(uow: UnitOfWork, cursor: Cursor, status: str | None) -> Page[BillingMeter]:
    query = select(BillingMeter).where(BillingMeter.tenant_id == uow.tenant_id)
    if status is not None:
        query = query.where(BillingMeter.status == status)
    return paginate(uow, query, BillingMeter, cursor)


def check_meter(uow: UnitOfWork, meter_id: str, path: tuple[str, ...], errors: InputCollector) -> None:
    """A metered price needs an existing, active meter."""
    meter = uow.session.get(BillingMeter, (uow.tenant_id, meter_id))
    if meter is None:
        errors.not_found(path, "billing.meter", meter_id)
    elif meter.status != MeterStatus.ACTIVE:
        errors.add(path, ErrorCode.PARAMETER_INVALID, f"The meter {meter_id} is inactive; use an active meter.")


def _customer_now(uow: UnitOfWork, customer: Customer) -> int:
    """The customer's present: its test clock's frozen time, or real time."""
    if customer.test_clock_id is None:
        return uow.now
    clock = uow.session.get(BillingClock, (uow.tenant_id, customer.test_clock_id))
    return clock.frozen_time if clock is not None else uow.now


def record_event(uow: UnitOfWork, fields: EventFields) -> BillingMeterEvent:
    """One usage event, for the active meters of its event name, its customer and value read from the payload."""
    errors = InputCollector()
    meters = list(
        uow.session.scalars(
            select(BillingMeter).where(
                BillingMeter.tenant_id == uow.tenant_id,
                BillingMeter.event_name == fields.event_name,
                BillingMeter.status == MeterStatus.ACTIVE.value,
            )
        )
    )
    if not meters:
        errors.add(
            ("event_name",),
            ErrorCode.PARAMETER_INVALID,
            f"No active meter counts events named {fields.event_name!r}: create one (POST /v1/billing/meters).",
        )
        errors.raise_if_any()
    customer_key = meters[0].customer_key
    customer_id = fields.payload.get(customer_key)
    customer = None
    if customer_id is None:
        errors.missing(("payload", customer_key))
    else:
        customer = uow.session.get(Customer, (uow.tenant_id, customer_id))
        if customer is None or customer.deleted:
            errors.not_found(("payload", customer_key), "customer", customer_id)
    needed = any(m.formula != MeterFormula.COUNT for m in meters)
    value_key = meters[0].value_key
    value = parse_value(fields.payload.get(value_key), needed=needed, path=("payload", value_key), errors=errors)
    errors.raise_if_any()
    assert customer is not None and customer_id is not None
    now = _customer_now(uow, customer)
    timestamp = fields.timestamp if fields.timestamp is not None else now
    check_event_time(now, timestamp, ("timestamp",), errors)
    identifier = fields.identifier or new_id("mev_", 24)
    if uow.session.get(BillingMeterEvent, (uow.tenant_id, identifier)) is not None:
        errors.add(
            ("identifier",),
            ErrorCode.RESOURCE_ALREADY_EXISTS,
            f"A meter event with identifier {identifier!r} already exists.",
        )
    errors.raise_if_any()
    event = BillingMeterEvent(
        tenant_id=uow.tenant_id,
        identifier=identifier,
        event_name=fields.event_name,
        customer_id=customer_id,
        value=None if value is None else Decimal(value),
        payload=dict(fields.payload),
        timestamp=timestamp,
        created=uow.now,
    )
    uow.session.add(event)
    uow.session.flush()
    return event


def usage(uow: UnitOfWork, meter: BillingMeter, customer_id: str, start: int, end: int) -> int:
    """The customer's usage on the meter for [start, end), aggregated by the meter's formula."""
    rows = uow.session.execute(
        select(BillingMeterEvent.timestamp, BillingMeterEvent.created, BillingMeterEvent.value).where(
            BillingMeterEvent.tenant_id == uow.tenant_id,
            BillingMeterEvent.event_name == meter.event_name,
            BillingMeterEvent.customer_id == customer_id,
            BillingMeterEvent.timestamp >= start,
            BillingMeterEvent.timestamp < end,
        )
    )
    events = [UsageEvent(ts, created, int(v) if v is not None else None) for ts, created, v in rows]
    return aggregate(MeterFormula(meter.formula), events)


def summary_window(start: int, end: int, window: str | None, k: int) -> tuple[int, int] | None:
    """The k-th [start, end) window of a summary list, newest first: the whole range, or a day or an hour of it.

    Counted, never listed: a year of hours is a long list a page reads ten of.
    """
    step = end - start if window is None else 86400 if window == "day" else 3600
    count = -(-(end - start) // step)
    if not 0 <= k < count:
        return None
    begins = start + (count - 1 - k) * step
    return begins, min(begins + step, end)


def summary_index(start: int, end: int, window: str | None, begins: int) -> int | None:
    """Where the window starting at `begins` falls in the newest-first list (None: not one of its windows)."""
    step = end - start if window is None else 86400 if window == "day" else 3600
    if begins < start or begins >= end or (begins - start) % step:
        return None
    count = -(-(end - start) // step)
    return count - 1 - (begins - start) // step
