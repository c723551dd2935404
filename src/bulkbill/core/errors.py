"""The error tree every layer speaks; dialects map it to their own envelopes.

BillingError                 code: stable snake-case string, never changed once shipped
├─ InvalidInput              .errors: list[FieldError(path, code, message)], every problem of a request
├─ NotFound                  .resource, .object_id; .path when the id came from the body
├─ InvalidStateError         an object is in a state that forbids the operation
├─ RuleViolation             a business rule refuses otherwise well-formed input
├─ Conflict                  idempotency and concurrency conflicts
└─ Unauthenticated           no or wrong credentials

Paths are relative to the command (("lines", 2, "quantity")), never to an HTTP body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of a command."""

    path: Path
    code: str
    message: str


class BillingError(Exception):
    """Base of every error the core and services raise on purpose."""

    code: ClassVar[str] = "billing_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(BillingError):
    """The command is malformed; every problem found is listed, in request order."""

    code = "invalid_input"

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

    code = "resource_missing"

    def __init__(self, resource: str, object_id: str, *, path: Path | None = None) -> None:
        super().__init__(f"No such {resource}: '{object_id}'")
        self.resource = resource
        self.object_id = object_id
        self.path = path


class InvalidStateError(BillingError):
    """The object's state forbids the operation."""

    code = "invalid_state"

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class InvoiceNotEditable(InvalidStateError):
    code = "invoice_not_editable"


class InvalidTransition(InvalidStateError):
    code = "invalid_transition"


class RuleViolation(BillingError):
    """Well-formed input that a business rule refuses."""

    code = "rule_violation"

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class Conflict(BillingError):
    """The request conflicts with another one (idempotency, concurrency)."""

    code = "conflict"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"


class ConcurrentModification(Conflict):
    code = "concurrent_modification"


class Unauthenticated(BillingError):
    code = "unauthenticated"


class InputCollector:
    """Collects FieldErrors so a command reports every problem at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, path: Path, code: str, message: str) -> None:
        self.errors.append(FieldError(path, code, message))

    def missing(self, path: Path) -> None:
        self.add(path, "parameter_missing", f"Missing required param: {dotted(path)}.")

    def not_found(self, path: Path, resource: str, object_id: str) -> None:
        self.add(path, "resource_missing", f"No such {resource}: '{object_id}'")

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
