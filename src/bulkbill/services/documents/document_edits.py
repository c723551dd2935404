"""Edit invoices in bulk (Zuora PUT /v1/invoices, and its single form): all or nothing.

Every edit is checked first (Decision 8 in core.documents, closed periods, item pricing through
core.items) and every problem is collected with its path; only when there is none are the
changes written, items re-priced and each invoice's totals recalculated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from bulkbill.core.customers.org_scope import in_scope
from bulkbill.core.errors import ErrorCode, InputCollector, Path
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.invoicing.applied_items import (
    check_applied_amount,
    check_discount_target,
    check_removal,
    removed_with,
)
from bulkbill.core.invoicing.document_edits import (
    DocumentState,
    ItemPricing,
    check_header_edit,
    check_item_entry,
    check_transfer_status,
    day_of,
    day_start,
    document_status,
    price_item,
)
from bulkbill.core.invoicing.items import ItemOwner, ItemValues
from bulkbill.core.metadata import merge_fields
from bulkbill.services.accounting.periods import check_open_period, closed_periods
from bulkbill.services.customers.org_scope import resolve_orgs
from bulkbill.services.documents.documents import NewItem, add_item_row, inherit_dates, plan_new_item
from bulkbill.services.events.outbox import changing, emit
from bulkbill.services.invoicing.invoice_totals import LoadedLine, load_lines, load_lines_of, recalculate_many
from bulkbill.services.invoicing.item_rows import item_values, write_values
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer, Invoice, InvoiceItem


@dataclass(frozen=True)
class ItemEdit:
    """One invoiceItems[] (or discountItems[]) entry: update (id), delete (id + delete) or add (no id)."""

    id: str | None
    pricing: ItemPricing = field(default_factory=ItemPricing)
    delete: bool = False
    description: str | None = None
    service_start: dt.date | None = None
    service_end: dt.date | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    # Fields sent that are only valid when adding (bookingReference, ...).
    add_only: frozenset[str] = frozenset()
    discounts: tuple[ItemEdit, ...] = ()

    def as_new(self) -> NewItem:
        return NewItem(
            pricing=self.pricing,
            service_start=self.service_start,
            service_end=self.service_end,
            description=self.description,
            details=self.details,
            custom_fields=self.custom_fields,
        )


@dataclass(frozen=True)
class DocumentEdit:
    """One invoice's changes; `given` names the document fields sent (customFields for any custom field)."""

    id: str
    path: Path = ()
    given: frozenset[str] = frozenset()
    invoice_date: dt.date | None = None
    due_date: dt.date | None = None
    comments: str | None = None
    template_id: str | None = None
    auto_pay: bool | None = None
    transferred_to_accounting: str | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    items: tuple[ItemEdit, ...] = ()


@dataclass
class _ItemChange:
    kind: str  # "update" | "add" | "delete"
    edit: ItemEdit
    row: InvoiceItem | None = None
    values: ItemValues | None = None
    parent: _ItemChange | None = None
    parent_id: str | None = None


@dataclass
class _Plan:
    edit: DocumentEdit
    invoice: Invoice
    lines: list[LoadedLine]
    items: list[_ItemChange] = field(default_factory=list)
    reshaped: bool = False  # items added or deleted: `lines` no longer lists them all


def update_documents(uow: UnitOfWork, edits: Sequence[DocumentEdit], org_ids: list[str] | None) -> list[Invoice]:
    """Apply every edit, or none: InvalidInput lists each problem, its path naming the edit."""
    orgs = resolve_orgs(uow, org_ids)
    ids = {e.id for e in edits}
    query = select(Invoice).where(
        Invoice.tenant_id == uow.tenant_id, Invoice.id.in_(ids), Invoice.document_type == "invoice"
    )
    if uow.is_postgres:
        query = query.order_by(Invoice.id).with_for_update()
    invoices = {i.id: i for i in uow.session.scalars(query)}
    orgs_of = dict(
        uow.session.execute(
            select(Customer.id, Customer.org_label).where(
                Customer.tenant_id == uow.tenant_id, Customer.id.in_({i.customer_id for i in invoices.values()})
            )
        ).all()
    )
    periods = closed_periods(uow)
    # Lines are loaded only for the edits that touch items (header-only edits stay one row each), in one query.
    lines_of = load_lines_of(uow, {e.id for e in edits if e.items and e.id in invoices})
    errors = InputCollector()
    plans: list[_Plan] = []
    seen: set[str] = set()
    for edit in edits:
        invoice = invoices.get(edit.id)
        if edit.id in seen:
            errors.add((*edit.path, "id"), ErrorCode.INVALID_VALUE, f"Invoice {edit.id} appears more than once.")
            continue
        seen.add(edit.id)
        if invoice is None or not in_scope(orgs_of.get(invoice.customer_id), orgs):
            errors.add(
                (*edit.path, "id"), ErrorCode.RESOURCE_MISSING, f"Cannot find a Invoice instance with id {edit.id}."
            )
            continue
        plan = _Plan(edit, invoice, lines_of.get(invoice.id, []))
        _check_document(uow, plan, periods, errors)
        plans.append(plan)
    errors.raise_if_any()
    changed = [p.invoice.id for p in plans]
    changing(uow, EventObject.INVOICE, changed)
    edited = [plan for plan in plans if _apply(uow, plan)]
    # Every invoice's totals after one flush of every item change; their writes go out together after.
    uow.session.flush()
    recalculate_many(uow, [(p.invoice, load_lines(uow, p.invoice.id) if p.reshaped else p.lines) for p in edited])
    uow.session.flush()
    emit(uow, EventType.INVOICE_UPDATED, changed)  # one per invoice, its items' changes in previous_attributes
    return [p.invoice for p in plans]


def _check_document(uow: UnitOfWork, plan: _Plan, periods: Sequence[Any], errors: InputCollector) -> None:
    edit, invoice = plan.edit, plan.invoice
    rows = {e.item.id: e.item for e in plan.lines}
    state = DocumentState(
        status=document_status(invoice.status),
        standalone=invoice.origin == "zuora_standalone",
        item_ids=frozenset(rows),
        discount_parents={i: parent for i, r in rows.items() if (parent := _parent_of(r)) is not None},
    )
    deleting = {e.id for e in _entries(edit.items) if e.delete and e.id is not None}
    given = set(edit.given) | ({"customFields"} if edit.custom_fields else set())
    check_header_edit(state, given, edit.path, errors)
    if edit.transferred_to_accounting is not None:
        check_transfer_status(edit.transferred_to_accounting, (*edit.path, "transferredToAccounting"), errors)
    if edit.invoice_date is not None:
        check_open_period(uow, edit.invoice_date, (*edit.path, "invoiceDate"), errors, periods)
    owner = ItemOwner(invoice.customer_id, invoice.currency)
    for j, item in enumerate(edit.items):
        path = (*edit.path, "invoiceItems", j)
        change = _check_item(uow, state, owner, item, rows, path, errors, deleting=deleting)
        if change is None:
            continue
        plan.items.append(change)
        if item.discounts and not check_discount_target(
            state.discount_parents, item.id, deleting, (*path, "discountItems"), errors
        ):
            continue
        for k, discount in enumerate(item.discounts):
            dpath = (*path, "discountItems", k)
            dchange = _check_item(uow, state, owner, discount, rows, dpath, errors, deleting=deleting, parent=change)
            if dchange is not None:
                plan.items.append(dchange)


def _entries(items: Sequence[ItemEdit]) -> list[ItemEdit]:
    """Every item entry of an edit, discount entries included."""
    return [e for item in items for e in (item, *item.discounts)]


def _parent_of(row: InvoiceItem) -> str | None:
    parent = (row.extras or {}).get("appliedToItemId")
    return parent if isinstance(parent, str) else None


def _check_item(
    uow: UnitOfWork,
    state: DocumentState,
    owner: ItemOwner,
    item: ItemEdit,
    rows: Mapping[str, InvoiceItem],
    path: Path,
    errors: InputCollector,
    *,
    deleting: set[str],
    parent: _ItemChange | None = None,
) -> _ItemChange | None:
    parent_id = parent.edit.id if parent is not None else None
    if parent is not None and parent_id is None and item.id is not None:
        errors.add((*path, "id"), ErrorCode.RESOURCE_MISSING, f"{item.id} is not a discount item of a new item.")
        return None
    if not check_item_entry(
        state, item.id, delete=item.delete, add_only=item.add_only, path=path, errors=errors, parent_id=parent_id
    ):
        return None
    # A discount item, whether sent under its item's discountItems or as an item of its own.
    discount = parent is not None or (item.id is not None and item.id in state.discount_parents)
    if item.delete:
        assert item.id is not None
        path = (*path, "delete")
        if not check_removal(state.discount_parents, item.id, deleting, unassign=False, path=path, errors=errors):
            return None
        return _ItemChange("delete", item, row=rows[item.id])
    if item.id is None:
        new = item.as_new()
        if parent is not None:
            new = inherit_dates(new, *_parent_dates(parent))
        values = plan_new_item(uow, owner, new, path, errors, discount=discount)
        return _ItemChange("add", item, values=values, parent=parent) if values is not None else None
    row = rows[item.id]
    start = item.service_start or _stored_date(row, "serviceStartDate", row.period_start)
    end = item.service_end or _stored_date(row, "serviceEndDate", row.period_end)
    period = None
    if item.service_start is not None or item.service_end is not None:
        if end < start:
            errors.add(
                (*path, "serviceEndDate"),
                ErrorCode.INVALID_VALUE,
                "serviceEndDate must not be before serviceStartDate.",
            )
        else:
            period = (day_start(start), day_start(end))
    pricing = ItemPricing(amount=item.pricing.amount) if discount else item.pricing
    values = price_item(
        item_values(row),
        owner,
        pricing,
        description=item.description,
        period=period,
        path=path,
        errors=errors,
        now=uow.now,
    )
    if discount:
        check_applied_amount(values.amount, (*path, "amount"), errors)
    return _ItemChange("update", item, row=row, values=values)


def _parent_dates(parent: _ItemChange) -> tuple[dt.date | None, dt.date | None]:
    if parent.row is None:
        return parent.edit.service_start, parent.edit.service_end
    row = parent.row
    start = parent.edit.service_start or _stored_date(row, "serviceStartDate", row.period_start)
    return start, parent.edit.service_end or _stored_date(row, "serviceEndDate", row.period_end)


def _stored_date(row: InvoiceItem, key: str, timestamp: int) -> dt.date:
    value = (row.extras or {}).get(key)
    return dt.date.fromisoformat(value) if isinstance(value, str) else day_of(timestamp)


def _apply(uow: UnitOfWork, plan: _Plan) -> bool:
    """Write one edit; True when its items changed (its totals are recalculated by the caller)."""
    edit, invoice = plan.edit, plan.invoice
    if edit.invoice_date is not None:
        invoice.invoice_date = edit.invoice_date.isoformat()
    if edit.due_date is not None:
        # A due date makes the invoice one that is sent and paid by then.
        invoice.collection_method, invoice.days_until_due = "send_invoice", None
        invoice.due_date = day_start(edit.due_date)
    if "comments" in edit.given:
        invoice.comments = edit.comments
    if "templateId" in edit.given:
        invoice.template_id = edit.template_id
    if edit.auto_pay is not None:
        invoice.auto_pay = edit.auto_pay
    if edit.transferred_to_accounting is not None:
        invoice.transferred_to_accounting = edit.transferred_to_accounting
    if edit.custom_fields:
        invoice.custom_fields = merge_fields(invoice.custom_fields or {}, edit.custom_fields)
    if not plan.items:
        return False
    deleted: set[str] = set()
    for change in plan.items:
        if change.kind == "delete":
            assert change.row is not None
            deleted.add(change.row.id)
        elif change.kind == "update":
            assert change.row is not None and change.values is not None
            _update_row(uow, change.row, change.values, change.edit)
        else:
            assert change.values is not None
            parent_id = change.parent.row.id if change.parent is not None and change.parent.row is not None else None
            change.row = add_item_row(uow, invoice, change.values, change.edit.as_new(), applied_to=parent_id)
            plan.reshaped = True
    if deleted:
        # Deleting an item deletes its discount items (core.applied_items).
        deleted = removed_with({e.item.id: p for e in plan.lines if (p := _parent_of(e.item)) is not None}, deleted)
        for entry in plan.lines:
            if entry.item.id in deleted:
                uow.session.delete(entry.item)
        plan.reshaped = True
    return True


def _update_row(uow: UnitOfWork, row: InvoiceItem, values: ItemValues, edit: ItemEdit) -> None:
    write_values(uow, row, values)
    extras = merge_fields(row.extras or {}, edit.details)
    if edit.service_start is not None:
        extras["serviceStartDate"] = edit.service_start.isoformat()
    if edit.service_end is not None:
        extras["serviceEndDate"] = edit.service_end.isoformat()
    row.extras = extras
    if edit.custom_fields:
        row.custom_fields = merge_fields(row.custom_fields or {}, edit.custom_fields)
