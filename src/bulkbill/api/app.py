"""The ASGI application: /healthz, the Stripe dialect at /stripe, the Zuora dialect at /zuora."""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.routing import Mount
from starlette.types import ASGIApp

from bulkbill.api import public_documents
from bulkbill.api.access_log import AccessLog
from bulkbill.api.housekeeping import pruning_idempotency_keys
from bulkbill.api.state import AppState
from bulkbill.api.stripe.app import create_stripe_app
from bulkbill.api.zuora.app import create_zuora_app
from bulkbill.config import Settings
from bulkbill.storage.migrate import upgrade


class DialectMount(Mount):
    """A mount whose prefix also matches paths with a newline in them (an id's %0A): without re.DOTALL
    Starlette's mount pattern stops at the newline and the request would miss the dialect's envelope."""

    def __init__(self, path: str, app: ASGIApp) -> None:
        super().__init__(path, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


# Requests worked on at once when BULKBILL_REQUEST_THREADS is 0. On SQLite one write transaction runs at
# a time and Python one thread: a third thread only takes the interpreter lock from the writer whose
# turn it is, stretching every turn, while requests waiting for a thread queue in arrival order (anyio's
# limiter is first come, first served). Measured at 16 clients (docs/performance.md, "Request threads
# on SQLite"). On PostgreSQL a thread mostly waits for the database server: anyio's default 40.
SQLITE_REQUEST_THREADS = 2
POSTGRES_REQUEST_THREADS = 40


def request_threads(state: AppState) -> int:
    """How many requests this process works on at once: the setting, or its database's default."""
    if state.settings.request_threads:
        return state.settings.request_threads
    return SQLITE_REQUEST_THREADS if state.engine.dialect.name == "sqlite" else POSTGRES_REQUEST_THREADS


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
        anyio.to_thread.current_default_thread_limiter().total_tokens = request_threads(state)
        async with pruning_idempotency_keys(state):
            yield
        state.engine.dispose()

    app = FastAPI(title="bulkbill", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.bulkbill = state

    # On the event loop, not in a request thread: it answers while every request thread is busy (a
    # bill run inside its request, say), so a health check does not mistake a busy server for a dead one.
    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app.include_router(public_documents.router)
    app.router.routes.append(DialectMount("/stripe", app=create_stripe_app()))
    app.router.routes.append(DialectMount("/zuora", app=create_zuora_app()))
    # Outermost: the AppState in every scope (mounted sub-apps included) and the access log.
    app.add_middleware(AccessLog, state=state)
    logger = logging.getLogger("bulkbill")
    if logger.level == logging.NOTSET:  # `bulkbill serve --log-level` set it already
        logger.setLevel(logging.INFO)
    return app
