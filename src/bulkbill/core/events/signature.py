"""The `Stripe-Signature` header: `t=<unix time>,v1=<HMAC-SHA256 of "<t>.<payload>" keyed by the secret>`."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def new_signing_secret() -> str:
    """A fresh endpoint secret, shaped as Stripe's (`whsec_` and 32 random bytes, hex)."""
    return SECRET_PREFIX + secrets.token_hex(32)


def signature_header(payload: str, secret: str, timestamp: int) -> str:
    """What Stripe sends and `stripe.Webhook.construct_event` checks: the whole secret string is the HMAC key."""
    signed = f"{timestamp}.{payload}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
