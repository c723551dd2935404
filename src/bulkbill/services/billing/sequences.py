"""Gapless per-tenant numbers (A00000001, INV00000001, O-00000001): taken in the writing transaction."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Sequence


def take_values(uow: UnitOfWork, name: str, count: int = 1) -> range:
    """The next `count` numbers of a sequence, in two statements whatever the count.

    The UPDATE takes the row lock (PostgreSQL) inside the write transaction (SQLite: BEGIN
    IMMEDIATE), and rolls back with it, so no number is skipped or given twice.
    """
    insert = pg_insert if uow.is_postgres else sqlite_insert
    uow.session.execute(
        insert(Sequence).values(tenant_id=uow.tenant_id, name=name, next_value=1).on_conflict_do_nothing()
    )
    after = uow.session.scalar(
        update(Sequence)
        .where(Sequence.tenant_id == uow.tenant_id, Sequence.name == name)
        .values(next_value=Sequence.next_value + count)
        .returning(Sequence.next_value)
    )
    assert after is not None
    return range(int(after) - count, int(after))


def next_value(uow: UnitOfWork, name: str) -> int:
    """The next number of a named sequence."""
    return take_values(uow, name)[0]


def next_numbers(uow: UnitOfWork, name: str, prefix: str, count: int, width: int = 8) -> list[str]:
    """`count` formatted numbers at once (e.g. F-00000001 ... for a batch of fulfillments)."""
    return [f"{prefix}{value:0{width}d}" for value in take_values(uow, name, count)]


def next_number(uow: UnitOfWork, name: str, prefix: str, width: int = 8) -> str:
    """A formatted number such as INV00000001 (prefix "INV") or O-00000001 (prefix "O-")."""
    return next_numbers(uow, name, prefix, 1, width)[0]
