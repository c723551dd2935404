"""Order line items with everything their read shape needs, loaded in a few set-based queries.

Derived figures (quantityFulfilled, quantityPendingFulfillment, quantityAvailableForReturn) are
computed from the fulfillments and return lines each time, never stored, so they cannot drift.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select

from bulkbill.core.orders.line_items import (
    BOOKED_OR_LATER,
    BillingRule,
    ItemCategory,
    ItemState,
    Quantities,
    line_quantities,
)
from bulkbill.services.platform.session_rows import rows_by_id
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer
from bulkbill.storage.tables_orders import Fulfillment, FulfillmentItem, Order, OrderLineItem


@dataclass(slots=True)
class LineRow:
    """An order line item's stored values as a plain object, in column order (no ORM state to keep):
    what a bulk update reads, changes in place once written, and shows."""

    tenant_id: str
    id: str
    order_id: str
    item_number: str
    account_id: str
    owner_account_id: str
    item_state: str
    item_category: str
    billing_rule: str
    item_type: str | None
    item_name: str | None
    description: str | None
    currency: str
    quantity: Decimal
    list_price_per_unit: Decimal
    amount_per_unit: Decimal
    inline_discount_type: str | None
    inline_discount_per_unit: Decimal | None
    bill_target_date: str | None
    transaction_start_date: str
    transaction_end_date: str
    uom: str | None
    product_code: str | None
    original_line_item_id: str | None
    sent_to_billing_at: int | None
    attrs: dict[str, Any]
    custom_fields: dict[str, Any]
    created: int
    updated: int


# The table's columns, in LineRow's order (a row of this select is a LineRow's arguments).
LINE_COLUMNS = tuple(OrderLineItem.__table__.columns)
assert tuple(c.key for c in LINE_COLUMNS) == tuple(f.name for f in fields(LineRow))
# A line as either: the ORM object (single reads) or its plain row (bulk updates).
Line = OrderLineItem | LineRow


@dataclass
class LineView:
    line: Line
    account: Customer
    owner: Customer
    quantities: Quantities
    original: OrderLineItem | None = None
    original_order: Order | None = None
    fulfillments: list[Fulfillment] = field(default_factory=list)


# Built once (bound by tenant and ids): building a statement costs more than running it on these paths.
_RETURN_LINES = select(
    OrderLineItem.id, OrderLineItem.original_line_item_id, OrderLineItem.item_state, OrderLineItem.quantity
).where(
    OrderLineItem.tenant_id == bindparam("tenant_id"),
    OrderLineItem.original_line_item_id.in_(bindparam("ids", expanding=True)),
)
_FULFILLED = (
    select(Fulfillment.order_line_item_id, Fulfillment.state, Fulfillment.quantity, Fulfillment.id)
    .where(
        Fulfillment.tenant_id == bindparam("tenant_id"),
        Fulfillment.order_line_item_id.in_(bindparam("ids", expanding=True)),
    )
    .order_by(Fulfillment.created, Fulfillment.id)
)
_FULFILLMENTS_OF = (
    select(Fulfillment)
    .where(
        Fulfillment.tenant_id == bindparam("tenant_id"),
        Fulfillment.order_line_item_id.in_(bindparam("ids", expanding=True)),
    )
    .order_by(Fulfillment.created, Fulfillment.id)
)


def returned_quantities(
    uow: UnitOfWork, original_ids: Iterable[str], *, exclude: Iterable[str] = ()
) -> dict[str, Decimal]:
    """Per sales line: the total quantity of its return lines that are Booked or later."""
    ids, skip = set(original_ids), set(exclude)
    if not ids:
        return {}
    rows = uow.session.execute(_RETURN_LINES, {"tenant_id": uow.tenant_id, "ids": list(ids)})
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line_id, original_id, state, quantity in rows:
        if line_id not in skip and state in BOOKED_OR_LATER and original_id is not None:
            totals[original_id] += quantity
    return totals


def fulfillments_of(uow: UnitOfWork, line_ids: Iterable[str]) -> dict[str, list[Fulfillment]]:
    """Each line's fulfillments, oldest first."""
    ids = set(line_ids)
    if not ids:
        return {}
    rows = uow.session.scalars(_FULFILLMENTS_OF, {"tenant_id": uow.tenant_id, "ids": list(ids)})
    out: dict[str, list[Fulfillment]] = defaultdict(list)
    for f in rows:
        out[f.order_line_item_id].append(f)
    return out


def fulfilled_pairs(
    uow: UnitOfWork, line_ids: Iterable[str], *, exclude: str | None = None
) -> dict[str, list[tuple[str, Decimal]]]:
    """Each line's fulfillments as (state, quantity), oldest first: what its figures and checks read (no ORM objects).

    `exclude`: a fulfillment left out (one being edited).
    """
    ids = set(line_ids)
    if not ids:
        return {}
    rows = uow.session.execute(_FULFILLED, {"tenant_id": uow.tenant_id, "ids": list(ids)})
    out: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    for line_id, state, quantity, fulfillment_id in rows:
        if fulfillment_id != exclude:
            out[line_id].append((state, quantity))
    return out


def items_of(uow: UnitOfWork, fulfillment_ids: Iterable[str]) -> dict[str, list[FulfillmentItem]]:
    """Each fulfillment's items, oldest first."""
    ids = set(fulfillment_ids)
    if not ids:
        return {}
    rows = uow.session.scalars(
        select(FulfillmentItem)
        .where(FulfillmentItem.tenant_id == uow.tenant_id, FulfillmentItem.fulfillment_id.in_(ids))
        .order_by(FulfillmentItem.created, FulfillmentItem.id)
    )
    out: dict[str, list[FulfillmentItem]] = defaultdict(list)
    for item in rows:
        out[item.fulfillment_id].append(item)
    return out


def quantities_for(
    line: Line, fulfillments: Sequence[tuple[str, Decimal]], returned: Decimal = Decimal(0)
) -> Quantities:
    """The §2.8 figures of one line, from its fulfillments' (state, quantity)."""
    return line_quantities(
        category=ItemCategory(line.item_category),
        rule=BillingRule(line.billing_rule),
        state=ItemState(line.item_state),
        quantity=line.quantity,
        fulfillments=fulfillments,
        returned=returned,
    )


def _lines_by_id(uow: UnitOfWork, ids: set[str]) -> dict[str, OrderLineItem]:
    return rows_by_id(uow, OrderLineItem, ids) if ids else {}


def _orders_by_id(uow: UnitOfWork, ids: set[str]) -> dict[str, Order]:
    return rows_by_id(uow, Order, ids) if ids else {}


def load_views(
    uow: UnitOfWork,
    lines: Sequence[Line],
    *,
    orders: dict[str, Order] | None = None,
    with_fulfillments: bool = False,
) -> list[LineView]:
    """Views of `lines` in their order, with accounts, originals, fulfillments and quantities.

    Only what a figure depends on is read: fulfillments for rule-B lines Booked or later, return
    lines for sales lines Booked or later (line_quantities reads nothing else), and the orders of
    originals (a line shows its own order's id only).
    """
    originals = _lines_by_id(uow, {ln.original_line_item_id for ln in lines if ln.original_line_item_id})
    known = dict(orders or {})
    known.update(_orders_by_id(uow, {o.order_id for o in originals.values()} - set(known)))
    account_ids = {ln.account_id for ln in lines} | {ln.owner_account_id for ln in lines}
    accounts = rows_by_id(uow, Customer, account_ids)  # those the call loaded cost no statement
    shown: dict[str, list[Fulfillment]] = {}
    if with_fulfillments:
        shown = fulfillments_of(uow, [ln.id for ln in lines])
        pairs = {line_id: [(f.state, f.quantity) for f in rows] for line_id, rows in shown.items()}
    else:
        pairs = fulfilled_pairs(uow, [ln.id for ln in lines if _counts_fulfillments(ln)])
    returned = returned_quantities(
        uow, [ln.id for ln in lines if ln.item_category == ItemCategory.SALES and ln.item_state in BOOKED_OR_LATER]
    )
    views = []
    for ln in lines:
        original = originals.get(ln.original_line_item_id) if ln.original_line_item_id else None
        views.append(
            LineView(
                line=ln,
                account=accounts[ln.account_id],
                owner=accounts[ln.owner_account_id],
                quantities=quantities_for(ln, pairs.get(ln.id, ()), returned.get(ln.id, Decimal(0))),
                original=original,
                original_order=known.get(original.order_id) if original else None,
                fulfillments=shown.get(ln.id, []),
            )
        )
    return views


def _counts_fulfillments(line: Line) -> bool:
    """The line's figures add up its fulfillments (line_quantities): rule B, Booked or later."""
    return line.billing_rule != BillingRule.WITHOUT_FULFILLMENT and line.item_state in BOOKED_OR_LATER
