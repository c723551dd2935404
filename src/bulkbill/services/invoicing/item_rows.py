"""Billable item rows ↔ core ItemValues, and writing planned values back."""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import bindparam, select

from bulkbill.core.invoicing.commands import DiscountRef, ItemKind
from bulkbill.core.invoicing.items import ItemValues
from bulkbill.services.catalog.discounts import apply_discounts
from bulkbill.services.invoicing.invoice_rows import NO_LINE
from bulkbill.services.platform.locks import lock_rows
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.bulk import write_changes
from bulkbill.storage.ids import new_id
from bulkbill.storage.rows import new_object
from bulkbill.storage.tables import InvoiceItem, Product


class ItemFields(Protocol):
    """An item as rendering reads it: a loaded InvoiceItem, or the values in hand of one just written (HeldItem)."""

    @property
    def id(self) -> str: ...
    @property
    def customer_id(self) -> str: ...
    @property
    def invoice_id(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def unit_amount_decimal(self) -> Decimal: ...
    @property
    def quantity_decimal(self) -> Decimal: ...
    @property
    def amount(self) -> int: ...
    @property
    def description(self) -> str | None: ...
    @property
    def discountable(self) -> bool: ...
    @property
    def discounts(self) -> list[str]: ...
    @property
    def tax_rates(self) -> list[str] | None: ...
    @property
    def period_start(self) -> int: ...
    @property
    def period_end(self) -> int: ...
    @property
    def metadata_(self) -> dict[str, str]: ...
    @property
    def price_id(self) -> str | None: ...
    @property
    def product_id(self) -> str | None: ...
    @property
    def subscription_id(self) -> str | None: ...
    @property
    def subscription_item_id(self) -> str | None: ...
    @property
    def created(self) -> int: ...
    @property
    def discount_amounts(self) -> list[dict[str, Any]] | None: ...

    @property
    def extras(self) -> dict[str, Any]: ...


# Not frozen: a frozen dataclass's __init__ sets each of its 22 fields through object.__setattr__ (4.0
# against 1.6 µs an item), and events at commit make one for every line they show. Nothing changes one.
@dataclass(slots=True)
class HeldItem:
    """A new item's stored values as the call wrote them: its events render from these, not from a re-read."""

    id: str
    customer_id: str
    invoice_id: str | None
    kind: str
    currency: str
    unit_amount_decimal: Decimal
    quantity_decimal: Decimal
    amount: int
    description: str | None
    discountable: bool
    discounts: list[str]
    tax_rates: list[str] | None
    period_start: int
    period_end: int
    metadata_: dict[str, str]
    price_id: str | None
    product_id: str | None
    subscription_id: str | None
    subscription_item_id: str | None
    created: int
    discount_amounts: list[dict[str, Any]] | None
    extras: dict[str, Any]


HELD_FIELDS = tuple(HeldItem.__dataclass_fields__)


_HELD_VALUES = operator.itemgetter(*HELD_FIELDS)
_HELD_DISCOUNT_AMOUNTS = HELD_FIELDS.index("discount_amounts")


def held_item(row: Mapping[str, Any], discount_amounts: list[dict[str, Any]] | str) -> HeldItem:
    """A HeldItem from a new item's row (new_item_columns) and its line's discount amounts after the totals."""
    fields = list(_HELD_VALUES(row))
    # Unchanged by the totals, a new line's figures are still the stored text ("[]").
    if isinstance(discount_amounts, str):
        discount_amounts = [] if discount_amounts == "[]" else json.loads(discount_amounts)
    fields[_HELD_DISCOUNT_AMOUNTS] = discount_amounts
    return HeldItem(*fields)


# The item columns the core's ItemValues is made of (read as plain rows on hot paths).
VALUE_COLUMNS = (
    InvoiceItem.kind,
    InvoiceItem.currency,
    InvoiceItem.unit_amount_decimal,
    InvoiceItem.quantity_decimal,
    InvoiceItem.amount,
    InvoiceItem.description,
    InvoiceItem.discountable,
    InvoiceItem.discounts,
    InvoiceItem.tax_rates,
    InvoiceItem.period_start,
    InvoiceItem.period_end,
    InvoiceItem.metadata_,
    InvoiceItem.price_id,
    InvoiceItem.product_id,
    InvoiceItem.amount_defined,
)


_KINDS = {kind.value: kind for kind in ItemKind}  # a stored kind's enum member, without the enum's call


def values_from_columns(row: Sequence[Any]) -> ItemValues:
    """ItemValues from a row of VALUE_COLUMNS, in that order."""
    (
        kind,
        currency,
        unit,
        quantity,
        amount,
        description,
        discountable,
        discounts,
        tax_rates,
        start,
        end,
        metadata,
        price_id,
        product_id,
        amount_defined,
    ) = row
    return ItemValues(
        kind=_KINDS[kind],
        currency=currency,
        unit_amount_decimal=unit,
        quantity=quantity,
        amount=amount,
        description=description,
        discountable=discountable,
        discounts=tuple(DiscountRef(discount=d) for d in discounts),
        tax_rates=tuple(tax_rates) if tax_rates is not None else None,
        period=(start, end),
        metadata=dict(metadata),
        price_id=price_id,
        product_id=product_id,
        amount_defined=amount_defined,
    )


def item_values(item: InvoiceItem) -> ItemValues:
    """The core's view of a stored item."""
    return values_from_columns([getattr(item, c.key) for c in VALUE_COLUMNS])


def value_columns(values: ItemValues, *, product_id: str | None, discount_ids: list[str]) -> dict[str, Any]:
    """The columns ItemValues are stored in (the product and discounts already stored, by id)."""
    return {
        "currency": values.currency,
        "unit_amount_decimal": values.unit_amount_decimal,
        "quantity_decimal": values.quantity,
        "amount": values.amount,
        "amount_defined": values.amount_defined,
        "description": values.description,
        "discountable": values.discountable,
        "discounts": discount_ids,
        "tax_rates": list(values.tax_rates) if values.tax_rates is not None else None,
        "period_start": values.period[0],
        "period_end": values.period[1],
        "metadata_": dict(values.metadata),
        "price_id": values.price_id,
        "product_id": product_id,
    }


def stored_columns(uow: UnitOfWork, values: ItemValues, *, customer_id: str, item_id: str) -> dict[str, Any]:
    """Column values for planned ItemValues: an inline product is created, new coupons become discounts."""
    product_id = values.product_id
    data = values.new_product
    if data is not None:
        product = Product(
            tenant_id=uow.tenant_id,
            id=new_id("prod_", 14),
            name=data.name,
            description=data.description,
            active=True,
            unit_label=data.unit_label,
            metadata_=dict(data.metadata),
            created=uow.now,
            updated=uow.now,
            deleted=False,
        )
        uow.session.add(product)
        product_id = product.id
    discount_ids = apply_discounts(uow, values.discounts, customer_id=customer_id, invoice_item_id=item_id)
    return value_columns(values, product_id=product_id, discount_ids=discount_ids)


def write_values(uow: UnitOfWork, item: InvoiceItem, values: ItemValues) -> None:
    """Store planned values on a loaded item (only changed attributes are written)."""
    for name, value in stored_columns(uow, values, customer_id=item.customer_id, item_id=item.id).items():
        if getattr(item, name) != value:
            setattr(item, name, value)


def changed_columns(
    uow: UnitOfWork, before: ItemValues, after: ItemValues, *, customer_id: str, item_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stored columns of an item's planned values (stored_columns), and those of them that differ from `before`."""
    columns = stored_columns(uow, after, customer_id=customer_id, item_id=item_id)
    # Stored values never carry new coupons or inline products, so `before` maps to columns as is.
    old = value_columns(
        before,
        product_id=before.product_id,
        discount_ids=[d.discount for d in before.discounts if d.discount is not None],
    )
    return columns, {k: v for k, v in columns.items() if old[k] != v}


def write_many(uow: UnitOfWork, planned: Mapping[str, tuple[str, ItemValues, ItemValues]]) -> dict[str, dict[str, Any]]:
    """Store planned values for many items: item id → (customer, before, after).

    Only the columns that changed are written (write_item_changes). Returns every item's stored column
    values, for the totals that follow.
    """
    stored: dict[str, dict[str, Any]] = {}
    changes: dict[str, dict[str, Any]] = {}
    for item_id, (customer, before, after) in planned.items():
        columns, changed = changed_columns(uow, before, after, customer_id=customer, item_id=item_id)
        stored[item_id] = columns
        if changed:
            changes[item_id] = changed
    if changes:
        uow.session.flush()  # discounts and products created above exist before the items point at them
        write_item_changes(uow, changes)
    return stored


def write_item_changes(uow: UnitOfWork, changes: Mapping[str, Mapping[str, Any]]) -> None:
    """Write each item's changed attributes (item id → attribute → value): one statement per set of names
    (storage.bulk.write_changes: UPDATE … FROM unnest on PostgreSQL, an executemany on SQLite)."""
    write_changes(uow.session, InvoiceItem, uow.tenant_id, changes)


def new_item_columns(
    tenant_id: str,
    *,
    item_id: str,
    customer_id: str,
    invoice_id: str | None,
    kind: str,
    created: int,
    values: Mapping[str, Any],
    subscription_id: str | None = None,
    subscription_item_id: str | None = None,
    source_type: str | None = None,
    source_id: str | None = None,
    custom_fields: Mapping[str, Any] | None = None,
    extras: Mapping[str, Any] | str | None = None,
    line: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Every column of a new item: its value columns (stored_columns), what it bills, for whom and where,
    and its line on that invoice (invoice_rows.line_columns; none: pending, or made a line later).

    Every path that makes items builds them here: Stripe invoice items and lines, subscription
    lines, Zuora standalone items, and the set-based writer of runBilling and bill runs (which
    passes `extras` already written as JSON text, storage.rows.JsonText).
    """
    return {
        "tenant_id": tenant_id,
        "id": item_id,
        "customer_id": customer_id,
        "invoice_id": invoice_id,
        "kind": kind,
        **values,
        "subscription_id": subscription_id,
        "subscription_item_id": subscription_item_id,
        "created": created,
        "source_type": source_type,
        "source_id": source_id,
        "custom_fields": dict(custom_fields) if custom_fields is not None else {},
        "extras": extras if isinstance(extras, str) else dict(extras) if extras is not None else {},
        "manual_taxes": None,
        **(line if line is not None else NO_LINE),
    }


def new_item_row(
    uow: UnitOfWork, *, customer_id: str, invoice_id: str | None, values: ItemValues, **row: Any
) -> InvoiceItem:
    """A new item row carrying `values`; `row` names what else it carries (new_item_columns' keywords)."""
    item_id = new_id("ii_")
    columns = stored_columns(uow, values, customer_id=customer_id, item_id=item_id)
    item = new_object(
        InvoiceItem,
        new_item_columns(
            uow.tenant_id,
            item_id=item_id,
            customer_id=customer_id,
            invoice_id=invoice_id,
            kind=values.kind.value,
            created=uow.now,
            values=columns,
            **row,
        ),
    )
    uow.session.add(item)
    return item


# Where a discount item names the item it applies to (written by the Zuora document writer).
APPLIED_TO = InvoiceItem.extras["appliedToItemId"].as_string()
# Built once (every update and removal of lines reads it).
_APPLIED_TO = select(InvoiceItem.id, APPLIED_TO).where(
    InvoiceItem.tenant_id == bindparam("tenant_id"),
    InvoiceItem.invoice_id == bindparam("invoice_id"),
    APPLIED_TO.is_not(None),
)


def applied_to_of(uow: UnitOfWork, invoice_id: str) -> dict[str, str]:
    """The invoice's discount items, each with the item it applies to (the map core.applied_items reads)."""
    rows = uow.session.execute(_APPLIED_TO, {"tenant_id": uow.tenant_id, "invoice_id": invoice_id})
    return {item_id: target for item_id, target in rows}


def lock_items(uow: UnitOfWork, ids: set[str]) -> dict[str, InvoiceItem]:
    """Items by id, row-locked (in id order) on PostgreSQL: an item checked as pending stays pending
    until this transaction assigns it (the invoice is locked first, so the order is always the same)."""
    return lock_rows(uow, InvoiceItem, ids)
