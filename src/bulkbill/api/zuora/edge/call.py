"""One Zuora request end to end: read and decode it, run it once (api.idempotent), render it.

What is Zuora's own: bearer tokens, the Zuora-* headers, JSON (or gzip) bodies, Idempotency-Keys on
POST and PATCH, the `success: false` envelope, and the status following the caller's Zuora-Version.
Zuora replays the stored response of an Idempotency-Key whether the first call succeeded or failed,
so failures are stored too (in their own transaction).
"""

from __future__ import annotations

import json
import re
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import Response

import bulkbill.services.platform.idempotency as idempotency
from bulkbill.api.access_log import note_tenant
from bulkbill.api.body import check_headers, read_body, too_large
from bulkbill.api.idempotent import execute_once
from bulkbill.api.public_links import remember_public_base
from bulkbill.api.state import AppState
from bulkbill.api.text_input import refuse_nul
from bulkbill.api.zuora.edge.encoding import dumps
from bulkbill.api.zuora.edge.errors import (
    PermissionDenied,
    Unsupported,
    internal_error,
    render_error,
    versioned_status,
)
from bulkbill.api.zuora.edge.validation import bounded_decimal
from bulkbill.core.errors import (
    BillingError,
    ErrorCode,
    FieldError,
    InvalidInput,
    Unauthenticated,
)
from bulkbill.services.platform.oauth import tenant_for_token
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Tenant

DIALECT = "zuora"
_LEGACY_VERSION = re.compile(r"^\d{3}\.\d+$")
_DATE_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRACK_ID_FORBIDDEN = set(":;\"'")
# Zuora bodies nest 6 levels at most; deeper ones are refused before anything walks them.
MAX_JSON_DEPTH = 32
FORM = "application/x-www-form-urlencoded"
# Types a gzip-compressed JSON body may be labelled with (the SDK's content_encoding= leaves the type to the caller).
_GZIP_TYPES = frozenset({"application/octet-stream", "application/gzip", "application/x-gzip"})


class UnsupportedMediaType(Unsupported):
    """A request body in a media type the call does not read: category 45, HTTP 415 (spec §1.4)."""

    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE


@dataclass
class ZuoraRequest:
    """The parts of a Zuora call gathered before the synchronous handler runs."""

    state: AppState
    method: str
    path: str
    base_url: str
    authorization: str | None
    version: str | None
    track_id: str | None
    entity_ids: str | None
    org_ids: list[str] | None
    idempotency_key: str | None
    query: dict[str, list[str]]
    body: Any = None
    form: dict[str, str] | None = None
    problem: BillingError | None = None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    tenant: Tenant | None = None

    @property
    def legacy_status(self) -> bool:
        """Zuora-Version below 2024-05-20 answers errors with HTTP 200; no header: the tenant's default (Decision 1)."""
        v = self.version or (self.tenant.zuora_default_version if self.tenant is not None else None)
        if v is None:
            return False
        if _LEGACY_VERSION.match(v):
            return True
        return bool(_DATE_VERSION.match(v)) and v < "2024-05-20"

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


def media_type(content_type: str | None) -> str:
    """`application/json; charset=utf-8` → `application/json` (lower case); "" when absent."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _check_media_type(kind: str, raw: bytes, content_encoding: str | None) -> None:
    """A body is JSON: no Content-Type (read as JSON, as before), a JSON type, or gzip labelled as binary."""
    if not kind or kind == "application/json" or kind.endswith("+json") or not raw.strip():
        return
    gzipped = raw[:2] == b"\x1f\x8b" or "gzip" in (content_encoding or "").lower()
    if gzipped and kind in _GZIP_TYPES:
        return
    raise UnsupportedMediaType(f"Unsupported Content-Type {kind[:100]!r}: send the request body as application/json.")


def _decode_body(raw: bytes, limit: int) -> Any:
    # Decompress by content, not by header: zuora-sdk's content_encoding= sets the header without
    # compressing the body (spec §1.8), so a "gzip" body without gzip's magic bytes is plain JSON.
    if raw[:2] == b"\x1f\x8b":
        try:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing: header, CRC-32 and size checked
            raw = inflater.decompress(raw, limit + 1)
        except zlib.error as exc:
            raise InvalidInput(
                [FieldError((), ErrorCode.INVALID_JSON, "The gzip request body could not be read.")]
            ) from exc
        if len(raw) > limit or inflater.unconsumed_tail:
            raise too_large(limit, "decompressed request body")
        if not inflater.eof or inflater.unused_data:
            # Cut short (no CRC-32 and size trailer: nothing proves the body whole) or followed by other bytes.
            problem = "is cut short" if not inflater.eof else "has bytes after its end"
            raise InvalidInput([FieldError((), ErrorCode.INVALID_JSON, f"The gzip request body {problem}.")])
    if not raw.strip():
        return None
    try:
        body = json.loads(raw, parse_float=bounded_decimal, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidInput([FieldError((), ErrorCode.INVALID_JSON, f"Malformed JSON request body: {exc}")]) from exc
    if _depth(body) > MAX_JSON_DEPTH:
        raise InvalidInput(
            [FieldError((), ErrorCode.INVALID_JSON, f"The JSON body is nested deeper than {MAX_JSON_DEPTH}.")]
        )
    # JSON text carries a NUL only escaped (json.loads refuses a raw control character in a string), and
    # a UTF-16 or UTF-32 body holds NUL bytes: a body with neither cannot hold one, and is not walked.
    if b"\\u0000" in raw or b"\x00" in raw:
        refuse_nul(body)
    return body


def _depth(value: Any) -> int:
    """How deeply objects and arrays nest (iteratively: no recursion on hostile input)."""
    if not isinstance(value, dict | list):
        return 0
    deepest, stack = 1, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_JSON_DEPTH:
            # Only containers go on the stack: most values of a bulk body are scalars.
            children = node.values() if isinstance(node, dict) else node
            stack.extend([(child, depth + 1) for child in children if isinstance(child, dict | list)])
    return deepest


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _check_track_id(track_id: str | None) -> None:
    if track_id is None:
        return
    if len(track_id) > 64 or not track_id.isascii() or _TRACK_ID_FORBIDDEN & set(track_id):
        raise InvalidInput(
            [
                FieldError(
                    ("Zuora-Track-Id",),
                    ErrorCode.INVALID_VALUE,
                    "Zuora-Track-Id must be at most 64 US-ASCII characters without : ; \" '.",
                )
            ]
        )


async def zuora_request(request: Request) -> ZuoraRequest:
    """FastAPI dependency: read and decode the body (async) so handlers stay synchronous."""
    state: AppState = request.scope["bulkbill_state"]
    remember_public_base(request, state.settings)  # document links in the events this call writes
    org_header = request.headers.get("zuora-org-ids")
    call = ZuoraRequest(
        state=state,
        method=request.method,
        path=re.sub(r"/+", "/", request.url.path.removeprefix("/zuora")),
        base_url=str(request.base_url).rstrip("/") + "/zuora",
        authorization=request.headers.get("authorization"),
        version=request.headers.get("zuora-version"),
        track_id=request.headers.get("zuora-track-id"),
        entity_ids=request.headers.get("zuora-entity-ids"),
        org_ids=[o.strip() for o in org_header.split(",") if o.strip()] if org_header else None,
        idempotency_key=request.headers.get("idempotency-key"),
        query={k: request.query_params.getlist(k) for k in request.query_params},
        request_id=request.scope.get("bulkbill_request_id") or str(uuid.uuid4()),
    )
    try:
        check_headers(request, state.settings.max_header_bytes)  # 431 past the cap
        _check_track_id(call.track_id)
        if request.method in ("POST", "PUT", "PATCH"):
            raw = await read_body(request, state.settings.max_body_bytes)  # 413 past the cap
            kind = media_type(request.headers.get("content-type"))
            if kind == FORM:
                call.form = dict(parse_qsl(raw.decode("utf-8", errors="replace")))
            else:
                _check_media_type(kind, raw, request.headers.get("content-encoding"))
                call.body = _decode_body(raw, state.settings.max_body_bytes)
    except BillingError as exc:
        call.problem = exc
    return call


def json_response(status: int, text: str, call: ZuoraRequest, *, replayed: bool = False) -> Response:
    headers = {"Zuora-Request-Id": call.request_id}
    track = call.track_id
    # Echo the caller's Track-Id; an invalid one (refused with category 20) is echoed only if harmless.
    if track is not None and len(track) <= 64 and track.isascii() and "\n" not in track and "\r" not in track:
        headers["Zuora-Track-Id"] = track
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(text, status_code=status, media_type="application/json; charset=utf-8", headers=headers)


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 200:
        raise Unauthenticated("Authentication error")
    return token.strip()


Handler = Callable[[UnitOfWork, ZuoraRequest], dict[str, Any]]


def _common_error(body: dict[str, Any]) -> dict[str, Any]:
    """The envelope plus CommonErrorResponse's top-level `code` and `message`: those of the first reason."""
    first = body["reasons"][0]
    body.setdefault("code", first["code"])
    body.setdefault("message", first["message"])
    return body


def execute(
    call: ZuoraRequest, handler: Handler, *, authenticated: bool = True, common_error: bool = False
) -> Response:
    """Run a handler in one transaction (api.idempotent); render its result, or its error in Zuora's envelope.

    With `common_error` (POST /oauth/token) an error body also carries top-level `code` and
    `message` (the SDK's CommonErrorResponse, spec §1.2); an authentication failure keeps its
    ProxyUnauthorizedResponse shape (`message` only).
    """
    answer = execute_once(call.state, _Edge(call, authenticated, common_error), lambda uow: handler(uow, call))
    # Stored answers carry the current versions' status; the caller's Zuora-Version decides what is sent.
    status = versioned_status(answer.status, legacy=call.legacy_status)
    return json_response(status, answer.body, call, replayed=answer.replayed)


class _Edge:
    """The Zuora side of a call: bearer tokens, Idempotency-Keys on POST and PATCH, failures replayed."""

    dialect = DIALECT
    replays_failures = True  # Zuora replays a failed call's response for its key too

    def __init__(self, call: ZuoraRequest, authenticated: bool, common_error: bool) -> None:
        self.call, self.authenticated, self.common_error = call, authenticated, common_error
        self.method, self.path, self.request_id = call.method, call.path, call.request_id

    def checked_key(self) -> str | None:
        key = self.call.idempotency_key if self.method in ("POST", "PATCH") else None
        if key is not None and (not key or len(key) > idempotency.MAX_KEY_LENGTH):
            raise InvalidInput(
                [
                    FieldError(
                        ("Idempotency-Key",),
                        ErrorCode.INVALID_VALUE,
                        "Idempotency-Key must be 1 to 255 characters long.",
                    )
                ]
            )
        return key if self.authenticated else None

    def authenticate(self, uow: UnitOfWork) -> None:
        if self.authenticated and self.call.tenant is not None:
            # Authenticated earlier in this call (the read-only look for a stored response, SQLite):
            # the token and the tenant are not read again.
            uow.tenant_id = self.call.tenant.id
        elif self.authenticated:
            _authenticate(uow, self.call)
        if self.call.problem is not None:
            raise self.call.problem

    def fingerprint(self) -> str:
        # Everything that changes the answer, but not the version: the answer is stored at the current
        # versions' status and sent at the caller's (`execute`), so one key serves every version.
        call = self.call
        scope = {"orgIds": call.org_ids, "entityIds": call.entity_ids}
        body = call.body if call.form is None else call.form
        return idempotency.request_fingerprint(call.method, call.path, {"query": call.query, "body": body, **scope})

    def encode(self, body: dict[str, Any]) -> str:
        return dumps(body)

    def render_error(self, exc: BillingError) -> tuple[int, dict[str, Any]]:
        status, body = render_error(exc)
        return status, self._common(body, exc)

    def render_internal_error(self) -> tuple[int, dict[str, Any]]:
        status, body = internal_error(legacy_status=False)
        return status, self._common(body, None)

    def _common(self, body: dict[str, Any], exc: BillingError | None) -> dict[str, Any]:
        return _common_error(body) if self.common_error and not isinstance(exc, Unauthenticated) else body


def _authenticate(uow: UnitOfWork, call: ZuoraRequest) -> None:
    tenant_id = tenant_for_token(uow, bearer_token(call.authorization))
    tenant = uow.session.get(Tenant, tenant_id)
    assert tenant is not None
    uow.tenant_id = tenant.id
    call.tenant = tenant
    note_tenant(tenant.id)
    # Out of the session: a rolled-back transaction would expire it, and the response reads it after.
    uow.session.expunge(tenant)
    if call.entity_ids is not None:
        wanted = {e.strip() for e in call.entity_ids.split(",") if e.strip()}
        if not wanted <= {tenant.id, tenant.zuora_client_id}:
            raise PermissionDenied("The token cannot access the entity named in Zuora-Entity-Ids.")


__all__ = ["ZuoraRequest", "execute", "json_response", "zuora_request"]
