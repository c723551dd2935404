"""Core errors in Zuora's envelope: {"success": false, "processId", "reasons": [{code, message}]}.

Codes are a six-digit resource code and a two-digit category (Decision 7: 500000 + category unless a
real code is known). The HTTP status follows the category for Zuora-Version >= 2024-05-20 and is 200
for older versions (Decision 1); authentication failures are 401 at every version.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from enum import IntEnum
from typing import Any

from bulkbill.core.errors import BillingError, ErrorCode, InvalidInput, Unauthenticated


class Category(IntEnum):
    """Zuora's error categories (spec §1.4): the last two digits of every reason code."""

    PERMISSION_DENIED = 10
    AUTHENTICATION_FAILED = 11
    INVALID_VALUE = 20
    UNKNOWN_FIELD = 21
    MISSING_FIELD = 22
    MISSING_PARAMETER = 23
    INVALID_QUERY_PARAMETER = 27
    RULE_RESTRICTION = 30
    NOT_FOUND = 40
    UNSUPPORTED_REQUEST = 45
    LOCKING_CONTENTION = 50
    INTERNAL_ERROR = 60
    TEMPORARY_ERROR = 61
    REQUEST_EXCEEDED_LIMIT = 70
    MALFORMED_REQUEST = 90
    INTEGRATION_ERROR = 99


C = Category
# The HTTP status of each category for Zuora-Version >= 2024-05-20.
CATEGORY_STATUS: dict[Category, int] = {
    C.PERMISSION_DENIED: 403,
    C.AUTHENTICATION_FAILED: 401,
    C.INVALID_VALUE: 400,
    C.UNKNOWN_FIELD: 400,
    C.MISSING_FIELD: 400,
    C.MISSING_PARAMETER: 400,
    C.INVALID_QUERY_PARAMETER: 400,
    C.RULE_RESTRICTION: 400,
    C.NOT_FOUND: 404,
    C.UNSUPPORTED_REQUEST: 405,
    C.LOCKING_CONTENTION: 409,
    C.INTERNAL_ERROR: 500,
    C.TEMPORARY_ERROR: 500,
    C.REQUEST_EXCEEDED_LIMIT: 429,
    C.MALFORMED_REQUEST: 400,
    C.INTEGRATION_ERROR: 500,
}

E = ErrorCode
# The one table from core error codes to categories, whichever router meets the error. Malformed or
# refused values are 20; what the rules refuse given what exists and its state is 30 (spec: illegal
# transitions, closed periods, duplicate numbers and names, overlapping periods, locked documents:
# the codes the former per-router maps disagreed on).
CATEGORY_OF: dict[ErrorCode, Category] = {
    E.PARAMETER_MISSING: C.MISSING_FIELD,
    E.PARAMETER_UNKNOWN: C.UNKNOWN_FIELD,
    E.PARAMETER_UNSUPPORTED: C.INVALID_VALUE,
    E.PARAMETERS_EXCLUSIVE: C.INVALID_VALUE,
    E.PARAMETER_INVALID: C.INVALID_VALUE,
    E.PARAMETER_INVALID_ARRAY: C.INVALID_VALUE,
    E.PARAMETER_INVALID_BOOLEAN: C.INVALID_VALUE,
    E.PARAMETER_INVALID_CURRENCY: C.INVALID_VALUE,
    E.PARAMETER_INVALID_DECIMAL: C.INVALID_VALUE,
    E.PARAMETER_INVALID_EMPTY: C.INVALID_VALUE,
    E.PARAMETER_INVALID_ENUM: C.INVALID_VALUE,
    E.PARAMETER_INVALID_INTEGER: C.INVALID_VALUE,
    E.PARAMETER_INVALID_STRING: C.INVALID_VALUE,
    E.PARAMETER_INVALID_TYPE: C.INVALID_VALUE,
    E.INVALID_VALUE: C.INVALID_VALUE,
    E.INVALID_JSON: C.MALFORMED_REQUEST,
    E.INVALID_REQUEST_BODY: C.INVALID_VALUE,
    E.INVALID_IDEMPOTENCY_KEY: C.INVALID_VALUE,
    E.INVALID_EXPAND: C.INVALID_VALUE,
    E.BODY_TOO_LARGE: C.REQUEST_EXCEEDED_LIMIT,
    E.HEADERS_TOO_LARGE: C.REQUEST_EXCEEDED_LIMIT,
    E.AMOUNT_TOO_LARGE: C.INVALID_VALUE,
    E.INVALID_CHARACTERS: C.INVALID_VALUE,
    E.INVALID_COUNTRY: C.INVALID_VALUE,
    E.INVALID_CURRENCY: C.INVALID_VALUE,
    E.CURRENCY_MISMATCH: C.INVALID_VALUE,  # spec: a currency other than the account's is category 20
    E.INVALID_FROZEN_TIME: C.INVALID_VALUE,
    E.INVALID_METADATA: C.INVALID_VALUE,
    E.INVALID_METADATA_KEY: C.INVALID_VALUE,
    E.INVALID_METADATA_VALUE: C.INVALID_VALUE,
    E.INVALID_PERIOD: C.INVALID_VALUE,
    E.INVALID_QUANTITY: C.INVALID_VALUE,
    E.INVALID_UNIT_AMOUNT: C.INVALID_VALUE,
    E.INTERVAL_MISMATCH: C.INVALID_VALUE,
    E.INVOICE_CUSTOMER_MISMATCH: C.INVALID_VALUE,
    E.DUPLICATE_DISCOUNT: C.INVALID_VALUE,
    E.DUPLICATE_PRICE: C.INVALID_VALUE,
    E.DUPLICATE_TAX_RATE: C.INVALID_VALUE,
    E.OLD_LINE_ID: C.INVALID_VALUE,
    E.PRICE_NOT_ONE_TIME: C.INVALID_VALUE,
    E.PRICE_NOT_RECURRING: C.INVALID_VALUE,
    E.PRICE_UNSUPPORTED: C.INVALID_VALUE,
    E.REDEEM_BY_IN_PAST: C.INVALID_VALUE,
    E.TOO_MANY_ITEMS: C.INVALID_VALUE,
    E.TOO_MANY_LINES: C.INVALID_VALUE,
    E.RESOURCE_MISSING: C.NOT_FOUND,
    E.INVOICE_UPCOMING_NONE: C.NOT_FOUND,
    E.RULE_VIOLATION: C.RULE_RESTRICTION,
    E.CLOSED_PERIOD: C.RULE_RESTRICTION,
    E.DUPLICATE: C.RULE_RESTRICTION,
    E.OVERLAP: C.RULE_RESTRICTION,
    E.NOT_EDITABLE: C.RULE_RESTRICTION,
    # Every router answered these 20 before the table; they keep it (the wire does not change), though
    # most are rule refusals too (30 would be the spec's choice: change them together, with a note).
    E.FIELD_NOT_EDITABLE: C.INVALID_VALUE,
    E.LINE_NOT_REMOVABLE: C.INVALID_VALUE,
    E.INVOICE_ITEM_NOT_PENDING: C.INVALID_VALUE,
    E.LOOKUP_KEY_EXISTS: C.INVALID_VALUE,
    E.RESOURCE_ALREADY_EXISTS: C.INVALID_VALUE,
    E.COUPON_EXPIRED: C.INVALID_VALUE,
    E.PRICE_INACTIVE: C.INVALID_VALUE,
    E.TAX_RATE_INACTIVE: C.INVALID_VALUE,
    E.PAYMENT_METHOD_UNAVAILABLE: C.INVALID_VALUE,
    E.PROMOTION_CODE_RESTRICTED: C.RULE_RESTRICTION,
    E.BILLING_ERROR: C.RULE_RESTRICTION,
    E.INVALID_INPUT: C.INVALID_VALUE,
    E.INVALID_STATE: C.RULE_RESTRICTION,
    E.INVOICE_NOT_EDITABLE: C.RULE_RESTRICTION,
    E.INVALID_TRANSITION: C.RULE_RESTRICTION,
    E.CONFLICT: C.LOCKING_CONTENTION,
    E.IDEMPOTENCY_KEY_REUSED: C.LOCKING_CONTENTION,
    E.IDEMPOTENCY_KEY_IN_USE: C.LOCKING_CONTENTION,
    E.CONCURRENT_MODIFICATION: C.LOCKING_CONTENTION,
    E.UNAUTHENTICATED: C.AUTHENTICATION_FAILED,
    E.UNAVAILABLE: C.TEMPORARY_ERROR,
    E.ACCESS_DENIED: C.PERMISSION_DENIED,
    E.PERMISSION_DENIED: C.PERMISSION_DENIED,
    E.UNSUPPORTED_REQUEST: C.UNSUPPORTED_REQUEST,
    E.UNSUPPORTED_MEDIA_TYPE: C.UNSUPPORTED_REQUEST,
    E.REFUSED: C.RULE_RESTRICTION,
}
UNKNOWN_RESOURCE = 500000
# Authentication failures carry Zuora's own code for an invalid credential (spec §1.2).
INVALID_CREDENTIAL = 90000011
# Requests refused for their size (category 70, request exceeded limit), at every Zuora-Version.
_TOO_LARGE = {E.BODY_TOO_LARGE: 413, E.HEADERS_TOO_LARGE: 431}
# Refusals whose status (current versions) is not their category's: a reused key is 422, a body in an
# unread media type 415, and a database that cannot be reached 503 (category 61, a temporary error).
_OWN_STATUS = {E.IDEMPOTENCY_KEY_REUSED: 422, E.UNSUPPORTED_MEDIA_TYPE: 415, E.UNAVAILABLE: 503}
# Statuses the gateway answers before version handling: the same at every Zuora-Version.
_EVERY_VERSION = frozenset({CATEGORY_STATUS[C.AUTHENTICATION_FAILED], *_TOO_LARGE.values()})


class PermissionDenied(BillingError):
    """The caller may not act in the entity or org it named."""

    code = ErrorCode.PERMISSION_DENIED


class Unsupported(BillingError):
    code = ErrorCode.UNSUPPORTED_REQUEST


class Refused(BillingError):
    """A refusal with explicit reasons (real codes, one per problem); the first reason's category sets the status."""

    code = ErrorCode.REFUSED

    def __init__(self, reasons: list[tuple[int, str]]) -> None:
        if not reasons:
            raise ValueError("Refused needs at least one reason")
        super().__init__(reasons[0][1])
        self.reasons = reasons


def process_id() -> str:
    return secrets.token_hex(8).upper()


def zuora_code(category: Category, resource: int = UNKNOWN_RESOURCE) -> int:
    return resource * 100 + category


def category_of(code: ErrorCode) -> Category:
    """The category of a core error code: one answer, whichever router meets it."""
    return CATEGORY_OF[code]


def zuora_path(path: tuple[str | int, ...]) -> str:
    """("orderLineItems", 3, "quantity") → "orderLineItems[3].quantity"."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def refusal(exc: InvalidInput, owners: Mapping[int, str] | None = None) -> Refused:
    """Every problem as its own reason; with `owners` (index → invoice id) each names its invoice."""
    reasons = []
    for e in exc.errors:
        where = zuora_path(e.path)
        prefix = ""
        if owners is not None and len(e.path) >= 2 and isinstance(e.path[1], int) and e.path[1] in owners:
            prefix = f"Invoice {owners[e.path[1]]}: "
        message = f"{prefix}{where}: {e.message}" if where else prefix + e.message
        reasons.append((zuora_code(category_of(e.code)), message))
    return Refused(reasons)


def reasons_for(exc: BillingError) -> tuple[Category, list[dict[str, Any]]]:
    """The category deciding the HTTP status, and one reason per problem."""
    if isinstance(exc, InvalidInput):
        exc = refusal(exc)
    if isinstance(exc, Refused):
        return Category(exc.reasons[0][0] % 100), [{"code": c, "message": m} for c, m in exc.reasons]
    category = category_of(exc.code)
    code = INVALID_CREDENTIAL if isinstance(exc, Unauthenticated) else zuora_code(category)
    return category, [{"code": code, "message": exc.message}]


def error_body(category: Category, reasons: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {"success": False, "processId": process_id(), "reasons": reasons}
    if category == C.AUTHENTICATION_FAILED:
        body["message"] = reasons[0]["message"]
    return body


def one_reason(category: Category, message: str) -> tuple[int, dict[str, Any]]:
    """The status (current versions) and envelope of a refusal with one reason of this category."""
    return CATEGORY_STATUS[category], error_body(category, [{"code": zuora_code(category), "message": message}])


def render_error(exc: BillingError) -> tuple[int, dict[str, Any]]:
    """The status at current Zuora-Versions (`versioned_status` gives an older caller's) and the envelope."""
    category, reasons = reasons_for(exc)
    status = _OWN_STATUS.get(exc.code, CATEGORY_STATUS[category])
    if isinstance(exc, InvalidInput) and exc.first.code in _TOO_LARGE:
        status = _TOO_LARGE[exc.first.code]  # refused at the edge like authentication: at every version
    return status, error_body(category, reasons)


def versioned_status(status: int, *, legacy: bool) -> int:
    """Below Zuora-Version 2024-05-20 a refusal is HTTP 200 (Decision 1), except the gateway's own:
    authentication (401) and request size (413, 431) refusals keep their status at every version."""
    return 200 if legacy and status not in _EVERY_VERSION else status


def internal_error(*, legacy_status: bool) -> tuple[int, dict[str, Any]]:
    status, body = one_reason(C.INTERNAL_ERROR, "An unexpected error occurred.")
    return versioned_status(status, legacy=legacy_status), body
