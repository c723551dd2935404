"""Orders carrying sales and return order line items: create (optionally billing at once) and read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from bulkbill.core.billing.plan import SourceType
from bulkbill.core.customers.org_scope import in_scope
from bulkbill.core.errors import ErrorCode, InputCollector, NotFound
from bulkbill.core.money import is_known_currency
from bulkbill.core.orders.line_items import (
    BOOKED_OR_LATER,
    BillingRule,
    DiscountType,
    ItemCategory,
    ItemState,
    creation_state_error,
    original_line_error,
    price_line,
    return_quantity_error,
    sent_to_billing_error,
)
from bulkbill.core.orders.line_updates import LineFields, ToMinor
from bulkbill.services.billing.run_billing import run_billing
from bulkbill.services.billing.sequences import ORDERS, chosen_number_taken, take_number
from bulkbill.services.customers.org_scope import scope_condition
from bulkbill.services.orders.line_locks import lock_lines
from bulkbill.services.orders.order_fields import (
    BillingRequest,
    account_currency,
    find_account,
    iso,
)
from bulkbill.services.orders.order_views import (
    Line,
    LineView,
    fulfilled_pairs,
    load_views,
    quantities_for,
    returned_quantities,
)
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer, Invoice
from bulkbill.storage.tables_orders import Order, OrderLineItem, new_zuora_id

MAX_LINES = 100


@dataclass(frozen=True)
class NewOrder:
    account_key: str
    order_date: dt.date
    lines: tuple[LineFields, ...] = ()
    order_number: str | None = None
    category: str = "NewSales"
    description: str | None = None
    reason_code: str | None = None
    status: str | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class CreatedOrder:
    order: Order
    account: Customer
    lines: list[OrderLineItem]
    documents: list[Invoice]


@dataclass
class _Context:
    order_id: str
    order_date: dt.date
    category: str
    account: Customer
    to_minor: ToMinor
    originals: dict[tuple[str, str], OrderLineItem]
    available: dict[str, Decimal]
    owners: dict[str, Customer | None] = field(default_factory=dict)
    orgs: frozenset[str] | None = None  # the call's scope: owners outside it do not exist


def bill_now(uow: UnitOfWork, lines: Sequence[Line], billing: BillingRequest) -> list[Invoice]:
    """runBilling (Decision 3): bill the call's lines that end it SentToBilling and are not yet billed."""
    return run_billing(uow, [(SourceType.ORDER_LINE_ITEM, line.id) for line in lines], billing)


def create_order(
    uow: UnitOfWork,
    new: NewOrder,
    *,
    to_minor: ToMinor,
    billing: BillingRequest | None = None,
    orgs: frozenset[str] | None = None,
) -> CreatedOrder:
    """An order and its lines in one go; every problem of every line is reported together.

    Everything the order refers to (its account, line owners, the originals of returns) must lie in
    the call's orgs; outside them it is not found.
    """
    account = find_account(uow, new.account_key, path=("existingAccountNumber",), orgs=orgs)
    errors = InputCollector()
    if len(new.lines) > MAX_LINES:
        errors.add(
            ("orderLineItems",), ErrorCode.INVALID_VALUE, f"An order can have at most {MAX_LINES} order line items."
        )
    number = new.order_number
    if number is not None and "/" in number:
        errors.add(("orderNumber",), ErrorCode.INVALID_VALUE, "The order number must not contain a slash.")
    elif number is not None and chosen_number_taken(uow, number, (ORDERS,)):
        errors.add(("orderNumber",), ErrorCode.RULE_VIOLATION, f"An order with number {number} already exists.")
    _check_item_numbers(new.lines, errors)
    originals = _originals(uow, new.lines, orgs)
    # What each original may still have returned is read under its row lock (line_locks).
    lock_lines(uow, {o.id for o in originals.values()})
    returned = returned_quantities(uow, [o.id for o in originals.values()])
    fulfilled = fulfilled_pairs(uow, [o.id for o in originals.values()])
    ctx = _Context(
        order_id=new_zuora_id(),
        order_date=new.order_date,
        category=new.category,
        account=account,
        to_minor=to_minor,
        originals=originals,
        available={
            o.id: quantities_for(o, fulfilled.get(o.id, []), returned.get(o.id, Decimal(0))).available_for_return
            for o in originals.values()
        },
        orgs=orgs,
    )
    rows = [_build_line(uow, ctx, i, f, errors) for i, f in enumerate(new.lines)]
    errors.raise_if_any()
    prefix = "RMA-" if new.category == "Return" else "O-"
    order = Order(
        tenant_id=uow.tenant_id,
        id=ctx.order_id,
        order_number=number or take_number(uow, ORDERS, prefix),
        account_id=account.id,
        category=new.category,
        order_date=new.order_date.isoformat(),
        description=new.description,
        reason_code=new.reason_code,
        status=new.status or "Completed",
        custom_fields=dict(new.custom_fields),
        created=uow.now,
        updated=uow.now,
    )
    uow.session.add(order)
    uow.session.flush()
    lines = rows
    for i, row in enumerate(lines):
        row.item_number = row.item_number or str(i + 1)
        row.created = uow.now
        uow.session.add(row)
    uow.session.flush()
    documents = bill_now(uow, lines, billing) if billing is not None else []
    return CreatedOrder(order, account, lines, documents)


def _order_by_number(uow: UnitOfWork, number: str) -> Order | None:
    return uow.session.scalar(select(Order).where(Order.tenant_id == uow.tenant_id, Order.order_number == number))


def get_order(uow: UnitOfWork, number: str, *, orgs: frozenset[str] | None = None) -> tuple[Order, list[LineView]]:
    """An order by number with its lines' views; an order of an account outside the caller's orgs is not found."""
    order = _order_by_number(uow, number)
    if order is None:
        raise NotFound("order", number)
    account = uow.session.get(Customer, (uow.tenant_id, order.account_id))
    if account is None or not in_scope(account.org_label, orgs):
        raise NotFound("order", number)
    lines = list(
        uow.session.scalars(
            select(OrderLineItem)
            .where(OrderLineItem.tenant_id == uow.tenant_id, OrderLineItem.order_id == order.id)
            .order_by(OrderLineItem.created, OrderLineItem.id)
        )
    )
    return order, load_views(uow, lines, orders={order.id: order})


def _check_item_numbers(lines: tuple[LineFields, ...], errors: InputCollector) -> None:
    numbers = [f.item_number for f in lines]
    if any(n is not None for n in numbers):
        seen: set[str] = set()
        for i, n in enumerate(numbers):
            if n is None:
                errors.add(
                    ("orderLineItems", i, "itemNumber"),
                    ErrorCode.PARAMETER_MISSING,
                    "When one order line item has an itemNumber, every order line item of the order needs one.",
                )
            elif n in seen:
                errors.add(
                    ("orderLineItems", i, "itemNumber"), ErrorCode.INVALID_VALUE, f"The itemNumber {n} is repeated."
                )
            else:
                seen.add(n)


def _originals(
    uow: UnitOfWork, lines: tuple[LineFields, ...], orgs: frozenset[str] | None
) -> dict[tuple[str, str], OrderLineItem]:
    """The lines the return lines name, by (order number, item number); orders outside `orgs` are left out."""
    numbers = {f.original_order_number for f in lines if f.original_order_number}
    if not numbers:
        return {}
    query = (
        select(Order.order_number, OrderLineItem)
        .join(OrderLineItem, (OrderLineItem.tenant_id == Order.tenant_id) & (OrderLineItem.order_id == Order.id))
        .where(Order.tenant_id == uow.tenant_id, Order.order_number.in_(numbers))
    )
    if orgs is not None:
        # An order belongs to its account's org (as get_order reads it).
        query = query.join(Customer, (Customer.tenant_id == Order.tenant_id) & (Customer.id == Order.account_id))
        query = query.where(scope_condition(orgs))
    return {(number, line.item_number): line for number, line in uow.session.execute(query)}


def _owner(
    uow: UnitOfWork, ctx: _Context, number: str | None, path: tuple[str | int, ...], errors: InputCollector
) -> Customer:
    if number is None:
        return ctx.account
    if number not in ctx.owners:
        try:
            ctx.owners[number] = find_account(uow, number, orgs=ctx.orgs)
        except NotFound:
            ctx.owners[number] = None
    owner = ctx.owners[number]
    if owner is None:
        errors.not_found(path, "account", number)
        return ctx.account
    return owner


def _required(f: LineFields, names: tuple[str, ...], path: tuple[str | int, ...], errors: InputCollector) -> None:
    values = {
        "itemName": f.item_name,
        "itemType": f.item_type,
        "quantity": f.quantity,
        "originalOrderNumber": f.original_order_number,
        "originalOrderLineItemNumber": f.original_order_line_item_number,
    }
    for name in names:
        if values[name] is None:
            errors.add((*path, name), ErrorCode.PARAMETER_MISSING, f"{name} is required.")


def _build_line(uow: UnitOfWork, ctx: _Context, i: int, f: LineFields, errors: InputCollector) -> OrderLineItem:
    path: tuple[str | int, ...] = ("orderLineItems", i)
    category = f.item_category or ItemCategory.SALES
    rule = f.billing_rule or BillingRule.WITHOUT_FULFILLMENT
    state = f.item_state or ItemState.EXECUTING
    problem = creation_state_error(rule, state)
    if problem:
        errors.add((*path, "itemState"), ErrorCode.RULE_VIOLATION, problem)
    if state == ItemState.SENT_TO_BILLING and (problem := sent_to_billing_error(f.bill_target_date)):
        errors.add((*path, "billTargetDate"), ErrorCode.RULE_VIOLATION, problem)
    currency = (f.currency or account_currency(ctx.account)).lower()
    if not is_known_currency(currency):
        errors.add((*path, "currency"), ErrorCode.INVALID_VALUE, f"Invalid currency: {currency.upper()}.")
        currency = account_currency(ctx.account)
    start = f.transaction_start_date or ctx.order_date
    end = f.transaction_end_date or start
    if end < start:
        errors.add(
            (*path, "transactionEndDate"),
            ErrorCode.INVALID_VALUE,
            "transactionEndDate must not be before transactionStartDate.",
        )
    quantity = f.quantity if f.quantity is not None else Decimal(0)
    if quantity < 0:
        errors.add((*path, "quantity"), ErrorCode.INVALID_VALUE, "Negative quantities are not supported.")
    owner = _owner(uow, ctx, f.owner_account_number, (*path, "ownerAccountNumber"), errors)
    row = OrderLineItem(
        tenant_id=uow.tenant_id,
        id=new_zuora_id(),
        order_id=ctx.order_id,
        item_number=f.item_number or "",
        account_id=ctx.account.id,
        owner_account_id=owner.id,
        item_state=state.value,
        item_category=category.value,
        billing_rule=rule.value,
        item_type=f.item_type,
        item_name=f.item_name,
        description=f.description,
        currency=currency,
        quantity=quantity,
        inline_discount_type=f.inline_discount_type.value if f.inline_discount_type else None,
        bill_target_date=iso(f.bill_target_date),
        transaction_start_date=start.isoformat(),
        transaction_end_date=end.isoformat(),
        uom=f.uom,
        product_code=f.product_code,
        sent_to_billing_at=uow.now if state == ItemState.SENT_TO_BILLING else None,
        attrs=dict(f.attrs),
        custom_fields=dict(f.custom_fields),
        updated=uow.now,
    )
    if category == ItemCategory.RETURN:
        _required(f, ("originalOrderNumber", "originalOrderLineItemNumber", "quantity", "itemName"), path, errors)
        if ctx.category != "Return":
            errors.add(
                (*path, "itemCategory"),
                ErrorCode.RULE_VIOLATION,
                "A return order line item needs an order of category Return.",
            )
        _as_return(ctx, row, f, state, path, errors)
    else:
        _required(f, ("itemName", "itemType", "quantity"), path, errors)
        if f.amount_per_unit is None and f.list_price_per_unit is None:
            errors.add(
                (*path, "amountPerUnit"), ErrorCode.PARAMETER_MISSING, "amountPerUnit or listPricePerUnit is required."
            )
        _price(ctx, row, f, currency, path, errors)
    return row


def _price(
    ctx: _Context, row: OrderLineItem, f: LineFields, currency: str, path: tuple[str | int, ...], errors: InputCollector
) -> None:
    kind = f.inline_discount_type
    if kind is None and f.inline_discount_per_unit is not None:
        kind = DiscountType.PERCENTAGE
    discount = f.inline_discount_per_unit
    if discount is not None and kind == DiscountType.FIXED_AMOUNT:
        discount = ctx.to_minor(discount, currency)
    pricing, problem = price_line(
        list_price_per_unit=ctx.to_minor(f.list_price_per_unit, currency)
        if f.list_price_per_unit is not None
        else None,
        amount_per_unit=ctx.to_minor(f.amount_per_unit, currency) if f.amount_per_unit is not None else None,
        discount_type=kind,
        discount_per_unit=discount,
        quantity=row.quantity,
    )
    if problem:
        errors.add((*path, problem.field), ErrorCode.INVALID_VALUE, problem.message)
    row.list_price_per_unit = pricing.list_price_per_unit
    row.amount_per_unit = pricing.amount_per_unit
    row.inline_discount_type = kind.value if kind is not None else None
    row.inline_discount_per_unit = discount


def _as_return(
    ctx: _Context,
    row: OrderLineItem,
    f: LineFields,
    state: ItemState,
    path: tuple[str | int, ...],
    errors: InputCollector,
) -> None:
    """A return line takes its price (and unset descriptive fields) from the sales line it returns."""
    row.list_price_per_unit = row.amount_per_unit = Decimal(0)
    if f.original_order_number is None or f.original_order_line_item_number is None:
        return
    original = ctx.originals.get((f.original_order_number, f.original_order_line_item_number))
    if original is None:
        ref = f"{f.original_order_number}/{f.original_order_line_item_number}"
        errors.not_found((*path, "originalOrderLineItemNumber"), "order line item", ref)
        return
    if problem := original_line_error(ItemCategory(original.item_category), ItemState(original.item_state)):
        errors.add((*path, "originalOrderLineItemNumber"), ErrorCode.RULE_VIOLATION, problem)
        return
    available = ctx.available.get(original.id, Decimal(0))
    if f.quantity is not None and (problem := return_quantity_error(f.quantity, available)):
        errors.add((*path, "quantity"), ErrorCode.RULE_VIOLATION, problem)
    elif f.quantity is not None and state in BOOKED_OR_LATER:
        ctx.available[original.id] = available - f.quantity  # later lines of the call see this return
    row.original_line_item_id = original.id
    row.currency = original.currency
    row.list_price_per_unit = original.list_price_per_unit
    row.amount_per_unit = original.amount_per_unit
    row.inline_discount_type = original.inline_discount_type
    row.inline_discount_per_unit = original.inline_discount_per_unit
    row.item_type = row.item_type or original.item_type
    row.uom = row.uom or original.uom
    row.product_code = row.product_code or original.product_code
