"""Test clocks: a frozen time for customers and their subscriptions, moved only by `advance`.

Advancing runs, in time order, everything that falls due between the old and the new frozen time
(renewal drafts, their finalization an hour later, period-end cancellations) inside the caller's
single transaction: a failure anywhere leaves the clock and every object untouched. The clock row is
locked first, so two advances of one clock never interleave; advancing to the current frozen time
again changes nothing, and the unique (source_type, source_id) of invoice items refuses to bill
a subscription period twice whatever happens.
"""

from __future__ import annotations

from sqlalchemy import select, update

from bulkbill.core.errors import NotFound, RuleViolation
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.subscriptions.rules import (
    CLOCK_LIFETIME_SECONDS,
    Cadence,
    Interval,
    SubscriptionStatus,
    check_advance,
)
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.events.outbox import changing, emit
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.schedules import cancel_clock_schedules, run_due_with_schedules
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Customer
from bulkbill.storage.tables_subscriptions import BillingClock, Subscription

READY = "ready"


def create_clock(
    uow: UnitOfWork, frozen_time: int, name: str | None = None, *, customer: str | None = None
) -> BillingClock:
    """A clock starts ready at `frozen_time` and is deleted 30 days after its creation (Stripe's rule);
    `customer` attaches an existing customer to it (see _attachable)."""
    attached = _attachable(uow, customer) if customer is not None else None
    clock = BillingClock(
        tenant_id=uow.tenant_id,
        id=new_id("clock_"),
        name=name,
        frozen_time=frozen_time,
        status=READY,
        created=uow.now,
        deletes_after=uow.now + CLOCK_LIFETIME_SECONDS,
        deleted=False,
    )
    uow.session.add(clock)
    uow.session.flush()
    emit(uow, EventType.TEST_CLOCK_CREATED, clock.id)
    if attached is not None:
        changing(uow, EventObject.CUSTOMER, [attached.id])
        attached.test_clock_id = clock.id
        uow.session.flush()
        emit(uow, EventType.CUSTOMER_UPDATED, attached.id)
    return clock


def _attachable(uow: UnitOfWork, customer_id: str) -> Customer:
    """A customer joins a new clock once, for good (as on Stripe), and only while nothing of it runs on real
    time: one already on a clock stays there, and one with subscriptions keeps the time their periods count in."""
    try:
        customer = get_customer(uow, customer_id, lock="update")
    except NotFound:
        raise NotFound("customer", customer_id, path=("customer",)) from None
    if customer.test_clock_id is not None:
        raise RuleViolation(
            f"The customer {customer_id} is already attached to the test clock {customer.test_clock_id}; "
            "a customer cannot leave its test clock.",
            path=("customer",),
        )
    has_subscription = uow.session.scalar(
        select(Subscription.id)
        .where(Subscription.tenant_id == uow.tenant_id, Subscription.customer_id == customer.id)
        .limit(1)
    )
    if has_subscription is not None:
        raise RuleViolation(
            f"The customer {customer_id} has subscriptions, whose periods run on real time: only a customer "
            "without subscriptions can be attached to a test clock.",
            path=("customer",),
        )
    return customer


def get_clock(
    uow: UnitOfWork, clock_id: str, *, for_update: bool = False, include_deleted: bool = False
) -> BillingClock:
    query = select(BillingClock).where(BillingClock.tenant_id == uow.tenant_id, BillingClock.id == clock_id)
    if for_update and uow.is_postgres:
        query = query.with_for_update()
    clock = uow.session.scalar(query)
    if clock is None or (clock.deleted and not include_deleted):
        raise NotFound("test_clock", clock_id)
    return clock


def list_clocks(uow: UnitOfWork, cursor: Cursor) -> Page[BillingClock]:
    query = select(BillingClock).where(BillingClock.tenant_id == uow.tenant_id, BillingClock.deleted.is_(False))
    return paginate(uow, query, BillingClock, cursor)


def _subscriptions(uow: UnitOfWork, clock_id: str) -> list[Subscription]:
    query = (
        select(Subscription)
        .where(Subscription.tenant_id == uow.tenant_id, Subscription.test_clock_id == clock_id)
        .order_by(Subscription.created, Subscription.id)
    )
    if uow.is_postgres:
        query = query.with_for_update()
    return list(uow.session.scalars(query))


def advance_clock(uow: UnitOfWork, clock_id: str, frozen_time: int) -> BillingClock:
    """Move the clock forward and run everything that fell due on the way, all or nothing."""
    clock = get_clock(uow, clock_id, for_update=True)
    subs = _subscriptions(uow, clock.id)
    cadences = [
        Cadence(Interval(s.interval), s.interval_count) for s in subs if s.status != SubscriptionStatus.CANCELED
    ]
    check_advance(clock.frozen_time, frozen_time, cadences)
    if frozen_time == clock.frozen_time:
        return clock
    run_due_with_schedules(uow, subs, frozen_time, clock_id=clock.id)  # schedules' phases change on the way
    clock.frozen_time = frozen_time
    clock.status = READY
    uow.session.flush()
    # The advance runs within the call: advancing and ready are told together.
    emit(uow, EventType.TEST_CLOCK_ADVANCING, clock.id)
    emit(uow, EventType.TEST_CLOCK_READY, clock.id)
    return clock


def delete_clock(uow: UnitOfWork, clock_id: str) -> BillingClock:
    """Deleting a clock deletes its customers and ends their subscriptions and schedules (invoices stay, as for
    any customer)."""
    return _delete(uow, get_clock(uow, clock_id, for_update=True))


def delete_expired_clocks(uow: UnitOfWork) -> None:
    """Stripe deletes a clock once its `deletes_after` has passed; bulkbill, with no scheduler, does it when the
    tenant's clocks are next used (every /v1/test_helpers/test_clocks call), as a DELETE would."""
    expired = uow.session.scalars(
        select(BillingClock.id).where(
            BillingClock.tenant_id == uow.tenant_id,
            BillingClock.deleted.is_(False),
            BillingClock.deletes_after <= uow.now,
        )
    ).all()
    for clock_id in expired:
        clock = get_clock(uow, clock_id, for_update=True, include_deleted=True)
        if not clock.deleted:  # another request may have deleted it meanwhile
            _delete(uow, clock)


def _delete(uow: UnitOfWork, clock: BillingClock) -> BillingClock:
    changing(uow, EventObject.TEST_CLOCK, [clock.id])
    for sub in _subscriptions(uow, clock.id):
        if sub.status != SubscriptionStatus.CANCELED:
            changing(uow, EventObject.SUBSCRIPTION, [sub.id])
            emit(uow, EventType.SUBSCRIPTION_DELETED, sub.id)
            sub.status = SubscriptionStatus.CANCELED.value
            sub.canceled_at = sub.canceled_at or clock.frozen_time
            sub.ended_at = clock.frozen_time
            sub.cancel_at_period_end = False
            sub.cancellation_details = {"comment": None, "feedback": None, "reason": "cancellation_requested"}
    cancel_clock_schedules(uow, clock.id, clock.frozen_time)
    uow.session.execute(
        update(Customer)
        .where(Customer.tenant_id == uow.tenant_id, Customer.test_clock_id == clock.id)
        .values(deleted=True)
    )
    clock.deleted = True
    uow.session.flush()
    emit(uow, EventType.TEST_CLOCK_DELETED, clock.id)
    return clock
