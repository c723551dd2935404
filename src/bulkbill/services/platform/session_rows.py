"""Rows by id that the session may hold already: those it holds cost no statement.

A SELECT of rows the session holds returns the very objects it holds (their loaded state is kept,
not overwritten), so taking them from the identity map gives the same objects without the round
trip; only the ids it does not hold are read, in one statement.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeVar, cast

from sqlalchemy import Engine, Select, bindparam, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.bulk import pooled_driver_rows
from bulkbill.storage.rows import as_read, decoded, row_decoders

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


def shown_row(uow: UnitOfWork, model: type[Any], row_id: str) -> Any | None:
    """The tenant's row `row_id` of `model` to show (a GET's): read-only values under the model's attribute
    names, decoded as the ORM reads them, or None.

    While the session has begun nothing (a GET before its first read), the row is one statement of its
    own on a pooled connection: no BEGIN and COMMIT around it, nor the ORM's loading (one round trip on
    PostgreSQL instead of three). Otherwise, the session's own row (row_by_id): it may hold changes.
    For models whose columns storage.rows.driver_decoder reads as the ORM does (text, integers, JSON,
    decimals, booleans).
    """
    session = uow.session
    bind = session.get_bind()
    if _has_connection(session) or session.new or session.dirty or session.deleted or not isinstance(bind, Engine):
        return row_by_id(uow, model, row_id)
    shape = _SHOWN.get(model)
    if shape is None:
        shape = _SHOWN[model] = _shown_shape(model)
    statement, make = shape
    found = pooled_driver_rows(bind, statement, {"tenant_id": uow.tenant_id, "id": row_id})
    return make(found[0]) if found else None


_SHOWN: dict[type[Any], tuple[Select[Any], Callable[[Any], Any]]] = {}


def _has_connection(session: Session) -> bool:
    """Whether the session's transaction took a connection (it read or wrote), without taking one."""
    transaction: Any = session.get_transaction()
    if transaction is None:
        return False
    # SessionTransaction.connections is public from SQLAlchemy 2.1.7; before, the same is `_connections`.
    held = getattr(transaction, "connections", None)
    return bool(held if held is not None else transaction._connections)


def _shown_shape(model: type[Any]) -> tuple[Select[Any], Callable[[Any], Any]]:
    """shown_row's statement for `model` (its columns, JSON as text) and how a driver row becomes its values."""
    table: Any = model.__table__
    mapper = inspect(model)
    columns = list(table.columns)
    values = namedtuple(f"Shown{model.__name__}", [mapper.get_property_by_column(c).key for c in columns])  # type: ignore[misc]
    decoders = row_decoders(columns)
    statement = select(*(as_read(c) for c in columns)).where(
        table.c.tenant_id == bindparam("tenant_id"), table.c.id == bindparam("id")
    )
    return statement, lambda row: values(*decoded(row, decoders))


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
