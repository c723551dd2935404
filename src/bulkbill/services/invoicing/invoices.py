"""Invoices: create, edit while draft, and move through the lifecycle (finalize, pay, void, ...)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, or_, select, true

from bulkbill.core.catalog.products import statement_descriptor_problem
from bulkbill.core.customers.balance import BalanceTransactionType
from bulkbill.core.documents.display import RenderingChange, changed_rendering
from bulkbill.core.errors import ErrorCode, FieldError, InputCollector, InvalidInput, NotFound
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.invoicing.commands import DiscountRef, ItemKind
from bulkbill.core.invoicing.invoice_fields import check_account_tax_ids, check_finalizes_at, shipping_amount
from bulkbill.core.invoicing.items import ItemOwner, check_discounts, check_tax_rates
from bulkbill.core.invoicing.lifecycle import (
    InvoiceAction,
    InvoiceStatus,
    check_collection,
    ensure_deletable,
    ensure_editable,
    ensure_sendable,
    ensure_transition,
    post_in_order,
)
from bulkbill.core.metadata import Clear, MetadataUpdate, check_metadata, merge_metadata
from bulkbill.core.money import is_known_currency
from bulkbill.services.accounting.periods import ensure_open_period
from bulkbill.services.billing.sequences import (
    DOCUMENT_SEQUENCES,
    chosen_invoice_number_taken,
    next_customer_number,
    take_number,
)
from bulkbill.services.catalog.discounts import apply_discounts
from bulkbill.services.customers.balance_transactions import record_move
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.events.outbox import changing, emit
from bulkbill.services.invoicing.invoice_rows import NO_LINE, line_columns, new_invoice_columns, posted_columns
from bulkbill.services.invoicing.invoice_totals import load_figure_rows, load_lines, recalculate, recalculate_rows
from bulkbill.services.invoicing.promotion_minimums import check_promotion_minimums
from bulkbill.services.invoicing.references import ReferencedIds, load_references
from bulkbill.services.platform.pagination import Bounds, Cursor, Page, paginate, within
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.rows import new_object
from bulkbill.storage.tables import Customer, Invoice, InvoiceItem
from bulkbill.storage.tables_subscriptions import Subscription

# `rendering` changes what the document shows, not a figure: a finalized invoice's next render shows it.
EDITABLE_AFTER_DRAFT = frozenset(
    {
        "metadata",
        "description",
        "footer",
        "custom_fields",
        "auto_advance",
        "statement_descriptor",
        "shipping_details",
        "rendering",
    }
)
COLLECTION_FIELDS = frozenset({"collection_method", "days_until_due", "due_date"})


@dataclass(frozen=True)
class InvoiceFields:
    customer: str | None = None
    currency: str | None = None
    collection_method: str | None = None
    days_until_due: int | None = None
    due_date: int | None = None
    auto_advance: bool | None = None
    description: str | Clear | None = None
    footer: str | Clear | None = None
    # Name-value pairs shown on the document (Stripe's custom_fields); default: the customer's invoice_settings.
    custom_fields: list[dict[str, str]] | Clear | None = None
    # Stripe's rendering (tax display, page size); default: the customer's invoice_settings.rendering_options.
    rendering: RenderingChange | None = None
    metadata: MetadataUpdate | None = None
    default_tax_rates: tuple[str, ...] | Clear | None = None
    discounts: tuple[DiscountRef, ...] | Clear | None = None
    pending_invoice_items_behavior: str | None = None
    # A number chosen by hand (unique per tenant; otherwise the customer's sequence numbers it at finalization).
    number: str | Clear | None = None
    effective_at: int | Clear | None = None
    statement_descriptor: str | Clear | None = None
    # {"shipping_rate": id} (refused: no shipping-rate objects) or {"shipping_rate_data": {...}}.
    shipping_cost: dict[str, Any] | Clear | None = None
    shipping_details: dict[str, Any] | Clear | None = None
    account_tax_ids: tuple[str, ...] | Clear | None = None
    automatically_finalizes_at: int | None = None
    # On create: an invoice for this subscription's pending items.
    subscription: str | None = None
    given: frozenset[str] = frozenset()


def _invoice_query(of_type: bool, locked: bool) -> Select[Invoice]:
    query = select(Invoice).where(Invoice.tenant_id == bindparam("tenant_id"), Invoice.id == bindparam("invoice_id"))
    if of_type:
        query = query.where(Invoice.document_type == bindparam("document_type"))
    return query.with_for_update() if locked else query


# Built once, by (of one document type, locked): every call on an invoice reads it first.
_INVOICE_QUERIES = {
    (of_type, locked): _invoice_query(of_type, locked) for of_type in (False, True) for locked in (False, True)
}


def get_invoice(
    uow: UnitOfWork, invoice_id: str, *, for_update: bool = False, document_type: str | None = None
) -> Invoice:
    """Load an invoice of this tenant; with for_update, lock it (row lock on PostgreSQL).

    `document_type` ("invoice" or "credit_memo") hides the other kind: Stripe passes "invoice".
    """
    query = _INVOICE_QUERIES[(document_type is not None, for_update and uow.is_postgres)]
    params = {"tenant_id": uow.tenant_id, "invoice_id": invoice_id, "document_type": document_type}
    invoice = uow.session.scalar(query, params)
    if invoice is None:
        raise NotFound("invoice", invoice_id)
    return invoice


# The invoice and its customer in one statement (a bulk line call holds both: its totals read the customer's
# tax exemption, its response renders it). Locked on PostgreSQL: the invoice's row only (FOR UPDATE OF).
_WITH_CUSTOMER = (
    _invoice_query(of_type=True, locked=False)
    .add_columns(Customer)
    .outerjoin(Customer, (Customer.tenant_id == Invoice.tenant_id) & (Customer.id == Invoice.customer_id))
)
_WITH_CUSTOMER_LOCKED = _WITH_CUSTOMER.with_for_update(of=Invoice)


def get_invoice_and_customer(
    uow: UnitOfWork, invoice_id: str, *, for_update: bool = False, document_type: str = "invoice"
) -> tuple[Invoice, Customer | None]:
    """get_invoice, and the invoice's customer, in one statement."""
    query = _WITH_CUSTOMER_LOCKED if for_update and uow.is_postgres else _WITH_CUSTOMER
    params = {"tenant_id": uow.tenant_id, "invoice_id": invoice_id, "document_type": document_type}
    row = uow.session.execute(query, params).first()
    if row is None:
        raise NotFound("invoice", invoice_id)
    return row[0], row[1]


def _check_refs(uow: UnitOfWork, fields: InvoiceFields, owner: ItemOwner, errors: InputCollector) -> None:
    ids = ReferencedIds()
    if isinstance(fields.default_tax_rates, tuple):
        ids.tax_rates.update(fields.default_tax_rates)
    if isinstance(fields.discounts, tuple):
        ids.add_discounts(fields.discounts)
    refs = load_references(uow, ids)
    if isinstance(fields.default_tax_rates, tuple):
        check_tax_rates(fields.default_tax_rates, refs, ("default_tax_rates",), errors)
    if isinstance(fields.discounts, tuple):
        check_discounts(fields.discounts, owner, refs, ("discounts",), errors)


def new_invoice_row(uow: UnitOfWork, *, customer_id: str, currency: str, **fields: Any) -> Invoice:
    """A new draft invoice row with empty totals; `fields` set whatever differs (dates, origin, ...)."""
    invoice_id = fields.pop("id", None) or new_id("in_")
    row = new_invoice_columns(
        uow.tenant_id, invoice_id=invoice_id, customer_id=customer_id, currency=currency, created=uow.now, **fields
    )
    invoice = new_object(Invoice, row)
    uow.session.add(invoice)
    return invoice


def create_invoice(uow: UnitOfWork, fields: InvoiceFields) -> Invoice:
    """A new draft; with pending_invoice_items_behavior=include it takes the customer's pending items."""
    assert fields.customer is not None
    try:
        customer = get_customer(uow, fields.customer)
    except NotFound as exc:
        raise NotFound("customer", fields.customer, path=("customer",)) from exc
    errors = InputCollector()
    currency = (fields.currency or customer.currency or "usd").lower()
    if not is_known_currency(currency):
        errors.add(("currency",), ErrorCode.INVALID_CURRENCY, f"Invalid currency: {currency}.")
    method = fields.collection_method or "charge_automatically"
    check_collection(method, fields.days_until_due, fields.due_date, errors, now=uow.now)
    check_metadata(fields.metadata, ("metadata",), errors)
    metadata = merge_metadata({}, fields.metadata, ("metadata",), errors)
    _check_refs(uow, fields, ItemOwner(customer.id, currency), errors)
    errors.raise_if_any()
    settings = (customer.details or {}).get("invoice_settings") or {}
    invoice = new_invoice_row(
        uow,
        customer_id=customer.id,
        currency=currency,
        collection_method=method,
        days_until_due=fields.days_until_due,
        due_date=fields.due_date,
        auto_advance=bool(fields.auto_advance),
        description=_text(fields.description),
        # The customer's invoice settings are the new invoice's defaults (Stripe copies them).
        footer=_text(fields.footer) if fields.footer is not None else settings.get("footer"),
        document_custom_fields=(
            _fields_shown(fields.custom_fields) if fields.custom_fields is not None else settings.get("custom_fields")
        ),
        rendering=changed_rendering(_customer_rendering(settings), fields.rendering or RenderingChange()),
        metadata_=metadata,
        default_tax_rates=list(fields.default_tax_rates) if isinstance(fields.default_tax_rates, tuple) else [],
    )
    uow.session.flush()
    if isinstance(fields.discounts, tuple):
        invoice.discounts = apply_discounts(uow, fields.discounts, customer_id=customer.id, invoice_id=invoice.id)
    if customer.currency is None:
        customer.currency = currency
    apply_invoice_fields(uow, invoice, fields)
    if fields.subscription is not None:
        sub = subscription_of(uow, fields.subscription, customer.id)
        invoice.subscription_id, invoice.subscription_metadata = sub.id, dict(sub.metadata_)
    if fields.pending_invoice_items_behavior == "include":
        sweep_pending_items(
            uow, invoice, room=uow.settings.stripe_max_lines_per_invoice, only_subscription=invoice.subscription_id
        )
    recalculate(uow, invoice, load_lines(uow, invoice.id))
    uow.session.flush()
    emit(uow, EventType.INVOICE_CREATED, invoice.id)
    return invoice


def subscription_of(uow: UnitOfWork, subscription_id: str, customer_id: str) -> Subscription:
    """The subscription an invoice is made for: one of the invoice's customer."""
    sub = uow.session.get(Subscription, (uow.tenant_id, subscription_id))
    if sub is None:
        raise NotFound("subscription", subscription_id, path=("subscription",))
    if sub.customer_id != customer_id:
        raise InvalidInput(
            [
                FieldError(
                    ("subscription",),
                    ErrorCode.INVOICE_CUSTOMER_MISMATCH,
                    f"The subscription {subscription_id} belongs to another customer.",
                )
            ]
        )
    return sub


def sweep_pending_items(uow: UnitOfWork, invoice: Invoice, *, room: int, only_subscription: str | None = None) -> None:
    """At most `room` of the customer's pending invoice items in the invoice currency join it, newest first.

    An item made for a subscription (`subscription` on the item) joins only that subscription's
    invoices or one-off invoices, never another subscription's; with `only_subscription`, only that
    subscription's items join (Stripe's `subscription` on a new invoice).

    The items are row-locked as they are read (PostgreSQL): two invoices sweeping one customer at
    once take the items one after the other, and the second skips what the first took (a locked
    row is read again once its holder commits) instead of failing on it.
    """
    if room <= 0:
        return
    query = (
        select(InvoiceItem)
        .where(
            InvoiceItem.tenant_id == uow.tenant_id,
            InvoiceItem.customer_id == invoice.customer_id,
            InvoiceItem.invoice_id.is_(None),
            InvoiceItem.kind == ItemKind.INVOICE_ITEM.value,
            InvoiceItem.currency == invoice.currency,
            _subscription_filter(invoice.subscription_id, only_subscription),
        )
        .order_by(InvoiceItem.created.desc(), InvoiceItem.id.desc())
        .limit(room)
    )
    if uow.is_postgres:
        query = query.with_for_update()
    for item in uow.session.scalars(query):
        attach_item(uow, invoice, item)


def _subscription_filter(invoice_subscription: str | None, only: str | None) -> Any:
    if only is not None:
        return InvoiceItem.subscription_id == only
    if invoice_subscription is not None:
        return or_(InvoiceItem.subscription_id.is_(None), InvoiceItem.subscription_id == invoice_subscription)
    return true()


def attach_item(uow: UnitOfWork, invoice: Invoice, item: InvoiceItem) -> None:
    """Put an item on an invoice as its next line (the item's row carries the line)."""
    _set_line(item, invoice.id, line_columns(line_id=new_id("il_"), position=invoice.next_line_position))
    invoice.next_line_position += 1


def detach_item(item: InvoiceItem) -> None:
    """Take an item off its invoice: pending again, it is no line any more."""
    _set_line(item, None, NO_LINE)


def _set_line(item: InvoiceItem, invoice_id: str | None, line: Mapping[str, Any]) -> None:
    item.invoice_id = invoice_id
    for name, value in line.items():
        setattr(item, name, value)


def _customer_rendering(settings: dict[str, Any]) -> dict[str, str] | None:
    """The customer's default tax display (invoice_settings.rendering_options), which a new invoice starts from."""
    display = (settings.get("rendering_options") or {}).get("amount_tax_display")
    return {"amount_tax_display": display} if isinstance(display, str) else None


def _fields_shown(value: list[dict[str, str]] | Clear) -> list[dict[str, str]] | None:
    return None if isinstance(value, Clear) or not value else value


def update_invoice(uow: UnitOfWork, invoice_id: str, fields: InvoiceFields) -> Invoice:
    """Drafts take every field; finalized invoices only metadata, description, footer and auto_advance."""
    invoice = get_invoice(uow, invoice_id, for_update=True)
    if fields.given - EDITABLE_AFTER_DRAFT:
        ensure_editable(invoice.status)
    _changing(uow, invoice)
    errors = InputCollector()
    method = fields.collection_method or invoice.collection_method
    if method != invoice.collection_method:
        # Switching collection method starts the due terms afresh.
        days, due = fields.days_until_due, fields.due_date
    else:
        days = fields.days_until_due if "days_until_due" in fields.given else invoice.days_until_due
        due = fields.due_date if "due_date" in fields.given else invoice.due_date
    if fields.given & COLLECTION_FIELDS:
        # Only a change of terms is checked: finalizing fixes due_date next to days_until_due.
        check_collection(method, days, due, errors, now=uow.now)
    check_metadata(fields.metadata, ("metadata",), errors)
    metadata = merge_metadata(invoice.metadata_, fields.metadata, ("metadata",), errors)
    _check_refs(uow, fields, ItemOwner(invoice.customer_id, invoice.currency), errors)
    errors.raise_if_any()
    invoice.collection_method, invoice.days_until_due, invoice.due_date = method, days, due
    invoice.metadata_ = metadata
    if fields.auto_advance is not None:
        invoice.auto_advance = fields.auto_advance
    if fields.description is not None:
        invoice.description = _text(fields.description)
    if fields.footer is not None:
        invoice.footer = _text(fields.footer)
    if fields.custom_fields is not None:
        invoice.document_custom_fields = _fields_shown(fields.custom_fields)
    if fields.rendering is not None:
        invoice.rendering = changed_rendering(invoice.rendering, fields.rendering)
    if fields.default_tax_rates is not None:
        invoice.default_tax_rates = (
            list(fields.default_tax_rates) if isinstance(fields.default_tax_rates, tuple) else []
        )
    if fields.discounts is not None:
        refs = fields.discounts if isinstance(fields.discounts, tuple) else ()
        invoice.discounts = apply_discounts(uow, refs, customer_id=invoice.customer_id, invoice_id=invoice.id)
    apply_invoice_fields(uow, invoice, fields)
    if invoice.status == InvoiceStatus.DRAFT:
        recalculate(uow, invoice, load_lines(uow, invoice.id))
    uow.session.flush()
    emit(uow, EventType.INVOICE_UPDATED, invoice.id)
    return invoice


def apply_invoice_fields(uow: UnitOfWork, invoice: Invoice, fields: InvoiceFields) -> None:
    """Number, effective date, statement descriptor, shipping, account tax ids, scheduled finalization."""
    errors = InputCollector()
    if isinstance(fields.account_tax_ids, tuple):
        check_account_tax_ids(fields.account_tax_ids, errors)
    if fields.automatically_finalizes_at is not None:
        check_finalizes_at(fields.automatically_finalizes_at, uow.now, errors)
    shipping = _shipping(fields.shipping_cost, invoice.currency, errors)
    descriptor = fields.statement_descriptor
    problem = statement_descriptor_problem(descriptor) if isinstance(descriptor, str) else None
    if problem is not None:  # the rule products follow too (Stripe's, one place)
        errors.add(("statement_descriptor",), ErrorCode.PARAMETER_INVALID, problem)
    number = fields.number
    if isinstance(number, str) and number != invoice.number and chosen_invoice_number_taken(uow, number):
        errors.add(("number",), ErrorCode.RESOURCE_ALREADY_EXISTS, "Invoice number already exists.")
    errors.raise_if_any()
    if fields.number is not None:
        invoice.number = _text(fields.number)
    if fields.effective_at is not None:
        invoice.effective_at = None if isinstance(fields.effective_at, Clear) else fields.effective_at
    if fields.statement_descriptor is not None:
        invoice.statement_descriptor = _text(fields.statement_descriptor)
    if fields.shipping_details is not None:
        invoice.shipping_details = None if isinstance(fields.shipping_details, Clear) else fields.shipping_details
    if fields.account_tax_ids is not None:
        invoice.account_tax_ids = list(fields.account_tax_ids) if isinstance(fields.account_tax_ids, tuple) else None
    if fields.automatically_finalizes_at is not None:
        invoice.chosen_finalizes_at = fields.automatically_finalizes_at
        if fields.auto_advance is None:
            invoice.auto_advance = True  # a scheduled finalization is an automatic advance
    if fields.shipping_cost is not None:
        invoice.shipping_cost, invoice.amount_shipping = shipping if shipping is not None else (None, 0)


def _shipping(
    cost: dict[str, Any] | Clear | None, currency: str, errors: InputCollector
) -> tuple[dict[str, Any], int] | None:
    """The stored shipping rate data and its amount in the invoice currency, or None (unset, or refused)."""
    if not isinstance(cost, dict):
        return None
    path = ("shipping_cost",)
    if "shipping_rate" in cost:
        errors.add(
            (*path, "shipping_rate"),
            ErrorCode.PARAMETER_UNSUPPORTED,
            "bulkbill serves no shipping rate objects: give the rate with shipping_cost[shipping_rate_data].",
        )
        return None
    data = cost.get("shipping_rate_data")
    if data is None:
        errors.missing((*path, "shipping_rate_data"))
        return None
    amount = shipping_amount(data, currency, (*path, "shipping_rate_data"), errors)
    return None if amount is None else (data, amount)


def delete_invoice(uow: UnitOfWork, invoice_id: str) -> None:
    """Only drafts are deleted; their items go back to pending rather than being lost."""
    invoice = get_invoice(uow, invoice_id, for_update=True)
    ensure_deletable(invoice.status, subscription_id=invoice.subscription_id)
    _changing(uow, invoice)
    for entry in load_lines(uow, invoice.id):
        if entry.item.source_type is None:
            detach_item(entry.item)
        else:
            # An item that billed an order line or fulfillment goes, so its source can be billed again.
            uow.session.delete(entry.item)
    uow.session.delete(invoice)
    uow.session.flush()
    emit(uow, EventType.INVOICE_DELETED, invoice_id)


def list_invoices(
    uow: UnitOfWork,
    cursor: Cursor,
    *,
    customer: str | None = None,
    status: str | None = None,
    collection_method: str | None = None,
    subscription: str | None = None,
    due_date: Bounds | None = None,
    document_type: str | None = None,
) -> Page[Invoice]:
    query = select(Invoice).where(Invoice.tenant_id == uow.tenant_id)
    if document_type is not None:
        query = query.where(Invoice.document_type == document_type)
    if customer is not None:
        query = query.where(Invoice.customer_id == customer)
    if status is not None:
        query = query.where(Invoice.status == status)
    if collection_method is not None:
        query = query.where(Invoice.collection_method == collection_method)
    if subscription is not None:
        query = query.where(Invoice.subscription_id == subscription)
    query = within(query, Invoice.due_date, due_date)
    return paginate(uow, query, Invoice, cursor)


def finalize_invoice(uow: UnitOfWork, invoice_id: str) -> Invoice:
    """Freeze the draft, apply the customer balance and take the customer's next gapless number.

    A document with an invoice date (Zuora's) posts only in an open accounting period, whichever
    dialect finalizes it.
    """
    invoice = get_invoice(uow, invoice_id, for_update=True)
    ensure_transition(InvoiceAction.FINALIZE, invoice.status)
    _changing(uow, invoice)
    if invoice.invoice_date is not None:
        ensure_open_period(uow, dt.date.fromisoformat(invoice.invoice_date))
    customer = _lock_customer(uow, invoice.customer_id)
    # Narrow rows, not ORM objects: a document may hold thousands of lines (11,000 for a standalone
    # Zuora invoice at its limits).
    rows = load_figure_rows(uow, invoice.id)
    check_promotion_minimums(uow, invoice, rows)
    recalculate_rows(uow, invoice, rows)
    before = customer.balance
    applies = [invoice.document_type != "credit_memo"]  # a memo keeps its credit (post_in_order)
    (posting,), customer.balance = post_in_order(before, [invoice.total], applies=applies)
    currency = customer.currency or invoice.currency
    record_move(uow, customer, BalanceTransactionType.APPLIED_TO_INVOICE, before, currency, invoice_id=invoice.id)
    _assign_number(uow, invoice, customer)
    columns = posted_columns(
        posting,
        collection_method=invoice.collection_method,
        days_until_due=invoice.days_until_due,
        due_date=invoice.due_date,
        now=uow.now,
    )
    for name, value in columns.items():
        setattr(invoice, name, value)
    if invoice.effective_at is None:
        invoice.effective_at = invoice.finalized_at
    uow.session.flush()
    _emit_transition(uow, EventType.INVOICE_FINALIZED, invoice)
    if invoice.from_invoice_id is not None:
        _replace_revised(uow, invoice)
    return invoice


def _replace_revised(uow: UnitOfWork, revision: Invoice) -> None:
    """A finalized revision replaces the invoice it revises: that one names it as its latest revision and
    is voided, if still open or uncollectible (Stripe's revisions)."""
    assert revision.from_invoice_id is not None
    original = get_invoice(uow, revision.from_invoice_id, for_update=True)
    _changing(uow, original)
    original.latest_revision_id = revision.id
    if original.status in (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE):
        void_invoice(uow, original.id)  # its events show the latest revision too
    else:
        uow.session.flush()
        emit(uow, EventType.INVOICE_UPDATED, original.id)


def _assign_number(uow: UnitOfWork, invoice: Invoice, customer: Customer) -> None:
    """Stripe-made invoices take the customer's prefix sequence; Zuora-made documents the tenant's INV/CM one."""
    if invoice.number is not None:
        return  # numbered when created (Zuora standalone invoices) or chosen by hand: the number stays
    if invoice.origin == "stripe":
        invoice.number = next_customer_number(uow, customer)
    else:
        invoice.number = take_number(uow, DOCUMENT_SEQUENCES[invoice.document_type])


def _lock_customer(uow: UnitOfWork, customer_id: str) -> Customer:
    query = select(Customer).where(Customer.tenant_id == uow.tenant_id, Customer.id == customer_id)
    if uow.is_postgres:
        query = query.with_for_update()
    customer = uow.session.scalar(query)
    if customer is None:
        raise NotFound("customer", customer_id)
    return customer


def pay_invoice(uow: UnitOfWork, invoice_id: str, *, paid_out_of_band: bool) -> Invoice:
    """bulkbill moves no money: an invoice is paid by recording an out-of-band payment."""
    invoice = get_invoice(uow, invoice_id, for_update=True)
    ensure_transition(InvoiceAction.PAY, invoice.status)
    _changing(uow, invoice)
    if not paid_out_of_band:
        raise InvalidInput(
            [
                FieldError(
                    ("paid_out_of_band",),
                    ErrorCode.PAYMENT_METHOD_UNAVAILABLE,
                    "bulkbill processes no payments: pass paid_out_of_band=true to record "
                    "a payment made outside bulkbill.",
                )
            ]
        )
    invoice.paid_out_of_band = True
    invoice.amount_paid = invoice.amount_due
    invoice.status = InvoiceStatus.PAID.value
    invoice.paid_at = uow.now
    uow.session.flush()
    _emit_transition(uow, EventType.INVOICE_PAID, invoice)
    return invoice


def send_invoice(uow: UnitOfWork, invoice_id: str) -> Invoice:
    """Sending finalizes a draft first; bulkbill delivers no e-mail, so nothing else changes."""
    invoice = get_invoice(uow, invoice_id, for_update=True)
    ensure_sendable(invoice.collection_method, invoice.status)
    if invoice.status == InvoiceStatus.DRAFT:
        invoice = finalize_invoice(uow, invoice_id)
    emit(uow, EventType.INVOICE_SENT, invoice.id)
    return invoice


def void_invoice(uow: UnitOfWork, invoice_id: str) -> Invoice:
    invoice = get_invoice(uow, invoice_id, for_update=True)
    ensure_transition(InvoiceAction.VOID, invoice.status)
    _changing(uow, invoice)
    invoice.status = InvoiceStatus.VOID.value
    invoice.voided_at = uow.now
    uow.session.flush()
    _emit_transition(uow, EventType.INVOICE_VOIDED, invoice)
    return invoice


def mark_uncollectible(uow: UnitOfWork, invoice_id: str) -> Invoice:
    invoice = get_invoice(uow, invoice_id, for_update=True)
    ensure_transition(InvoiceAction.MARK_UNCOLLECTIBLE, invoice.status)
    _changing(uow, invoice)
    invoice.status = InvoiceStatus.UNCOLLECTIBLE.value
    invoice.marked_uncollectible_at = uow.now
    uow.session.flush()
    _emit_transition(uow, EventType.INVOICE_MARKED_UNCOLLECTIBLE, invoice)
    return invoice


def _changing(uow: UnitOfWork, invoice: Invoice) -> None:
    kind = EventObject.CREDIT_NOTE if invoice.document_type == "credit_memo" else EventObject.INVOICE
    changing(uow, kind, [invoice.id])


_CREDIT_NOTE_EVENTS = {
    EventType.INVOICE_FINALIZED: EventType.CREDIT_NOTE_CREATED,
    EventType.INVOICE_VOIDED: EventType.CREDIT_NOTE_VOIDED,
}


def _emit_transition(uow: UnitOfWork, event_type: EventType, invoice: Invoice) -> None:
    """A status change is told twice, as Stripe does: its own event, and `invoice.updated` with what changed.

    A Zuora credit memo is told as a `credit_note`: created when posted (a draft is no credit note yet),
    voided when cancelled, else updated."""
    if invoice.document_type == "credit_memo":
        emit(uow, _CREDIT_NOTE_EVENTS.get(event_type, EventType.CREDIT_NOTE_UPDATED), invoice.id)
        return
    emit(uow, event_type, invoice.id)
    emit(uow, EventType.INVOICE_UPDATED, invoice.id)


def _text(value: str | Clear | None) -> str | None:
    return None if value is None or isinstance(value, Clear) else value
