"""Shared pieces of Stripe JSON: list objects, cursors, expand checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput
from bulkbill.services.platform.pagination import Cursor, Page

T = TypeVar("T")


def list_object(url: str, page: Page[T], render: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """Stripe's list: `url` is the path without the /stripe mount (stripe-python adds its base)."""
    return {"object": "list", "data": [render(x) for x in page.data], "has_more": page.has_more, "url": url}


def list_of_rendered(url: str, data: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """Stripe's list of objects already rendered in order (a preview's lines), paged by their ids in `params`
    (`starting_after`, `ending_before`, `limit`): for lists that are made, not read, in one go."""
    ids = [item["id"] for item in data]
    for name in ("starting_after", "ending_before"):
        anchor = params.get(name)
        if anchor is not None and anchor not in ids:  # as paginate(): a cursor names an object of the list
            raise InvalidInput([FieldError((name,), ErrorCode.RESOURCE_MISSING, f"No such object: '{anchor}'")])
    start = ids.index(params["starting_after"]) + 1 if params.get("starting_after") else 0
    end = ids.index(params["ending_before"]) if params.get("ending_before") else len(data)
    limit = params.get("limit") or 10
    window = data[start:end]
    page = window[-limit:] if params.get("ending_before") and not params.get("starting_after") else window[:limit]
    return {"object": "list", "data": page, "has_more": len(window) > len(page), "url": url}


def cursor_from(params: dict[str, Any]) -> Cursor:
    return Cursor(
        limit=params.get("limit") or 10,
        starting_after=params.get("starting_after"),
        ending_before=params.get("ending_before"),
        created=params.get("created"),  # a Bounds, from edge.filters.RANGE in LIST_PARAMS
    )


def check_expand(params: dict[str, Any], allowed: Iterable[str]) -> set[str]:
    """Only the listed properties can be expanded; anything else is refused as Stripe does."""
    wanted = {e for e in params.get("expand") or [] if e}
    allowed_set = set(allowed)
    for name in sorted(wanted):
        if name not in allowed_set:
            raise InvalidInput(
                [FieldError(("expand",), ErrorCode.INVALID_EXPAND, f"This property cannot be expanded ({name}).")]
            )
    return wanted


def check_list_expand(params: dict[str, Any], allowed: Iterable[str]) -> set[str]:
    """A list's `expand[]` names its objects' fields as `data.X`: checked as X against the object's allowed set."""
    return check_expand({"expand": [e.removeprefix("data.") for e in params.get("expand") or []]}, allowed)
