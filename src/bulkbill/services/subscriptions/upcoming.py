"""The upcoming invoice (Stripe's `POST /v1/invoices/create_preview`): made, rendered, rolled back.

A subscription's upcoming invoice is its next renewal, made by the same code that renews it (every
piece of work due up to its period end, in a savepoint); a customer's is the renewal of its
subscription renewing first, or, with no live subscription, a one-off invoice of its pending items.
The preview's own invoice items and discounts are added to it as the same calls would add them.
Nothing is written: the savepoint is rolled back before the answer leaves (events with it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select

from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput, NotFound
from bulkbill.core.invoicing.commands import DiscountRef, LineChanges
from bulkbill.core.subscriptions.rules import SubscriptionStatus
from bulkbill.services.invoicing.invoice_items import NewItem, create_item, update_item
from bulkbill.services.invoicing.invoices import InvoiceFields, create_invoice, get_invoice, update_invoice
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.subscriptions import get_subscription, run_due
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
class PreviewRequest:
    customer: str | None = None
    subscription: str | None = None
    currency: str | None = None
    discounts: tuple[DiscountRef, ...] | None = None
    items: tuple[PreviewItem, ...] = ()


def preview_upcoming(uow: UnitOfWork, request: PreviewRequest, render: Callable[[Invoice], T]) -> T:
    """The upcoming invoice, rendered, then rolled back: nothing is written."""
    savepoint = uow.session.begin_nested()
    try:
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
    if request.subscription is not None:
        try:
            sub = get_subscription(uow, request.subscription)
        except NotFound as exc:
            raise NotFound("subscription", request.subscription, path=("subscription",)) from exc
        if request.customer is not None and sub.customer_id != request.customer:
            raise _refused(("subscription",), f"The subscription {sub.id} belongs to another customer.")
        return _renewal(uow, sub)
    if request.customer is None:
        raise InvalidInput(
            [FieldError(("customer",), ErrorCode.PARAMETER_MISSING, "Give customer or subscription to preview.")]
        )
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
    return create_invoice(uow, fields)


def _renewal(uow: UnitOfWork, sub: Subscription) -> Invoice:
    """Everything due up to the end of the current period, as the clock or time would do it: the renewal."""
    if sub.status != SubscriptionStatus.ACTIVE or sub.cancel_at_period_end:
        raise _refused(("subscription",), f"The subscription {sub.id} has no upcoming invoice: it ends.")
    run_due(uow, [sub], sub.current_period_end)
    assert sub.latest_invoice_id is not None
    return get_invoice(uow, sub.latest_invoice_id)


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
