"""Every Stripe-dialect response carries a Request-Id, and nothing escapes as a bare 500."""

from __future__ import annotations

import secrets
import string

from starlette.types import ASGIApp

from bulkbill.api.envelope import RequestEnvelope
from bulkbill.api.stripe.edge.errors import internal_error_body

_ALNUM = string.ascii_letters + string.digits


def new_request_id() -> str:
    return "req_" + "".join(secrets.choice(_ALNUM) for _ in range(14))


def StripeEnvelope(app: ASGIApp) -> RequestEnvelope:  # noqa: N802 - used as a middleware class
    return RequestEnvelope(
        app, header="Request-Id", new_id=new_request_id, internal_error=lambda: (500, internal_error_body())
    )
