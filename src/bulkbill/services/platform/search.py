"""Search pages: a query's rows newest first, `limit` at a time, continued by an opaque page token.

The token carries where the last page ended (created, id) and a digest of the query it belongs to,
base64url-encoded; a token of another query, or one that was tampered with, is refused. It says
nothing another tenant could use: the tenant's own filter is applied on every page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, func, or_, select

from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput
from bulkbill.core.search.grammar import parse_query
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.search import SearchField, search_condition

T = TypeVar("T")


@dataclass(frozen=True)
class SearchRequest:
    query: str
    limit: int = 10
    page: str | None = None
    total_count: bool = False  # count every match too (Stripe's expand[]=total_count)


@dataclass(frozen=True)
class SearchPage(Generic[T]):
    data: list[T]
    has_more: bool
    next_page: str | None
    total_count: int | None


def _digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:16]


def _token(query: str, created: int, ident: str) -> str:
    raw = json.dumps([_digest(query), created, ident], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _position(request: SearchRequest) -> tuple[int, str] | None:
    if request.page is None:
        return None
    refused = InvalidInput([FieldError(("page",), ErrorCode.PARAMETER_INVALID, "Invalid page token for this query.")])
    try:
        text = request.page + "=" * (-len(request.page) % 4)
        digest, created, ident = json.loads(base64.urlsafe_b64decode(text.encode("ascii")))
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise refused from None
    if digest != _digest(request.query) or type(created) is not int or not isinstance(ident, str):
        raise refused
    return created, ident


def search(
    uow: UnitOfWork,
    base: Select[Any],
    model: Any,
    fields: Mapping[str, SearchField],
    resource: str,
    request: SearchRequest,
) -> SearchPage[Any]:
    """One page of the rows of `base` (already the tenant's visible rows) that the query matches."""
    kinds = {name: field.kind for name, field in fields.items()}
    dialect = uow.session.get_bind().dialect.name
    condition = search_condition(parse_query(request.query, kinds, resource, ("query",)), fields, dialect)
    matching = base.where(condition)
    total = None
    if request.total_count:
        total = uow.session.scalar(select(func.count()).select_from(matching.subquery()))
    position = _position(request)
    query = matching
    if position is not None:
        at, ident = position
        query = query.where(or_(model.created < at, and_(model.created == at, model.id < ident)))
    rows = list(uow.session.scalars(query.order_by(model.created.desc(), model.id.desc()).limit(request.limit + 1)))
    page, has_more = rows[: request.limit], len(rows) > request.limit
    next_page = _token(request.query, page[-1].created, page[-1].id) if has_more else None
    return SearchPage(page, has_more, next_page, total)
