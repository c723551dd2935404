"""The Stripe dialect as an ASGI sub-app: its routers, its own error envelope, its OpenAPI document and docs."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import Scope

from bulkbill.api.docs import add_docs, module_tag
from bulkbill.api.route_index import IndexedFastAPI
from bulkbill.api.stripe import expanders, search
from bulkbill.api.stripe.catalog import coupons, features, prices, products, promotion_codes, tax_rates
from bulkbill.api.stripe.customers import balance_transactions, customers, tax_ids
from bulkbill.api.stripe.edge.call import API_VERSION
from bulkbill.api.stripe.edge.errors import error_body, render_error, request_log_url
from bulkbill.api.stripe.edge.middleware import StripeEnvelope
from bulkbill.api.stripe.edge.openapi import stripe_openapi
from bulkbill.api.stripe.events import events, renderers, webhook_endpoints
from bulkbill.api.stripe.invoicing import credit_notes, invoice_items, invoice_lines, invoices, previews
from bulkbill.api.stripe.subscriptions import entitlements, meters, schedules, subscriptions, test_clocks
from bulkbill.core.errors import InvalidInput


def create_stripe_app() -> IndexedFastAPI:
    app = IndexedFastAPI(
        title="bulkbill Stripe-compatible API",
        version=API_VERSION,
        docs_url=None,
        redoc_url=None,
        servers=[{"url": "/stripe"}],
    )
    # Stripe answers a path it does not serve (a trailing slash included) with its 404, not a redirect.
    app.router.redirect_slashes = False
    for module in (
        search,  # before the routers whose /{id} would take "search" for an id
        customers,
        products,
        prices,
        tax_rates,
        coupons,
        promotion_codes,
        meters,
        previews,  # before invoices, whose POST /v1/invoices/{id} would take "create_preview" for an id
        invoices,
        invoice_lines,
        invoice_items,
        credit_notes,
        subscriptions,
        schedules,
        test_clocks,
        events,
        webhook_endpoints,
        tax_ids,
        balance_transactions,
        features,
        entitlements,
    ):
        app.include_router(module.router, tags=[module_tag(module)])
    renderers.register()  # events carry objects as this dialect renders them
    expanders.register()  # what expand[] loads
    app.openapi = lambda: stripe_openapi(app)  # type: ignore[method-assign]
    add_docs(app)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404 or exc.status_code == 405:
            body = error_body(
                f"Unrecognized request URL ({request.method}: {request.url.path.removeprefix('/stripe')})."
            )
        else:
            body = error_body(str(exc.detail))
        return JSONResponse(body, status_code=404 if exc.status_code == 405 else exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("Invalid request."), status_code=400)

    # One layer: the request id, then refusals over the key's rate and of a NUL in the URL, before routing.
    app.add_middleware(StripeEnvelope, refuse_rate=_rate_limited, refuse_nul=_nul_refused)
    return app


def _nul_refused(exc: InvalidInput, scope: Scope) -> tuple[int, dict[str, Any]]:
    """A NUL in the URL: 400 invalid_request_error, naming the query parameter it is in."""
    status, body = render_error(exc)
    body["error"]["request_log_url"] = request_log_url(scope.get("bulkbill_request_id", ""))
    return status, body


def _rate_limited(_retry_after: int) -> tuple[int, dict[str, Any]]:
    """Stripe's 429 (stripe-python raises RateLimitError)."""
    message = "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."
    return 429, error_body(message, code="rate_limit")
