"""bulkbill as a test double: a real server in a thread of the test process, a fresh tenant per test.

`serve_in_thread()` is the entry for any test runner; pytest users get fixtures from the plugin this
package registers (bulkbill/testing/plugin.py). README.md, "Use bulkbill in your tests", shows both.
Names are imported on first use: pytest loads the plugin in every run of a project that installed
bulkbill, and such a run must not pay for the server's imports unless it uses a fixture.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bulkbill.testing.clock import Clock, ClockFailed, Clocks
    from bulkbill.testing.server import BulkbillServer, ServerDidNotStart, serve_in_thread
    from bulkbill.testing.tenant import SdkMissing, Tenant
    from bulkbill.testing.webhooks import WebhookReceiver, WebhookTimeout

_HOMES = {
    "Clock": "clock",
    "ClockFailed": "clock",
    "Clocks": "clock",
    "BulkbillServer": "server",
    "ServerDidNotStart": "server",
    "serve_in_thread": "server",
    "SdkMissing": "tenant",
    "Tenant": "tenant",
    "WebhookReceiver": "webhooks",
    "WebhookTimeout": "webhooks",
}
__all__ = [
    "BulkbillServer",
    "Clock",
    "ClockFailed",
    "Clocks",
    "SdkMissing",
    "ServerDidNotStart",
    "Tenant",
    "WebhookReceiver",
    "WebhookTimeout",
    "serve_in_thread",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
