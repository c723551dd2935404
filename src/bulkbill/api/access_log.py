"""One access-log line per request: method, path, status, duration, request id and tenant id.

`AccessLog` is the application's outermost ASGI layer. It also puts the shared AppState into
every request's scope: one layer for both chores, because each layer costs on the measured hot
path. What only the inner code knows (the request id the dialect's envelope made, the tenant its
authentication found) reaches the line through `RequestFacts`, held in a context variable: the
synchronous handlers run in worker threads with a copy of the request's context, which still
points at the same RequestFacts object.

Nothing secret is logged: the path without its query string, never a header or a body.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bulkbill.api.state import AppState
from bulkbill.services.platform.activity import API_CALLS

log = logging.getLogger("bulkbill.access")


@dataclass(slots=True)
class RequestFacts:
    """What the layers inside learn about the request, for its access-log line."""

    request_id: str | None = None
    tenant_id: str | None = None


_facts: ContextVar[RequestFacts | None] = ContextVar("bulkbill_request_facts", default=None)


def note_request_id(request_id: str) -> None:
    """The request id the dialect answers with goes on the access-log line."""
    facts = _facts.get()
    if facts is not None:
        facts.request_id = request_id


def note_tenant(tenant_id: str) -> None:
    """The tenant the credentials belong to goes on the access-log line."""
    facts = _facts.get()
    if facts is not None:
        facts.tenant_id = tenant_id


def logged_path(scope: Scope) -> str:
    """The path as sent (percent-encoded, no query string); control characters escaped."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else str(scope.get("path", ""))
    path = path.partition("?")[0]
    return path if path.isprintable() else path.encode("unicode_escape").decode("ascii")


class AccessLog:
    """Outermost layer: the AppState in every scope, and one INFO line per HTTP request once answered."""

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["bulkbill_state"] = self.state
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        facts = RequestFacts()
        token = _facts.set(facts)
        status = 0
        started = time.perf_counter()

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            with API_CALLS.call_in_flight():  # background delivery yields to calls (services/platform/activity.py)
                await self.app(scope, receive, send_noting_status)
        except BaseException:
            status = status or 500
            raise
        finally:
            _facts.reset(token)
            if log.isEnabledFor(logging.INFO):
                _log_line(scope, status, (time.perf_counter() - started) * 1000, facts)


def _log_line(scope: Scope, status: int, duration_ms: float, facts: RequestFacts) -> None:
    method = scope.get("method", "")
    path = logged_path(scope)
    duration = round(duration_ms, 1)
    log.info(
        "%s %s %s %.1fms request_id=%s tenant=%s",
        method,
        path,
        status,
        duration,
        facts.request_id or "-",
        facts.tenant_id or "-",
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration,
            "request_id": facts.request_id,
            "tenant_id": facts.tenant_id,
        },
    )
