"""Fulfillments: create many at once (billing them in the same call), read, update, delete.

Creating is all-or-nothing (Decision 2): every fulfillment is checked against its line and the
line's other fulfillments (including earlier ones of the same call) before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, or_, select

from bulkbill.core.billing.plan import SourceType
from bulkbill.core.customers.org_scope import in_scope
from bulkbill.core.errors import ErrorCode, InputCollector, InvalidStateError, NotFound
from bulkbill.core.metadata import merge_fields
from bulkbill.core.orders.fulfillments import (
    MAX_PER_LINE,
    FulfillmentState,
    FulfillmentType,
    creation_state_error,
    default_type,
    delete_error,
    edit_error,
    items_error,
    items_state_error,
    parent_error,
    quantity_error,
    remaining_quantity,
    transition_error,
    type_error,
)
from bulkbill.core.orders.line_items import BillingRule, ItemCategory, ItemState, should_auto_complete
from bulkbill.services.billing.run_billing import run_billing
from bulkbill.services.billing.sequences import FULFILLMENTS, take_numbers
from bulkbill.services.orders.line_locks import lock_lines
from bulkbill.services.orders.order_fields import BillingRequest, iso
from bulkbill.services.orders.order_views import fulfilled_pairs, items_of
from bulkbill.services.platform.session_rows import rows_by_id
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.bulk import insert_rows
from bulkbill.storage.rows import RowLayout
from bulkbill.storage.tables import Customer, Invoice
from bulkbill.storage.tables_orders import Fulfillment, FulfillmentItem, OrderLineItem, new_zuora_id

Path = tuple[str | int, ...]
TEXT_FIELDS = {
    "description": "description",
    "externalId": "external_id",
    "trackingNumber": "tracking_number",
    "carrier": "carrier",
    "fulfillmentSystem": "fulfillment_system",
    "fulfillmentLocation": "fulfillment_location",
}
_COLUMNS = {
    "fulfillmentDate": "fulfillment_date",
    "quantity": "quantity",
    "billTargetDate": "bill_target_date",
    "customFields": "custom_fields",
}


@dataclass(frozen=True)
class ItemFields:
    item_identifier: str | None = None
    description: str | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    given: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FulfillmentFields:
    """What a client sent for one fulfillment; `given` holds the wire names."""

    given: frozenset[str] = frozenset()
    order_line_item_id: str | None = None
    fulfillment_date: dt.date | None = None
    quantity: Decimal | None = None
    state: FulfillmentState | None = None
    fulfillment_type: FulfillmentType | None = None
    bill_target_date: dt.date | None = None
    text: Mapping[str, str | None] = field(default_factory=dict)
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    items: tuple[ItemFields, ...] = ()


@dataclass(frozen=True, slots=True)
class NewFulfillment:
    """A fulfillment the call wrote, as its response shows it."""

    id: str
    fulfillment_number: str


@dataclass
class CreatedFulfillments:
    fulfillments: list[NewFulfillment]
    items: dict[str, list[FulfillmentItem]]
    documents: list[Invoice] = field(default_factory=list)


def _label(i: int, f: FulfillmentFields) -> str:
    external = f.text.get("externalId")
    return f"fulfillments[{i}]" + (f" (externalId {external})" if external else "")


def create_fulfillments(
    uow: UnitOfWork,
    new: Sequence[FulfillmentFields],
    *,
    billing: BillingRequest | None = None,
    orgs: frozenset[str] | None = None,
) -> CreatedFulfillments:
    """Every fulfillment or none; with `billing`, bill those that end the call SentToBilling."""
    errors = InputCollector()
    lines = lock_lines(uow, {f.order_line_item_id for f in new if f.order_line_item_id})
    owners = _accounts(uow, {ln.account_id for ln in lines.values()})
    taken = fulfilled_pairs(uow, lines)
    rows: list[tuple[dict[str, Any], tuple[ItemFields, ...]]] = []
    for i, f in enumerate(new):
        path: Path = ("fulfillments", i)
        for name, value in (
            ("orderLineItemId", f.order_line_item_id),
            ("fulfillmentDate", f.fulfillment_date),
            ("quantity", f.quantity),
        ):
            if value is None:
                errors.add((*path, name), ErrorCode.PARAMETER_MISSING, f"{_label(i, f)}: {name} is required.")
        line = lines.get(f.order_line_item_id or "")
        if f.order_line_item_id is not None and (line is None or not _in_scope(owners, line, orgs)):
            errors.not_found((*path, "orderLineItemId"), "order line item", f.order_line_item_id)
            continue
        if line is None or f.quantity is None or f.fulfillment_date is None:
            continue
        label = f"Order line item {line.id}"
        if problem := parent_error(BillingRule(line.billing_rule), ItemState(line.item_state)):
            errors.add((*path, "orderLineItemId"), ErrorCode.RULE_VIOLATION, f"{label}: {problem}")
        state = f.state or FulfillmentState.EXECUTING
        if problem := creation_state_error(state):
            errors.add((*path, "state"), ErrorCode.RULE_VIOLATION, f"{_label(i, f)}: {problem}")
        kind = f.fulfillment_type or default_type(ItemCategory(line.item_category))
        if problem := type_error(ItemCategory(line.item_category), kind):
            errors.add((*path, "fulfillmentType"), ErrorCode.INVALID_VALUE, f"{label}: {problem}")
        others = taken.setdefault(line.id, [])
        if problem := quantity_error(f.quantity, remaining_quantity(line.quantity, others)):
            errors.add((*path, "quantity"), ErrorCode.RULE_VIOLATION, f"{label}: {problem}")
        if len(others) >= MAX_PER_LINE:
            errors.add(
                (*path, "orderLineItemId"),
                ErrorCode.RULE_VIOLATION,
                f"{label}: at most {MAX_PER_LINE} fulfillments per order line item.",
            )
        if f.items and (problem := items_error(len(f.items), f.quantity) or items_state_error(state)):
            errors.add((*path, "fulfillmentItems"), ErrorCode.RULE_VIOLATION, f"{_label(i, f)}: {problem}")
        others.append((state.value, f.quantity))
        rows.append((_new_row(uow, f, line, state, kind), f.items))
    errors.raise_if_any()
    created = CreatedFulfillments([], {})
    numbers = take_numbers(uow, FULFILLMENTS, len(rows))
    for (row, _), number in zip(rows, numbers, strict=True):
        row["fulfillment_number"] = number
        created.fulfillments.append(NewFulfillment(row["id"], number))
    # Plain rows in one COPY / executemany (storage.bulk), not an ORM object and a flush per fulfillment.
    insert_rows(uow.session, _LAYOUT.table, _LAYOUT.columns, [_LAYOUT.encode(row) for row, _ in rows])
    for row, items in rows:
        created.items[row["id"]] = [_new_item(uow, row["id"], item) for item in items]
    # `taken` holds every fulfillment of these lines now (those read, then the call's): nothing to read again.
    settle_lines(uow, lines.values(), known=taken)
    uow.session.flush()
    if billing is not None:
        created.documents = bill_fulfillments(uow, created.fulfillments, billing)
    return created


def _accounts(uow: UnitOfWork, ids: set[str]) -> dict[str, Customer]:
    if not ids:
        return {}
    return rows_by_id(uow, Customer, ids)


def _in_scope(accounts: dict[str, Customer], line: OrderLineItem, orgs: frozenset[str] | None) -> bool:
    return in_scope(accounts[line.account_id].org_label, orgs)


_LAYOUT = RowLayout(Fulfillment)


def _new_row(
    uow: UnitOfWork, f: FulfillmentFields, line: OrderLineItem, state: FulfillmentState, kind: FulfillmentType
) -> dict[str, Any]:
    """A new fulfillment's row (numbered once every check passed), every attribute named."""
    row: dict[str, Any] = {
        "tenant_id": uow.tenant_id,
        "id": new_zuora_id(),
        "fulfillment_number": "",
        "order_line_item_id": line.id,
        "state": state.value,
        "fulfillment_type": kind.value,
        "quantity": f.quantity,
        "fulfillment_date": iso(f.fulfillment_date),
        "bill_target_date": iso(f.bill_target_date),
        "sent_to_billing_at": uow.now if state == FulfillmentState.SENT_TO_BILLING else None,
        "custom_fields": dict(f.custom_fields),
        "created": uow.now,
        "updated": uow.now,
    }
    for name, column in TEXT_FIELDS.items():
        row[column] = f.text.get(name)
    return row


def _new_item(uow: UnitOfWork, fulfillment_id: str, item: ItemFields) -> FulfillmentItem:
    row = FulfillmentItem(
        tenant_id=uow.tenant_id,
        id=new_zuora_id(),
        fulfillment_id=fulfillment_id,
        item_identifier=item.item_identifier,
        description=item.description,
        custom_fields=dict(item.custom_fields),
        created=uow.now,
    )
    uow.session.add(row)
    return row


def settle_lines(uow: UnitOfWork, lines: Any, *, known: Mapping[str, list[tuple[str, Decimal]]] | None = None) -> None:
    """Lines whose fulfillments are all done and nothing is pending complete themselves (Booked → Complete).

    `known`: every fulfillment of these lines as (state, quantity) by line id, when the caller has them.
    """
    line_list = list(lines)
    if known is None:
        known = fulfilled_pairs(uow, [ln.id for ln in line_list])
    for line in line_list:
        pairs = known.get(line.id, [])
        if should_auto_complete(BillingRule(line.billing_rule), ItemState(line.item_state), line.quantity, pairs):
            line.item_state = ItemState.COMPLETE.value
            line.updated = uow.now


def bill_fulfillments(uow: UnitOfWork, fulfillments: list[NewFulfillment], billing: BillingRequest) -> list[Invoice]:
    """runBilling (Decision 3): bill the call's fulfillments that end it SentToBilling and are not yet billed."""
    return run_billing(uow, [(SourceType.FULFILLMENT, f.id) for f in fulfillments], billing)


def get_fulfillment(
    uow: UnitOfWork, key: str, *, orgs: frozenset[str] | None = None, lock: bool = False
) -> Fulfillment:
    """A fulfillment by id or number (F-00000001)."""
    query = select(Fulfillment).where(
        Fulfillment.tenant_id == uow.tenant_id, or_(Fulfillment.id == key, Fulfillment.fulfillment_number == key)
    )
    if lock and uow.is_postgres:
        query = query.with_for_update()
    row = uow.session.scalar(query)
    if row is not None and orgs is not None:
        line = uow.session.get(OrderLineItem, (uow.tenant_id, row.order_line_item_id))
        account = uow.session.get(Customer, (uow.tenant_id, line.account_id)) if line else None
        row = row if account is not None and in_scope(account.org_label, orgs) else None
    if row is None:
        raise NotFound("fulfillment", key)
    return row


def fulfillment_items(uow: UnitOfWork, ids: list[str]) -> dict[str, list[FulfillmentItem]]:
    return items_of(uow, ids)


def update_fulfillment(
    uow: UnitOfWork, key: str, f: FulfillmentFields, *, orgs: frozenset[str] | None = None
) -> Fulfillment:
    """State moves along its transitions; other fields change only while Executing (unchanged values pass)."""
    row = get_fulfillment(uow, key, orgs=orgs, lock=True)
    line = lock_lines(uow, {row.order_line_item_id})[row.order_line_item_id]
    errors = InputCollector()
    state = FulfillmentState(row.state)
    current: dict[str, Any] = {
        "fulfillmentDate": row.fulfillment_date,
        "quantity": row.quantity,
        "billTargetDate": row.bill_target_date,
        "customFields": row.custom_fields or {},
        **{name: getattr(row, column) for name, column in TEXT_FIELDS.items()},
    }
    sent: dict[str, Any] = {
        "fulfillmentDate": iso(f.fulfillment_date),
        "quantity": f.quantity,
        "billTargetDate": iso(f.bill_target_date),
        "customFields": merge_fields(row.custom_fields or {}, f.custom_fields),
        **f.text,
    }
    changes = {k: sent[k] for k in f.given if k in sent and sent[k] != current[k]}
    label = f"Fulfillment {row.fulfillment_number}"
    for name in sorted(changes):
        if problem := edit_error(state):
            errors.add((name,), ErrorCode.RULE_VIOLATION, f"{label}: {problem}")
    for name in ("fulfillmentDate", "quantity"):
        if name in changes and changes[name] is None:
            errors.add((name,), ErrorCode.INVALID_VALUE, f"{label}: {name} cannot be null.")
    if changes.get("quantity") is not None:
        others = fulfilled_pairs(uow, [line.id], exclude=row.id).get(line.id, [])
        if problem := quantity_error(changes["quantity"], remaining_quantity(line.quantity, others)):
            errors.add(("quantity",), ErrorCode.RULE_VIOLATION, f"{label}: {problem}")
    target = f.state
    if target is not None and (problem := transition_error(state, target)):
        errors.add(("state",), ErrorCode.RULE_VIOLATION, f"{label}: {problem}")
    errors.raise_if_any()
    for name, value in changes.items():
        setattr(row, TEXT_FIELDS.get(name) or _COLUMNS[name], value)
    if target is not None and target != state:
        row.state = target.value
        if target == FulfillmentState.SENT_TO_BILLING and row.sent_to_billing_at is None:
            row.sent_to_billing_at = uow.now
    row.updated = uow.now
    uow.session.flush()
    settle_lines(uow, [line])
    uow.session.flush()
    return row


def delete_fulfillment(uow: UnitOfWork, key: str, *, orgs: frozenset[str] | None = None) -> None:
    """Only an Executing fulfillment is deleted, with its items (an Executing one is never billed)."""
    row = get_fulfillment(uow, key, orgs=orgs, lock=True)
    if problem := delete_error(FulfillmentState(row.state)):
        raise InvalidStateError(f"Fulfillment {row.fulfillment_number}: {problem}")
    line = lock_lines(uow, {row.order_line_item_id})[row.order_line_item_id]
    uow.session.execute(
        delete(FulfillmentItem).where(
            FulfillmentItem.tenant_id == uow.tenant_id, FulfillmentItem.fulfillment_id == row.id
        )
    )
    uow.session.delete(row)
    uow.session.flush()
    settle_lines(uow, [line])
    uow.session.flush()
