"""How an event's `data.object` is rendered: exactly as the Stripe dialect renders the object itself.

Registered with the outbox once per process (`register()`: the Stripe app and the command line call it),
so events written by either dialect, a bill run or a worker carry the same shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bulkbill.api.stripe.catalog.coupons import render_coupon
from bulkbill.api.stripe.catalog.prices import render_price
from bulkbill.api.stripe.catalog.products import render_product
from bulkbill.api.stripe.catalog.tax_rates import render_tax_rate
from bulkbill.api.stripe.customers.customers import render_customer
from bulkbill.api.stripe.edge.call import API_VERSION
from bulkbill.api.stripe.invoicing.credit_note_render import render_credit_notes
from bulkbill.api.stripe.invoicing.invoice_render import render_invoice, render_item
from bulkbill.api.stripe.subscriptions.schedules import render_schedules
from bulkbill.api.stripe.subscriptions.subscriptions import render_subscription
from bulkbill.api.stripe.subscriptions.test_clocks import render_clock
from bulkbill.core.events.types import EventObject
from bulkbill.core.invoicing.credit_notes import credit_note_status
from bulkbill.services.events.outbox import Renderer, Rendering, register_renderers
from bulkbill.services.invoicing.invoice_views import InvoiceView, invoice_views, load_related
from bulkbill.services.invoicing.item_rows import ItemFields
from bulkbill.services.platform.session_rows import rows_by_id
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.subscriptions import views as subscription_views
from bulkbill.storage.tables import Coupon, Customer, Invoice, InvoiceItem, Price, Product, TaxRate
from bulkbill.storage.tables_subscriptions import BillingClock, Subscription, SubscriptionSchedule


def _rows(model: Any) -> Callable[[UnitOfWork, Sequence[str]], list[Any]]:
    def load(uow: UnitOfWork, ids: Sequence[str]) -> list[Any]:
        # The rows the call has in hand (an invoice it locked) are not read again.
        return list(rows_by_id(uow, model, ids).values())

    return load


def _simple(model: Any, render: Callable[[Any], dict[str, Any]]) -> Renderer:
    load = _rows(model)
    return lambda uow, ids: {row.id: render(row) for row in load(uow, ids)}


# Most invoices one transaction's events embed lines for (an API call's); past it, a bill run's chunk.
EMBED_LINES_UP_TO = 50


def _invoices(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    invoices = [i for i in _rows(Invoice)(uow, ids) if i.document_type == "invoice"]
    if len(invoices) > EMBED_LINES_UP_TO:
        # A bill run's chunk: the invoices without their embedded lines (`lines.data` empty, `has_more`
        # true; GET /v1/invoices/{id}/lines pages them), so its events cost no load of every line.
        related = load_related(uow, invoices, [])
        return {i.id: render_invoice(InvoiceView(i, [], related)) for i in invoices}
    # An API call's few: each with its embedded first page of lines, as GET shows it, read for all
    # of them at once (a PUT /v1/invoices of 50 drafts costs the same statements as one of 2).
    return {view.invoice.id: render_invoice(view) for view in invoice_views(uow, invoices)}


def _invoices_before(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    # Before a change only the invoice's own fields are compared (its `lines` are undiffed: the item
    # events tell which lines changed), so its lines are not read.
    invoices = [i for i in _rows(Invoice)(uow, ids) if i.document_type == "invoice"]
    related = load_related(uow, invoices, [])
    return {i.id: render_invoice(InvoiceView(i, [], related)) for i in invoices}


def _items(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    return _held_items(uow, _rows(InvoiceItem)(uow, ids))


def _held_items(uow: UnitOfWork, items: Sequence[ItemFields]) -> dict[str, dict[str, Any]]:
    # An event shows the item's customer as its id: no customers to read.
    related = load_related(uow, [], items, with_item_discounts=True, with_customers=False)
    return {item.id: render_item(item, related, set()) for item in items}


def _coupons(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {c.id: render_coupon(c, uow.now) for c in _rows(Coupon)(uow, ids)}


def _credit_notes(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    # A draft Zuora memo is no credit note yet: its events are told when it is posted.
    notes = [m for m in _rows(Invoice)(uow, ids) if m.document_type == "credit_memo" and credit_note_status(m.status)]
    # As for invoices: a bill run's many memos without their embedded lines.
    rendered = render_credit_notes(uow, notes, with_lines=len(notes) <= EMBED_LINES_UP_TO)
    return {body["id"]: body for body in rendered}


def _subscriptions(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    subs = _rows(Subscription)(uow, ids)
    return {view.subscription.id: render_subscription(view) for view in subscription_views(uow, subs)}


RENDERERS: dict[EventObject, Rendering] = {
    EventObject.CUSTOMER: Rendering(_simple(Customer, render_customer)),
    EventObject.INVOICE: Rendering(_invoices, before=_invoices_before, undiffed=frozenset({"lines"})),
    EventObject.INVOICEITEM: Rendering(_items, held=_held_items),
    EventObject.PRODUCT: Rendering(_simple(Product, render_product)),
    EventObject.PRICE: Rendering(_simple(Price, render_price)),
    EventObject.COUPON: Rendering(_coupons),
    EventObject.TAX_RATE: Rendering(_simple(TaxRate, render_tax_rate)),
    EventObject.CREDIT_NOTE: Rendering(_credit_notes),
    EventObject.SUBSCRIPTION: Rendering(_subscriptions),
    EventObject.TEST_CLOCK: Rendering(_simple(BillingClock, render_clock)),
    EventObject.SUBSCRIPTION_SCHEDULE: Rendering(
        lambda uow, ids: {body["id"]: body for body in render_schedules(uow, _rows(SubscriptionSchedule)(uow, ids))}
    ),
}


def register() -> None:
    """Give the outbox the Stripe renderers and API version (idempotent)."""
    register_renderers(API_VERSION, RENDERERS)
