"""A webhook receiver for tests: a local HTTP endpoint subscribed to a tenant's events, verifying each
delivery with stripe-python's own `Webhook.construct_event`, and `wait_for` to take one out.

Delivery is at least once and in no promised order, so `wait_for` looks among everything received
(the same event twice is kept once) and waits only for what has not come yet.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bulkbill.testing.tenant import import_sdk

WAIT_SECONDS = 10.0


class WebhookTimeout(AssertionError):
    """No event of the type (and matching the predicate) arrived in time."""


class WebhookReceiver:
    """Events delivered to `url`, verified with the endpoint's signing secret, in arrival order."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.stripe = import_sdk("stripe", "stripe")
        self.secret = ""
        self.events: list[Any] = []
        self.refused = 0
        self._seen: set[str] = set()
        self._arrived = threading.Condition()
        self._server = ThreadingHTTPServer((host, 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}/webhooks"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="bulkbill-webhook-receiver", daemon=True
        )
        self._thread.start()

    def subscribe(self, stripe_client: Any, events: list[str] | None = None) -> Any:
        """Create the tenant's webhook endpoint pointing here (every event unless `events`); keep its secret."""
        endpoint = stripe_client.v1.webhook_endpoints.create({"url": self.url, "enabled_events": events or ["*"]})
        self.secret = endpoint.secret
        return endpoint

    def wait_for(self, type: str, predicate: Callable[[Any], bool] | None = None, timeout: float = WAIT_SECONDS) -> Any:
        """The first received `stripe.Event` of `type` (for which `predicate(event)` holds), waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for event in self.events:
                    if event.type == type and (predicate is None or predicate(event)):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({e.type for e in self.events})
                    raise WebhookTimeout(f"no {type} event in {timeout:.0f} s (received: {', '.join(seen) or 'none'})")
                self._arrived.wait(left)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _receive(self, body: bytes, signature: str) -> bool:
        try:
            event = self.stripe.Webhook.construct_event(body, signature, self.secret)
        except (ValueError, self.stripe.SignatureVerificationError):
            with self._arrived:
                self.refused += 1
            return False
        with self._arrived:
            if event.id not in self._seen:
                self._seen.add(event.id)
                self.events.append(event)
                self._arrived.notify_all()
        return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = receiver._receive(body, self.headers.get("Stripe-Signature", ""))
                self.send_response(200 if ok else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # a test's output is not the place for one line per delivery

        return Handler
