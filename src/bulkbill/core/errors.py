"""The error tree every layer speaks; dialects map it to their own envelopes.

BillingError                 code: an ErrorCode (stable snake-case, never changed once shipped)
├─ InvalidInput              .errors: list[FieldError(path, code, message)], every problem of a request
├─ NotFound                  .resource, .object_id; .path when the id came from the body
├─ NoUpcomingInvoice         nothing to preview for a customer (Stripe's invoice_upcoming_none)
├─ InvalidStateError         an object is in a state that forbids the operation
├─ RuleViolation             a business rule refuses otherwise well-formed input
├─ Conflict                  idempotency and concurrency conflicts
├─ Unauthenticated           no or wrong credentials
└─ Unavailable               nothing can be done now (the database is unreachable)

Paths are relative to the command (("lines", 2, "quantity")), never to an HTTP body.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

Path = tuple[str | int, ...]


class ErrorCode(StrEnum):
    """Every code an error carries: stable snake-case names, never changed once shipped.

    Each dialect maps them to its own wire (api/stripe/errors.py, api/zuora/errors.py): a new code
    needs a line in the Zuora category table (a test insists) and, if Stripe publishes it, in Stripe's.
    """

    # The parameter itself: missing, unknown, malformed.
    PARAMETER_MISSING = "parameter_missing"
    PARAMETER_UNKNOWN = "parameter_unknown"
    PARAMETER_UNSUPPORTED = "parameter_unsupported"
    PARAMETERS_EXCLUSIVE = "parameters_exclusive"
    PARAMETER_INVALID = "parameter_invalid"
    PARAMETER_INVALID_ARRAY = "parameter_invalid_array"
    PARAMETER_INVALID_BOOLEAN = "parameter_invalid_boolean"
    PARAMETER_INVALID_CURRENCY = "parameter_invalid_currency"
    PARAMETER_INVALID_DECIMAL = "parameter_invalid_decimal"
    PARAMETER_INVALID_EMPTY = "parameter_invalid_empty"
    PARAMETER_INVALID_ENUM = "parameter_invalid_enum"
    PARAMETER_INVALID_INTEGER = "parameter_invalid_integer"
    PARAMETER_INVALID_STRING = "parameter_invalid_string"
    PARAMETER_INVALID_TYPE = "parameter_invalid_type"
    INVALID_VALUE = "invalid_value"
    INVALID_JSON = "invalid_json"
    INVALID_REQUEST_BODY = "invalid_request_body"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    INVALID_EXPAND = "invalid_expand"
    BODY_TOO_LARGE = "body_too_large"
    HEADERS_TOO_LARGE = "headers_too_large"
    # A value the rules refuse whatever the state.
    AMOUNT_TOO_LARGE = "amount_too_large"
    INVALID_CHARACTERS = "invalid_characters"
    INVALID_COUNTRY = "invalid_country"
    INVALID_CURRENCY = "invalid_currency"
    CURRENCY_MISMATCH = "currency_mismatch"
    INVALID_FROZEN_TIME = "invalid_frozen_time"
    INVALID_METADATA = "invalid_metadata"
    INVALID_METADATA_KEY = "invalid_metadata_key"
    INVALID_METADATA_VALUE = "invalid_metadata_value"
    INVALID_PERIOD = "invalid_period"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_UNIT_AMOUNT = "invalid_unit_amount"
    INTERVAL_MISMATCH = "interval_mismatch"
    INVOICE_CUSTOMER_MISMATCH = "invoice_customer_mismatch"
    DUPLICATE_DISCOUNT = "duplicate_discount"
    DUPLICATE_PRICE = "duplicate_price"
    DUPLICATE_TAX_RATE = "duplicate_tax_rate"
    OLD_LINE_ID = "old_line_id"
    PRICE_NOT_ONE_TIME = "price_not_one_time"
    PRICE_NOT_RECURRING = "price_not_recurring"
    PRICE_UNSUPPORTED = "price_unsupported"
    REDEEM_BY_IN_PAST = "redeem_by_in_past"
    TOO_MANY_ITEMS = "too_many_items"
    TOO_MANY_LINES = "too_many_lines"
    # Something referred to does not exist.
    RESOURCE_MISSING = "resource_missing"
    INVOICE_UPCOMING_NONE = "invoice_upcoming_none"
    # A business rule, given what exists and the state it is in.
    RULE_VIOLATION = "rule_violation"
    CLOSED_PERIOD = "closed_period"
    DUPLICATE = "duplicate"
    OVERLAP = "overlap"
    NOT_EDITABLE = "not_editable"
    FIELD_NOT_EDITABLE = "field_not_editable"
    LINE_NOT_REMOVABLE = "line_not_removable"
    INVOICE_ITEM_NOT_PENDING = "invoice_item_not_pending"
    LOOKUP_KEY_EXISTS = "lookup_key_exists"
    RESOURCE_ALREADY_EXISTS = "resource_already_exists"
    COUPON_EXPIRED = "coupon_expired"
    PROMOTION_CODE_RESTRICTED = "promotion_code_restricted"
    PRICE_INACTIVE = "price_inactive"
    TAX_RATE_INACTIVE = "tax_rate_inactive"
    PAYMENT_METHOD_UNAVAILABLE = "payment_method_unavailable"
    # The codes of the error classes (BillingError.code).
    BILLING_ERROR = "billing_error"
    INVALID_INPUT = "invalid_input"
    INVALID_STATE = "invalid_state"
    INVOICE_NOT_EDITABLE = "invoice_not_editable"
    INVALID_TRANSITION = "invalid_transition"
    CONFLICT = "conflict"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    CONCURRENT_MODIFICATION = "concurrent_modification"
    UNAUTHENTICATED = "unauthenticated"
    UNAVAILABLE = "unavailable"
    ACCESS_DENIED = "access_denied"
    # Refusals of a dialect's edge (its own error classes).
    PERMISSION_DENIED = "permission_denied"
    UNSUPPORTED_REQUEST = "unsupported_request"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of a command."""

    path: Path
    code: ErrorCode
    message: str


class BillingError(Exception):
    """Base of every error the core and services raise on purpose."""

    code: ClassVar[ErrorCode] = ErrorCode.BILLING_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(BillingError):
    """The command is malformed; every problem found is listed, in request order."""

    code = ErrorCode.INVALID_INPUT

    def __init__(self, errors: list[FieldError]) -> None:
        if not errors:
            raise ValueError("InvalidInput needs at least one FieldError")
        super().__init__(errors[0].message)
        self.errors = errors

    @property
    def first(self) -> FieldError:
        return self.errors[0]


class NotFound(BillingError):
    """A referenced object does not exist (or belongs to another tenant)."""

    code = ErrorCode.RESOURCE_MISSING

    def __init__(self, resource: str, object_id: str, *, path: Path | None = None) -> None:
        super().__init__(f"No such {resource}: '{object_id}'")
        self.resource = resource
        self.object_id = object_id
        self.path = path


class NoUpcomingInvoice(BillingError):
    """A customer with no live subscription and no pending invoice item has no upcoming invoice to preview."""

    code = ErrorCode.INVOICE_UPCOMING_NONE

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"No upcoming invoices for customer: {customer_id}")
        self.customer_id = customer_id


class InvalidStateError(BillingError):
    """The object's state forbids the operation."""

    code = ErrorCode.INVALID_STATE

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class InvoiceNotEditable(InvalidStateError):
    code = ErrorCode.INVOICE_NOT_EDITABLE


class InvalidTransition(InvalidStateError):
    code = ErrorCode.INVALID_TRANSITION


class RuleViolation(BillingError):
    """Well-formed input that a business rule refuses."""

    code = ErrorCode.RULE_VIOLATION

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class Conflict(BillingError):
    """The request conflicts with another one (idempotency, concurrency)."""

    code = ErrorCode.CONFLICT


class IdempotencyKeyReused(Conflict):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED


class IdempotencyKeyInUse(Conflict):
    code = ErrorCode.IDEMPOTENCY_KEY_IN_USE


class ConcurrentModification(Conflict):
    code = ErrorCode.CONCURRENT_MODIFICATION


class Unauthenticated(BillingError):
    code = ErrorCode.UNAUTHENTICATED


class Unavailable(BillingError):
    """The service cannot do anything now (its database is unreachable); retrying later may succeed."""

    code = ErrorCode.UNAVAILABLE


class InputCollector:
    """Collects FieldErrors so a command reports every problem at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, path: Path, code: ErrorCode, message: str) -> None:
        self.errors.append(FieldError(path, code, message))

    def missing(self, path: Path) -> None:
        self.add(path, ErrorCode.PARAMETER_MISSING, f"Missing required param: {dotted(path)}.")

    def not_found(self, path: Path, resource: str, object_id: str) -> None:
        self.add(path, ErrorCode.RESOURCE_MISSING, f"No such {resource}: '{object_id}'")

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInput(sorted(self.errors, key=lambda e: _sort_key(e.path)))


def dotted(path: Path) -> str:
    """Render a path the way humans read it: lines[2].quantity → 'lines[2][quantity]'."""
    if not path:
        return ""
    head, *rest = path
    return str(head) + "".join(f"[{p}]" for p in rest)


def _sort_key(path: Path) -> tuple[tuple[int, int | str], ...]:
    # Request order: numeric indexes compare as numbers, names after them as text.
    return tuple((0, p) if isinstance(p, int) else (1, p) for p in path)
