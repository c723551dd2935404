"""Many new items on one draft at once: rows from the shared factories, written in one bulk insert.

A standalone Zuora invoice may carry a thousand items with ten discount items each. Made as ORM
objects they cost seconds of the write lock; here each item row, its line included, comes from the
same factories every writer uses (item_rows.new_item_columns, invoice_rows.line_columns), encoded
with the layout the set-based bill-run writer uses, and inserted with storage.bulk.insert_rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bulkbill.core.invoicing.items import ItemValues
from bulkbill.services.invoicing.invoice_rows import line_columns
from bulkbill.services.invoicing.invoice_totals import FigureRow
from bulkbill.services.invoicing.item_rows import new_item_columns, stored_columns
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.bulk import insert_rows
from bulkbill.storage.ids import new_ids
from bulkbill.storage.rows import RowLayout
from bulkbill.storage.tables import Invoice, InvoiceItem

# The stored column order of the items (each its line), shared with the set-based writer (billing_sets).
ITEMS = RowLayout(InvoiceItem)


@dataclass(frozen=True)
class NewItemRow:
    """A planned item to put on a draft: its id (chosen first, so other items can name it) and what it stores."""

    item_id: str
    values: ItemValues
    extras: Mapping[str, Any] = field(default_factory=dict)
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


def insert_new_items(uow: UnitOfWork, invoice: Invoice, items: Sequence[NewItemRow]) -> list[FigureRow]:
    """Put new items on a draft as its next lines, in order; returns their rows for the invoice arithmetic
    (invoice_totals.recalculate_rows), with no line figures yet."""
    item_rows: list[list[Any]] = []
    figure_rows: list[FigureRow] = []
    line_ids = new_ids("il_", len(items))
    first = invoice.next_line_position
    for k, new in enumerate(items):
        columns = stored_columns(uow, new.values, customer_id=invoice.customer_id, item_id=new.item_id)
        item = new_item_columns(
            uow.tenant_id,
            item_id=new.item_id,
            customer_id=invoice.customer_id,
            invoice_id=invoice.id,
            kind=new.values.kind.value,
            created=uow.now,
            values=columns,
            extras=new.extras,
            custom_fields=new.custom_fields,
            line=line_columns(line_id=line_ids[k], position=first + k),
        )
        item_rows.append(ITEMS.encode(item))
        figure_rows.append(
            FigureRow(
                line_ids[k],
                new.item_id,
                item["kind"],
                item["amount"],
                item["discountable"],
                list(item["discounts"]),
                item["tax_rates"],
                "[]",
                "[]",
                item["product_id"],
            )
        )
    invoice.next_line_position = first + len(items)
    # The invoice, and any discount or product stored_columns made, exist before rows point at them.
    uow.session.flush()
    insert_rows(uow.session, ITEMS.table, ITEMS.columns, item_rows)
    return figure_rows


__all__ = ["ITEMS", "NewItemRow", "insert_new_items"]
