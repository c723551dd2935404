"""Rows by id that the session may hold already: those it holds cost no statement.

A SELECT of rows the session holds returns the very objects it holds (their loaded state is kept,
not overwritten), so taking them from the identity map gives the same objects without the round
trip; only the ids it does not hold are read, in one statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, TypeVar, cast

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm.util import identity_key

from bulkbill.services.platform.uow import UnitOfWork

Row = TypeVar("Row")


def rows_by_id(uow: UnitOfWork, model: type[Row], ids: Iterable[str]) -> dict[str, Row]:
    """The tenant's rows of `model` with these ids (missing ones left out): held ones first, one SELECT for the rest."""
    session, tenant_id = uow.session, uow.tenant_id
    found: dict[str, Row] = {}
    missing: list[str] = []
    for row_id in dict.fromkeys(ids):
        if identity_key(model, (tenant_id, row_id)) in session.identity_map:
            row = session.get(model, (tenant_id, row_id))  # from the identity map (refreshed if expired)
            if row is not None:
                found[row_id] = row
                continue
        missing.append(row_id)
    if missing:
        query = _statements(model)[1]
        found.update(
            {cast(Any, row).id: row for row in session.scalars(query, {"tenant_id": tenant_id, "ids": missing})}
        )
    return found


def row_by_id(uow: UnitOfWork, model: type[Row], row_id: str, *, lock: Lock | None = None) -> Row | None:
    """session.get(model, (tenant, id)), with its SELECT built once per model (a held row costs none).

    With `lock` the row is read afresh (populate_existing) and, on PostgreSQL, locked FOR UPDATE or
    FOR SHARE: session.get(..., with_for_update=..., populate_existing=True).
    """
    session, key = uow.session, (uow.tenant_id, row_id)
    if lock is None and identity_key(model, key) in session.identity_map:
        return session.get(model, key)  # from the identity map (refreshed if expired)
    statement = _locked(model, lock if uow.is_postgres else None) if lock is not None else _statements(model)[0]
    return session.scalars(statement, {"tenant_id": uow.tenant_id, "ids": row_id}).first()


def forget_rows(uow: UnitOfWork, model: type[Any], ids: Iterable[str]) -> None:
    """Drop from the session the rows of `model` with these ids that it holds: a bulk DELETE without the ORM's
    synchronization has just removed them (what synchronize_session="evaluate" would do, by id, not by WHERE)."""
    session, tenant_id = uow.session, uow.tenant_id
    for row_id in ids:
        held = session.identity_map.get(identity_key(model, (tenant_id, row_id)))
        if held is not None:
            session.expunge(held)


Lock = Literal["update", "share"]
# Per model: (one row by id, rows by ids). Built once: building a statement costs more than running it.
_STATEMENTS: dict[type[Any], tuple[Select[Any], Select[Any]]] = {}
_LOCKED: dict[tuple[type[Any], Lock | None], Select[Any]] = {}


def _statements(model: type[Row]) -> tuple[Select[Any], Select[Any]]:
    statements = _STATEMENTS.get(model)
    if statements is None:
        table: Any = model
        of_tenant = table.tenant_id == bindparam("tenant_id")
        statements = _STATEMENTS[model] = (
            select(model).where(of_tenant, table.id == bindparam("ids")),
            select(model).where(of_tenant, table.id.in_(bindparam("ids", expanding=True))),
        )
    return statements


def _locked(model: type[Row], lock: Lock | None) -> Select[Any]:
    """One row by id read afresh; locked as asked (None on SQLite: its write lock is the database's)."""
    statement = _LOCKED.get((model, lock))
    if statement is None:
        statement = _statements(model)[0].execution_options(populate_existing=True)
        if lock is not None:
            statement = statement.with_for_update(read=lock == "share")
        _LOCKED[(model, lock)] = statement
    return statement
