"""Bulk invoice-line plans: validate a whole add/update/remove call before anything changes.

Each planner is pure: it takes the invoice, its current lines and every referenced object,
checks every line (collecting every problem), and returns what to write. The service writes
the plan only when the planner raised nothing, so a bulk call is all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bulkbill.core.errors import ErrorCode, InputCollector, Path
from bulkbill.core.invoicing.applied_items import check_applied_amount, check_removal
from bulkbill.core.invoicing.commands import AddLine, ItemKind, RemoveBehavior, RemoveLine, UpdateLine
from bulkbill.core.invoicing.items import (
    ItemOwner,
    ItemValues,
    References,
    amount_field,
    apply_changes,
    build_new_item,
    evolve,
)
from bulkbill.core.invoicing.lifecycle import ensure_editable


@dataclass(frozen=True, slots=True)
class InvoiceContext:
    id: str
    customer_id: str
    currency: str
    status: str
    line_count: int

    @property
    def owner(self) -> ItemOwner:
        return ItemOwner(self.customer_id, self.currency)


@dataclass(frozen=True, slots=True)
class LineState:
    id: str
    item_id: str
    values: ItemValues


@dataclass(frozen=True, slots=True)
class PendingItem:
    """An invoice item that may be assigned with add_lines[i][invoice_item]."""

    id: str
    customer_id: str
    invoice_id: str | None
    values: ItemValues


@dataclass(frozen=True, slots=True)
class PlannedAdd:
    values: ItemValues
    # The pending item being assigned; None when add_lines creates a new item.
    existing_item_id: str | None = None


@dataclass(frozen=True, slots=True)
class LineLimits:
    per_call: int
    per_invoice: int


def check_line_count(count: int, limits: LineLimits, errors: InputCollector) -> None:
    """A bulk call carries at least one and at most `per_call` lines (50 by default)."""
    if count == 0:
        errors.missing(("lines",))
    elif count > limits.per_call:
        errors.add(("lines",), ErrorCode.TOO_MANY_LINES, f"You can pass at most {limits.per_call} lines per request.")


def plan_add_lines(
    invoice: InvoiceContext,
    adds: Sequence[AddLine],
    refs: References,
    items: Mapping[str, PendingItem],
    *,
    limits: LineLimits,
    now: int,
) -> list[PlannedAdd]:
    """New lines go on drafts only; an assigned item must be pending, of this customer and currency."""
    ensure_editable(invoice.status)
    errors = InputCollector()
    check_line_count(len(adds), limits, errors)
    errors.raise_if_any()
    if invoice.line_count + len(adds) > limits.per_invoice:
        errors.add(
            ("lines",), ErrorCode.TOO_MANY_LINES, f"An invoice can hold at most {limits.per_invoice} line items."
        )
    planned: list[PlannedAdd] = []
    assigned: set[str] = set()
    owner = invoice.owner
    for i, add in enumerate(adds):
        path: Path = ("lines", i)
        if add.invoice_item is None:
            planned.append(PlannedAdd(build_new_item(owner, add.changes, refs, path, errors, now=now)))
            continue
        item = _assignable_item(invoice, add.invoice_item, items, assigned, (*path, "invoice_item"), errors)
        if item is not None:
            values = apply_changes(item.values, owner, add.changes, refs, path, errors)
            planned.append(PlannedAdd(values, existing_item_id=item.id))
    errors.raise_if_any()
    return planned


def _assignable_item(
    invoice: InvoiceContext,
    item_id: str,
    items: Mapping[str, PendingItem],
    assigned: set[str],
    path: Path,
    errors: InputCollector,
) -> PendingItem | None:
    item = items.get(item_id)
    if item is None or item.customer_id != invoice.customer_id:
        # An il_ line id lands here too: it is simply not an invoice item (spec Decision 7).
        errors.not_found(path, "invoiceitem", item_id)
        return None
    if item.invoice_id is not None or item_id in assigned:
        errors.add(
            path,
            ErrorCode.INVOICE_ITEM_NOT_PENDING,
            f"Invoice item {item_id} is already on an invoice; only pending items can be assigned.",
        )
        return None
    if item.values.currency != invoice.currency:
        errors.add(
            path,
            ErrorCode.CURRENCY_MISMATCH,
            f"Invoice item {item_id} is in {item.values.currency}, the invoice in {invoice.currency}.",
        )
        return None
    assigned.add(item_id)
    return item


def plan_update_lines(
    invoice: InvoiceContext,
    updates: Sequence[UpdateLine],
    lines: Mapping[str, LineState],
    refs: References,
    *,
    limits: LineLimits,
    applied_to: Mapping[str, str] | None = None,
) -> dict[str, ItemValues]:
    """Updates apply in request order (a repeated id sees the earlier change); subscription lines take three fields.

    A discount item's line (`applied_to`: discount item id → its item) never turns positive.
    """
    ensure_editable(invoice.status)
    errors = InputCollector()
    check_line_count(len(updates), limits, errors)
    errors.raise_if_any()
    result: dict[str, ItemValues] = {}
    last: dict[str, tuple[Path, UpdateLine]] = {}  # each discount line's last update, where its amount is named
    owner = invoice.owner
    for i, update in enumerate(updates):
        path: Path = ("lines", i)
        line = _line_on_invoice(update.id, lines, (*path, "id"), errors)
        if line is None:
            continue
        current = result.get(line.id, line.values)
        result[line.id] = apply_changes(current, owner, update.changes, refs, path, errors)
        if applied_to and line.item_id in applied_to:
            last[line.id] = (path, update)
    for line_id, (path, update) in last.items():
        check_applied_amount(result[line_id].amount, (*path, amount_field(update.changes)), errors)
    errors.raise_if_any()
    return result


def plan_remove_lines(
    invoice: InvoiceContext,
    removes: Sequence[RemoveLine],
    lines: Mapping[str, LineState],
    *,
    limits: LineLimits,
    applied_to: Mapping[str, str] | None = None,
) -> list[tuple[LineState, RemoveLine]]:
    """Only invoice-item lines can be removed, each once; subscription lines stay.

    Discount items (`applied_to`: discount item id → its item) follow core.applied_items: they go
    with their item only, and an item with discount items is deleted, never unassigned.
    """
    ensure_editable(invoice.status)
    errors = InputCollector()
    check_line_count(len(removes), limits, errors)
    errors.raise_if_any()
    planned: list[tuple[LineState, RemoveLine]] = []
    removed: set[str] = set()
    removed_items = {lines[r.id].item_id for r in removes if r.id in lines}
    for i, remove in enumerate(removes):
        path: Path = ("lines", i, "id")
        line = _line_on_invoice(remove.id, lines, path, errors)
        if line is None:
            continue
        if line.id in removed:
            errors.not_found(path, "invoice line item", remove.id)
        elif line.values.kind == ItemKind.SUBSCRIPTION:
            errors.add(
                path,
                ErrorCode.LINE_NOT_REMOVABLE,
                "Subscription line items cannot be removed from an invoice; only invoice item lines can.",
            )
        elif applied_to and not check_removal(
            applied_to,
            line.item_id,
            removed_items,
            unassign=remove.behavior == RemoveBehavior.UNASSIGN,
            path=path,
            errors=errors,
        ):
            continue
        else:
            removed.add(line.id)
            planned.append((line, remove))
    errors.raise_if_any()
    return planned


def _line_on_invoice(
    line_id: str, lines: Mapping[str, LineState], path: Path, errors: InputCollector
) -> LineState | None:
    line = lines.get(line_id)
    if line is not None:
        return line
    if line_id.startswith(("ii_", "sli_")):
        errors.add(
            path,
            ErrorCode.OLD_LINE_ID,
            "Old `id` values cannot be used to specify an invoice line item in this API version. "
            "Please use the current value of the `id` field of the invoice line item object.",
        )
    else:
        errors.not_found(path, "invoice line item", line_id)
    return None


def with_kind(values: ItemValues, kind: ItemKind) -> ItemValues:
    """A copy of item values produced by another source (a subscription item's period)."""
    return evolve(values, kind=kind)
