"""Rows by id that the session may hold already: those it holds cost no statement.

A SELECT of rows the session holds returns the very objects it holds (their loaded state is kept,
not overwritten), so taking them from the identity map gives the same objects without the round
trip; only the ids it does not hold are read, in one statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar, cast

from sqlalchemy import select
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
        table: Any = model
        query = select(model).where(table.tenant_id == tenant_id, table.id.in_(missing))
        found.update({cast(Any, row).id: row for row in session.scalars(query)})
    return found
