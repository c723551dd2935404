"""Order line items: read one, update one or up to 100 at once, and bill the result in the same call.

A bulk update is all-or-nothing (Decision 2): every item is checked against its state before the
update, every problem is reported with the item's id, and nothing changes unless all pass; the
billing runBilling asks for happens in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from bulkbill.core.customers.org_scope import in_scope
from bulkbill.core.errors import ErrorCode, InputCollector, NotFound
from bulkbill.core.metadata import merge_fields
from bulkbill.core.orders.line_items import (
    BOOKED_OR_LATER,
    BillingRule,
    DiscountType,
    ItemCategory,
    ItemState,
    field_edit_error,
    price_line,
    return_quantity_error,
    sent_to_billing_error,
    transition_error,
)
from bulkbill.services.orders.line_locks import lock_lines, with_originals
from bulkbill.services.orders.order_fields import (
    PRICE_FIELDS,
    BillingRequest,
    LineFields,
    ToMinor,
    find_account,
    iso,
)
from bulkbill.services.orders.order_views import (
    LineView,
    fulfillments_of,
    load_views,
    quantities_for,
    returned_quantities,
)
from bulkbill.services.orders.orders import bill_now
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer, Invoice
from bulkbill.storage.tables_orders import OrderLineItem

MAX_PER_CALL = 100
RULE = ErrorCode.RULE_VIOLATION
NOT_NULL = ("quantity", "itemState", "billingRule")
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class LineUpdate:
    id: str
    fields: LineFields


@dataclass
class UpdateResult:
    lines: list[OrderLineItem]
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
    lines = lock_lines(uow, with_originals(uow, {u.id for u in updates}))
    accounts = _accounts(uow, lines.values())
    seen: set[str] = set()
    planned: list[tuple[OrderLineItem, dict[str, Any]]] = []
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
        planned.append((line, _plan(uow, line, update.fields, where, errors, to_minor, orgs)))
    _check_returns(uow, planned, errors)
    errors.raise_if_any()
    for line, changes in planned:
        _apply(uow, line, changes)
    uow.session.flush()
    result = UpdateResult([line for line, _ in planned])
    if billing is not None:
        result.documents = bill_now(uow, result.lines, billing)
    return result


def _accounts(uow: UnitOfWork, lines: Any) -> dict[str, Customer]:
    ids = {ln.account_id for ln in lines}
    if not ids:
        return {}
    rows = uow.session.scalars(select(Customer).where(Customer.tenant_id == uow.tenant_id, Customer.id.in_(ids)))
    return {c.id: c for c in rows}


def _current(line: OrderLineItem) -> dict[str, Any]:
    """The stored values, under their wire names, in the form the update compares them."""
    attrs = line.attrs or {}
    return {
        **attrs,
        "itemState": line.item_state,
        "billingRule": line.billing_rule,
        "itemType": line.item_type,
        "itemName": line.item_name,
        "description": line.description,
        "quantity": line.quantity,
        "listPricePerUnit": line.list_price_per_unit,
        "amountPerUnit": line.amount_per_unit,
        "inlineDiscountType": line.inline_discount_type,
        "inlineDiscountPerUnit": line.inline_discount_per_unit,
        "billTargetDate": line.bill_target_date,
        "transactionStartDate": line.transaction_start_date,
        "transactionEndDate": line.transaction_end_date,
        "UOM": line.uom,
        "productCode": line.product_code,
        "customFields": line.custom_fields or {},
    }


def _sent(line: OrderLineItem, f: LineFields, to_minor: ToMinor) -> dict[str, Any]:
    """The sent values, under their wire names, converted to how they are stored."""
    kind = f.inline_discount_type.value if f.inline_discount_type else line.inline_discount_type
    discount = f.inline_discount_per_unit
    if discount is not None and kind == DiscountType.FIXED_AMOUNT:
        discount = to_minor(discount, line.currency)
    values: dict[str, Any] = {
        **f.attrs,
        "itemState": f.item_state.value if f.item_state else None,
        "billingRule": f.billing_rule.value if f.billing_rule else None,
        "itemType": f.item_type,
        "itemName": f.item_name,
        "description": f.description,
        "quantity": f.quantity,
        "listPricePerUnit": to_minor(f.list_price_per_unit, line.currency)
        if f.list_price_per_unit is not None
        else None,
        "amountPerUnit": to_minor(f.amount_per_unit, line.currency) if f.amount_per_unit is not None else None,
        "inlineDiscountType": f.inline_discount_type.value if f.inline_discount_type else None,
        "inlineDiscountPerUnit": discount,
        "billTargetDate": iso(f.bill_target_date),
        "transactionStartDate": iso(f.transaction_start_date),
        "transactionEndDate": iso(f.transaction_end_date),
        "UOM": f.uom,
        "productCode": f.product_code,
        "ownerAccountNumber": f.owner_account_number,
        "customFields": merge_fields(line.custom_fields or {}, f.custom_fields),
    }
    return {name: values.get(name) for name in f.given}


def _plan(
    uow: UnitOfWork,
    line: OrderLineItem,
    f: LineFields,
    where: Path,
    errors: InputCollector,
    to_minor: ToMinor,
    orgs: frozenset[str] | None = None,
) -> dict[str, Any]:
    """The changes an update makes (values that differ from the stored ones), checked against the line's state.

    A new ownerAccountNumber outside the call's orgs is not found.
    """
    current = _current(line)
    sent = _sent(line, f, to_minor)
    owner_number = sent.get("ownerAccountNumber")
    if owner_number is not None:
        current["ownerAccountNumber"] = _owner_number(uow, line)
    # A null quantity, itemState or billingRule is refused below, and changes nothing meanwhile.
    changes = {k: v for k, v in sent.items() if v != current.get(k) and not (v is None and k in NOT_NULL)}
    state, category = ItemState(line.item_state), ItemCategory(line.item_category)
    label = f"Order line item {line.id}"
    for name in sorted(changes):
        if name != "itemState" and (problem := field_edit_error(name, category, state)):
            errors.add((*where, name), RULE, f"{label}: {problem}")
    rule = BillingRule(changes.get("billingRule") or line.billing_rule)
    if "itemState" in changes:
        target = ItemState(changes["itemState"])
        if problem := transition_error(rule, state, target):
            errors.add((*where, "itemState"), RULE, f"{label}: {problem}")
        btd = changes.get("billTargetDate", line.bill_target_date)
        if target == ItemState.SENT_TO_BILLING and (problem := sent_to_billing_error(btd)):
            errors.add((*where, "billTargetDate"), RULE, f"{label}: {problem}")
    for name in NOT_NULL:
        if name in sent and sent[name] is None:
            errors.add((*where, name), ErrorCode.INVALID_VALUE, f"{label}: {name} cannot be null.")
    if "quantity" in changes and changes["quantity"] is not None and changes["quantity"] < 0:
        errors.add((*where, "quantity"), ErrorCode.INVALID_VALUE, f"{label}: negative quantities are not supported.")
    start = changes.get("transactionStartDate") or line.transaction_start_date
    end = changes.get("transactionEndDate") or line.transaction_end_date
    if ("transactionStartDate" in changes or "transactionEndDate" in changes) and end < start:
        errors.add(
            (*where, "transactionEndDate"), ErrorCode.INVALID_VALUE, f"{label}: transactionEndDate is before the start."
        )
    if owner_number is not None and "ownerAccountNumber" in changes:
        try:
            changes["_owner"] = find_account(uow, owner_number, orgs=orgs).id
        except NotFound:
            errors.not_found((*where, "ownerAccountNumber"), "account", owner_number)
    if category == ItemCategory.SALES and changes.keys() & {
        *PRICE_FIELDS,
        "quantity",
        "inlineDiscountType",
        "inlineDiscountPerUnit",
    }:
        _reprice(line, changes, where, errors, label)
    changes["_where"] = where
    return changes


def _owner_number(uow: UnitOfWork, line: OrderLineItem) -> str | None:
    owner = uow.session.get(Customer, (uow.tenant_id, line.owner_account_id))
    return owner.account_number if owner is not None else None


def _reprice(line: OrderLineItem, changes: dict[str, Any], where: Path, errors: InputCollector, label: str) -> None:
    kind = changes.get("inlineDiscountType", line.inline_discount_type)
    discount = changes.get("inlineDiscountPerUnit", line.inline_discount_per_unit)
    amount = changes.get("amountPerUnit")
    if amount is None and kind in (None, DiscountType.NONE.value):
        amount = line.amount_per_unit
    pricing, problem = price_line(
        list_price_per_unit=changes.get("listPricePerUnit", line.list_price_per_unit),
        amount_per_unit=amount,
        discount_type=DiscountType(kind) if kind else None,
        discount_per_unit=discount,
        quantity=_quantity(changes, line),
    )
    if problem:
        errors.add((*where, problem.field), ErrorCode.INVALID_VALUE, f"{label}: {problem.message}")
    changes["listPricePerUnit"] = pricing.list_price_per_unit
    changes["amountPerUnit"] = pricing.amount_per_unit


def _check_returns(
    uow: UnitOfWork, planned: list[tuple[OrderLineItem, dict[str, Any]]], errors: InputCollector
) -> None:
    """A return line's quantity fits what its original may still have returned, once it counts (Booked or later)."""
    affected = [
        (line, changes)
        for line, changes in planned
        if line.item_category == ItemCategory.RETURN
        and line.original_line_item_id is not None
        and ("quantity" in changes or ItemState(changes.get("itemState", line.item_state)) in BOOKED_OR_LATER)
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
    fulfilled = fulfillments_of(uow, original_ids)
    for line, changes in affected:
        original = originals[line.original_line_item_id or ""]
        already = returned.get(original.id, Decimal(0))
        available = quantities_for(original, fulfilled.get(original.id, []), already).available_for_return
        quantity = _quantity(changes, line)
        if problem := return_quantity_error(quantity, available):
            errors.add((*changes["_where"], "quantity"), RULE, f"Order line item {line.id}: {problem}")
        elif ItemState(changes.get("itemState", line.item_state)) in BOOKED_OR_LATER:
            returned[original.id] = already + quantity


def _quantity(changes: dict[str, Any], line: OrderLineItem) -> Decimal:
    value = changes.get("quantity")
    return value if isinstance(value, Decimal) else line.quantity


_COLUMNS = {
    "itemState": "item_state",
    "billingRule": "billing_rule",
    "itemType": "item_type",
    "itemName": "item_name",
    "description": "description",
    "quantity": "quantity",
    "listPricePerUnit": "list_price_per_unit",
    "amountPerUnit": "amount_per_unit",
    "inlineDiscountType": "inline_discount_type",
    "inlineDiscountPerUnit": "inline_discount_per_unit",
    "billTargetDate": "bill_target_date",
    "transactionStartDate": "transaction_start_date",
    "transactionEndDate": "transaction_end_date",
    "UOM": "uom",
    "productCode": "product_code",
    "customFields": "custom_fields",
}


def _apply(uow: UnitOfWork, line: OrderLineItem, changes: dict[str, Any]) -> None:
    attrs = dict(line.attrs or {})
    for name, value in changes.items():
        if name.startswith("_") or name == "ownerAccountNumber":
            continue
        column = _COLUMNS.get(name)
        if column is not None:
            setattr(line, column, value)
        elif value is None:
            attrs.pop(name, None)
        else:
            attrs[name] = value
    if "_owner" in changes:
        line.owner_account_id = changes["_owner"]
    if attrs != (line.attrs or {}):
        line.attrs = attrs
    if changes.get("itemState") == ItemState.SENT_TO_BILLING and line.sent_to_billing_at is None:
        line.sent_to_billing_at = uow.now
    line.updated = uow.now
