"""Locks for writes that read before they write: a row they change, or a tenant-wide set.

A write that reads a row, works out its new value (a merged metadata map, a counter, a state)
and writes it back loses a concurrent write made in between, unless it holds the row from the
read on: `get_row(..., lock="update")`. A rule about a whole set of rows that no single row stands for ("no two
accounting periods overlap", "a lookup key names at most one price") is checked by reading the
set, then writing: such writers lock their tenant's row first (`lock_tenant`), so they run one
after the other and the second reads what the first wrote. PostgreSQL only: on SQLite every
write transaction holds the database's write lock from its start (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, TypeVar, cast

from sqlalchemy import select

from bulkbill.services.platform.session_rows import row_by_id
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Tenant

Row = TypeVar("Row")


def get_row(
    uow: UnitOfWork, model: type[Row], key: str, *, lock: Literal["update", "share"] | None = None
) -> Row | None:
    """The tenant's row `key` of `model`; with `lock`, read afresh and held until the transaction ends.

    "update" (FOR UPDATE) for a row the caller rewrites from what it read; "share" (FOR SHARE) for a
    row whose state the caller relies on while others may rely on it too (creating a price relies
    on its product not being deleted meanwhile).
    """
    return row_by_id(uow, model, key, lock=lock)


def lock_rows(uow: UnitOfWork, model: type[Row], ids: Iterable[str]) -> dict[str, Row]:
    """The tenant's rows of `model` by id, read afresh and held until the transaction ends (PostgreSQL).

    Locked in id order, in one statement: two callers locking overlapping sets never deadlock.
    """
    wanted = set(ids)
    if not wanted:
        return {}
    table: Any = model
    query = select(model).where(table.tenant_id == uow.tenant_id, table.id.in_(wanted))
    if uow.is_postgres:
        query = query.order_by(table.id).with_for_update()
    return {cast(Any, row).id: row for row in uow.session.scalars(query)}


def lock_tenant(uow: UnitOfWork) -> None:
    """Hold the tenant's row until the transaction ends, to check a rule about a whole set of rows.

    FOR NO KEY UPDATE: only other holders of this lock (and updates of the tenant row) wait; rows
    that merely reference the tenant are inserted meanwhile as usual.
    """
    if uow.is_postgres:
        uow.session.execute(select(Tenant.id).where(Tenant.id == uow.tenant_id).with_for_update(key_share=True))
