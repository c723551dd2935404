"""Fulfillment items: identifiers (serial numbers, ...) of what a fulfillment shipped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from bulkbill.core.errors import ErrorCode, InputCollector, InvalidStateError, NotFound
from bulkbill.core.metadata import merge_fields
from bulkbill.core.orders.fulfillments import LOCKED, FulfillmentState, items_error, items_state_error
from bulkbill.services.orders.fulfillments import ItemFields, get_fulfillment
from bulkbill.services.platform.locks import get_row
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables_orders import Fulfillment, FulfillmentItem, new_zuora_id


@dataclass(frozen=True)
class NewItem:
    """An item and the fulfillment it belongs to, named by id, number or external id."""

    item: ItemFields
    fulfillment_id: str | None = None
    fulfillment_number: str | None = None
    fulfillment_external_id: str | None = None


@dataclass
class ItemView:
    item: FulfillmentItem
    fulfillment: Fulfillment
    extra: dict[str, Any] = field(default_factory=dict)


def _find_parent(uow: UnitOfWork, new: NewItem, orgs: frozenset[str] | None) -> Fulfillment | None:
    if new.fulfillment_id is not None:
        return get_fulfillment(uow, new.fulfillment_id, orgs=orgs, lock=True)
    if new.fulfillment_number is not None:
        return get_fulfillment(uow, new.fulfillment_number, orgs=orgs, lock=True)
    if new.fulfillment_external_id is not None:
        rows = list(
            uow.session.scalars(
                select(Fulfillment).where(
                    Fulfillment.tenant_id == uow.tenant_id, Fulfillment.external_id == new.fulfillment_external_id
                )
            )
        )
        if len(rows) == 1:
            return get_fulfillment(uow, rows[0].id, orgs=orgs, lock=True)
        raise NotFound("fulfillment", new.fulfillment_external_id)
    return None


def create_items(
    uow: UnitOfWork, new: Sequence[NewItem], *, orgs: frozenset[str] | None = None
) -> list[FulfillmentItem]:
    """Items join fulfillments that have left Executing; never more than 100, nor more than the quantity."""
    errors = InputCollector()
    parents: list[Fulfillment] = []
    counts: dict[str, int] = {}
    for i, entry in enumerate(new):
        path: tuple[str | int, ...] = ("fulfillmentItems", i)
        try:
            parent = _find_parent(uow, entry, orgs)
        except NotFound as exc:
            errors.not_found((*path, "fulfillmentId"), "fulfillment", exc.object_id)
            continue
        if parent is None:
            errors.add(
                (*path, "fulfillmentId"),
                ErrorCode.PARAMETER_MISSING,
                "fulfillmentId, fulfillmentNumber or fulfillmentExternalId is required.",
            )
            continue
        if parent.id not in counts:
            counts[parent.id] = _count(uow, parent.id)
        counts[parent.id] += 1
        label = f"Fulfillment {parent.fulfillment_number}"
        problem = items_state_error(FulfillmentState(parent.state)) or items_error(counts[parent.id], parent.quantity)
        if problem:
            errors.add((*path, "fulfillmentId"), ErrorCode.RULE_VIOLATION, f"{label}: {problem}")
        parents.append(parent)
    errors.raise_if_any()
    rows = []
    for entry, parent in zip(new, parents, strict=True):
        row = FulfillmentItem(
            tenant_id=uow.tenant_id,
            id=new_zuora_id(),
            fulfillment_id=parent.id,
            item_identifier=entry.item.item_identifier,
            description=entry.item.description,
            custom_fields=dict(entry.item.custom_fields),
            created=uow.now,
        )
        uow.session.add(row)
        rows.append(row)
    uow.session.flush()
    return rows


def _count(uow: UnitOfWork, fulfillment_id: str) -> int:
    return int(
        uow.session.scalar(
            select(func.count())
            .select_from(FulfillmentItem)
            .where(FulfillmentItem.tenant_id == uow.tenant_id, FulfillmentItem.fulfillment_id == fulfillment_id)
        )
        or 0
    )


def get_item(uow: UnitOfWork, item_id: str, *, orgs: frozenset[str] | None = None, lock: bool = False) -> ItemView:
    """An item with its fulfillment; one outside the caller's orgs is not found.

    With `lock`, the fulfillment and then the item are held until the transaction ends (the order
    create_items takes them in): an edit neither loses a concurrent one nor lands after the
    fulfillment was locked for edits.
    """
    item = uow.session.get(FulfillmentItem, (uow.tenant_id, item_id))
    if item is None:
        raise NotFound("fulfillment item", item_id)
    try:
        parent = get_fulfillment(uow, item.fulfillment_id, orgs=orgs, lock=lock)
    except NotFound:
        raise NotFound("fulfillment item", item_id) from None
    if lock:
        item = get_row(uow, FulfillmentItem, item_id, lock="update")
        if item is None:
            raise NotFound("fulfillment item", item_id)
    return ItemView(item, parent)


def update_item(uow: UnitOfWork, item_id: str, fields: ItemFields, *, orgs: frozenset[str] | None = None) -> ItemView:
    """An item's identifier, description and custom fields change while its fulfillment is not locked."""
    view = get_item(uow, item_id, orgs=orgs, lock=True)
    if FulfillmentState(view.fulfillment.state) in LOCKED:
        raise InvalidStateError(
            f"Fulfillment {view.fulfillment.fulfillment_number} is {view.fulfillment.state} and locked."
        )
    if "itemIdentifier" in fields.given:
        view.item.item_identifier = fields.item_identifier
    if "description" in fields.given:
        view.item.description = fields.description
    if "customFields" in fields.given:
        view.item.custom_fields = merge_fields(view.item.custom_fields or {}, fields.custom_fields)
    uow.session.flush()
    return view


def delete_item(uow: UnitOfWork, item_id: str, *, orgs: frozenset[str] | None = None) -> None:
    """An item goes away unless its fulfillment is locked."""
    view = get_item(uow, item_id, orgs=orgs, lock=True)
    if FulfillmentState(view.fulfillment.state) in LOCKED:
        raise InvalidStateError(
            f"Fulfillment {view.fulfillment.fulfillment_number} is {view.fulfillment.state} and locked."
        )
    uow.session.delete(view.item)
    uow.session.flush()
