"""Gapless per-tenant numbers (A00000001, INV00000001, O-00000001): taken in the writing transaction."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bulkbill.services.uow import UnitOfWork
from bulkbill.storage.tables import Sequence


def next_value(uow: UnitOfWork, name: str) -> int:
    """The next number of a named sequence; rolled back with the transaction, so no gaps appear."""
    insert = pg_insert if uow.is_postgres else sqlite_insert
    uow.session.execute(
        insert(Sequence).values(tenant_id=uow.tenant_id, name=name, next_value=1).on_conflict_do_nothing()
    )
    # The UPDATE takes the row lock (PostgreSQL) inside the write transaction (SQLite: BEGIN IMMEDIATE).
    uow.session.execute(
        update(Sequence)
        .where(Sequence.tenant_id == uow.tenant_id, Sequence.name == name)
        .values(next_value=Sequence.next_value + 1)
    )
    value = uow.session.scalar(
        select(Sequence.next_value).where(Sequence.tenant_id == uow.tenant_id, Sequence.name == name)
    )
    assert value is not None
    return int(value) - 1


def next_number(uow: UnitOfWork, name: str, prefix: str, width: int = 8) -> str:
    """A formatted number such as INV00000001 (prefix "INV") or O-00000001 (prefix "O-")."""
    return f"{prefix}{next_value(uow, name):0{width}d}"
