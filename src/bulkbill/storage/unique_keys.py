"""Which unique key a refused write clashed with, the same on PostgreSQL and SQLite.

PostgreSQL names the constraint (its name follows tables.NAMING); SQLite names the columns
("UNIQUE constraint failed: customers.tenant_id, customers.invoice_prefix"). Both come out as one
UniqueKey: the table and the columns other than tenant_id, which every key carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Index, PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.exc import IntegrityError

from bulkbill.storage.tables import Base

_SQLITE_PREFIXES = ("UNIQUE constraint failed: ", "PRIMARY KEY constraint failed: ")
_PG_UNIQUE_VIOLATION = "23505"


@dataclass(frozen=True)
class UniqueKey:
    """A unique key of one table, named by its columns (tenant_id left out)."""

    table: str
    columns: frozenset[str]

    @classmethod
    def of(cls, table: str, *columns: str) -> UniqueKey:
        return cls(table, frozenset(c for c in columns if c != "tenant_id"))


@cache
def _keys_by_name() -> dict[str, UniqueKey]:
    """Every unique constraint, primary key and unique index of the schema, by its database name."""
    keys: dict[str, UniqueKey] = {}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint) and isinstance(constraint.name, str):
                keys[constraint.name] = UniqueKey.of(table.name, *(c.name for c in constraint.columns))
        for index in table.indexes:
            if isinstance(index, Index) and index.unique and isinstance(index.name, str):
                keys[index.name] = UniqueKey.of(table.name, *(c.name for c in index.columns))
    return keys


def schema_keys() -> frozenset[UniqueKey]:
    """Every unique key of the schema (primary keys, unique constraints, unique indexes)."""
    return frozenset(_keys_by_name().values())


def violated_key(exc: IntegrityError) -> UniqueKey | None:
    """The unique key a write clashed with; None when the refusal was of another kind (a foreign key, NOT NULL)."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) is not None:
        if orig.sqlstate != _PG_UNIQUE_VIOLATION:  # type: ignore[union-attr]
            return None
        name = getattr(getattr(orig, "diag", None), "constraint_name", None)
        return _keys_by_name().get(name) if isinstance(name, str) else None
    message = str(orig)
    for prefix in _SQLITE_PREFIXES:
        if message.startswith(prefix):
            columns = [part.strip() for part in message.removeprefix(prefix).split(",")]
            tables = {column.partition(".")[0] for column in columns}
            if len(tables) == 1:
                return UniqueKey.of(tables.pop(), *(column.partition(".")[2] for column in columns))
    return None
