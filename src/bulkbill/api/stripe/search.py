"""Stripe's search endpoints: /v1/{customers,invoices,prices,products,subscriptions}/search.

The edge only reads the parameters (`query`, `limit`, `page`, `expand[]`); the query is parsed by the
core's grammar (core/search) and run by the services against each resource's searchable fields. The
answer is Stripe's `search_result`: `data`, `has_more`, `next_page` (an opaque token for `page`), `url`,
and `total_count` only when `expand[]=total_count` asks for it. Each object is rendered as its list
renders it, with the same `data.*` expansions. Registered before the routers whose `/{id}` would
otherwise take "search" for an id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from bulkbill.api.stripe.catalog.prices import _EXPANDABLE as PRICE_EXPANDABLE
from bulkbill.api.stripe.catalog.prices import _render as price_response
from bulkbill.api.stripe.catalog.products import render_product
from bulkbill.api.stripe.customers.customers import EXPANDABLE as CUSTOMER_EXPANDABLE
from bulkbill.api.stripe.customers.customers import customer_response
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.openapi import query_params
from bulkbill.api.stripe.edge.params import EXPAND, Int, Obj, Str, parse
from bulkbill.api.stripe.edge.render import check_expand
from bulkbill.api.stripe.invoicing.invoice_render import INVOICE_EXPANDABLE
from bulkbill.api.stripe.invoicing.invoices import invoice_response
from bulkbill.api.stripe.subscriptions.subscriptions import EXPANDABLE as SUBSCRIPTION_EXPANDABLE
from bulkbill.api.stripe.subscriptions.subscriptions import _render as subscription_bodies
from bulkbill.services.catalog.search import search_prices, search_products
from bulkbill.services.customers.search import search_customers
from bulkbill.services.invoicing.search import search_invoices
from bulkbill.services.platform.search import SearchPage, SearchRequest
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.search import search_subscriptions

router = APIRouter()
T = TypeVar("T")

SEARCH = Obj(
    {"query": Str(5000), "limit": Int(1, 100), "page": Str(5000), "expand": EXPAND}, required=frozenset({"query"})
)
TOTAL_COUNT = "total_count"


def _request(p: dict[str, Any], expandable: Sequence[str]) -> tuple[SearchRequest, set[str]]:
    """The search asked for, and the expansions of each object (`data.x` → x) besides total_count."""
    wanted = check_expand(p, (TOTAL_COUNT, *(f"data.{name}" for name in expandable)))
    request = SearchRequest(p["query"], p.get("limit") or 10, p.get("page"), TOTAL_COUNT in wanted)
    return request, {name.removeprefix("data.") for name in wanted - {TOTAL_COUNT}}


def _result(url: str, page: SearchPage[T], data: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "object": "search_result",
        "data": data,
        "has_more": page.has_more,
        "next_page": page.next_page,
        "url": url,
    }
    if page.total_count is not None:
        body[TOTAL_COUNT] = page.total_count
    return body


def _route(
    url: str,
    expandable: Sequence[str],
    run_search: Callable[[UnitOfWork, SearchRequest], SearchPage[T]],
    render: Callable[[UnitOfWork, list[T], set[str]], list[dict[str, Any]]],
) -> None:
    def endpoint(call: StripeRequest = Depends(stripe_request)) -> Response:
        def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
            request, expand = _request(parse(SEARCH, params), expandable)
            page = run_search(uow, request)
            return _result(url, page, render(uow, page.data, expand))

        return execute(call, run)

    name = url.strip("/").replace("/", "_")
    router.add_api_route(url, endpoint, methods=["GET"], name=name, openapi_extra=query_params(SEARCH))


_route(
    "/v1/customers/search",
    CUSTOMER_EXPANDABLE,
    search_customers,
    lambda uow, rows, expand: [customer_response(uow, c, expand) for c in rows],
)
_route(
    "/v1/invoices/search",
    INVOICE_EXPANDABLE,
    search_invoices,
    lambda uow, rows, expand: [invoice_response(uow, i, expand) for i in rows],
)
_route(
    "/v1/prices/search",
    PRICE_EXPANDABLE,
    search_prices,
    lambda uow, rows, expand: [price_response(uow, p, expand) for p in rows],
)
_route("/v1/products/search", (), search_products, lambda uow, rows, expand: [render_product(p) for p in rows])
_route("/v1/subscriptions/search", SUBSCRIPTION_EXPANDABLE, search_subscriptions, subscription_bodies)
