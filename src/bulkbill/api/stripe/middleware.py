"""Every Stripe-dialect response carries a Request-Id, and nothing escapes as a bare 500."""

from __future__ import annotations

import json
import logging
import secrets
import string

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bulkbill.api.stripe.errors import internal_error_body

log = logging.getLogger("bulkbill.stripe")
_ALNUM = string.ascii_letters + string.digits


def new_request_id() -> str:
    return "req_" + "".join(secrets.choice(_ALNUM) for _ in range(14))


class StripeEnvelope:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope["bulkbill_request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"request-id" for k, _ in headers):
                    headers.append((b"request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in the Stripe dialect")
            if started:
                raise
            body = json.dumps(internal_error_body()).encode()
            await send_with_id(
                {"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"application/json")]}
            )
            await send_with_id({"type": "http.response.body", "body": body})
