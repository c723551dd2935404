"""Document lists for Zuora's Object Query: filters, sorts and offset pages over core invoices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, not_, or_, select

from bulkbill.core.invoicing.document_edits import day_start
from bulkbill.services.customers.org_scope import resolve_orgs, scope_condition
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer, Invoice
from bulkbill.storage.tables_orders import BillRun

# Neutral field names the dialect maps its own onto.
FIELDS = ("id", "account_id", "number", "status", "document_date", "due_date", "source_id")
DAY = 86400


@dataclass(frozen=True)
class Filter:
    """field OP values; values are strings, or dates for the date fields, or core statuses for status."""

    field: str
    op: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool = False


@dataclass(frozen=True)
class DocumentPage:
    documents: list[Invoice]
    has_more: bool


def _text_condition(column: Any, op: str, values: Sequence[Any]) -> ColumnElement[bool]:
    value = values[0]
    conditions: dict[str, ColumnElement[bool]] = {
        "EQ": column == value,
        "NE": or_(column != value, column.is_(None)),
        "LT": column < value,
        "LE": column <= value,
        "GT": column > value,
        "GE": column >= value,
        "IN": column.in_(list(values)),
    }
    return conditions[op]


def _day_condition(column: Any, op: str, day: dt.date) -> ColumnElement[bool]:
    """A timestamp column against a whole UTC day."""
    start = day_start(day)
    conditions: dict[str, ColumnElement[bool]] = {
        "EQ": and_(column >= start, column < start + DAY),
        "NE": or_(column < start, column >= start + DAY, column.is_(None)),
        "LT": column < start,
        "LE": column < start + DAY,
        "GT": column >= start + DAY,
        "GE": column >= start,
    }
    return conditions[op]


def _date_condition(f: Filter) -> ColumnElement[bool]:
    """The document date: the stored date, else (documents made without one) the creation day."""
    days: list[dt.date] = list(f.values)
    op = "EQ" if f.op == "IN" else f.op
    parts = []
    for day in days:
        stored = _text_condition(Invoice.invoice_date, op, [day.isoformat()])
        derived = and_(Invoice.invoice_date.is_(None), _day_condition(Invoice.created, op, day))
        parts.append(or_(and_(Invoice.invoice_date.is_not(None), stored), derived))
    return or_(*parts) if parts else false()


def _condition(f: Filter) -> ColumnElement[bool]:
    if f.field == "document_date":
        return _date_condition(f)
    if f.field == "due_date":
        parts = [_day_condition(Invoice.due_date, "EQ" if f.op == "IN" else f.op, d) for d in f.values]
        return or_(*parts) if parts else false()
    if f.field == "status":
        statuses = [s for group in f.values for s in group]
        inside = Invoice.status.in_(statuses)
        return not_(inside) if f.op == "NE" else inside
    if f.field == "source_id":
        numbers = select(BillRun.id).where(
            BillRun.tenant_id == Invoice.tenant_id, BillRun.bill_run_number.in_(f.values)
        )
        inside = Invoice.bill_run_id.in_(numbers.scalar_subquery())
        return not_(inside) if f.op == "NE" else inside
    column = {"id": Invoice.id, "account_id": Invoice.customer_id, "number": Invoice.number}[f.field]
    return _text_condition(column, f.op, f.values)


_SORT_COLUMNS = {
    "id": Invoice.id,
    "account_id": Invoice.customer_id,
    "number": Invoice.number,
    "status": Invoice.status,
    "document_date": Invoice.invoice_date,
    "due_date": Invoice.due_date,
    "source_id": Invoice.bill_run_id,
}


def query_documents(
    uow: UnitOfWork,
    *,
    document_type: str,
    filters: Sequence[Filter],
    sorts: Sequence[Sort],
    limit: int,
    offset: int,
    org_ids: list[str] | None,
) -> DocumentPage:
    """One page of the tenant's documents of a type, in the call's orgs; default order is creation order."""
    orgs = resolve_orgs(uow, org_ids)
    query = (
        select(Invoice)
        .join(Customer, and_(Customer.tenant_id == Invoice.tenant_id, Customer.id == Invoice.customer_id))
        .where(Invoice.tenant_id == uow.tenant_id, Invoice.document_type == document_type, scope_condition(orgs))
    )
    for f in filters:
        query = query.where(_condition(f))
    order = [_SORT_COLUMNS[s.field].desc() if s.descending else _SORT_COLUMNS[s.field].asc() for s in sorts]
    query = query.order_by(*order, Invoice.created.asc(), Invoice.id.asc()).offset(offset).limit(limit + 1)
    rows = list(uow.session.scalars(query))
    return DocumentPage(rows[:limit], len(rows) > limit)


def bill_run_numbers(uow: UnitOfWork, invoices: Sequence[Invoice]) -> dict[str, str]:
    """Bill-run id → number for the documents' bill runs (a bill-run document's sourceId)."""
    ids = {i.bill_run_id for i in invoices if i.bill_run_id}
    if not ids:
        return {}
    rows = uow.session.execute(
        select(BillRun.id, BillRun.bill_run_number).where(BillRun.tenant_id == uow.tenant_id, BillRun.id.in_(ids))
    )
    return {i: n for i, n in rows}
