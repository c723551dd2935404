"""Invoice items (ii_): charges that are pending until they join a draft invoice as its lines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Exists, exists, select

from bulkbill.core.errors import ConcurrentModification, ErrorCode, InputCollector, NotFound
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.invoicing.applied_items import check_applied_amount, check_removal, removed_with
from bulkbill.core.invoicing.commands import LineChanges
from bulkbill.core.invoicing.invoice_fields import check_tax_behavior
from bulkbill.core.invoicing.items import ItemOwner, amount_field, apply_changes, build_new_item
from bulkbill.core.invoicing.lifecycle import ensure_editable
from bulkbill.core.money import is_known_currency
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.events.outbox import changing, emit
from bulkbill.services.invoicing.invoice_totals import LoadedLine, load_lines, recalculate
from bulkbill.services.invoicing.invoices import attach_item, get_invoice, subscription_of
from bulkbill.services.invoicing.item_rows import applied_to_of, item_values, lock_items, new_item_row, write_values
from bulkbill.services.invoicing.references import ReferencedIds, load_references
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Invoice, InvoiceItem


@dataclass(frozen=True)
class NewItem:
    customer: str
    changes: LineChanges
    invoice: str | None = None
    # A subscription whose invoices (and one-off invoices) take the item, never another subscription's.
    subscription: str | None = None
    # Stripe Tax inputs (tax_behavior, tax_code), kept in the item's extras.
    tax_fields: Mapping[str, str] = field(default_factory=dict)


def get_item(uow: UnitOfWork, item_id: str) -> InvoiceItem:
    """An item of this tenant; an item of a Zuora credit memo is not found (Stripe has no credit memos)."""
    item = uow.session.get(InvoiceItem, (uow.tenant_id, item_id))
    if item is None or (
        item.invoice_id is not None and uow.session.scalar(select(_on_credit_memo(uow.tenant_id, item.invoice_id)))
    ):
        raise NotFound("invoiceitem", item_id)
    return item


def _on_credit_memo(tenant_id: Any, invoice_id: Any) -> Exists:
    """True when the invoice is a credit memo (values, or the columns of an outer item query)."""
    return exists().where(
        Invoice.tenant_id == tenant_id, Invoice.id == invoice_id, Invoice.document_type == "credit_memo"
    )


def _item_currency(uow: UnitOfWork, command: NewItem, invoice: Invoice | None, customer_currency: str | None) -> str:
    changes = command.changes
    refs = load_references(uow, ReferencedIds(prices={changes.price} if changes.price else set()))
    price = refs.prices.get(changes.price or "")
    for candidate in (
        changes.currency,
        price.currency if price else None,
        changes.price_data.currency if changes.price_data else None,
        invoice.currency if invoice else None,
        customer_currency,
    ):
        if candidate:
            return candidate.lower()
    errors = InputCollector()
    errors.missing(("currency",))
    errors.raise_if_any()
    raise AssertionError  # unreachable


def create_item(uow: UnitOfWork, command: NewItem) -> InvoiceItem:
    """A new item is pending, or joins the named draft invoice of the same customer at once."""
    try:
        customer = get_customer(uow, command.customer)
    except NotFound as exc:
        raise NotFound("customer", command.customer, path=("customer",)) from exc
    invoice = None
    if command.invoice is not None:
        try:
            invoice = get_invoice(uow, command.invoice, for_update=True)
        except NotFound as exc:
            raise NotFound("invoice", command.invoice, path=("invoice",)) from exc
        ensure_editable(invoice.status)
        changing(uow, EventObject.INVOICE, [invoice.id])
    currency = _item_currency(uow, command, invoice, customer.currency)
    errors = InputCollector()
    if not is_known_currency(currency):
        errors.add(("currency",), ErrorCode.INVALID_CURRENCY, f"Invalid currency: {currency}.")
    if invoice is not None and invoice.customer_id != customer.id:
        errors.add(("invoice",), ErrorCode.INVOICE_CUSTOMER_MISMATCH, "The invoice belongs to another customer.")
    if invoice is not None and invoice.currency != currency:
        errors.add(
            ("currency",),
            ErrorCode.CURRENCY_MISMATCH,
            f"The item currency {currency} does not match the invoice currency {invoice.currency}.",
        )
    ids = ReferencedIds()
    ids.add_changes(command.changes)
    refs = load_references(uow, ids)
    values = build_new_item(ItemOwner(customer.id, currency), command.changes, refs, (), errors, now=uow.now)
    if invoice is not None and invoice.line_count >= uow.settings.stripe_max_lines_per_invoice:
        errors.add(
            ("invoice",),
            ErrorCode.TOO_MANY_LINES,
            f"An invoice can hold at most {uow.settings.stripe_max_lines_per_invoice} line items.",
        )
    if command.subscription is not None:
        subscription_of(uow, command.subscription, customer.id)
    check_tax_behavior(None, command.tax_fields.get("tax_behavior"), errors)
    errors.raise_if_any()
    item = new_item_row(uow, customer_id=customer.id, invoice_id=None, values=values)
    item.subscription_id = command.subscription
    if command.tax_fields:
        item.extras = {**(item.extras or {}), **command.tax_fields}
    if invoice is not None:
        lines = load_lines(uow, invoice.id)
        attach_item(uow, invoice, item)
        uow.session.flush()
        recalculate(uow, invoice, [*lines, LoadedLine(item)])
        emit(uow, EventType.INVOICE_UPDATED, invoice.id)
    uow.session.flush()
    emit(uow, EventType.INVOICEITEM_CREATED, item.id)
    return item


def _invoice_of(uow: UnitOfWork, item: InvoiceItem) -> Invoice | None:
    if item.invoice_id is None:
        return None
    invoice = get_invoice(uow, item.invoice_id, for_update=True)
    ensure_editable(invoice.status)
    return invoice


_LOCK_ATTEMPTS = 3


def _lock_item(uow: UnitOfWork, item_id: str) -> tuple[InvoiceItem, Invoice | None]:
    """The item and its invoice, both locked for the rest of the transaction (PostgreSQL).

    Every writer locks an invoice before its items (add_lines assigns pending items that way), so
    the invoice the item was read on is locked first, then the item. An item assigned or removed
    in between is read again: an edit never works from a pending item that has meanwhile joined an
    invoice (whose totals would then miss the edit).
    """
    item = get_item(uow, item_id)
    for _ in range(_LOCK_ATTEMPTS):
        invoice = _invoice_of(uow, item)
        locked = lock_items(uow, {item_id}).get(item_id)
        if locked is None:
            raise NotFound("invoiceitem", item_id)
        if locked.invoice_id == (invoice.id if invoice is not None else None):
            return locked, invoice
        item = locked
    raise ConcurrentModification("The invoice item moved between invoices while it was being changed; please retry.")


def update_item(
    uow: UnitOfWork, item_id: str, changes: LineChanges, tax_fields: Mapping[str, str] | None = None
) -> InvoiceItem:
    """Items change while pending or on a draft; the invoice's totals follow."""
    item, invoice = _lock_item(uow, item_id)
    _changing(uow, item, invoice)
    ids = ReferencedIds()
    ids.add_changes(changes)
    ids.add_item_price(item.price_id)
    refs = load_references(uow, ids)
    errors = InputCollector()
    values = apply_changes(item_values(item), ItemOwner(item.customer_id, item.currency), changes, refs, (), errors)
    if invoice is not None and item.id in applied_to_of(uow, invoice.id):
        check_applied_amount(values.amount, (amount_field(changes),), errors)
    tax_fields = tax_fields or {}
    check_tax_behavior((item.extras or {}).get("tax_behavior"), tax_fields.get("tax_behavior"), errors)
    errors.raise_if_any()
    write_values(uow, item, values)
    if tax_fields:
        item.extras = {**(item.extras or {}), **tax_fields}
    if invoice is not None:
        recalculate(uow, invoice, load_lines(uow, invoice.id))
        emit(uow, EventType.INVOICE_UPDATED, invoice.id)
    uow.session.flush()
    emit(uow, EventType.INVOICEITEM_UPDATED, item.id)
    return item


def _changing(uow: UnitOfWork, item: InvoiceItem, invoice: Invoice | None) -> None:
    changing(uow, EventObject.INVOICEITEM, [item.id])
    if invoice is not None:
        changing(uow, EventObject.INVOICE, [invoice.id])


def delete_item(uow: UnitOfWork, item_id: str) -> None:
    """Items are deleted while pending or on a draft (their line goes with them, and their discount items)."""
    item, invoice = _lock_item(uow, item_id)
    _changing(uow, item, invoice)
    emit(uow, EventType.INVOICEITEM_DELETED, item.id)
    if invoice is None:
        uow.session.delete(item)
        uow.session.flush()
        return
    emit(uow, EventType.INVOICE_UPDATED, invoice.id)
    applied_to = applied_to_of(uow, invoice.id)
    errors = InputCollector()
    check_removal(applied_to, item.id, {item.id}, unassign=False, path=(), errors=errors)
    errors.raise_if_any()
    gone = removed_with(applied_to, {item.id})
    lines = load_lines(uow, invoice.id)
    for entry in lines:
        if entry.item.id in gone:
            uow.session.delete(entry.item)
    recalculate(uow, invoice, [e for e in lines if e.item.id not in gone])
    uow.session.flush()


def list_items(
    uow: UnitOfWork,
    cursor: Cursor,
    *,
    customer: str | None = None,
    invoice: str | None = None,
    pending: bool | None = None,
) -> Page[InvoiceItem]:
    query = select(InvoiceItem).where(
        InvoiceItem.tenant_id == uow.tenant_id,
        InvoiceItem.kind == "invoice_item",
        ~_on_credit_memo(InvoiceItem.tenant_id, InvoiceItem.invoice_id),
    )
    if customer is not None:
        query = query.where(InvoiceItem.customer_id == customer)
    if invoice is not None:
        query = query.where(InvoiceItem.invoice_id == invoice)
    if pending is True:
        query = query.where(InvoiceItem.invoice_id.is_(None))
    elif pending is False:
        query = query.where(InvoiceItem.invoice_id.is_not(None))
    return paginate(uow, query, InvoiceItem, cursor)
