"""One Stripe request end to end: read and decode it, run it once (api.idempotent), render it.

What is Stripe's own: API keys (Bearer or Basic), form bodies, Idempotency-Keys on POST only, the
`{"error": {...}}` envelope with its request_log_url, and the Stripe-Version echoed. A failed call's
key is released, so a retry runs again (Stripe stores no failure).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import Response

import bulkbill.services.platform.idempotency as idempotency
from bulkbill.api.access_log import note_tenant
from bulkbill.api.body import check_headers, read_body
from bulkbill.api.idempotent import execute_once
from bulkbill.api.public_links import remember_public_base
from bulkbill.api.state import AppState
from bulkbill.api.stripe.edge.errors import internal_error_body, render_error, request_log_url
from bulkbill.api.stripe.edge.expansion import expand_body
from bulkbill.api.stripe.edge.forms import decode_form
from bulkbill.api.stripe.edge.middleware import new_request_id
from bulkbill.core.errors import BillingError, ErrorCode, FieldError, InvalidInput, Unauthenticated
from bulkbill.services.events import outbox
from bulkbill.services.platform import compact_json
from bulkbill.services.platform.tenants import tenant_id_for_stripe_key
from bulkbill.services.platform.uow import UnitOfWork

DIALECT = "stripe"

Handler = Callable[[UnitOfWork, dict[str, Any]], dict[str, Any]]


# The version whose object shapes bulkbill serves (Decision 1: basil and later); stripe-python 16.1.0 sends it.
API_VERSION = "2026-10-28.endive"
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")


def echoed_version(requested: str | None) -> str:
    """The Stripe-Version a response carries: the request's when well-formed (spec §4.4), else bulkbill's."""
    if requested and _VERSION.match(requested.strip()):
        return requested.strip()
    return API_VERSION


@dataclass
class StripeRequest:
    """The raw parts of a Stripe call, gathered before the (synchronous) handler runs."""

    state: AppState
    method: str
    path: str
    authorization: str | None
    idempotency_key: str | None
    params: dict[str, Any] = field(default_factory=dict)
    decode_error: InvalidInput | None = None
    request_id: str = field(default_factory=new_request_id)
    stripe_version: str = API_VERSION


async def stripe_request(request: Request) -> StripeRequest:
    """FastAPI dependency: read the body (async) so handlers can stay synchronous."""
    state: AppState = request.scope["bulkbill_state"]
    path = request.scope.get("root_path_stripped") or request.url.path.removeprefix("/stripe")
    call = StripeRequest(
        state=state,
        method=request.method,
        path=path,
        authorization=request.headers.get("authorization"),
        idempotency_key=request.headers.get("idempotency-key"),
        request_id=request.scope.get("bulkbill_request_id") or new_request_id(),
        stripe_version=echoed_version(request.headers.get("stripe-version")),
    )
    remember_public_base(request, state.settings)
    try:
        check_headers(request, state.settings.max_header_bytes)  # 431 past the cap
        params = decode_form(request.url.query) if request.url.query else {}
        if request.method in ("POST", "PUT", "PATCH"):
            body = await read_body(request, state.settings.max_body_bytes)  # 413 past the cap
            params.update(decode_form(body))
        call.params = params
    except InvalidInput as exc:
        call.decode_error = exc
    except UnicodeDecodeError:
        call.decode_error = InvalidInput(
            [FieldError((), ErrorCode.INVALID_REQUEST_BODY, "The request body is not valid UTF-8.")]
        )
    return call


def encode_body(body: dict[str, Any]) -> str:
    """The body as compact JSON."""
    return compact_json.dumps(body)


def parse_api_key(authorization: str | None) -> str:
    """Bearer (what the SDK sends) or Basic with the key as user name (what curl -u sends)."""
    if not authorization:
        raise Unauthenticated(
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
            "https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."
        )
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        try:
            value = base64.b64decode(value, validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            value = ""
    elif scheme.lower() != "bearer":
        value = ""
    if not value or len(value) > 255:
        raise Unauthenticated("Invalid API Key provided.")
    return value


def _masked(key: str) -> str:
    return key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else "****"


def json_response(status: int, text: str, call: StripeRequest, *, replayed: bool = False) -> Response:
    headers = {"Request-Id": call.request_id, "Stripe-Version": call.stripe_version}
    if call.idempotency_key and call.method == "POST":
        headers["Idempotency-Key"] = call.idempotency_key
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(text, status_code=status, media_type="application/json", headers=headers)


def execute(call: StripeRequest, handler: Handler) -> Response:
    """Run a handler in one transaction (api.idempotent) and render its result or error in Stripe's envelope."""
    answer = execute_once(call.state, _Edge(call), lambda uow: _shown(uow, handler(uow, call.params), call))
    return json_response(answer.status, answer.body, call, replayed=answer.replayed)


def _shown(uow: UnitOfWork, body: dict[str, Any], call: StripeRequest) -> dict[str, Any]:
    # A response without expansions renders its object as its events show it: they reuse it.
    expand = call.params.get("expand")
    if call.method != "GET" and not expand:
        outbox.rendered(uow, body)
    if isinstance(expand, list) and expand:
        # The route checked the paths; ids it left on them become their objects here.
        expand_body(uow, body, (e for e in expand if isinstance(e, str)))
    return body


class _Edge:
    """The Stripe side of a call: API keys, POST-only Idempotency-Keys, failures run again on retry."""

    dialect = DIALECT
    replays_failures = False

    def __init__(self, call: StripeRequest) -> None:
        self.call = call
        self.method, self.path, self.request_id = call.method, call.path, call.request_id
        self.api_key = ""

    def checked_key(self) -> str | None:
        self.api_key = parse_api_key(self.call.authorization)
        key = self.call.idempotency_key if self.method == "POST" else None
        if key is not None and (not key or len(key) > idempotency.MAX_KEY_LENGTH):
            raise InvalidInput(
                [
                    FieldError(
                        ("Idempotency-Key",),
                        ErrorCode.INVALID_IDEMPOTENCY_KEY,
                        "Idempotency keys must be 1 to 255 characters long.",
                    )
                ]
            )
        return key

    def authenticate(self, uow: UnitOfWork) -> None:
        tenant_id = tenant_id_for_stripe_key(uow.session, self.api_key)
        if tenant_id is None:
            raise Unauthenticated(f"Invalid API Key provided: {_masked(self.api_key)}")
        uow.tenant_id = tenant_id
        note_tenant(tenant_id)
        if self.call.decode_error is not None:
            raise self.call.decode_error  # refused before it ran: not stored (Stripe)

    def fingerprint(self) -> str:
        # The parameters are the query string's and the body's, decoded together.
        return idempotency.request_fingerprint(self.method, self.path, self.call.params)

    def encode(self, body: dict[str, Any]) -> str:
        return encode_body(body)

    def render_error(self, exc: BillingError) -> tuple[int, dict[str, Any]]:
        status, body = render_error(exc)
        return status, self._logged(body)

    def render_internal_error(self) -> tuple[int, dict[str, Any]]:
        return 500, self._logged(internal_error_body())

    def _logged(self, body: dict[str, Any]) -> dict[str, Any]:
        body["error"].setdefault("request_log_url", request_log_url(self.request_id))
        return body
