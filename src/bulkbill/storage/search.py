"""A search query's AST (core/search) as one SQL condition, the same on SQLite and PostgreSQL.

Each resource names, per searchable field, its kind and the column (or expression) it reads; a
field bulkbill never fills (e.g. an invoice's receipt_number) reads SQL NULL, which no clause matches
and every negated clause does. Negation follows Stripe: `-email:"x"` matches an absent email too.
Case-insensitive string matches compare lower() on both sides (ASCII only on SQLite, whose lower()
folds nothing else).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, false, func, not_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from bulkbill.core.search.query import Clause, Join, Kind, Null, Op, Query


@dataclass(frozen=True)
class SearchField:
    """A searchable field: its kind, and the column (a JSON column for metadata) it reads."""

    kind: Kind
    column: Any


def _like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _compare(column: Any, op: Op, value: Any) -> ColumnElement[bool]:
    if op in (Op.EXACT, Op.EQ):
        return column == value  # type: ignore[no-any-return]
    if op is Op.GT:
        return column > value  # type: ignore[no-any-return]
    if op is Op.GTE:
        return column >= value  # type: ignore[no-any-return]
    if op is Op.LT:
        return column < value  # type: ignore[no-any-return]
    return column <= value  # type: ignore[no-any-return]


def _metadata_value(column: Any, key: str, dialect: str) -> Any:
    """The text of one metadata key (NULL when absent), for any key: SQLite's JSON paths cannot quote
    a key holding a double quote, so there the key is looked up among json_each's rows instead."""
    if dialect == "postgresql":
        return column[key].as_string()
    entries = func.json_each(column).table_valued("key", "value")
    return select(entries.c.value).where(entries.c.key == key).scalar_subquery()


def _condition(clause: Clause, field: SearchField, dialect: str) -> ColumnElement[bool]:
    column = field.column
    if field.kind is Kind.METADATA:
        assert clause.key is not None
        column = _metadata_value(column, clause.key, dialect)
        if isinstance(clause.value, Null):
            return column.isnot(None) if clause.negated else column.is_(None)  # type: ignore[no-any-return]
    if column is None:  # a field bulkbill never fills
        return true() if clause.negated else false()
    matched: ColumnElement[bool]
    if field.kind is Kind.STRING:
        lowered = func.lower(column, type_=String)
        if clause.op is Op.SUBSTRING:
            matched = lowered.like(_like_pattern(str(clause.value)), escape="\\")
        else:
            matched = lowered == str(clause.value).lower()
    elif field.kind is Kind.BOOLEAN:
        matched = column.is_(bool(clause.value))
    else:
        matched = _compare(column, clause.op, clause.value)
    if clause.negated:  # an absent value does not match, so its negation does
        return not_(and_(column.isnot(None), matched))
    return and_(column.isnot(None), matched)


def search_condition(query: Query, fields: Mapping[str, SearchField], dialect: str) -> ColumnElement[bool]:
    """The rows a query matches on the named database: its clauses' conditions joined by its AND or OR."""
    conditions = [_condition(clause, fields[clause.field], dialect) for clause in query.clauses]
    if not conditions:
        return not_(false())
    return or_(*conditions) if query.join is Join.OR else and_(*conditions)
