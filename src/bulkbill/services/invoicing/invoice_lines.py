"""Bulk invoice-line edits: add_lines, update_lines, remove_lines, all-or-nothing on a locked draft."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from bulkbill.core.errors import InputCollector, NotFound
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.invoicing.applied_items import removed_with
from bulkbill.core.invoicing.commands import AddLine, RemoveBehavior, RemoveLine, UpdateLine
from bulkbill.core.invoicing.items import ItemValues
from bulkbill.core.invoicing.lifecycle import ensure_editable
from bulkbill.core.invoicing.lines import (
    InvoiceContext,
    LineLimits,
    LineState,
    PendingItem,
    plan_add_lines,
    plan_remove_lines,
    plan_update_lines,
)
from bulkbill.core.metadata import MetadataUpdate, check_metadata, merge_metadata
from bulkbill.services.events.outbox import changing, current, emit, gone
from bulkbill.services.invoicing.invoice_rows import NO_LINE, line_columns
from bulkbill.services.invoicing.invoice_totals import (
    LINE_ID,
    FigureRow,
    LoadedLine,
    figure_row,
    load_figure_rows,
    load_figures_and_applied_to,
    load_lines,
    load_lines_by_id,
    recalculate_rows,
)
from bulkbill.services.invoicing.invoices import attach_item, get_invoice, get_invoice_and_customer
from bulkbill.services.invoicing.item_rows import (
    HELD_FIELDS,
    VALUE_COLUMNS,
    HeldItem,
    held_item,
    item_values,
    lock_items,
    new_item_columns,
    stored_columns,
    values_from_columns,
    write_many,
    write_values,
)
from bulkbill.services.invoicing.new_items import ITEMS
from bulkbill.services.invoicing.references import ReferencedIds, load_references
from bulkbill.services.platform.session_rows import forget_rows
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.bulk import driver_rows, insert_rows
from bulkbill.storage.ids import new_ids
from bulkbill.storage.rows import as_read, decoded, row_decoders
from bulkbill.storage.tables import Customer, Invoice, InvoiceItem


@dataclass(frozen=True)
class EditedInvoice:
    """The invoice after a bulk edit, and its customer (held: the response renders it from the session)."""

    invoice: Invoice
    customer: Customer | None = None


@dataclass(frozen=True)
class LinePage:
    lines: list[LoadedLine]
    has_more: bool


def _limits(uow: UnitOfWork) -> LineLimits:
    return LineLimits(
        per_call=uow.settings.stripe_max_lines_per_call, per_invoice=uow.settings.stripe_max_lines_per_invoice
    )


def _context(invoice: Invoice, line_count: int) -> InvoiceContext:
    return InvoiceContext(invoice.id, invoice.customer_id, invoice.currency, invoice.status, line_count)


@dataclass(frozen=True)
class _Draft:
    invoice: Invoice
    metadata: dict[str, str]  # the invoice's metadata after the call
    # Held for the call: its rendering, totals (tax exemption) and response read it from the session.
    customer: Customer | None


def _open_draft(uow: UnitOfWork, invoice_id: str, invoice_metadata: MetadataUpdate | None) -> _Draft:
    """Lock the invoice, insist on a draft, and check invoice_metadata before any line is touched."""
    # Lines are edited on invoices only: a credit memo is not found here (Stripe does not show them).
    invoice, customer = get_invoice_and_customer(uow, invoice_id, for_update=True, document_type="invoice")
    ensure_editable(invoice.status)
    changing(uow, EventObject.INVOICE, [invoice.id])
    errors = InputCollector()
    check_metadata(invoice_metadata, ("invoice_metadata",), errors)
    metadata = merge_metadata(invoice.metadata_, invoice_metadata, ("invoice_metadata",), errors)
    errors.raise_if_any()
    return _Draft(invoice, metadata, customer)


def add_lines(
    uow: UnitOfWork, invoice_id: str, adds: Sequence[AddLine], *, invoice_metadata: MetadataUpdate | None = None
) -> EditedInvoice:
    """Add up to 50 lines: new items, or pending items of the same customer assigned to this invoice."""
    draft = _open_draft(uow, invoice_id, invoice_metadata)
    invoice = draft.invoice
    ids = ReferencedIds()
    for add in adds:
        ids.add_changes(add.changes)
    refs = load_references(uow, ids)
    rows = lock_items(uow, {a.invoice_item for a in adds if a.invoice_item})
    pending = {i: PendingItem(i, r.customer_id, r.invoice_id, item_values(r)) for i, r in rows.items()}
    figures = load_figure_rows(uow, invoice.id)
    planned = plan_add_lines(_context(invoice, len(figures)), adds, refs, pending, limits=_limits(uow), now=uow.now)
    added: list[FigureRow] = []
    new_items: list[dict[str, Any]] = []
    new_figures: list[FigureRow] = []
    # The invoice's next line position is set once, after the totals: one UPDATE of the invoice.
    next_position = invoice.next_line_position
    fresh = sum(1 for plan in planned if plan.existing_item_id is None)
    item_ids, line_ids = iter(new_ids("ii_", fresh)), iter(new_ids("il_", fresh))
    for plan in planned:
        if plan.existing_item_id is not None:
            # Assigning a pending item (the rarer case) goes through the loaded row.
            item = rows[plan.existing_item_id]
            write_values(uow, item, plan.values)
            invoice.next_line_position = next_position
            attach_item(uow, invoice, item)
            next_position = invoice.next_line_position
            added.append(figure_row(LoadedLine(item)))
            continue
        # New items, each its line, are inserted in one bulk insert after the loop (as new_items does).
        item_id, line_id = next(item_ids), next(line_ids)
        columns = stored_columns(uow, plan.values, customer_id=invoice.customer_id, item_id=item_id)
        new_items.append(
            new_item_columns(
                uow.tenant_id,
                item_id=item_id,
                customer_id=invoice.customer_id,
                invoice_id=invoice.id,
                kind=plan.values.kind.value,
                created=uow.now,
                values=columns,
                line=line_columns(line_id=line_id, position=next_position),
            )
        )
        next_position += 1
        new_figures.append(
            FigureRow(
                line_id,
                item_id,
                plan.values.kind.value,
                columns["amount"],
                columns["discountable"],
                columns["discounts"],
                columns["tax_rates"],
                "[]",
                "[]",
                columns["product_id"],
            )
        )
        added.append(new_figures[-1])
    uow.session.flush()  # discounts, products and assigned items first
    if new_items:
        insert_rows(uow.session, ITEMS.table, ITEMS.columns, [ITEMS.encode(row) for row in new_items])
    recalculate_rows(uow, invoice, [*figures, *added])
    invoice.next_line_position, invoice.metadata_ = next_position, draft.metadata  # flushed with the totals
    # One invoice.updated for the call, and the items it made (a bulk call's events, set-based).
    emit(uow, EventType.INVOICE_UPDATED, invoice.id)
    emit(uow, EventType.INVOICEITEM_CREATED, [row["id"] for row in new_items])
    # The new items as written, with their lines' figures from the totals: their events need no re-read.
    current(
        uow,
        EventObject.INVOICEITEM,
        [held_item(row, figure.discount_amounts) for row, figure in zip(new_items, new_figures, strict=True)],
    )
    return EditedInvoice(invoice, draft.customer)


@dataclass(frozen=True)
class Target:
    """A line a bulk call names, read as a plain row: its item's id, customer and values, and the item
    as rendering reads it (for the events of a removal)."""

    line_id: str
    item_id: str
    customer_id: str
    values: ItemValues
    stored: Sequence[Any]  # the row as read and decoded (_KEYS' order)

    @property
    def state(self) -> LineState:
        return LineState(self.line_id, self.item_id, self.values)

    @property
    def item(self) -> HeldItem:
        """The item as rendering reads it: made only when a removal's events need it."""
        return HeldItem(*self.stored[1:_HELD_END])


def _targets(uow: UnitOfWork, invoice: Invoice, line_ids: set[str]) -> dict[str, Target]:
    """The named lines of this invoice with their items' values, in one query (no ORM objects)."""
    if not line_ids:
        return {}
    # Straight from the driver, decoded by hand: SQLAlchemy's result processing of 50 wide rows (a JSON
    # parse for every JSON column, "[]" and "{}" included) cost more than the query.
    rows = driver_rows(
        uow.session, _TARGETS, {"tenant_id": uow.tenant_id, "invoice_id": invoice.id, "line_ids": list(line_ids)}
    )
    targets = {}
    for row in rows:
        stored = decoded(row, _DECODERS)
        stored[_DISCOUNT_AMOUNTS] = stored[_DISCOUNT_AMOUNTS] or []
        values = values_from_columns([stored[i] for i in _VALUE_AT])
        targets[stored[0]] = Target(stored[0], stored[_ITEM_ID], stored[_CUSTOMER_ID], values, stored)
    return targets


# What a target reads: its line's id, its item as rendering reads it (HeldItem's fields, in their order),
# then what else the core's ItemValues is made of (VALUE_COLUMNS).
_HELD_COLUMNS = tuple(getattr(InvoiceItem, name) for name in HELD_FIELDS)
_EXTRA_COLUMNS = tuple(c for c in VALUE_COLUMNS if c.key not in HELD_FIELDS)
_TARGET_COLUMNS = (LINE_ID, *_HELD_COLUMNS, *_EXTRA_COLUMNS)
_KEYS = ("line_id", *HELD_FIELDS, *(c.key for c in _EXTRA_COLUMNS))
_HELD_END = 1 + len(HELD_FIELDS)
_VALUE_AT = tuple(_KEYS.index(c.key) for c in VALUE_COLUMNS)  # values_from_columns' order
_DISCOUNT_AMOUNTS, _ITEM_ID, _CUSTOMER_ID = (_KEYS.index(k) for k in ("discount_amounts", "id", "customer_id"))
_DECODERS = row_decoders(_TARGET_COLUMNS)
# Built once (every update and removal reads its targets): building it cost more than running it.
_TARGETS = select(*map(as_read, _TARGET_COLUMNS)).where(
    InvoiceItem.tenant_id == bindparam("tenant_id"),
    InvoiceItem.invoice_id == bindparam("invoice_id"),
    InvoiceItem.line_id.in_(bindparam("line_ids", expanding=True)),
)


def update_lines(
    uow: UnitOfWork, invoice_id: str, updates: Sequence[UpdateLine], *, invoice_metadata: MetadataUpdate | None = None
) -> EditedInvoice:
    """Update up to 50 lines in request order; changes reach the items behind them."""
    draft = _open_draft(uow, invoice_id, invoice_metadata)
    invoice = draft.invoice
    figures, applied_to = load_figures_and_applied_to(uow, invoice.id)
    targets = _targets(uow, invoice, {u.id for u in updates})
    ids = ReferencedIds()
    for change in updates:
        ids.add_changes(change.changes)
    for target in targets.values():
        ids.add_item_price(target.values.price_id)
    refs = load_references(uow, ids)
    states = {line_id: t.state for line_id, t in targets.items()}
    planned = plan_update_lines(
        _context(invoice, len(figures)),
        updates,
        states,
        refs,
        limits=_limits(uow),
        applied_to=applied_to,
    )
    stored = write_many(
        uow, {targets[i].item_id: (targets[i].customer_id, targets[i].values, v) for i, v in planned.items()}
    )
    for row in figures:
        if (columns := stored.get(row.item_id)) is not None:
            row.amount, row.discountable = columns["amount"], columns["discountable"]
            row.discounts, row.tax_rates = columns["discounts"], columns["tax_rates"]
    recalculate_rows(uow, invoice, figures)
    invoice.metadata_ = draft.metadata  # flushed with the totals
    emit(uow, EventType.INVOICE_UPDATED, invoice.id)
    return EditedInvoice(invoice, draft.customer)


def remove_lines(
    uow: UnitOfWork, invoice_id: str, removes: Sequence[RemoveLine], *, invoice_metadata: MetadataUpdate | None = None
) -> EditedInvoice:
    """Remove up to 50 lines: `delete` deletes the item behind a line, `unassign` makes it pending again."""
    draft = _open_draft(uow, invoice_id, invoice_metadata)
    invoice = draft.invoice
    figures, applied_to = load_figures_and_applied_to(uow, invoice.id)
    targets = _targets(uow, invoice, {r.id for r in removes})
    states = {line_id: t.state for line_id, t in targets.items()}
    planned = plan_remove_lines(
        _context(invoice, len(figures)), removes, states, limits=_limits(uow), applied_to=applied_to
    )
    # A deleted item takes its discount items (Zuora's) with it: their lines go too.
    deleted = removed_with(applied_to, {s.item_id for s, r in planned if r.behavior == RemoveBehavior.DELETE})
    removed = {state.id for state, _ in planned} | {r.line_id for r in figures if r.item_id in deleted}
    t = uow.tenant_id
    changing(uow, EventObject.INVOICEITEM, sorted(deleted), held=[t.item for t in targets.values()])
    uow.session.flush()
    # A line is its item: deleted with it, or gone when the item becomes pending again.
    unassigned = {s.item_id for s, r in planned if r.behavior == RemoveBehavior.UNASSIGN}
    if deleted:
        uow.session.execute(_DELETE_ITEMS, {"tenant_id": t, "ids": sorted(deleted)})
        forget_rows(uow, InvoiceItem, deleted)
    if unassigned:
        uow.session.execute(
            update(InvoiceItem)
            .where(InvoiceItem.tenant_id == t, InvoiceItem.id.in_(unassigned))
            .values(invoice_id=None, **NO_LINE)
        )
    recalculate_rows(uow, invoice, [r for r in figures if r.line_id not in removed])
    invoice.metadata_ = draft.metadata  # flushed with the totals
    emit(uow, EventType.INVOICE_UPDATED, invoice.id)
    emit(uow, EventType.INVOICEITEM_DELETED, sorted(deleted))
    gone(uow, EventObject.INVOICEITEM, sorted(deleted))
    return EditedInvoice(invoice, draft.customer)


# Built once, and without the ORM's evaluation of its WHERE against every object the session holds
# (synchronize_session="evaluate" needs a literal IN list, so the statement was built per call):
# forget_rows drops the deleted items the session holds instead.
_DELETE_ITEMS = (
    delete(InvoiceItem)
    .where(InvoiceItem.tenant_id == bindparam("tenant_id"), InvoiceItem.id.in_(bindparam("ids", expanding=True)))
    .execution_options(synchronize_session=False)
)


def update_line(uow: UnitOfWork, invoice_id: str, update: UpdateLine) -> LoadedLine:
    """The single-line form of update_lines (POST /v1/invoices/{id}/lines/{line})."""
    edited = update_lines(uow, invoice_id, [update])
    entry = load_lines_by_id(uow, edited.invoice.id, {update.id}).get(update.id)
    if entry is None:
        raise NotFound("invoice line item", update.id)
    return entry


def list_lines(
    uow: UnitOfWork, invoice_id: str, *, limit: int, starting_after: str | None = None, ending_before: str | None = None
) -> LinePage:
    """Lines in display order, paged by line id."""
    invoice = get_invoice(uow, invoice_id, document_type="invoice")
    lines = load_lines(uow, invoice.id)
    return page_lines(lines, limit=limit, starting_after=starting_after, ending_before=ending_before)


def page_lines(
    lines: list[LoadedLine], *, limit: int, starting_after: str | None = None, ending_before: str | None = None
) -> LinePage:
    position = {e.line_id: i for i, e in enumerate(lines)}
    if starting_after is not None:
        if starting_after not in position:
            raise NotFound("invoice line item", starting_after, path=("starting_after",))
        start = position[starting_after] + 1
        return LinePage(lines[start : start + limit], start + limit < len(lines))
    if ending_before is not None:
        if ending_before not in position:
            raise NotFound("invoice line item", ending_before, path=("ending_before",))
        end = position[ending_before]
        return LinePage(lines[max(0, end - limit) : end], end - limit > 0)
    return LinePage(lines[:limit], limit < len(lines))
