"""Cursor pagination, newest first, stable under equal timestamps (ordered by created, then id)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput
from bulkbill.services.platform.uow import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    data: list[T]
    has_more: bool


@dataclass(frozen=True)
class Bounds:
    """A range of a whole-number column (Unix times): each bound is optional; `eq` is an exact value."""

    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None
    eq: int | None = None


def within(query: Select[Any], column: Any, bounds: Bounds | None) -> Select[Any]:
    """The query narrowed to rows whose column lies within the bounds (NULLs never do)."""
    if bounds is None:
        return query
    if bounds.gt is not None:
        query = query.where(column > bounds.gt)
    if bounds.gte is not None:
        query = query.where(column >= bounds.gte)
    if bounds.lt is not None:
        query = query.where(column < bounds.lt)
    if bounds.lte is not None:
        query = query.where(column <= bounds.lte)
    if bounds.eq is not None:
        query = query.where(column == bounds.eq)
    return query


@dataclass(frozen=True)
class Cursor:
    limit: int = 10
    starting_after: str | None = None
    ending_before: str | None = None
    # Every list filters on its objects' creation time (Stripe's `created`).
    created: Bounds | None = None


def paginate(uow: UnitOfWork, query: Select[Any], model: Any, cursor: Cursor) -> Page[Any]:
    """One page of `query` (already filtered by tenant) after or before a cursor object."""
    created: InstrumentedAttribute[int] = model.created
    ident: InstrumentedAttribute[str] = model.id
    query = within(query, created, cursor.created)
    if cursor.starting_after and cursor.ending_before:
        raise InvalidInput(
            [
                FieldError(
                    ("ending_before",),
                    ErrorCode.PARAMETERS_EXCLUSIVE,
                    "You may only specify one of these parameters: ending_before, starting_after.",
                )
            ]
        )
    anchor_id = cursor.starting_after or cursor.ending_before
    if anchor_id is not None:
        anchor = uow.session.execute(
            select(created).where(model.tenant_id == uow.tenant_id, ident == anchor_id)
        ).first()
        name = "starting_after" if cursor.starting_after else "ending_before"
        if anchor is None:
            raise InvalidInput([FieldError((name,), ErrorCode.RESOURCE_MISSING, f"No such object: '{anchor_id}'")])
        at = anchor[0]
        if cursor.starting_after:
            query = query.where(or_(created < at, and_(created == at, ident < anchor_id)))
        else:
            query = query.where(or_(created > at, and_(created == at, ident > anchor_id)))
    if cursor.ending_before:
        rows = list(uow.session.scalars(query.order_by(created.asc(), ident.asc()).limit(cursor.limit + 1)))
        has_more = len(rows) > cursor.limit
        return Page(list(reversed(rows[: cursor.limit])), has_more)
    rows = list(uow.session.scalars(query.order_by(created.desc(), ident.desc()).limit(cursor.limit + 1)))
    return Page(rows[: cursor.limit], len(rows) > cursor.limit)
