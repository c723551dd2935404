"""Core errors in Zuora's envelope: {"success": false, "processId", "reasons": [{code, message}]}.

Codes are a six-digit resource code and a two-digit category (Decision 7: 500000 + category unless a
real code is known). The HTTP status follows the category for Zuora-Version >= 2024-05-20 and is 200
for older versions (Decision 1); authentication failures are 401 at every version.
"""

from __future__ import annotations

import secrets
from typing import Any

from bulkbill.core.customers.org_scope import AccessDenied
from bulkbill.core.errors import (
    BillingError,
    Conflict,
    FieldError,
    InvalidInput,
    InvalidStateError,
    NotFound,
    RuleViolation,
    Unauthenticated,
)

CATEGORY_STATUS = {
    10: 403,
    11: 401,
    20: 400,
    21: 400,
    22: 400,
    23: 400,
    27: 400,
    30: 400,
    40: 404,
    45: 405,
    50: 409,
    60: 500,
    61: 500,
    70: 429,
    90: 400,
    99: 500,
}
UNKNOWN_RESOURCE = 500000
# Requests refused for their size (category 70, request exceeded limit), at every Zuora-Version.
_TOO_LARGE = {"body_too_large": 413, "headers_too_large": 431}
# Statuses the gateway answers before version handling: the same at every Zuora-Version.
_EVERY_VERSION = frozenset({CATEGORY_STATUS[11], *_TOO_LARGE.values()})


class PermissionDenied(BillingError):
    """The caller may not act in the entity or org it named."""

    code = "permission_denied"


class Unsupported(BillingError):
    code = "unsupported_request"


class Refused(BillingError):
    """A refusal with explicit reasons (real codes, one per problem); the first reason's category sets the status."""

    code = "refused"

    def __init__(self, reasons: list[tuple[int, str]]) -> None:
        if not reasons:
            raise ValueError("Refused needs at least one reason")
        super().__init__(reasons[0][1])
        self.reasons = reasons


def process_id() -> str:
    return secrets.token_hex(8).upper()


def zuora_code(category: int, resource: int = UNKNOWN_RESOURCE) -> int:
    return resource * 100 + category


def _field_category(error: FieldError) -> int:
    if error.code in ("parameter_missing",):
        return 22
    if error.code == "parameter_unknown":
        return 21
    if error.code == "resource_missing":
        return 40
    if error.code == "invalid_json":
        return 90
    if error.code in _TOO_LARGE:
        return 70  # request exceeded limit
    return 20


def zuora_path(path: tuple[str | int, ...]) -> str:
    """("orderLineItems", 3, "quantity") → "orderLineItems[3].quantity"."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _reason(category: int, message: str) -> dict[str, Any]:
    return {"code": zuora_code(category), "message": message}


def reasons_for(exc: BillingError) -> tuple[int, list[dict[str, Any]]]:
    """The category deciding the HTTP status, and one reason per problem."""
    if isinstance(exc, Refused):
        return exc.reasons[0][0] % 100, [{"code": c, "message": m} for c, m in exc.reasons]
    if isinstance(exc, InvalidInput):
        reasons = []
        for e in exc.errors:
            where = zuora_path(e.path)
            reasons.append(_reason(_field_category(e), f"{where}: {e.message}" if where else e.message))
        return _field_category(exc.first), reasons
    if isinstance(exc, NotFound):
        return 40, [_reason(40, exc.message)]
    if isinstance(exc, Unauthenticated):
        return 11, [{"code": 90000011, "message": exc.message}]
    if isinstance(exc, PermissionDenied | AccessDenied):
        return 10, [_reason(10, exc.message)]
    if isinstance(exc, Unsupported):
        return 45, [_reason(45, exc.message)]
    if isinstance(exc, Conflict):
        return 50, [_reason(50, exc.message)]
    if isinstance(exc, InvalidStateError | RuleViolation):
        return 30, [_reason(30, exc.message)]
    return 30, [_reason(30, exc.message)]


def error_body(category: int, reasons: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {"success": False, "processId": process_id(), "reasons": reasons}
    if category == 11:
        body["message"] = reasons[0]["message"]
    return body


def render_error(exc: BillingError) -> tuple[int, dict[str, Any]]:
    """The status at current Zuora-Versions (`versioned_status` gives an older caller's) and the envelope."""
    category, reasons = reasons_for(exc)
    status = CATEGORY_STATUS.get(category, 400)
    if isinstance(exc, InvalidInput) and exc.first.code in _TOO_LARGE:
        status = _TOO_LARGE[exc.first.code]  # refused at the edge like authentication: at every version
    return status, error_body(category, reasons)


def versioned_status(status: int, *, legacy: bool) -> int:
    """Below Zuora-Version 2024-05-20 a refusal is HTTP 200 (Decision 1), except the gateway's own:
    authentication (401) and request size (413, 431) refusals keep their status at every version."""
    return 200 if legacy and status not in _EVERY_VERSION else status


def internal_error(*, legacy_status: bool) -> tuple[int, dict[str, Any]]:
    return (200 if legacy_status else 500), error_body(60, [_reason(60, "An unexpected error occurred.")])
