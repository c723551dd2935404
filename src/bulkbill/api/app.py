"""The ASGI application: /healthz, the Stripe dialect at /stripe, the Zuora dialect at /zuora."""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from bulkbill.api.state import AppState
from bulkbill.api.stripe.app import create_stripe_app
from bulkbill.api.zuora.app import create_zuora_app
from bulkbill.config import Settings
from bulkbill.storage.migrate import upgrade


class InjectState:
    """Puts the shared AppState into every request's scope, mounted sub-apps included."""

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["bulkbill_state"] = self.state
        await self.app(scope, receive, send)


class DialectMount(Mount):
    """A mount whose prefix also matches paths with a newline in them (an id's %0A): without re.DOTALL
    Starlette's mount pattern stops at the newline and the request would miss the dialect's envelope."""

    def __init__(self, path: str, app: ASGIApp) -> None:
        super().__init__(path, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    """Build the application; with `migrate`, the database is brought up to date at start."""
    settings = settings or Settings()
    state = AppState.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            upgrade(state.engine)
        # Everything loaded at start-up lives for the whole process: keep it out of the cyclic
        # collector's scans, so full collections during requests stay short.
        gc.collect()
        gc.freeze()
        yield
        state.engine.dispose()

    app = FastAPI(title="bulkbill", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.bulkbill = state

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app.router.routes.append(DialectMount("/stripe", app=create_stripe_app()))
    app.router.routes.append(DialectMount("/zuora", app=create_zuora_app()))
    app.add_middleware(InjectState, state=state)
    logging.getLogger("bulkbill").setLevel(logging.INFO)
    return app
