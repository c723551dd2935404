"""The Zuora dialect as an ASGI sub-app (mounted at /zuora): routers, envelope, gzip responses."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Scope

from bulkbill.api.docs import add_docs, module_tag
from bulkbill.api.route_index import IndexedFastAPI
from bulkbill.api.zuora.accounts import accounting_periods, accounts
from bulkbill.api.zuora.billing import bill_runs
from bulkbill.api.zuora.documents import credit_memos, files, invoices, object_query
from bulkbill.api.zuora.edge import oauth
from bulkbill.api.zuora.edge.call import bearer_token
from bulkbill.api.zuora.edge.errors import Category, one_reason, render_error
from bulkbill.api.zuora.edge.middleware import ZuoraEnvelope
from bulkbill.api.zuora.edge.openapi import zuora_openapi
from bulkbill.api.zuora.orders import fulfillment_items, fulfillments, order_line_items, orders
from bulkbill.core.errors import InvalidInput, Unauthenticated
from bulkbill.services.platform.oauth import tenant_for_token
from bulkbill.services.platform.uow import UnitOfWork

ROUTERS = (
    oauth,
    bill_runs,
    fulfillment_items,
    fulfillments,
    order_line_items,
    orders,
    accounts,
    accounting_periods,
    invoices,
    credit_memos,
    files,
    object_query,
)


def create_zuora_app() -> IndexedFastAPI:
    app = IndexedFastAPI(
        title="bulkbill Zuora-compatible API",
        version="2025-08-12",
        docs_url=None,
        redoc_url=None,
        servers=[{"url": "/zuora"}],
    )
    for module in ROUTERS:
        app.include_router(module.router, tags=[module_tag(module)])
    app.openapi = lambda: zuora_openapi(app)  # type: ignore[method-assign]
    add_docs(app)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        # Zuora's proxy authenticates before routing: an unknown path without a valid token is a 401.
        if not await run_in_threadpool(_token_is_valid, request):
            status, body = render_error(Unauthenticated("Authentication error"))
            return JSONResponse(body, status_code=status)
        if exc.status_code == 404:
            path = request.url.path.removeprefix("/zuora")
            status, body = one_reason(Category.NOT_FOUND, f"No such resource: {request.method} {path}")
        else:
            status, body = one_reason(Category.UNSUPPORTED_REQUEST, f"Unsupported request: {exc.detail}")
        return JSONResponse(body, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        status, body = one_reason(Category.INVALID_VALUE, "Invalid request parameters.")
        return JSONResponse(body, status_code=status)

    # Over the key's rate: category 70, HTTP 429 with Retry-After at every Zuora-Version (it is the
    # gateway's answer, given before the request is read, like an authentication failure's 401).
    # A NUL in the path or query string: category 20, HTTP 400 at every Zuora-Version (refused before
    # the request is read, like a body over the size cap).
    # Both refused by the envelope, before routing (their bodies are too small to compress).
    # Zuora compresses responses over 1,000 bytes when the client accepts gzip (§1.8).
    app.add_middleware(GZipMiddleware, minimum_size=1001)
    app.add_middleware(ZuoraEnvelope, refuse_rate=_rate_limited, refuse_nul=_nul_refused)
    return app


def _nul_refused(exc: InvalidInput, _scope: Scope) -> tuple[int, dict[str, Any]]:
    return render_error(exc)


def _rate_limited(retry_after: int) -> tuple[int, dict[str, Any]]:
    message = f"Request exceeded limit: too many requests with this token; retry after {retry_after} s."
    return one_reason(Category.REQUEST_EXCEEDED_LIMIT, message)


def _token_is_valid(request: Request) -> bool:
    state = request.scope["bulkbill_state"]
    try:
        token = bearer_token(request.headers.get("authorization"))
        with state.sessions.begin() as session:
            tenant_for_token(UnitOfWork(session, state.settings), token)
    except Unauthenticated:
        return False
    return True
