"""Shared by both dialects, as one ASGI layer in front of each dialect's routes: stamp a request id on
every response, refuse before any work a request over its key's rate (429 with Retry-After) or with a
NUL in its URL (400), and turn anything unhandled into the dialect's own error envelope instead of a
bare 500 (the dialect supplies id, header and bodies). One layer rather than three: each layer's
frame and `send` wrapper is paid by every request (docs/performance.md, "Round 6")."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bulkbill.api.access_log import note_request_id
from bulkbill.api.ratelimit import over_rate
from bulkbill.api.text_input import nul_refusal, url_nul
from bulkbill.core.errors import InvalidInput

log = logging.getLogger("bulkbill")

# (seconds to wait) -> (HTTP status, JSON body) in the dialect's envelope.
RateRefusal = Callable[[int], tuple[int, dict[str, Any]]]
# (the refusal naming where the NUL is, the request's scope) -> (HTTP status, JSON body).
NulRefusal = Callable[[InvalidInput, Scope], tuple[int, dict[str, Any]]]


class RequestEnvelope:
    def __init__(
        self,
        app: ASGIApp,
        *,
        header: str,
        new_id: Callable[[], str],
        internal_error: Callable[[], tuple[int, dict[str, Any]]],
        refuse_rate: RateRefusal,
        refuse_nul: NulRefusal,
        content_type: str = "application/json",
    ) -> None:
        self.app = app
        self.header = header.lower().encode()
        self.new_id = new_id
        self.internal_error = internal_error
        self.refuse_rate = refuse_rate
        self.refuse_nul = refuse_nul
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
            retry_after = await over_rate(scope)
            if retry_after is not None:
                status, body = self.refuse_rate(retry_after)
                await self._refuse(send_with_id, status, body, [(b"retry-after", str(retry_after).encode())])
                return
            nul = url_nul(scope)
            if nul is not None:
                status, body = self.refuse_nul(nul_refusal(nul), scope)
                await self._refuse(send_with_id, status, body, [])
                return
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

    async def _refuse(self, send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
        """A refusal made before routing, in the dialect's envelope."""
        headers = [(b"content-type", self.content_type), *headers]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": json.dumps(body, separators=(",", ":")).encode()})


def log_unhandled(logger: logging.Logger, method: str, path: str, request_id: str) -> None:
    """An error answered with a 500: logged with its traceback and the request id the response carries."""
    logger.exception(
        "unhandled error in %s %s request_id=%s", method, path, request_id, extra={"request_id": request_id}
    )
