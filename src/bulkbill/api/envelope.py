"""Shared by both dialects: stamp a request id on every response, and turn anything unhandled into
the dialect's own error envelope instead of a bare 500 (the dialect supplies id, header and body)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bulkbill.api.access_log import note_request_id

log = logging.getLogger("bulkbill")


class RequestEnvelope:
    def __init__(
        self,
        app: ASGIApp,
        *,
        header: str,
        new_id: Callable[[], str],
        internal_error: Callable[[], tuple[int, dict[str, Any]]],
        content_type: str = "application/json",
    ) -> None:
        self.app = app
        self.header = header.lower().encode()
        self.new_id = new_id
        self.internal_error = internal_error
        self.content_type = content_type.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self.new_id()
        scope["bulkbill_request_id"] = request_id
        note_request_id(request_id)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                if not any(k.lower() == self.header for k, _ in headers):
                    headers.append((self.header, request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log_unhandled(log, scope.get("method", ""), scope.get("path", ""), request_id)
            if started:
                raise
            status, body = self.internal_error()
            await send_with_id(
                {"type": "http.response.start", "status": status, "headers": [(b"content-type", self.content_type)]}
            )
            await send_with_id({"type": "http.response.body", "body": json.dumps(body).encode()})


def log_unhandled(logger: logging.Logger, method: str, path: str, request_id: str) -> None:
    """An error answered with a 500: logged with its traceback and the request id the response carries."""
    logger.exception(
        "unhandled error in %s %s request_id=%s", method, path, request_id, extra={"request_id": request_id}
    )
