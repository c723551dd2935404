"""Billable item rows ↔ core ItemValues, and writing planned values back."""

from __future__ import annotations

from sqlalchemy import select

from bulkbill.core.commands import DiscountRef, ItemKind
from bulkbill.core.items import ItemValues
from bulkbill.services.discounts import apply_discounts
from bulkbill.services.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import InvoiceItem, Product


def item_values(item: InvoiceItem) -> ItemValues:
    """The core's view of a stored item."""
    return ItemValues(
        kind=ItemKind(item.kind),
        currency=item.currency,
        unit_amount_decimal=item.unit_amount_decimal,
        quantity=item.quantity_decimal,
        amount=item.amount,
        description=item.description,
        discountable=item.discountable,
        discounts=tuple(DiscountRef(discount=d) for d in item.discounts),
        tax_rates=tuple(item.tax_rates) if item.tax_rates is not None else None,
        period=(item.period_start, item.period_end),
        metadata=dict(item.metadata_),
        price_id=item.price_id,
        product_id=item.product_id,
        amount_defined=item.amount_defined,
    )


def write_values(uow: UnitOfWork, item: InvoiceItem, values: ItemValues) -> None:
    """Store planned values: create an inline product, turn new coupons into discounts."""
    product_id = values.product_id
    if values.new_product_name is not None:
        product = Product(
            tenant_id=uow.tenant_id,
            id=new_id("prod_", 14),
            name=values.new_product_name,
            active=True,
            metadata_={},
            created=uow.now,
            updated=uow.now,
            deleted=False,
        )
        uow.session.add(product)
        product_id = product.id
    discount_ids = apply_discounts(uow, values.discounts, customer_id=item.customer_id, invoice_item_id=item.id)
    item.currency = values.currency
    item.unit_amount_decimal = values.unit_amount_decimal
    item.quantity_decimal = values.quantity
    item.amount = values.amount
    item.amount_defined = values.amount_defined
    item.description = values.description
    item.discountable = values.discountable
    if item.discounts != discount_ids:
        item.discounts = discount_ids
    new_rates = list(values.tax_rates) if values.tax_rates is not None else None
    if item.tax_rates != new_rates:
        item.tax_rates = new_rates
    item.period_start, item.period_end = values.period
    if item.metadata_ != dict(values.metadata):
        item.metadata_ = dict(values.metadata)
    item.price_id = values.price_id
    item.product_id = product_id


def new_item_row(uow: UnitOfWork, *, customer_id: str, invoice_id: str | None, values: ItemValues) -> InvoiceItem:
    """A new item row carrying `values`."""
    item = InvoiceItem(
        tenant_id=uow.tenant_id,
        id=new_id("ii_"),
        customer_id=customer_id,
        invoice_id=invoice_id,
        kind=values.kind.value,
        created=uow.now,
        discounts=[],
        metadata_={},
    )
    write_values(uow, item, values)
    uow.session.add(item)
    return item


def get_items(uow: UnitOfWork, ids: set[str]) -> dict[str, InvoiceItem]:
    if not ids:
        return {}
    rows = uow.session.scalars(
        select(InvoiceItem).where(InvoiceItem.tenant_id == uow.tenant_id, InvoiceItem.id.in_(ids))
    )
    return {i.id: i for i in rows}
