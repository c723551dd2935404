"""Core errors rendered in Stripe's envelope: {"error": {type, code, message, param}} + status."""

from __future__ import annotations

from typing import Any

from bulkbill.core.errors import (
    BillingError,
    Conflict,
    ErrorCode,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidStateError,
    NotFound,
    NoUpcomingInvoice,
    Path,
    RuleViolation,
    Unauthenticated,
    Unavailable,
)

E = ErrorCode
# Core codes that Stripe publishes under the same or another name; others go out without a code.
_STRIPE_CODES: dict[ErrorCode, str] = {
    E.PARAMETER_MISSING: "parameter_missing",
    E.PARAMETER_UNKNOWN: "parameter_unknown",
    E.PARAMETER_INVALID_INTEGER: "parameter_invalid_integer",
    E.PARAMETER_INVALID_EMPTY: "parameter_invalid_empty",
    E.PARAMETER_INVALID_STRING: "parameter_invalid_string_blank",
    E.PARAMETERS_EXCLUSIVE: "parameters_exclusive",
    E.RESOURCE_MISSING: "resource_missing",
    E.RESOURCE_ALREADY_EXISTS: "resource_already_exists",
    E.INVOICE_NOT_EDITABLE: "invoice_not_editable",
    E.AMOUNT_TOO_LARGE: "amount_too_large",
    E.COUPON_EXPIRED: "coupon_expired",
    E.IDEMPOTENCY_KEY_IN_USE: "idempotency_key_in_use",
}
DOC_BASE = "https://stripe.com/docs/error-codes/"
# Requests refused for their size, before their content is read.
_TOO_LARGE = {E.BODY_TOO_LARGE: 413, E.HEADERS_TOO_LARGE: 431}


def stripe_param(path: Path) -> str:
    """('lines', 2, 'quantity') → 'lines[2][quantity]', Stripe's way of naming a parameter."""
    if not path:
        return ""
    head, *rest = path
    return str(head) + "".join(f"[{p}]" for p in rest)


def request_log_url(request_id: str) -> str:
    """Where Stripe's dashboard shows a request's log: every error names it (spec §1.6, Decision 7)."""
    return f"https://dashboard.stripe.com/test/logs/{request_id}"


def error_body(
    message: str, *, type_: str = "invalid_request_error", code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"type": type_, "message": message}
    if code:
        error["code"] = code
        error["doc_url"] = DOC_BASE + code.replace("_", "-")
    if param:
        error["param"] = param
    return {"error": error}


def render_error(exc: BillingError) -> tuple[int, dict[str, Any]]:
    """Status and body for a core error; the SDK picks its exception class by status."""
    if isinstance(exc, InvalidInput):
        first = exc.first
        if first.code in _TOO_LARGE:
            return _TOO_LARGE[first.code], error_body(first.message)
        return 400, error_body(
            first.message, code=_STRIPE_CODES.get(first.code), param=stripe_param(first.path) or None
        )
    if isinstance(exc, NotFound):
        status = 404 if exc.path is None else 400
        param = stripe_param(exc.path) if exc.path else None
        return status, error_body(exc.message, code="resource_missing", param=param)
    if isinstance(exc, NoUpcomingInvoice):
        # Stripe answers a preview with nothing to preview 404, code invoice_upcoming_none.
        return 404, error_body(exc.message, code=ErrorCode.INVOICE_UPCOMING_NONE.value)
    if isinstance(exc, IdempotencyKeyReused):
        return 400, error_body(exc.message, type_="idempotency_error")
    if isinstance(exc, IdempotencyKeyInUse):
        return 409, error_body(exc.message, type_="idempotency_error", code="idempotency_key_in_use")
    if isinstance(exc, Conflict):
        return 409, error_body(exc.message, type_="api_error", code="lock_timeout")
    if isinstance(exc, Unauthenticated):
        return 401, error_body(exc.message)
    if isinstance(exc, Unavailable):
        return 503, error_body(exc.message, type_="api_error")
    if isinstance(exc, InvalidStateError | RuleViolation):
        param = stripe_param(exc.path) if exc.path else None
        return 400, error_body(exc.message, code=_STRIPE_CODES.get(exc.code), param=param)
    return 400, error_body(exc.message, code=_STRIPE_CODES.get(exc.code))


def internal_error_body() -> dict[str, Any]:
    return error_body("An unexpected error occurred. The request was not applied.", type_="api_error")
