"""Subscription schedules: create, update, cancel, release, and move their subscriptions at phase boundaries.

A schedule's phases are stored as given (plain JSON: the dialect's checked parameters, "" for a value
cleared) with their computed start_date and end_date (core.subscriptions.schedules). Each phase is made
real by the subscription code itself: the first phase creates the subscription
(`create_subscription`), every later one updates it (`update_subscription`, its prorations per the
phase's proration_behavior, services/subscriptions/prorations.py), both at the boundary's instant
(`SubscriptionFields.at`). Before a schedule is written, every phase is rehearsed that way in a
savepoint rolled back at once, so a phase the subscription would refuse is refused now, naming it
(`phases[1][items][0][price]`). Boundaries fall due in `run_due_with_schedules`, between the
subscription's own due work in time order: a test clock's advance calls it, and for real time the
subscription's and the schedule's reads do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, false, or_, select

from bulkbill.core.errors import ErrorCode, FieldError, InputCollector, InvalidInput, InvalidTransition, NotFound
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.invoicing.commands import DiscountRef, LineChanges, PriceData
from bulkbill.core.metadata import CLEAR, Clear, MetadataUpdate, check_metadata, merge_metadata
from bulkbill.core.subscriptions.prorations import ProrationBehavior
from bulkbill.core.subscriptions.rules import Cadence, Interval, ItemChange, SubscriptionStatus
from bulkbill.core.subscriptions.schedules import (
    LIVE,
    EndBehavior,
    PhaseLength,
    ScheduleMove,
    ScheduleStatus,
    ScheduleStep,
    StepKind,
    end_move,
    ensure_live,
    next_step,
    phase_dates,
    schedule_transition,
)
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.events.outbox import changing, emit
from bulkbill.services.platform.pagination import Bounds, Cursor, Page, paginate, within
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.item_prices import prices_by_id, recurring
from bulkbill.services.subscriptions.subscriptions import (
    AddedItem,
    Cancellation,
    SubscriptionFields,
    at_time,
    cancel_subscription,
    create_subscription,
    get_subscription,
    items_of,
    now_for,
    run_due,
    update_subscription,
)
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Invoice
from bulkbill.storage.tables_subscriptions import Subscription, SubscriptionSchedule

# Phase settings the subscription keeps as stored terms (rendered, acting where the subscription acts).
_STORED_TERMS = ("invoice_settings", "billing_thresholds")


@dataclass(frozen=True)
class ScheduleFields:
    """Create uses every field; update those given (None leaves a field unchanged)."""

    customer: str | None = None
    from_subscription: str | None = None
    start_date: int | str | None = None  # a time, or "now"
    phases: tuple[dict[str, Any], ...] | None = None
    end_behavior: str | None = None
    default_settings: dict[str, Any] | None = None
    billing_mode: dict[str, Any] | None = None
    metadata: MetadataUpdate | None = None
    # Update: how applying the changed current phase to the subscription is prorated.
    proration_behavior: ProrationBehavior | None = None
    # Made for a preview (create_preview): invoices made at once stay drafts, so they show as upcoming.
    preview: bool = False


# --- loading ---------------------------------------------------------------------------------


def get_schedule(uow: UnitOfWork, schedule_id: str, *, for_update: bool = False) -> SubscriptionSchedule:
    query = select(SubscriptionSchedule).where(
        SubscriptionSchedule.tenant_id == uow.tenant_id, SubscriptionSchedule.id == schedule_id
    )
    if for_update and uow.is_postgres:
        query = query.with_for_update()
    schedule = uow.session.scalar(query)
    if schedule is None:
        raise NotFound("subscription_schedule", schedule_id)
    return schedule


def list_schedules(
    uow: UnitOfWork,
    cursor: Cursor,
    *,
    customer: str | None = None,
    scheduled: bool | None = None,
    ranges: dict[str, Bounds | None] | None = None,
) -> Page[SubscriptionSchedule]:
    """Newest first; `scheduled` keeps the schedules not started yet (true) or the others (false)."""
    query = select(SubscriptionSchedule).where(SubscriptionSchedule.tenant_id == uow.tenant_id)
    if customer is not None:
        query = query.where(SubscriptionSchedule.customer_id == customer)
    if scheduled is not None:
        not_started = SubscriptionSchedule.status == ScheduleStatus.NOT_STARTED.value
        query = query.where(not_started if scheduled else ~not_started)
    for name, bounds in (ranges or {}).items():
        query = within(query, getattr(SubscriptionSchedule, name), bounds)
    page: Page[SubscriptionSchedule] = paginate(uow, query, SubscriptionSchedule, cursor)
    catch_up_schedules(uow, page.data)
    return page


def dates_of(schedule: SubscriptionSchedule) -> list[tuple[int, int]]:
    return [(int(p["start_date"]), int(p["end_date"])) for p in schedule.phases]


# --- create, update, cancel, release ---------------------------------------------------------


def create_schedule(uow: UnitOfWork, fields: ScheduleFields) -> SubscriptionSchedule:
    """A schedule from phases (starting now or later), or taking over a subscription as it stands."""
    if fields.from_subscription is not None:
        return _from_subscription(uow, fields)
    if fields.customer is None:
        raise InvalidInput(
            [FieldError(("customer",), ErrorCode.PARAMETER_MISSING, "Missing required param: customer.")]
        )
    try:
        customer = get_customer(uow, fields.customer)
    except NotFound as exc:
        raise NotFound("customer", fields.customer, path=("customer",)) from exc
    if not fields.phases:
        raise InvalidInput(
            [FieldError(("phases",), ErrorCode.PARAMETER_MISSING, "A subscription schedule needs at least one phase.")]
        )
    now = now_for(uow, customer.test_clock_id)
    start = now if fields.start_date in (None, "now") else fields.start_date
    assert isinstance(start, int)
    errors = InputCollector()
    if start < now:
        errors.add(("start_date",), ErrorCode.INVALID_VALUE, f"start_date must be now or later ({now}).")
    schedule = _new_schedule(uow, fields, errors, customer.id, customer.test_clock_id, now)
    schedule.phases = _timed(uow, fields.phases, start, fields.default_settings or {})
    _rehearse(uow, schedule, from_phase=0)
    uow.session.add(schedule)
    uow.session.flush()
    emit(uow, EventType.SUBSCRIPTION_SCHEDULE_CREATED, schedule.id)
    run_due_with_schedules(uow, [], now, schedules=[schedule], preview=fields.preview)
    return schedule


def _from_subscription(uow: UnitOfWork, fields: ScheduleFields) -> SubscriptionSchedule:
    """The subscription's current period as the schedule's one phase, released when it ends (Stripe's rule)."""
    given = [n for n in ("customer", "phases", "start_date") if getattr(fields, n) is not None]
    if given:
        raise InvalidInput(
            [
                FieldError(
                    (given[0],),
                    ErrorCode.PARAMETERS_EXCLUSIVE,
                    f"You cannot set `{given[0]}` if `from_subscription` is set.",
                )
            ]
        )
    assert fields.from_subscription is not None
    try:
        sub = get_subscription(uow, fields.from_subscription, for_update=True)
    except NotFound as exc:
        raise NotFound("subscription", fields.from_subscription, path=("from_subscription",)) from exc
    if sub.status == SubscriptionStatus.CANCELED or sub.schedule_id is not None:
        what = "is canceled" if sub.status == SubscriptionStatus.CANCELED else f"has the schedule {sub.schedule_id}"
        raise InvalidInput(
            [FieldError(("from_subscription",), ErrorCode.INVALID_VALUE, f"The subscription {sub.id} {what}.")]
        )
    items = items_of(uow, [sub.id])[sub.id]
    phase: dict[str, Any] = {
        "items": [
            {
                "price": i.price_id,
                "quantity": i.quantity,
                **({"tax_rates": list(i.tax_rates)} if i.tax_rates is not None else {}),
                "metadata": dict(i.metadata_),
            }
            for i in items
        ],
        "collection_method": sub.collection_method,
        "default_tax_rates": list(sub.default_tax_rates),
        "description": sub.description,
        "metadata": dict(sub.metadata_),
        "currency": sub.currency,
        "start_date": sub.current_period_start,
        "end_date": sub.current_period_end,
    }
    if sub.collection_method == "send_invoice":
        phase["invoice_settings"] = {"days_until_due": sub.days_until_due}
    schedule = _new_schedule(
        uow, fields, InputCollector(), sub.customer_id, sub.test_clock_id, now_for(uow, sub.test_clock_id)
    )
    schedule.status, schedule.subscription_id, schedule.phases, schedule.current_phase = (
        ScheduleStatus.ACTIVE.value,
        sub.id,
        [phase],
        0,
    )
    uow.session.add(schedule)
    changing(uow, EventObject.SUBSCRIPTION, [sub.id])
    sub.schedule_id = schedule.id
    uow.session.flush()
    emit(uow, EventType.SUBSCRIPTION_SCHEDULE_CREATED, schedule.id)
    emit(uow, EventType.SUBSCRIPTION_UPDATED, sub.id)
    return schedule


def _new_schedule(
    uow: UnitOfWork, fields: ScheduleFields, errors: InputCollector, customer_id: str, clock_id: str | None, now: int
) -> SubscriptionSchedule:
    """A not-started schedule without phases yet, its metadata checked with the call's other `errors`."""
    check_metadata(fields.metadata, ("metadata",), errors)
    metadata = merge_metadata({}, fields.metadata, ("metadata",), errors)
    errors.raise_if_any()
    return SubscriptionSchedule(
        tenant_id=uow.tenant_id,
        id=new_id("sub_sched_"),
        customer_id=customer_id,
        status=ScheduleStatus.NOT_STARTED.value,
        subscription_id=None,
        released_subscription_id=None,
        test_clock_id=clock_id,
        end_behavior=fields.end_behavior or EndBehavior.RELEASE.value,
        phases=[],
        current_phase=-1,
        default_settings=dict(fields.default_settings or {}),
        billing_mode=fields.billing_mode,
        metadata_=metadata,
        created=now,
    )


def update_schedule(uow: UnitOfWork, schedule_id: str, fields: ScheduleFields) -> SubscriptionSchedule:
    """New phases from the current one on (past phases stay as they were), end_behavior, settings, metadata.

    An active schedule's changed current phase applies to its subscription at once, prorated as
    `proration_behavior` says; later phases apply at their start.
    """
    schedule = get_schedule(uow, schedule_id, for_update=True)
    catch_up_schedules(uow, [schedule])
    ensure_live(schedule.status)
    changing(uow, EventObject.SUBSCRIPTION_SCHEDULE, [schedule.id])
    now = _now(uow, schedule)
    errors = InputCollector()
    check_metadata(fields.metadata, ("metadata",), errors)
    metadata = merge_metadata(schedule.metadata_, fields.metadata, ("metadata",), errors)
    errors.raise_if_any()
    if fields.default_settings is not None:
        schedule.default_settings = {**schedule.default_settings, **fields.default_settings}
    if fields.end_behavior is not None:
        schedule.end_behavior = fields.end_behavior
    if metadata != schedule.metadata_:
        schedule.metadata_ = metadata
    active = schedule.status == ScheduleStatus.ACTIVE
    phases = fields.phases
    if phases is not None:
        if not phases:
            raise InvalidInput(
                [FieldError(("phases",), ErrorCode.PARAMETER_MISSING, "A subscription schedule needs a phase.")]
            )
        past = schedule.phases[: schedule.current_phase] if active else []
        start = int(schedule.phases[max(schedule.current_phase, 0)]["start_date"])
        if not active and "start_date" in phases[0]:
            first = phases[0]["start_date"]
            start = now if first == "now" else int(first)
            if start < now:
                raise InvalidInput(
                    [
                        FieldError(
                            ("phases", 0, "start_date"),
                            ErrorCode.INVALID_VALUE,
                            "The schedule cannot start in the past.",
                        )
                    ]
                )
        timed = _timed(uow, phases, start, schedule.default_settings)
        schedule.phases = [*past, *timed]
    if active and (phases is not None or fields.end_behavior is not None or fields.default_settings):
        _rehearse(uow, schedule, from_phase=schedule.current_phase, now=now)
        behavior = fields.proration_behavior or ProrationBehavior.CREATE_PRORATIONS
        _apply_phase(uow, schedule, schedule.current_phase, now, proration=behavior, preview=fields.preview)
    elif phases is not None:
        _rehearse(uow, schedule, from_phase=0)
    uow.session.flush()
    emit(uow, EventType.SUBSCRIPTION_SCHEDULE_UPDATED, schedule.id)
    run_due_with_schedules(uow, _subscriptions(uow, [schedule]), now, schedules=[schedule], preview=fields.preview)
    return schedule


def cancel_schedule(
    uow: UnitOfWork, schedule_id: str, *, invoice_now: bool = True, prorate: bool = True
) -> SubscriptionSchedule:
    """The schedule ends now and its subscription is canceled with it (a final invoice and credit by default)."""
    schedule = get_schedule(uow, schedule_id, for_update=True)
    catch_up_schedules(uow, [schedule])
    changing(uow, EventObject.SUBSCRIPTION_SCHEDULE, [schedule.id])
    schedule.status = schedule_transition(schedule.status, ScheduleMove.CANCEL).value
    schedule.canceled_at = _now(uow, schedule)
    if schedule.subscription_id is not None:
        sub = get_subscription(uow, schedule.subscription_id)
        if sub.status != SubscriptionStatus.CANCELED:
            cancel_subscription(uow, sub.id, Cancellation(prorate=prorate, invoice_now=invoice_now))
    uow.session.flush()
    emit(uow, EventType.SUBSCRIPTION_SCHEDULE_CANCELED, schedule.id)
    return schedule


def release_schedule(uow: UnitOfWork, schedule_id: str, *, preserve_cancel_date: bool = False) -> SubscriptionSchedule:
    """The subscription goes on alone, as it is now; the cancel date the schedule set goes unless preserved."""
    schedule = get_schedule(uow, schedule_id, for_update=True)
    catch_up_schedules(uow, [schedule])
    now = _now(uow, schedule)
    _release(uow, schedule, now)
    sub_id = schedule.released_subscription_id
    if sub_id is not None and not preserve_cancel_date:
        sub = get_subscription(uow, sub_id)
        if sub.status != SubscriptionStatus.CANCELED and sub.cancel_at is not None:
            update_subscription(
                uow,
                sub_id,
                SubscriptionFields(
                    cancel_at=CLEAR, proration_behavior=ProrationBehavior.NONE, given=frozenset({"cancel_at"}), at=now
                ),
            )
    uow.session.flush()
    return schedule


def _release(uow: UnitOfWork, schedule: SubscriptionSchedule, at: int) -> None:
    changing(uow, EventObject.SUBSCRIPTION_SCHEDULE, [schedule.id])
    schedule.status = schedule_transition(schedule.status, ScheduleMove.RELEASE).value
    schedule.released_at = at
    if schedule.subscription_id is not None:
        sub = get_subscription(uow, schedule.subscription_id)
        changing(uow, EventObject.SUBSCRIPTION, [sub.id])
        sub.schedule_id = None
        schedule.released_subscription_id = sub.id
        schedule.subscription_id = None
        uow.session.flush()
        emit(uow, EventType.SUBSCRIPTION_UPDATED, sub.id)
    emit(uow, EventType.SUBSCRIPTION_SCHEDULE_RELEASED, schedule.id)


def cancel_clock_schedules(uow: UnitOfWork, clock_id: str, at: int) -> None:
    """A deleted clock's live schedules are canceled with its subscriptions (which the caller ends)."""
    live = uow.session.scalars(
        select(SubscriptionSchedule).where(
            SubscriptionSchedule.tenant_id == uow.tenant_id,
            SubscriptionSchedule.test_clock_id == clock_id,
            SubscriptionSchedule.status.in_([s.value for s in LIVE]),
        )
    ).all()
    if live:
        changing(uow, EventObject.SUBSCRIPTION_SCHEDULE, [s.id for s in live])
    for schedule in live:
        schedule.status = schedule_transition(schedule.status, ScheduleMove.CANCEL).value
        schedule.canceled_at = at
        emit(uow, EventType.SUBSCRIPTION_SCHEDULE_CANCELED, schedule.id)


def _now(uow: UnitOfWork, schedule: SubscriptionSchedule) -> int:
    return now_for(uow, schedule.test_clock_id)


# --- phases ----------------------------------------------------------------------------------


def _timed(
    uow: UnitOfWork, phases: Sequence[dict[str, Any]], start: int, defaults: dict[str, Any]
) -> list[dict[str, Any]]:
    """The phases as given, each with its start_date and end_date (core.subscriptions.schedules)."""
    errors = InputCollector()
    price_ids = {i.get("price") for p in phases for i in p.get("items") or () if isinstance(i.get("price"), str)}
    prices = {p_id: recurring(p) for p_id, p in prices_by_id(uow, price_ids).items()}
    lengths, cadences = [], []
    for i, phase in enumerate(phases):
        if not phase.get("items"):
            errors.missing(("phases", i, "items"))
        duration = phase.get("duration")
        given_start = phase.get("start_date")
        lengths.append(
            PhaseLength(
                start_date=given_start if isinstance(given_start, int) and i > 0 else None,
                end_date=phase.get("end_date"),
                duration=(Interval(duration["interval"]), int(duration.get("interval_count") or 1))
                if duration
                else None,
                iterations=phase.get("iterations"),
                trial_end=phase.get("trial_end"),
                trial=bool(phase.get("trial")),
            )
        )
        first = next((prices[it["price"]] for it in phase.get("items") or () if it.get("price") in prices), None)
        cadences.append(first.cadence if first is not None else Cadence(Interval.MONTH))
    dates = phase_dates(start, lengths, cadences, errors)
    errors.raise_if_any()
    return [{**phase, "start_date": s, "end_date": e} for phase, (s, e) in zip(phases, dates, strict=True)]


def _rehearse(uow: UnitOfWork, schedule: SubscriptionSchedule, *, from_phase: int, now: int | None = None) -> None:
    """Make every phase from `from_phase` as the schedule will, in a savepoint rolled back: refuse now what
    the subscription would refuse then, the error naming the phase as given (an active schedule's update
    gives its phases from the current one on: `now` is set, and the current phase is phases[0])."""
    offset = from_phase if now is not None else 0
    kept = (schedule.subscription_id, schedule.current_phase)
    savepoint = uow.session.begin_nested()
    try:
        for i in range(max(from_phase, 0), len(schedule.phases)):
            at = int(schedule.phases[i]["start_date"]) if now is None or i > from_phase else now
            with _phase_errors(i - offset):
                if i == 0 and schedule.subscription_id is None:
                    schedule.subscription_id = create_subscription(uow, _phase_fields(uow, schedule, 0, at)).id
                else:
                    _apply_phase(uow, schedule, i, at, proration=ProrationBehavior.NONE)
    finally:
        savepoint.rollback()
        uow.session.expire_all()
        schedule.subscription_id, schedule.current_phase = kept


@contextmanager
def _phase_errors(i: int) -> Iterator[None]:
    """A phase's errors name it: phases[1][items][0][price]."""
    try:
        yield
    except InvalidInput as exc:
        raise InvalidInput([_under_phase(i, e) for e in exc.errors]) from exc
    except NotFound as exc:
        raise NotFound(exc.resource, exc.object_id, path=("phases", i, *(exc.path or ()))) from exc
    except InvalidTransition as exc:
        raise InvalidInput([FieldError(("phases", i), ErrorCode.INVALID_VALUE, str(exc))]) from exc


_RENAMED = {"backdate_start_date": "start_date", "cancel_at": "end_date"}


def _under_phase(i: int, error: FieldError) -> FieldError:
    path = error.path
    if path and path[0] in _RENAMED:
        path = (_RENAMED[str(path[0])], *path[1:])
    return FieldError(("phases", i, *path), error.code, error.message)


def _apply_phase(
    uow: UnitOfWork,
    schedule: SubscriptionSchedule,
    index: int,
    at: int,
    *,
    proration: ProrationBehavior | None,
    preview: bool = False,
) -> None:
    """The subscription takes phase `index` at `at`: its items (matched by price), settings and trial."""
    assert schedule.subscription_id is not None
    sub = get_subscription(uow, schedule.subscription_id, for_update=True)
    current = {i.price_id: i for i in items_of(uow, [sub.id])[sub.id]}
    fields = _phase_fields(uow, schedule, index, at, current_items=current, proration=proration)
    update_subscription(uow, sub.id, replace(fields, preview=preview))
    schedule.current_phase = index


def _phase_fields(
    uow: UnitOfWork,
    schedule: SubscriptionSchedule,
    index: int,
    at: int,
    *,
    current_items: dict[str, Any] | None = None,
    proration: ProrationBehavior | None = None,
) -> SubscriptionFields:
    """Phase `index` as the subscription create (first phase) or update (`current_items` given) takes it."""
    phase, defaults = schedule.phases[index], schedule.default_settings
    start, end = int(phase["start_date"]), int(phase["end_date"])
    last = index == len(schedule.phases) - 1
    given: set[str] = {"items"}
    items = [_item(i) for i in phase.get("items") or ()]
    if current_items is not None:
        kept = {c.price for c in items}
        items = [replace(c, id=current_items[c.price].id, price=None) if c.price in current_items else c for c in items]
        items += [ItemChange(id=row.id, deleted=True) for price, row in current_items.items() if price not in kept]
    method = phase.get("collection_method") or defaults.get("collection_method")
    settings = {**(defaults.get("invoice_settings") or {}), **(phase.get("invoice_settings") or {})}
    days = settings.pop("days_until_due", None)
    trial_end = phase.get("trial_end") or (end if phase.get("trial") else None)
    if trial_end is not None and trial_end <= at:
        trial_end = None  # a phase applied again after its trial is over: the trial is past
    anchor = phase.get("billing_cycle_anchor") or defaults.get("billing_cycle_anchor")
    behavior = phase.get("proration_behavior") or proration or ProrationBehavior.CREATE_PRORATIONS
    stored: dict[str, Any] = {"invoice_settings": settings} if settings else {}
    for name in _STORED_TERMS[1:]:
        value = phase.get(name, defaults.get(name))
        if value is not None:
            stored[name] = CLEAR if value == "" else value
    if schedule.billing_mode and current_items is None:
        stored["billing_mode"] = schedule.billing_mode
    cancel_at: int | Clear | None = None
    if last and schedule.end_behavior == EndBehavior.CANCEL:
        cancel_at = end
    elif current_items is not None:
        cancel_at = CLEAR  # a cancel date the schedule set for a later end goes with the change
    description = phase.get("description", defaults.get("description"))
    optional = {
        "collection_method": method,
        "days_until_due": days if method == "send_invoice" else None,
        "default_tax_rates": _cleared(phase.get("default_tax_rates")),
        "discounts": _discounts(phase.get("discounts")),
        "metadata": phase.get("metadata"),
        "description": _cleared(description),
        "trial_end": trial_end,
        "currency": phase.get("currency") if current_items is None else None,
        "cancel_at": cancel_at,
    }
    given |= {name for name, value in optional.items() if value is not None}
    if stored:
        given |= set(stored)
    return SubscriptionFields(
        customer=schedule.customer_id,
        items=tuple(items),
        collection_method=method,
        days_until_due=optional["days_until_due"],
        default_tax_rates=optional["default_tax_rates"],
        discounts=optional["discounts"],
        metadata=phase.get("metadata"),
        description=optional["description"],
        trial_end=trial_end,
        currency=optional["currency"],
        cancel_at=cancel_at,
        # The cycle resets where the phase starts, not when the phase is applied again mid-way (an update).
        anchor_now=current_items is not None and anchor == "phase_start" and trial_end is None and at == start,
        proration_behavior=ProrationBehavior(behavior),
        prorate=behavior != ProrationBehavior.NONE,
        stored=stored,
        add_invoice_items=tuple(_added(a, start, end) for a in phase.get("add_invoice_items") or ()),
        given=frozenset(given),
        at=at,
    )


def _cleared(value: Any) -> Any:
    if value == "":
        return CLEAR
    return tuple(value) if isinstance(value, list) else value


def _discounts(value: Any) -> tuple[DiscountRef, ...] | Clear | None:
    if value == "":
        return CLEAR
    if isinstance(value, list):
        return tuple(DiscountRef(d.get("coupon"), d.get("discount"), d.get("promotion_code")) for d in value)
    return None


def _item(p: dict[str, Any]) -> ItemChange:
    return ItemChange(
        price=p.get("price"),
        quantity=p.get("quantity", 1),
        tax_rates=_cleared(p.get("tax_rates")),
        discounts=_discounts(p.get("discounts")),
        metadata=p.get("metadata"),
    )


def _added(p: dict[str, Any], start: int, end: int) -> AddedItem:
    """One of a phase's add_invoice_items as the subscription's add_invoice_items take it; the phase's own
    start and end (`phase_start`, `phase_end`) are times once the phase is placed."""
    given = {k for k in p if k != "period"}
    price_path: tuple[str, ...] = ("pricing", "price")
    if "price" in given:
        given = (given - {"price"}) | {"pricing"}
        price_path = ("price",)
    data = p.get("price_data")
    unit = data.get("unit_amount_decimal", data.get("unit_amount")) if data else None
    changes = LineChanges(
        given=frozenset(given),
        discountable=p.get("discountable"),
        discounts=_discounts(p.get("discounts")),
        metadata=p.get("metadata"),
        price=p.get("price"),
        price_path=price_path,
        price_data=PriceData(
            currency=data.get("currency"),
            product=data.get("product"),
            tax_behavior=data.get("tax_behavior"),
            unit_amount_decimal=Decimal(str(unit)) if unit is not None else None,
            given=frozenset(k for k in ("unit_amount", "unit_amount_decimal") if k in data),
        )
        if data
        else None,
        quantity=Decimal(p["quantity"]) if p.get("quantity") is not None else None,
        tax_rates=_cleared(p.get("tax_rates")),
    )
    period = p.get("period")
    if period is None:
        return AddedItem(changes)
    moments = {"phase_start": start, "phase_end": end}
    first, last = period["start"], period["end"]
    return AddedItem(
        changes,
        ("timestamp", moments[first["type"]]) if first["type"] in moments else (first["type"], first.get("timestamp")),
        ("timestamp", moments[last["type"]]) if last["type"] in moments else (last["type"], last.get("timestamp")),
    )


# --- what falls due --------------------------------------------------------------------------


def _subscriptions(uow: UnitOfWork, schedules: Sequence[SubscriptionSchedule]) -> list[Subscription]:
    return [get_subscription(uow, s.subscription_id) for s in schedules if s.subscription_id is not None]


def _live_schedules(
    uow: UnitOfWork, subs: Sequence[Subscription], clock_id: str | None, extra: Sequence[SubscriptionSchedule]
) -> list[SubscriptionSchedule]:
    """The live schedules of these subscriptions, the clock's schedules not started yet, and `extra`."""
    ids = [s.schedule_id for s in subs if s.schedule_id is not None]
    if not ids and clock_id is None:
        return [s for s in extra if s.status in LIVE]
    query = select(SubscriptionSchedule).where(
        SubscriptionSchedule.tenant_id == uow.tenant_id,
        SubscriptionSchedule.status.in_([s.value for s in LIVE]),
        or_(
            SubscriptionSchedule.id.in_(ids) if ids else false(),
            and_(SubscriptionSchedule.test_clock_id == clock_id, SubscriptionSchedule.subscription_id.is_(None))
            if clock_id is not None
            else false(),
        ),
    )
    if uow.is_postgres:
        query = query.with_for_update()
    found = {s.id: s for s in uow.session.scalars(query)}
    for s in extra:
        if s.status in LIVE:
            found.setdefault(s.id, s)
    return list(found.values())


def run_due_with_schedules(
    uow: UnitOfWork,
    subs: Sequence[Subscription],
    until: int,
    *,
    clock_id: str | None = None,
    schedules: Sequence[SubscriptionSchedule] = (),
    preview: bool = False,
) -> None:
    """Everything due by `until`, schedules' phase boundaries included: the subscriptions' work before a
    boundary is done first, the boundary's change then (so a renewal at the boundary bills the new phase)."""
    subs = list(subs)
    extra = list(schedules)
    while True:
        steps = []
        for schedule in _live_schedules(uow, subs, clock_id, extra):
            step = next_step(schedule.status, dates_of(schedule), schedule.current_phase, until)
            if step is not None:
                steps.append((step.at, schedule.id, step, schedule))
        if not steps:
            run_due(uow, subs, until)
            return
        _, _, step, schedule = min(steps, key=lambda s: (s[0], s[1]))
        run_due(uow, subs, step.at - 1)
        made = _take_step(uow, schedule, step, preview=preview)
        if made is not None and all(s.id != made.id for s in subs):
            subs.append(made)
        if schedule not in extra:
            extra.append(schedule)


def _take_step(
    uow: UnitOfWork, schedule: SubscriptionSchedule, step: ScheduleStep, *, preview: bool = False
) -> Subscription | None:
    """Start (create the subscription), move to the next phase, or end per end_behavior, at the step's time."""
    work = at_time(uow, step.at)
    changing(uow, EventObject.SUBSCRIPTION_SCHEDULE, [schedule.id])
    if step.kind == StepKind.START:
        sub = create_subscription(work, replace(_phase_fields(work, schedule, 0, step.at), preview=preview))
        schedule.status = schedule_transition(schedule.status, ScheduleMove.START).value
        schedule.subscription_id, schedule.current_phase = sub.id, 0
        sub.schedule_id = schedule.id
        uow.session.flush()
        emit(uow, EventType.SUBSCRIPTION_SCHEDULE_UPDATED, schedule.id)
        return sub
    assert schedule.subscription_id is not None
    sub = get_subscription(uow, schedule.subscription_id)
    if _ended_with_subscription(uow, schedule):
        return sub
    if step.kind == StepKind.NEXT_PHASE:
        _apply_phase(work, schedule, step.phase, step.at, proration=None, preview=preview)
        told = EventType.SUBSCRIPTION_SCHEDULE_UPDATED
    else:
        move = end_move(schedule.end_behavior)
        if move == ScheduleMove.COMPLETE:
            schedule.status = schedule_transition(schedule.status, move).value
            schedule.completed_at = step.at  # the subscription's cancel_at (the last phase's end) ends it now
            told = EventType.SUBSCRIPTION_SCHEDULE_COMPLETED
        else:
            _release(uow, schedule, step.at)
            return sub
    uow.session.flush()
    emit(uow, told, schedule.id)
    return sub


def _ended_with_subscription(uow: UnitOfWork, schedule: SubscriptionSchedule) -> bool:
    """A schedule whose subscription was canceled on its own (DELETE /v1/subscriptions) is canceled with it."""
    if schedule.status != ScheduleStatus.ACTIVE or schedule.subscription_id is None:
        return False
    sub = get_subscription(uow, schedule.subscription_id)
    if sub.status != SubscriptionStatus.CANCELED:
        return False
    changing(uow, EventObject.SUBSCRIPTION_SCHEDULE, [schedule.id])
    schedule.status = schedule_transition(schedule.status, ScheduleMove.CANCEL).value
    schedule.canceled_at = sub.ended_at
    uow.session.flush()
    emit(uow, EventType.SUBSCRIPTION_SCHEDULE_CANCELED, schedule.id)
    return True


def catch_up_schedules(uow: UnitOfWork, schedules: Sequence[SubscriptionSchedule]) -> None:
    """Schedules on real time do what fell due when they are read (there is no background scheduler); a
    schedule whose subscription was canceled on its own is canceled."""
    for schedule in schedules:
        _ended_with_subscription(uow, schedule)
    real_time = [s for s in schedules if s.test_clock_id is None and s.status in LIVE]
    if real_time:
        run_due_with_schedules(uow, _subscriptions(uow, real_time), uow.now, schedules=real_time)


# --- the upcoming invoice --------------------------------------------------------------------


def latest_invoice_of(uow: UnitOfWork, schedule: SubscriptionSchedule) -> str | None:
    """The last invoice of the schedule's subscription (None before it starts)."""
    if schedule.subscription_id is None:
        return None
    return get_subscription(uow, schedule.subscription_id).latest_invoice_id


def upcoming_of_schedule(uow: UnitOfWork, schedule: SubscriptionSchedule, previous: str | None) -> Invoice:
    """The invoice the schedule makes next: one the previewed change (or its start) made at once, else its
    subscription's next renewal with the phase in force then. `previous`: its last invoice before the change.
    Called inside the preview's savepoint."""
    if schedule.status == ScheduleStatus.NOT_STARTED:
        run_due_with_schedules(uow, [], dates_of(schedule)[0][0], schedules=[schedule], preview=True)
    if schedule.status not in LIVE or schedule.subscription_id is None:
        raise InvalidInput(
            [FieldError(("schedule",), ErrorCode.INVALID_VALUE, f"The schedule {schedule.id} has ended.")]
        )
    sub = get_subscription(uow, schedule.subscription_id)
    if sub.latest_invoice_id is not None and sub.latest_invoice_id != previous:
        latest = uow.session.get(Invoice, (uow.tenant_id, sub.latest_invoice_id))
        assert latest is not None
        return latest  # made by the start or the change previewed
    if sub.status == SubscriptionStatus.CANCELED or (
        sub.cancel_at is not None and sub.cancel_at <= sub.current_period_end
    ):
        raise InvalidInput(
            [
                FieldError(
                    ("schedule",),
                    ErrorCode.INVALID_VALUE,
                    f"The schedule's subscription {sub.id} ends: no upcoming invoice.",
                )
            ]
        )
    run_due_with_schedules(uow, [sub], sub.current_period_end, schedules=[schedule], preview=True)
    assert sub.latest_invoice_id is not None
    invoice = uow.session.get(Invoice, (uow.tenant_id, sub.latest_invoice_id))
    assert invoice is not None
    return invoice
