"""The route index hands a request to a router holding every route that may match it, in their order."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.routing import Match

from bulkbill.api.route_index import RouteIndex, path_prefix
from bulkbill.api.stripe.app import create_stripe_app
from bulkbill.api.zuora.app import create_zuora_app
from tests.helpers import app_routes


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}


def _matching(routes: list[Any], method: str, path: str) -> list[Any]:
    return [route for route in routes if route.matches(_scope(method, path))[0] != Match.NONE]


@pytest.mark.parametrize("create", [create_stripe_app, create_zuora_app], ids=["stripe", "zuora"])
def test_every_route_is_in_the_router_its_paths_are_matched_by(create: Any) -> None:
    app = create()
    index = RouteIndex(app.router)
    paths = {(method, re.sub(r"\{[^}]*\}", "x_1", path)) for method, path in app_routes(app)}
    assert index.by_prefix  # the index is in use: most paths start with two literal segments
    for method, path in sorted(paths):
        subset = index.by_prefix.get(path_prefix(path))
        if subset is None:
            continue  # matched by the whole router
        # Every route of the whole router that matches (fully or by path only) is in the subset, in
        # the same order: the first match, which Starlette takes, is the same route.
        matching = _matching(app.router.routes, method, path)
        assert matching, (method, path)
        assert _matching(subset.routes, method, path) == matching, (method, path)
        assert [r for r in subset.routes if r in matching] == matching


def test_prefix_of_a_path() -> None:
    assert path_prefix("/v1/invoices/in_1/lines") == "/v1/invoices"
    assert path_prefix("/v1/invoices") == "/v1/invoices"
    assert path_prefix("/openapi.json") == "/openapi.json"
    assert path_prefix("/v1/invoices\n") == "/v1/invoices\n"  # not a prefix any route has: the whole router
