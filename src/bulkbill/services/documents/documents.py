"""Zuora billing documents on core invoices: lookup, standalone invoices, posting.

Documents are ordinary core invoices (document_type "invoice" or "credit_memo"); their items are
core items priced by core.documents.price_item, their totals come from invoice_totals.recalculate
and posting is services.invoices.finalize_invoice. Zuora-only details sit in the item's `extras`
and, for a document, under custom_fields["_doc"] (never rendered as a custom field).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import or_, select

from bulkbill.core.customers.org_scope import in_scope
from bulkbill.core.customers.terms import check_payment_term, due_date_for
from bulkbill.core.errors import BillingError, ErrorCode, InputCollector, NotFound, Path
from bulkbill.core.events.types import EventType
from bulkbill.core.invoicing.applied_items import check_applied_amount
from bulkbill.core.invoicing.document_edits import ItemPricing, day_of, day_start, price_item
from bulkbill.core.invoicing.items import ItemOwner, ItemValues
from bulkbill.core.invoicing.lifecycle import InvoiceAction, ensure_transition
from bulkbill.core.metadata import merge_fields
from bulkbill.services.accounting.periods import check_open_period
from bulkbill.services.billing.sequences import INVOICES, chosen_invoice_number_taken, take_number
from bulkbill.services.customers.accounts import account_auto_pay, account_payment_term
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.customers.org_scope import resolve_orgs
from bulkbill.services.events.outbox import emit
from bulkbill.services.invoicing.invoice_totals import recalculate_rows
from bulkbill.services.invoicing.invoices import attach_item, finalize_invoice, new_invoice_row
from bulkbill.services.invoicing.item_rows import new_item_row
from bulkbill.services.invoicing.new_items import NewItemRow, insert_new_items
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Customer, Invoice, InvoiceItem
from bulkbill.storage.tables_orders import new_zuora_id

DOC_KEY = "_doc"  # custom_fields key holding document attributes that have no column


@dataclass(frozen=True)
class NewItem:
    """A standalone item (or a discount item of one), amounts in minor units."""

    pricing: ItemPricing
    service_start: dt.date | None = None
    service_end: dt.date | None = None
    description: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    discounts: tuple[NewItem, ...] = ()


@dataclass(frozen=True)
class NewStandalone:
    account: Customer
    invoice_date: dt.date | None
    items: tuple[NewItem, ...]
    due_date: dt.date | None = None
    invoice_number: str | None = None
    post: bool = False
    auto_pay: bool | None = None
    comments: str | None = None
    payment_term: str | None = None
    template_id: str | None = None
    transferred_to_accounting: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


def today(uow: UnitOfWork) -> dt.date:
    return day_of(uow.now)


def find_document(
    uow: UnitOfWork, key: str, org_ids: list[str] | None, *, document_type: str, for_update: bool = False
) -> Invoice:
    """A document of one type by id or number, within the call's orgs; anything else is not found."""
    query = select(Invoice).where(
        Invoice.tenant_id == uow.tenant_id,
        Invoice.document_type == document_type,
        or_(Invoice.id == key, Invoice.number == key),
    )
    if for_update and uow.is_postgres:
        query = query.with_for_update()
    found = list(uow.session.scalars(query.limit(2)))
    invoice = next((i for i in found if i.id == key), found[0] if found else None)
    what = "credit memo" if document_type == "credit_memo" else "invoice"
    if invoice is None:
        raise NotFound(what, key)
    customer = get_customer(uow, invoice.customer_id, include_deleted=True)
    if not in_scope(customer.org_label, resolve_orgs(uow, org_ids)):
        raise NotFound(what, key)
    return invoice


def document_currencies(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, str]:
    """Currency of each existing invoice among `ids` (to convert amounts before an edit)."""
    if not ids:
        return {}
    rows = uow.session.execute(
        select(Invoice.id, Invoice.currency).where(Invoice.tenant_id == uow.tenant_id, Invoice.id.in_(set(ids)))
    )
    return {i: c for i, c in rows}


def item_extras(item: NewItem, *, start: dt.date | None, end: dt.date | None) -> dict[str, Any]:
    extras = {k: v for k, v in item.details.items() if v is not None}
    extras.setdefault("processingType", "Charge")
    extras.setdefault("chargeType", "OneTime")
    if start is not None:
        extras["serviceStartDate"] = start.isoformat()
    if end is not None:
        extras["serviceEndDate"] = end.isoformat()
    return extras


def inherit_dates(discount: NewItem, start: dt.date | None, end: dt.date | None) -> NewItem:
    """A discount item covers the service period of the item it applies to."""
    if start is None or discount.service_start is not None:
        return discount
    return replace(discount, service_start=start, service_end=end or start)


def check_new_item(item: NewItem, path: Path, errors: InputCollector, *, discount: bool = False) -> None:
    """A new item names its charge, its amount (or unit price) and its service start date."""
    pricing = item.pricing
    if discount:
        if pricing.amount is None:
            errors.missing((*path, "amount"))
        else:
            check_applied_amount(pricing.amount, (*path, "amount"), errors)
        return
    if not item.details.get("chargeName"):
        errors.missing((*path, "chargeName"))
    if pricing.amount is None and pricing.unit_price is None:
        errors.missing((*path, "amount"))
    if item.service_start is None:
        errors.missing((*path, "serviceStartDate"))
    if item.service_start is not None and item.service_end is not None and item.service_end < item.service_start:
        errors.add(
            (*path, "serviceEndDate"), ErrorCode.INVALID_VALUE, "serviceEndDate must not be before serviceStartDate."
        )


def plan_new_item(
    uow: UnitOfWork, owner: ItemOwner, item: NewItem, path: Path, errors: InputCollector, *, discount: bool = False
) -> ItemValues | None:
    """Checked core values for a new item (None when it is incomplete)."""
    local = InputCollector()
    check_new_item(item, path, local, discount=discount)
    errors.errors.extend(local.errors)
    if local.errors:
        return None
    start = item.service_start or today(uow)
    end = item.service_end or start
    pricing = ItemPricing(amount=item.pricing.amount) if discount else item.pricing
    return price_item(
        None,
        owner,
        pricing,
        description=item.description,
        period=(day_start(start), day_start(end)),
        path=path,
        errors=errors,
        now=uow.now,
    )


def add_item_row(
    uow: UnitOfWork,
    invoice: Invoice,
    values: ItemValues,
    item: NewItem,
    *,
    applied_to: str | None = None,
) -> InvoiceItem:
    """Store a planned new item as the invoice's next line."""
    row = new_item_row(
        uow,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        values=values,
        extras=new_item_extras(item, values, applied_to=applied_to),
        custom_fields=item.custom_fields,
    )
    attach_item(uow, invoice, row)
    return row


def new_item_extras(item: NewItem, values: ItemValues, *, applied_to: str | None = None) -> dict[str, Any]:
    """What a new item keeps beside its values: its Zuora details, service dates, and for a discount
    item the item it applies to."""
    start = item.service_start or (None if applied_to else day_of(values.period[0]))
    end = item.service_end or start
    extras = item_extras(item, start=start, end=end)
    if applied_to is not None:
        extras.update(processingType="Discount", appliedToItemId=applied_to)
    return extras


def create_standalone(uow: UnitOfWork, new: NewStandalone) -> Invoice:
    """A standalone invoice: numbered at once (INV00000001 unless given), Draft unless it is to be posted."""
    account = new.account
    currency = (account.currency or "usd").lower()
    owner = ItemOwner(account.id, currency)
    errors = InputCollector()
    if new.invoice_date is None:
        errors.missing(("invoiceDate",))
    else:
        check_open_period(uow, new.invoice_date, ("invoiceDate",), errors)
    if new.payment_term is not None:
        check_payment_term(new.payment_term, ("paymentTerm",), errors)
    if new.invoice_number is not None and chosen_invoice_number_taken(uow, new.invoice_number):
        errors.add(("invoiceNumber",), ErrorCode.DUPLICATE, f"The invoice number {new.invoice_number} already exists.")
    planned: list[tuple[NewItem, ItemValues, list[tuple[NewItem, ItemValues]]]] = []
    for i, item in enumerate(new.items):
        values = plan_new_item(uow, owner, item, ("invoiceItems", i), errors)
        discounts = []
        for k, d in enumerate(item.discounts):
            d = inherit_dates(d, item.service_start, item.service_end)
            dvalues = plan_new_item(uow, owner, d, ("invoiceItems", i, "discountItems", k), errors, discount=True)
            if dvalues is not None:
                discounts.append((d, dvalues))
        if values is not None:
            planned.append((item, values, discounts))
    errors.raise_if_any()
    assert new.invoice_date is not None
    term = new.payment_term or account_payment_term(account)
    due = new.due_date or due_date_for(new.invoice_date, term)
    attributes = {k: v for k, v in {**new.attributes, "paymentTerm": term}.items() if v is not None}
    invoice = _new_invoice(uow, account, currency, new, due=due)
    invoice.custom_fields = {**dict(new.custom_fields), DOC_KEY: attributes}
    rows: list[NewItemRow] = []
    for item, values, discounts in planned:
        item_id = new_id("ii_")
        rows.append(NewItemRow(item_id, values, new_item_extras(item, values), item.custom_fields))
        rows.extend(
            NewItemRow(new_id("ii_"), dvalues, new_item_extras(d, dvalues, applied_to=item_id), d.custom_fields)
            for d, dvalues in discounts
        )
    # Up to 11,000 rows (1,000 items with 10 discount items each): written in bulk, not as ORM objects.
    recalculate_rows(uow, invoice, insert_new_items(uow, invoice, rows))
    uow.session.flush()
    emit(uow, EventType.INVOICE_CREATED, invoice.id)
    if new.post:
        finalize_invoice(uow, invoice.id)
    return invoice


def _new_invoice(uow: UnitOfWork, account: Customer, currency: str, new: NewStandalone, *, due: dt.date) -> Invoice:
    assert new.invoice_date is not None
    return new_invoice_row(
        uow,
        id=new_zuora_id(),
        customer_id=account.id,
        currency=currency,
        collection_method="send_invoice",
        due_date=day_start(due),
        number=new.invoice_number or take_number(uow, INVOICES),
        document_type="invoice",
        origin="zuora_standalone",
        invoice_date=new.invoice_date.isoformat(),
        comments=new.comments,
        transferred_to_accounting=new.transferred_to_accounting,
        auto_pay=account_auto_pay(account) if new.auto_pay is None else new.auto_pay,
        template_id=new.template_id,
    )


def post_document(
    uow: UnitOfWork,
    key: str,
    org_ids: list[str] | None,
    *,
    invoice_date: dt.date | None = None,
    custom_fields: Mapping[str, Any] | None = None,
) -> Invoice:
    """Draft → Posted (finalize_invoice, which insists on an open period for the date, new or kept)."""
    invoice = find_document(uow, key, org_ids, document_type="invoice", for_update=True)
    ensure_transition(InvoiceAction.FINALIZE, invoice.status)
    day = invoice_date or (dt.date.fromisoformat(invoice.invoice_date) if invoice.invoice_date else today(uow))
    invoice.invoice_date = day.isoformat()
    if custom_fields:
        invoice.custom_fields = merge_fields(invoice.custom_fields or {}, custom_fields)
    return finalize_invoice(uow, invoice.id)


@dataclass(frozen=True)
class PostRequest:
    id: str
    invoice_date: dt.date | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


def post_many(
    uow: UnitOfWork, requests: Sequence[PostRequest], org_ids: list[str] | None
) -> list[Invoice | BillingError]:
    """Post invoices one by one; each either posts or fails alone (its changes rolled back)."""
    results: list[Invoice | BillingError] = []
    for request in requests:
        try:
            with uow.session.begin_nested():
                results.append(
                    post_document(
                        uow, request.id, org_ids, invoice_date=request.invoice_date, custom_fields=request.custom_fields
                    )
                )
        except BillingError as exc:
            results.append(exc)
    return results
