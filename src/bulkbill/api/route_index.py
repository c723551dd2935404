"""Route matching by the path's first two segments, for both dialects' sub-apps.

FastAPI matches a request against each route in turn, and for a route inside an included router it
scans that router twice (once to learn that it matches, once to pick the route): a Stripe request
for a route near the end of the list matched ~150 regular expressions first (0.3 ms for
`POST /v1/subscriptions/{id}`, 0.9 ms for an unknown path). Nearly every route starts with two
literal segments (`/v1/invoices/...`), and a route can only match a path that starts with the same
two. So each such prefix gets its own copy of the router holding only the routes that may match it,
in their order: the same route wins as before, with the same scope, and FastAPI does the rest
(dependencies, 404 and 405 through the app's exception handlers, trailing-slash redirects).

A route whose first two segments are not both literal (a path parameter, a mount, anything that is
not matched whole) goes into every copy; a path whose prefix no route has is matched by the whole
router, as before.
"""

from __future__ import annotations

import copy

from fastapi import FastAPI
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

ANY = ""  # the prefix of a route that may match any path


def path_prefix(path: str) -> str:
    """The first two segments of a path ("/v1/invoices" of "/v1/invoices/in_1/lines")."""
    return "/".join(path.split("/", 3)[:3])


def _template_prefix(template: str) -> str:
    prefix = path_prefix(template)
    return ANY if "{" in prefix else prefix


def route_prefixes(route: BaseRoute) -> set[str]:
    """The prefixes of the paths `route` can match (ANY: it may match any path)."""
    contexts = getattr(route, "effective_route_contexts", None)
    if contexts is not None:  # a router included with include_router: its routes, as included
        prefixes: set[str] = set()
        for context in contexts():
            matched = context.starlette_route or context.original_route
            if isinstance(matched, Route) or type(matched).__name__ == "APIRoute":
                prefixes.add(_template_prefix(context.path_format or getattr(matched, "path_format", "")))
            else:
                prefixes.add(ANY)
        return prefixes
    if isinstance(route, Route):  # APIRoute is one too: a whole-path match
        return {_template_prefix(route.path_format)}
    return {ANY}


class RouteIndex:
    """The innermost ASGI app of a FastAPI app in place of its router: a request goes to the copy of the
    router that holds only the routes its path prefix may match (the whole router when none does)."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.by_prefix: dict[str, Router] = {}
        if getattr(router.middleware_stack, "__self__", None) is not router:
            return  # a router with middleware of its own: left whole
        per_route = [(route, route_prefixes(route)) for route in router.routes]
        known = {p for _, prefixes in per_route for p in prefixes} - {ANY}
        for prefix in known:
            subset = copy.copy(router)
            subset.routes = [route for route, prefixes in per_route if prefix in prefixes or ANY in prefixes]
            subset.middleware_stack = subset.app
            self.by_prefix[prefix] = subset

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            subset = self.by_prefix.get(path_prefix(get_route_path(scope)))
            if subset is not None:
                scope.setdefault("router", self.router)  # url_for() still sees every route
                await subset(scope, receive, send)
                return
        await self.router(scope, receive, send)


class IndexedFastAPI(FastAPI):
    """A FastAPI app whose router is consulted through a RouteIndex (built with the middleware stack,
    on the first request, once every route is in)."""

    def build_middleware_stack(self) -> ASGIApp:
        router = self.router
        self.router = RouteIndex(router)  # type: ignore[assignment]  # only read as the innermost app here
        try:
            return super().build_middleware_stack()
        finally:
            self.router = router
