"""Sending one delivery over HTTP: signed as Stripe signs, to an address the SSRF setting allows.

The address is checked when the delivery is sent, on what the URL's host resolves to then (not when
the endpoint was made: DNS can change); redirects are not followed, so a public URL cannot bounce a
delivery to a private one. One `httpx.Client` is reused, so its connections are.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urlsplit

import httpx

from bulkbill.config import Settings
from bulkbill.core.events.signature import signature_header
from bulkbill.services.events.deliveries import Claimed, Outcome

USER_AGENT = "bulkbill-webhooks/1 (+https://stripe.com/docs/webhooks)"


class RefusedAddress(Exception):
    """The URL resolves to an address the SSRF setting refuses."""


def check_address(url: str, *, allow_private: bool) -> None:
    """Refuse a URL whose host resolves to a loopback, private, link-local or otherwise non-public address."""
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise RefusedAddress(f"cannot resolve {host}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise RefusedAddress(
                f"{host} resolves to {address}, a non-public address (BULKBILL_WEBHOOK_ALLOW_PRIVATE_URLS)"
            )


def new_client(settings: Settings) -> httpx.Client:
    limits = httpx.Limits(
        max_connections=settings.webhook_concurrency, max_keepalive_connections=settings.webhook_concurrency
    )
    return httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False, limits=limits)


def send(client: httpx.Client, settings: Settings, claimed: Claimed, *, secret: str | None = None) -> Outcome:
    """One attempt: POST the event JSON with its `Stripe-Signature`; 2xx is success, anything else a failure."""
    started = time.perf_counter()
    attempted_ms = int(time.time() * 1000)

    def outcome(succeeded: bool, status: int | None, error: str | None) -> Outcome:
        duration = int((time.perf_counter() - started) * 1000)
        return Outcome(claimed, attempted_ms, succeeded, status, duration, error)

    try:
        check_address(claimed.url, allow_private=settings.webhook_allow_private_urls)
        header = signature_header(claimed.payload, secret or claimed.secret, int(time.time()))
        response = client.post(
            claimed.url,
            content=claimed.payload.encode(),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": header,
                "User-Agent": USER_AGENT,
            },
        )
    except RefusedAddress as exc:
        return outcome(False, None, f"refused: {exc}")
    except httpx.HTTPError as exc:
        return outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
    ok = 200 <= response.status_code < 300
    return outcome(ok, response.status_code, None if ok else f"HTTP {response.status_code}")
