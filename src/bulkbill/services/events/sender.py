"""Sending deliveries over HTTP: signed as Stripe signs, on connections pinned to addresses the SSRF setting allows.

The address is checked when a connection is opened, on what the URL's host resolves to then (not when the
endpoint was made: DNS can change), and the connection goes to that very address: the host is resolved
once, so a second answer (DNS rebinding) cannot slip a private address in between the check and the
connect. The request still carries the URL's host (Host header, TLS SNI and certificate check).
Redirects are not followed, so a public URL cannot bounce a delivery to a private one.

One `PinnedTransport` (an httpx transport over one httpcore connection pool) is reused by a sender, so
its connections are: a batch goes out over kept-alive connections, a few per endpoint at once.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpcore
import httpx

from bulkbill.config import Settings
from bulkbill.core.events.signature import signature_header
from bulkbill.services.events.deliveries import Claimed, Outcome

USER_AGENT = "bulkbill-webhooks/1 (+https://stripe.com/docs/webhooks)"


class RefusedAddress(Exception):
    """The URL resolves to an address the SSRF setting refuses."""


def allowed_addresses(host: str, port: int, *, allow_private: bool) -> list[str]:
    """What `host` resolves to, when the SSRF setting allows it: all of it public unless private URLs are allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedAddress(f"cannot resolve {host}: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private:
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 scope id is no part of the address
            if not address.is_global or address.is_multicast:
                raise RefusedAddress(
                    f"{host} resolves to {address}, a non-public address (BULKBILL_WEBHOOK_ALLOW_PRIVATE_URLS)"
                )
    return addresses


class CoalescingStream(httpcore.NetworkStream):
    """Holds what is written until the answer is read: a request's head and body leave in one send, not two.

    (h11 hands them over separately; two small sends cost two system calls, two packets and, on loopback,
    two wake-ups of the receiver: most of what one delivery costs.)"""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner
        self.pending: list[bytes] = []

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.pending.append(buffer)

    def flush(self, timeout: float | None = None) -> None:
        if self.pending:
            data, self.pending = b"".join(self.pending), []
            self.inner.write(data, timeout)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.flush(timeout)
        return self.inner.read(max_bytes, timeout)

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        self.flush(timeout)
        return CoalescingStream(self.inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class PinnedBackend(httpcore.NetworkBackend):
    """Opens each connection to an address `allowed_addresses` returned, never resolving the host a second time."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        error: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in allowed_addresses(host, port, allow_private=self.allow_private):
            try:
                return CoalescingStream(self.inner.connect_tcp(address, port, timeout, local_address, socket_options))
            except httpcore.ConnectError as exc:  # the next address, as socket.create_connection does
                error = exc
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise RefusedAddress("webhooks are delivered over TCP only")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


_ERRORS: dict[type[Exception], type[httpx.HTTPError]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.ProtocolError: httpx.ProtocolError,
    httpcore.NetworkError: httpx.NetworkError,
    httpcore.TimeoutException: httpx.TimeoutException,
}


class PinnedTransport(httpx.BaseTransport):
    """An httpx transport whose connections go to SSRF-checked addresses only; `post` is the sender's lean path."""

    def __init__(self, settings: Settings) -> None:
        self.timeout = settings.webhook_timeout_seconds
        self.pool = httpcore.ConnectionPool(
            max_connections=max(1, settings.webhook_concurrency),
            max_keepalive_connections=max(1, settings.webhook_concurrency),
            network_backend=PinnedBackend(settings.webhook_allow_private_urls),
        )

    def post(self, url: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> int:
        """POST `body` and read the whole answer; its status code. Raises httpx's errors (or RefusedAddress)."""
        timeouts = {"connect": self.timeout, "read": self.timeout, "write": self.timeout, "pool": self.timeout}
        with _httpx_errors():
            response = self.pool.request("POST", url, headers=headers, content=body, extensions={"timeout": timeouts})
        return response.status

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            response = self.pool.handle_request(core)
            content = response.read()
        return httpx.Response(response.status, headers=response.headers, content=content, request=request)

    def close(self) -> None:
        self.pool.close()


@contextlib.contextmanager
def _httpx_errors() -> Iterator[None]:
    """httpcore's errors as httpx's (what callers of an httpx transport catch)."""
    try:
        yield
    except Exception as exc:
        for core_error, httpx_error in _ERRORS.items():
            if isinstance(exc, core_error):
                raise httpx_error(str(exc)) from exc
        raise


def new_transport(settings: Settings) -> PinnedTransport:
    return PinnedTransport(settings)


def send(transport: PinnedTransport, claimed: Claimed, *, secret: str | None = None) -> Outcome:
    """One attempt: POST the event JSON with its `Stripe-Signature`; 2xx is success, anything else a failure."""
    started = time.perf_counter()
    attempted_ms = int(time.time() * 1000)

    def outcome(succeeded: bool, status: int | None, error: str | None) -> Outcome:
        duration = int((time.perf_counter() - started) * 1000)
        return Outcome(claimed, attempted_ms, succeeded, status, duration, error)

    body = claimed.payload.encode()
    headers = [
        (b"Content-Type", b"application/json; charset=utf-8"),
        (b"Stripe-Signature", signature_header(claimed.payload, secret or claimed.secret, int(time.time())).encode()),
        (b"User-Agent", USER_AGENT.encode()),
    ]
    try:
        status = transport.post(claimed.url, body, headers)
    except RefusedAddress as exc:
        return outcome(False, None, f"refused: {exc}")
    except (httpx.HTTPError, httpcore.UnsupportedProtocol) as exc:
        return outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
    ok = 200 <= status < 300
    return outcome(ok, status, None if ok else f"HTTP {status}")


def lanes(claimed: list[Claimed], per_endpoint: int) -> Iterator[list[Claimed]]:
    """A batch split into lanes sent one after another: at most `per_endpoint` lanes to one endpoint."""
    by_endpoint: dict[tuple[str, str], list[Claimed]] = {}
    for c in claimed:
        by_endpoint.setdefault((c.tenant_id, c.endpoint_id or c.url), []).append(c)
    for deliveries in by_endpoint.values():
        count = max(1, min(per_endpoint, len(deliveries)))
        for lane in range(count):
            yield deliveries[lane::count]


def send_lane(
    transport: PinnedTransport, lane: list[Claimed], before_each: Callable[[], object] | None = None
) -> list[Outcome]:
    """Send a lane's deliveries one after another (over one kept-alive connection, as long as it lasts),
    calling `before_each` before each one (serve's sender lets API calls go first there)."""
    outcomes = []
    for claimed in lane:
        if before_each is not None:
            before_each()
        outcomes.append(send(transport, claimed))
    return outcomes
