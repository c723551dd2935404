"""Every Zuora-dialect response carries a Zuora-Request-Id; nothing escapes as a bare 500."""

from __future__ import annotations

import json
import logging
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bulkbill.api.zuora.errors import internal_error

log = logging.getLogger("bulkbill.zuora")


class ZuoraEnvelope:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        scope["bulkbill_request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"zuora-request-id" for k, _ in headers):
                    headers.append((b"zuora-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in the Zuora dialect")
            if started:
                raise
            status, body = internal_error(legacy_status=False)
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/json; charset=utf-8")],
                }
            )
            await send_with_id({"type": "http.response.body", "body": json.dumps(body).encode()})
