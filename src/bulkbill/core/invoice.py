"""Invoice lifecycle: which status allows which action, and how numbers are formed."""

from __future__ import annotations

from enum import StrEnum

from bulkbill.core.errors import InvalidTransition, InvoiceNotEditable


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    UNCOLLECTIBLE = "uncollectible"
    VOID = "void"


class InvoiceAction(StrEnum):
    FINALIZE = "finalize"
    PAY = "pay"
    VOID = "void"
    MARK_UNCOLLECTIBLE = "mark_uncollectible"
    DELETE = "delete"


# draft --finalize--> open --pay--> paid; open/uncollectible --void--> void;
# open --mark_uncollectible--> uncollectible --pay--> paid; only drafts are deleted.
_ALLOWED_FROM: dict[InvoiceAction, frozenset[InvoiceStatus]] = {
    InvoiceAction.FINALIZE: frozenset({InvoiceStatus.DRAFT}),
    InvoiceAction.PAY: frozenset({InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE}),
    InvoiceAction.VOID: frozenset({InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE}),
    InvoiceAction.MARK_UNCOLLECTIBLE: frozenset({InvoiceStatus.OPEN}),
    InvoiceAction.DELETE: frozenset({InvoiceStatus.DRAFT}),
}


def ensure_editable(status: str) -> None:
    """Lines, items, discounts and tax rates of an invoice change only while it is a draft."""
    if status != InvoiceStatus.DRAFT:
        raise InvoiceNotEditable(
            f"This invoice can no longer be edited: its status is {status}; only draft invoices can be edited."
        )


def ensure_transition(action: InvoiceAction, status: str) -> None:
    """An action is allowed only from the statuses the lifecycle lists for it."""
    if status not in _ALLOWED_FROM[action]:
        allowed = " or ".join(sorted(_ALLOWED_FROM[action]))
        raise InvalidTransition(
            f"You can only {action.value.replace('_', ' ')} an invoice whose status is {allowed}; "
            f"this invoice is {status}."
        )


def status_after_finalize(amount_due: int) -> InvoiceStatus:
    """An invoice with nothing due is paid the moment it is finalized; otherwise it is open."""
    return InvoiceStatus.PAID if amount_due <= 0 else InvoiceStatus.OPEN


def invoice_number(prefix: str, sequence: int) -> str:
    """Numbers are the customer's prefix and a gapless sequence: ABC123-0001."""
    return f"{prefix}-{sequence:04d}"
