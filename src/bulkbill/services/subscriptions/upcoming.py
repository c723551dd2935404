"""The upcoming invoice (Stripe's `POST /v1/invoices/create_preview`): made, rendered, rolled back.

A subscription's upcoming invoice is its next renewal, made by the same code that renews it (every
piece of work due up to its period end, in a savepoint); a customer's is the renewal of its
subscription renewing first, or, with no live subscription, a one-off invoice of its pending items.
Previews of changes run the change itself in the savepoint, by the code that makes it:
* `subscription_details` on a subscription updates it (its prorations become pending items): the
  upcoming invoice is the one the change makes at once (`always_invoice`, a cycle reset, a trial ended
  now), else the next renewal, which takes the prorations; `cancel_now` cancels it, the final invoice
  carrying the credit for the unused time (unless proration_behavior is none).
* `subscription_details` without a subscription creates one for the customer: its first invoice.
* `customer_details` updates the customer first (address, shipping, tax_exempt, tax IDs), so taxes act as
  they would on that customer; without a customer, a customer with those details is made.
The preview's own invoice items and discounts are added to it as the same calls would add them.
Nothing is written: the savepoint is rolled back before the answer leaves (events with it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TypeVar

from sqlalchemy import select

from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput, NotFound, NoUpcomingInvoice
from bulkbill.core.invoicing.commands import DiscountRef, LineChanges
from bulkbill.core.subscriptions.prorations import ProrationBehavior
from bulkbill.core.subscriptions.rules import SubscriptionStatus
from bulkbill.services.customers.customers import CustomerFields, create_customer, update_customer
from bulkbill.services.customers.tax_ids import NewTaxId, add_tax_ids, delete_tax_id, tax_ids_of
from bulkbill.services.invoicing.invoice_items import NewItem, create_item, update_item
from bulkbill.services.invoicing.invoices import InvoiceFields, create_invoice, get_invoice, update_invoice
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.schedules import (
    ScheduleFields,
    create_schedule,
    get_schedule,
    latest_invoice_of,
    upcoming_of_schedule,
    update_schedule,
)
from bulkbill.services.subscriptions.subscriptions import (
    Cancellation,
    SubscriptionFields,
    cancel_subscription,
    create_subscription,
    get_subscription,
    run_due,
    update_subscription,
)
from bulkbill.storage.tables import Invoice
from bulkbill.storage.tables_subscriptions import Subscription

T = TypeVar("T")
# Stripe's billing_reason of a preview.
UPCOMING = "upcoming"


@dataclass(frozen=True)
class PreviewItem:
    """One of the preview's `invoice_items`: a new item, or a change to a pending one (`invoiceitem`)."""

    changes: LineChanges
    invoice_item: str | None = None
    tax_fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerDetails:
    """`customer_details`: the customer as the preview should see it (tax IDs replace the customer's)."""

    fields: CustomerFields
    tax_ids: tuple[NewTaxId, ...] | None = None


@dataclass(frozen=True)
class PreviewRequest:
    customer: str | None = None
    subscription: str | None = None
    currency: str | None = None
    discounts: tuple[DiscountRef, ...] | None = None
    items: tuple[PreviewItem, ...] = ()
    # A change to preview (subscription_details): an update of `subscription`, or a new subscription.
    subscription_details: SubscriptionFields | None = None
    cancel_now: bool = False  # subscription_details[cancel_now]
    customer_details: CustomerDetails | None = None
    # A schedule's upcoming invoice (`schedule`), after `schedule_details` change it or make a new one.
    schedule: str | None = None
    schedule_details: ScheduleFields | None = None


def preview_upcoming(uow: UnitOfWork, request: PreviewRequest, render: Callable[[Invoice], T]) -> T:
    """The upcoming invoice, rendered, then rolled back: nothing is written."""
    savepoint = uow.session.begin_nested()
    try:
        if request.customer_details is not None:
            request = _with_customer_details(uow, request, request.customer_details)
        invoice = _upcoming(uow, request)
        for k, item in enumerate(request.items):
            _add_item(uow, invoice, item, k)
        if request.discounts is not None:
            update_invoice(uow, invoice.id, InvoiceFields(discounts=request.discounts, given=frozenset({"discounts"})))
        invoice.billing_reason = UPCOMING
        return render(invoice)
    finally:
        savepoint.rollback()


def _upcoming(uow: UnitOfWork, request: PreviewRequest) -> Invoice:
    if request.schedule is not None or request.schedule_details is not None:
        return _scheduled(uow, request)
    if request.subscription is not None:
        try:
            sub = get_subscription(uow, request.subscription)
        except NotFound as exc:
            raise NotFound("subscription", request.subscription, path=("subscription",)) from exc
        if request.customer is not None and sub.customer_id != request.customer:
            raise _refused(("subscription",), f"The subscription {sub.id} belongs to another customer.")
        if request.subscription_details is not None:
            return _changed(uow, sub, request.subscription_details, cancel_now=request.cancel_now)
        return _renewal(uow, sub)
    if request.customer is None:
        raise InvalidInput(
            [FieldError(("customer",), ErrorCode.PARAMETER_MISSING, "Give customer or subscription to preview.")]
        )
    if request.subscription_details is not None:
        if request.cancel_now:
            raise _refused(("subscription_details", "cancel_now"), "cancel_now previews a subscription's end.")
        details = replace(request.subscription_details, customer=request.customer, preview=True)
        with _under("subscription_details"):
            sub = create_subscription(uow, details)
        assert sub.latest_invoice_id is not None
        return get_invoice(uow, sub.latest_invoice_id)
    live = uow.session.scalars(
        select(Subscription)
        .where(
            Subscription.tenant_id == uow.tenant_id,
            Subscription.customer_id == request.customer,
            Subscription.status == SubscriptionStatus.ACTIVE.value,
            Subscription.cancel_at_period_end.is_(False),
        )
        .order_by(Subscription.current_period_end, Subscription.id)
        .limit(1)
    ).first()
    if live is not None:
        return _renewal(uow, live)
    fields = InvoiceFields(
        customer=request.customer, currency=request.currency, pending_invoice_items_behavior="include"
    )
    invoice = create_invoice(uow, fields)
    if invoice.line_count == 0 and not request.items:
        # As Stripe: no live subscription, no pending item and none given, nothing to preview.
        raise NoUpcomingInvoice(request.customer)
    return invoice


def _renewal(uow: UnitOfWork, sub: Subscription) -> Invoice:
    """Everything due up to the end of the current period, as the clock or time would do it: the renewal."""
    if sub.status != SubscriptionStatus.ACTIVE or sub.cancel_at_period_end:
        raise _refused(("subscription",), f"The subscription {sub.id} has no upcoming invoice: it ends.")
    run_due(uow, [sub], sub.current_period_end)
    assert sub.latest_invoice_id is not None
    return get_invoice(uow, sub.latest_invoice_id)


def _changed(uow: UnitOfWork, sub: Subscription, details: SubscriptionFields, *, cancel_now: bool) -> Invoice:
    """The change made in the savepoint; the invoice it made at once, else the next renewal (with its prorations)."""
    latest = sub.latest_invoice_id
    with _under("subscription_details"):
        if cancel_now:
            prorate = details.proration_behavior != ProrationBehavior.NONE
            cancel_subscription(uow, sub.id, Cancellation(prorate=prorate, invoice_now=True, preview=True))
        else:
            update_subscription(uow, sub.id, replace(details, preview=True))
    if sub.latest_invoice_id != latest and sub.latest_invoice_id is not None:
        return get_invoice(uow, sub.latest_invoice_id)
    return _renewal(uow, sub)


def _scheduled(uow: UnitOfWork, request: PreviewRequest) -> Invoice:
    """A schedule's next invoice, after schedule_details update it (or, without `schedule`, make one)."""
    if request.subscription is not None or request.subscription_details is not None:
        name = "subscription" if request.subscription is not None else "subscription_details"
        raise InvalidInput(
            [FieldError((name,), ErrorCode.PARAMETERS_EXCLUSIVE, f"{name} cannot be combined with a schedule preview.")]
        )
    details = request.schedule_details
    previous = None
    if request.schedule is not None:
        try:
            schedule = get_schedule(uow, request.schedule)
        except NotFound as exc:
            raise NotFound("subscription_schedule", request.schedule, path=("schedule",)) from exc
        if request.customer is not None and schedule.customer_id != request.customer:
            raise _refused(("schedule",), f"The schedule {schedule.id} belongs to another customer.")
        previous = latest_invoice_of(uow, schedule)
        if details is not None:
            with _under("schedule_details"):
                update_schedule(uow, schedule.id, replace(details, preview=True))
    else:
        if request.customer is None:
            raise InvalidInput(
                [FieldError(("customer",), ErrorCode.PARAMETER_MISSING, "Give customer or schedule to preview.")]
            )
        assert details is not None
        with _under("schedule_details"):
            schedule = create_schedule(uow, replace(details, customer=request.customer, preview=True))
    return upcoming_of_schedule(uow, schedule, previous)


def _with_customer_details(uow: UnitOfWork, request: PreviewRequest, details: CustomerDetails) -> PreviewRequest:
    """The customer updated as `customer_details` says (a new one when none is named)."""
    customer_id = request.customer
    if customer_id is None and request.subscription is not None:
        try:
            customer_id = get_subscription(uow, request.subscription).customer_id
        except NotFound as exc:
            raise NotFound("subscription", request.subscription, path=("subscription",)) from exc
    with _under("customer_details"):
        if customer_id is None:
            customer_id = create_customer(uow, details.fields).id
            request = replace(request, customer=customer_id)
        else:
            try:
                update_customer(uow, customer_id, details.fields)
            except NotFound as exc:
                raise NotFound("customer", customer_id, path=("customer",)) from exc
        if details.tax_ids is not None:
            for row in tax_ids_of(uow, customer_id):
                delete_tax_id(uow, customer_id, row.id)
            add_tax_ids(uow, customer_id, details.tax_ids, ("tax_ids",))
    return request


@contextmanager
def _under(prefix: str) -> Iterator[None]:
    """Errors of a nested parameter's checks name it in full: subscription_details[items][0][id]."""
    try:
        yield
    except InvalidInput as exc:
        raise InvalidInput([FieldError((prefix, *e.path), e.code, e.message) for e in exc.errors]) from exc
    except NotFound as exc:
        if exc.path is None or exc.path[:1] == (prefix,):
            raise
        raise NotFound(exc.resource, exc.object_id, path=(prefix, *exc.path)) from exc


def _add_item(uow: UnitOfWork, invoice: Invoice, item: PreviewItem, k: int) -> None:
    try:
        if item.invoice_item is not None:
            update_item(uow, item.invoice_item, item.changes, item.tax_fields)
        else:
            create_item(uow, NewItem(invoice.customer_id, item.changes, invoice.id, tax_fields=item.tax_fields))
    except InvalidInput as exc:  # name the preview's item: invoice_items[k][...]
        raise InvalidInput([FieldError(("invoice_items", k, *e.path), e.code, e.message) for e in exc.errors]) from exc
    except NotFound as exc:
        path = ("invoice_items", k, *(exc.path or ("invoiceitem",)))
        raise NotFound(exc.resource, exc.object_id, path=path) from exc


def _refused(path: tuple[str, ...], message: str) -> InvalidInput:
    return InvalidInput([FieldError(path, ErrorCode.INVALID_VALUE, message)])
