"""The lines a bulk document edit touches: narrow rows in, one statement per set of changed columns out.

PUT /v1/invoices re-prices up to 50 invoices of many items in one call. Each line is read as one
plain row (the item's value columns, its JSON columns kept as their stored text until a rule needs
them), and the columns that changed on every edited item are written together with
item_rows.write_item_changes (UPDATE … FROM unnest on PostgreSQL, an executemany on SQLite): no
ORM object is made for a line, and the session's identity map does not grow with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, bindparam, select

from bulkbill.core.invoicing.items import ItemValues
from bulkbill.services.invoicing.invoice_totals import LINE_ID, FigureRow
from bulkbill.services.invoicing.item_rows import VALUE_COLUMNS, values_from_columns
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.bulk import driver_rows
from bulkbill.storage.rows import as_read, decoded, row_decoders, stored_json
from bulkbill.storage.tables import InvoiceItem

_COLUMNS = (
    InvoiceItem.id,
    InvoiceItem.invoice_id,
    LINE_ID,
    *map(as_read, VALUE_COLUMNS),  # values_from_columns' order
    # what the edit merges into, and the line's figures (compared as text by the totals)
    *map(
        as_read,
        (
            InvoiceItem.extras,
            InvoiceItem.custom_fields,
            InvoiceItem.discount_amounts,
            InvoiceItem.taxes,
            InvoiceItem.manual_taxes,
        ),
    ),
)
# Built once and read from the driver (no SQLAlchemy result processing for ~1,000 rows of a bulk call):
# every line of the given documents, in display order. Decimals and SQLite's booleans are decoded as
# the ORM's column types decode them (storage.rows.driver_decoder); JSON stays text (below).
_LINES = (
    select(*_COLUMNS)
    .where(
        InvoiceItem.tenant_id == bindparam("tenant_id"), InvoiceItem.invoice_id.in_(bindparam("ids", expanding=True))
    )
    .order_by(InvoiceItem.invoice_id, InvoiceItem.position)
)
_DECODERS = row_decoders(_COLUMNS)  # the JSON columns are read as text (as_read): no decoder for them
_VALUE_KEYS = [c.key for c in VALUE_COLUMNS]
_JSON_VALUES = tuple(i for i, c in enumerate(VALUE_COLUMNS) if isinstance(c.type, JSON))
_DISCOUNTS, _METADATA = _VALUE_KEYS.index("discounts"), _VALUE_KEYS.index("metadata_")
_START = _VALUE_KEYS.index("period_start")  # period_end follows
_VALUES_END = 3 + len(VALUE_COLUMNS)  # id, invoice_id, line_id, then the value columns
# Where a discount item names the item it applies to (core.applied_items), inside `extras`.
APPLIED_TO_KEY = "appliedToItemId"


class EditedLine:
    """One line of an edited document, as read: its values and details decoded only when asked for."""

    __slots__ = (
        "_custom",
        "_custom_text",
        "_extras",
        "_extras_text",
        "_manual_text",
        "_value_row",
        "_values",
        "discount_amounts",
        "id",
        "invoice_id",
        "line_id",
        "taxes",
    )

    def __init__(self, row: tuple[Any, ...]) -> None:
        self.id: str = row[0]
        self.invoice_id: str = row[1]
        self.line_id: str = row[2]
        self._value_row = row[3:_VALUES_END]
        self._extras_text, self._custom_text, amounts, taxes, self._manual_text = row[_VALUES_END:]
        self.discount_amounts: str = amounts or "[]"
        self.taxes: str = taxes or "[]"
        self._values: ItemValues | None = None
        self._extras: dict[str, Any] | None = None
        self._custom: dict[str, Any] | None = None

    @property
    def values(self) -> ItemValues:
        """The core's view of the item as stored."""
        if self._values is None:
            raw = list(self._value_row)
            for i in _JSON_VALUES:
                raw[i] = stored_json(raw[i])
            raw[_DISCOUNTS] = raw[_DISCOUNTS] or []
            raw[_METADATA] = raw[_METADATA] or {}
            self._values = values_from_columns(raw)
        return self._values

    @property
    def period(self) -> tuple[int, int]:
        return self._value_row[_START], self._value_row[_START + 1]

    @property
    def extras(self) -> dict[str, Any]:
        """The item's stored details (Zuora fields with no core meaning)."""
        if self._extras is None:
            self._extras = stored_json(self._extras_text) or {}
        return self._extras

    @property
    def custom_fields(self) -> dict[str, Any]:
        if self._custom is None:
            self._custom = stored_json(self._custom_text) or {}
        return self._custom

    def detail(self, key: str) -> Any:
        """One stored detail, or None (decoded only when its name is in the stored text)."""
        text = self._extras_text
        return self.extras.get(key) if text and key in text else None

    @property
    def applied_to(self) -> str | None:
        """For a discount item, the id of the item it applies to."""
        parent = self.detail(APPLIED_TO_KEY)
        return parent if isinstance(parent, str) else None

    def figure_row(self, stored: Mapping[str, Any] | None = None) -> FigureRow:
        """The line's inputs to the invoice arithmetic: as read, or with the value columns just `stored`."""
        (kind, _c, _u, _q, amount, _d, discountable, discounts, rates, _s, _e, _m, _p, product_id, _a) = self._value_row
        if stored is None:
            discounts, rates = stored_json(discounts) or [], stored_json(rates)
        else:
            amount, discountable, product_id = stored["amount"], stored["discountable"], stored["product_id"]
            discounts, rates = list(stored["discounts"]), stored["tax_rates"]
        return FigureRow(
            self.line_id,
            self.id,
            kind,
            amount,
            discountable,
            discounts,
            rates,
            self.discount_amounts,
            self.taxes,
            product_id,
            stored_json(self._manual_text),
        )


def load_edited_lines(uow: UnitOfWork, invoice_ids: set[str]) -> dict[str, list[EditedLine]]:
    """The lines of several documents, in display order, in one query."""
    by_invoice: dict[str, list[EditedLine]] = {i: [] for i in invoice_ids}
    if not invoice_ids:
        return by_invoice
    for row in driver_rows(uow.session, _LINES, {"tenant_id": uow.tenant_id, "ids": sorted(invoice_ids)}):
        line = EditedLine(tuple(decoded(row, _DECODERS)))
        by_invoice[line.invoice_id].append(line)
    return by_invoice
