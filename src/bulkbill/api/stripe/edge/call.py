"""One Stripe request end to end: authenticate, decode, run in one transaction, render.

The edge owns the transaction: `execute` opens it, the handler calls services (which only
flush), and it commits on success or rolls back on any error, so a refused call changes nothing.
An Idempotency-Key is first claimed (marked in flight) in its own short transaction; its response
is stored in the same transaction as the work, or the claim is released when the work fails.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

import bulkbill.services.platform.idempotency as idempotency
from bulkbill.api.access_log import note_tenant
from bulkbill.api.body import check_headers, read_body
from bulkbill.api.db_refusals import database_refusals
from bulkbill.api.envelope import log_unhandled
from bulkbill.api.state import AppState
from bulkbill.api.stripe.edge.errors import error_body, internal_error_body, render_error, request_log_url
from bulkbill.api.stripe.edge.forms import decode_form
from bulkbill.api.stripe.edge.middleware import new_request_id
from bulkbill.core.errors import BillingError, Conflict, FieldError, InvalidInput, Unauthenticated
from bulkbill.services.platform.tenants import tenant_id_for_stripe_key
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.db import read_only

log = logging.getLogger("bulkbill.stripe")
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
            [FieldError((), "invalid_request_body", "The request body is not valid UTF-8.")]
        )
    return call


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


def json_response(status: int, body: dict[str, Any] | str, call: StripeRequest, *, replayed: bool = False) -> Response:
    headers = {"Request-Id": call.request_id, "Stripe-Version": call.stripe_version}
    if call.idempotency_key and call.method == "POST":
        headers["Idempotency-Key"] = call.idempotency_key
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body["error"].setdefault("request_log_url", request_log_url(call.request_id))
    content = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
    return Response(content, status_code=status, media_type="application/json", headers=headers)


def execute(call: StripeRequest, handler: Handler) -> Response:
    """Run a handler in one transaction and render its result or error in Stripe's envelope."""
    try:
        return _execute(call, handler)
    except BillingError as exc:
        status, body = render_error(exc)
        log.debug("stripe %s %s -> %s %s", call.method, call.path, status, exc.code)
        return json_response(status, body, call)
    except OperationalError as exc:
        log.warning("database busy: %s", exc)
        return json_response(
            409,
            error_body(
                "The request conflicted with another request on the same object; please retry.",
                type_="api_error",
                code="lock_timeout",
            ),
            call,
        )
    except Exception:
        log_unhandled(log, call.method, call.path, call.request_id)
        return json_response(500, internal_error_body(), call)


def _execute(call: StripeRequest, handler: Handler) -> Response:
    key = parse_api_key(call.authorization)
    state = call.state
    idem_key = call.idempotency_key if call.method == "POST" else None
    if idem_key is not None and (not idem_key or len(idem_key) > idempotency.MAX_KEY_LENGTH):
        raise InvalidInput(
            [
                FieldError(
                    ("Idempotency-Key",),
                    "invalid_idempotency_key",
                    "Idempotency keys must be 1 to 255 characters long.",
                )
            ]
        )
    held: idempotency.Claim | None = None
    try:
        with database_refusals():
            if idem_key is not None:
                claimed = _claim(call, key, idem_key)
                if isinstance(claimed, idempotency.StoredResponse):
                    return json_response(claimed.status_code, claimed.body, call, replayed=True)
                held = claimed
            with state.sessions.begin() as session:
                uow = UnitOfWork(session, state.settings)
                uow.tenant_id = _tenant(session, key)
                if call.decode_error is not None:
                    raise call.decode_error
                body = handler(uow, call.params)
                text = json.dumps(body, separators=(",", ":"))
                if held is not None:
                    idempotency.finish(uow, held, status_code=200, body=text)
            held = None  # committed together with the work
            return json_response(200, text, call)
    finally:
        if held is not None:
            _release(call, held)


def _tenant(session: Session, key: str) -> str:
    tenant_id = tenant_id_for_stripe_key(session, key)
    if tenant_id is None:
        raise Unauthenticated(f"Invalid API Key provided: {_masked(key)}")
    note_tenant(tenant_id)
    return tenant_id


def _claim(call: StripeRequest, key: str, idem_key: str) -> idempotency.Claim | idempotency.StoredResponse:
    """In its own short transaction: replay a finished request, refuse one in flight, or hold the key."""
    fingerprint = idempotency.request_fingerprint(call.method, call.path, call.params)
    if call.state.engine.dialect.name == "sqlite":
        # SQLite serializes writers: look first without the write lock, so that a retry meeting its
        # key in flight answers at once (and a replay needs no lock) instead of queueing behind the work.
        with call.state.sessions() as session, session.begin():
            read_only(session)
            uow = UnitOfWork(session, call.state.settings)
            uow.tenant_id = _tenant(session, key)
            if call.decode_error is not None:
                raise call.decode_error
            stored = idempotency.look(uow, dialect=DIALECT, key=idem_key, fingerprint=fingerprint)
            if stored is not None:
                return stored
    for attempt in range(2):
        try:
            with call.state.sessions.begin() as session:
                uow = UnitOfWork(session, call.state.settings)
                uow.tenant_id = _tenant(session, key)
                if call.decode_error is not None:
                    raise call.decode_error  # refused before it ran: not stored (Stripe)
                return idempotency.claim(
                    uow, dialect=DIALECT, key=idem_key, fingerprint=fingerprint, owner=call.request_id
                )
        except IntegrityError:
            # A concurrent request claimed the key first: the next attempt sees its row.
            if attempt == 1:
                raise Conflict("The request conflicted with a concurrent request; please retry.") from None
    raise AssertionError("unreachable")


def _release(call: StripeRequest, held: idempotency.Claim) -> None:
    """The work failed (nothing is stored for it): free the key so that a retry runs again."""
    try:
        with call.state.sessions.begin() as session:
            idempotency.release(UnitOfWork(session, call.state.settings, tenant_id=held.tenant_id), held)
    except DBAPIError:
        # The key stays in flight until settings.idempotency_in_flight_timeout_seconds, then is taken over.
        log.warning("could not release idempotency key %r", held.key, exc_info=True)
