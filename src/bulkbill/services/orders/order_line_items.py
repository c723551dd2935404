"""Order line items: read one, update one or up to 100 at once, and bill the result in the same call.

A bulk update is all-or-nothing (Decision 2): every item is checked against its state before the
update (core.orders.line_updates plans each one), every problem is reported with the item's id,
and nothing changes unless all pass; the billing runBilling asks for happens in the same
transaction. This module loads the lines, resolves what the planner cannot (owner accounts,
quantities still returnable) and writes the plans.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select

from bulkbill.core.customers.org_scope import in_scope
from bulkbill.core.errors import ErrorCode, InputCollector, NotFound, Path
from bulkbill.core.orders.line_items import (
    BOOKED_OR_LATER,
    BillingRule,
    DiscountType,
    ItemCategory,
    ItemState,
    return_quantity_error,
)
from bulkbill.core.orders.line_updates import (
    RULE,
    LineField,
    LineFields,
    LinePlan,
    LineValues,
    OwnerLookup,
    StoredLine,
    ToMinor,
    plan_line_update,
)
from bulkbill.services.orders.line_locks import lock_with_originals
from bulkbill.services.orders.order_fields import BillingRequest, find_account, parse_iso
from bulkbill.services.orders.order_views import (
    Line,
    LineRow,
    LineView,
    fulfilled_pairs,
    load_views,
    quantities_for,
    returned_quantities,
)
from bulkbill.services.orders.orders import bill_now
from bulkbill.services.platform.session_rows import rows_by_id
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.bulk import write_changes
from bulkbill.storage.tables import Customer, Invoice
from bulkbill.storage.tables_orders import OrderLineItem

MAX_PER_CALL = 100


@dataclass(frozen=True)
class LineUpdate:
    id: str
    fields: LineFields


@dataclass
class UpdateResult:
    lines: list[LineRow]
    documents: list[Invoice] = field(default_factory=list)


def get_line_item(
    uow: UnitOfWork, item_id: str, *, with_fulfillments: bool = False, orgs: frozenset[str] | None = None
) -> LineView:
    """One order line item with its derived figures (and fulfillments when asked)."""
    line = uow.session.get(OrderLineItem, (uow.tenant_id, item_id))
    if line is None:
        raise NotFound("order line item", item_id)
    view = load_views(uow, [line], with_fulfillments=with_fulfillments)[0]
    if not in_scope(view.account.org_label, orgs):
        raise NotFound("order line item", item_id)
    return view


def update_line_items(
    uow: UnitOfWork,
    updates: Sequence[LineUpdate],
    *,
    to_minor: ToMinor,
    billing: BillingRequest | None = None,
    path: Path = ("orderLineItems",),
    indexed: bool = True,
    orgs: frozenset[str] | None = None,
) -> UpdateResult:
    """Apply every update or none; with `billing`, bill the lines that end the call SentToBilling."""
    errors = InputCollector()
    if len(updates) > MAX_PER_CALL:
        errors.add(
            path, ErrorCode.INVALID_VALUE, f"At most {MAX_PER_CALL} order line items can be updated in one call."
        )
        errors.raise_if_any()
    # A return's check reads its sales line's figures: lock that line too (line_locks).
    lines = lock_with_originals(uow, {u.id for u in updates})
    accounts = _accounts(uow, lines.values())
    seen: set[str] = set()
    planned: list[tuple[LineRow, LinePlan]] = []
    for i, update in enumerate(updates):
        where = (*path, i) if indexed else path
        line = lines.get(update.id)
        if line is None or not in_scope(accounts[line.account_id].org_label, orgs):
            errors.not_found((*where, "id"), "order line item", update.id)
            continue
        if update.id in seen:
            errors.add((*where, "id"), ErrorCode.INVALID_VALUE, f"Order line item {update.id} appears more than once.")
            continue
        seen.add(update.id)
        owner = _owner(uow, line, update.fields, orgs)
        plan = plan_line_update(
            stored_line(line), update.fields, to_minor=to_minor, owner=owner, path=where, errors=errors
        )
        planned.append((line, plan))
    _check_returns(uow, planned, errors)
    errors.raise_if_any()
    _write(uow, planned)
    result = UpdateResult([line for line, _ in planned])
    if billing is not None:
        result.documents = bill_now(uow, result.lines, billing)
    return result


def _accounts(uow: UnitOfWork, lines: Any) -> dict[str, Customer]:
    ids = {ln.account_id for ln in lines}
    if not ids:
        return {}
    return rows_by_id(uow, Customer, ids)


def stored_line(line: Line) -> StoredLine:
    """A loaded line as the update planner sees it."""
    kind = line.inline_discount_type
    values = LineValues(
        item_state=_STATES[line.item_state],
        billing_rule=_RULES[line.billing_rule],
        item_type=line.item_type,
        item_name=line.item_name,
        description=line.description,
        quantity=line.quantity,
        list_price_per_unit=line.list_price_per_unit,
        amount_per_unit=line.amount_per_unit,
        inline_discount_type=_DISCOUNTS[kind] if kind is not None else None,
        inline_discount_per_unit=line.inline_discount_per_unit,
        bill_target_date=parse_iso(line.bill_target_date),
        transaction_start_date=parse_iso(line.transaction_start_date),
        transaction_end_date=parse_iso(line.transaction_end_date),
        uom=line.uom,
        product_code=line.product_code,
        custom_fields=line.custom_fields or {},
        attrs=line.attrs or {},
    )
    return StoredLine(line.id, _CATEGORIES[line.item_category], line.currency, values)


# Stored values to enum members, without an enum lookup per line and field.
_STATES = {s.value: s for s in ItemState}
_RULES = {r.value: r for r in BillingRule}
_DISCOUNTS = {d.value: d for d in DiscountType}
_CATEGORIES = {c.value: c for c in ItemCategory}


def _owner(uow: UnitOfWork, line: LineRow, sent: LineFields, orgs: frozenset[str] | None) -> OwnerLookup | None:
    """A sent ownerAccountNumber resolved: the line's owner's number now, and the account named (in the call's orgs)."""
    number = sent.owner_account_number
    if LineField.OWNER_ACCOUNT_NUMBER not in sent.given or number is None:
        return None
    owner = uow.session.get(Customer, (uow.tenant_id, line.owner_account_id))
    current = owner.account_number if owner is not None else None
    if number == current:
        return OwnerLookup(current, line.owner_account_id)
    try:
        return OwnerLookup(current, find_account(uow, number, orgs=orgs).id)
    except NotFound:
        return OwnerLookup(current, None)


def _check_returns(uow: UnitOfWork, planned: list[tuple[LineRow, LinePlan]], errors: InputCollector) -> None:
    """A return line's quantity fits what its original may still have returned, once it counts (Booked or later)."""
    affected = [
        (line, plan)
        for line, plan in planned
        if plan.category == ItemCategory.RETURN
        and line.original_line_item_id is not None
        and (LineField.QUANTITY in plan.changed or plan.after.item_state in BOOKED_OR_LATER)
    ]
    if not affected:
        return
    original_ids = {line.original_line_item_id for line, _ in affected if line.original_line_item_id}
    originals = {
        o.id: o
        for o in uow.session.scalars(
            select(OrderLineItem).where(OrderLineItem.tenant_id == uow.tenant_id, OrderLineItem.id.in_(original_ids))
        )
    }
    returned = returned_quantities(uow, original_ids, exclude=[line.id for line, _ in affected])
    fulfilled = fulfilled_pairs(uow, original_ids)
    for line, plan in affected:
        original = originals[line.original_line_item_id or ""]
        already = returned.get(original.id, Decimal(0))
        available = quantities_for(original, fulfilled.get(original.id, []), already).available_for_return
        quantity = plan.after.quantity
        if problem := return_quantity_error(quantity, available):
            errors.add((*plan.path, LineField.QUANTITY), RULE, f"Order line item {line.id}: {problem}")
        elif plan.after.item_state in BOOKED_OR_LATER:
            returned[original.id] = already + quantity


def _write(uow: UnitOfWork, planned: list[tuple[LineRow, LinePlan]]) -> None:
    """Write the plans set-based: one UPDATE per set of changed columns (storage.bulk.write_changes),
    no ORM object or unit-of-work flush; each row then holds what was written, for what reads it next."""
    changes: dict[str, dict[str, Any]] = {}
    for line, plan in planned:
        changed = changes[line.id] = _changes(uow, line, plan)
        for name, value in changed.items():
            setattr(line, name, value)
    write_changes(uow.session, OrderLineItem, uow.tenant_id, changes)


def _changes(uow: UnitOfWork, line: LineRow, plan: LinePlan) -> dict[str, Any]:
    """What a plan writes: the columns of the fields that changed (a LineField's attribute is its column),
    attributes, owner, when it went to billing, and when it was updated.

    A price or transaction date a client cleared is left for the database to refuse, as it always was.
    """
    after = plan.after
    changed = {name.attribute: _column_value(getattr(after, name.attribute)) for name in plan.changed}
    if after.attrs != (line.attrs or {}):
        changed["attrs"] = dict(after.attrs)
    if plan.owner_account_id is not None:
        changed["owner_account_id"] = plan.owner_account_id
    if plan.sends_to_billing and line.sent_to_billing_at is None:
        changed["sent_to_billing_at"] = uow.now
    changed["updated"] = uow.now
    return changed


def _column_value(value: Any) -> Any:
    """A planned value as its column stores it: enums by value, dates as ISO text, JSON as a fresh dict."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    return value
