"""Every Stripe-dialect response carries a Request-Id, refusals before routing are Stripe errors, and nothing
escapes as a bare 500."""

from __future__ import annotations

import secrets
import string

from starlette.types import ASGIApp

from bulkbill.api.envelope import NulRefusal, RateRefusal, RequestEnvelope
from bulkbill.api.stripe.edge.errors import internal_error_body

_ALNUM = string.ascii_letters + string.digits


def new_request_id() -> str:
    """req_ and 14 random letters or digits, from one draw of randomness (secrets.choice per character
    made 14 system calls on every request)."""
    number = int.from_bytes(secrets.token_bytes(16))  # 2**128 values over 62**14 ids: no visible bias
    chars = []
    for _ in range(14):
        number, rest = divmod(number, 62)
        chars.append(_ALNUM[rest])
    return "req_" + "".join(chars)


def StripeEnvelope(app: ASGIApp, *, refuse_rate: RateRefusal, refuse_nul: NulRefusal) -> RequestEnvelope:  # noqa: N802 - used as a middleware class
    return RequestEnvelope(
        app,
        header="Request-Id",
        new_id=new_request_id,
        internal_error=lambda: (500, internal_error_body()),
        refuse_rate=refuse_rate,
        refuse_nul=refuse_nul,
    )
