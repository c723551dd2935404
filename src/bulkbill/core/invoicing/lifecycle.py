"""Invoice lifecycle: which status allows which action, and how numbers are formed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bulkbill.core.errors import ErrorCode, InputCollector, InvalidTransition, InvoiceNotEditable
from bulkbill.core.money import check_total


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


def check_collection(
    collection_method: str, days_until_due: int | None, due_date: int | None, errors: InputCollector, *, now: int
) -> None:
    """send_invoice needs days_until_due or due_date (not both); charge_automatically takes neither."""
    if collection_method == "send_invoice":
        if days_until_due is not None and due_date is not None:
            errors.add(
                ("due_date",),
                ErrorCode.PARAMETERS_EXCLUSIVE,
                "You may only specify one of these parameters: days_until_due, due_date.",
            )
        if days_until_due is not None and not 0 <= days_until_due <= 3650:
            errors.add(("days_until_due",), ErrorCode.INVALID_VALUE, "days_until_due must be between 0 and 3650.")
        if due_date is not None and due_date < now - 86400:
            errors.add(("due_date",), ErrorCode.INVALID_VALUE, "due_date must be in the future.")
    elif days_until_due is not None or due_date is not None:
        name = "days_until_due" if days_until_due is not None else "due_date"
        errors.add((name,), ErrorCode.INVALID_VALUE, f"{name} can only be set when collection_method is send_invoice.")


def due_date_at_finalization(
    collection_method: str, days_until_due: int | None, due_date: int | None, *, finalized_at: int
) -> int | None:
    """A send_invoice invoice is due days_until_due days after finalization unless a date was fixed."""
    if collection_method != "send_invoice":
        return None
    if due_date is not None:
        return due_date
    return finalized_at + 86400 * (days_until_due or 0)


def balance_after_finalize(total: int, starting_balance: int) -> tuple[int, int]:
    """Apply the customer's balance: returns (amount_due, ending_balance); a credit left over stays a credit.

    The balance left stays within MAX_TOTAL (a credit that would grow past it refuses the finalization).
    """
    net = check_total(total + starting_balance, what="The total with the customer's balance")
    return max(0, net), min(0, net)


def ensure_sendable(collection_method: str, status: str) -> None:
    """Only send_invoice invoices are sent by hand, and never once voided."""
    if collection_method != "send_invoice":
        raise InvalidTransition("You can only manually send an invoice if its collection method is 'send_invoice'.")
    if status == InvoiceStatus.VOID:
        raise InvalidTransition("You cannot send an invoice that has been voided.")


def ensure_deletable(status: str, *, subscription_id: str | None) -> None:
    """Only drafts are deleted, and never a subscription's invoice (its period would go unbilled)."""
    ensure_transition(InvoiceAction.DELETE, status)
    if subscription_id is not None:
        raise InvalidTransition("Invoices of a subscription cannot be deleted; they can only be voided.")


@dataclass(frozen=True, slots=True)
class Posting:
    """What finalizing one document does: the balance it starts from, what is due, the balance it leaves."""

    starting_balance: int
    amount_due: int
    ending_balance: int
    status: InvoiceStatus


def post_in_order(
    balance: int, totals: Sequence[int], *, applies: Sequence[bool] | None = None
) -> tuple[list[Posting], int]:
    """Post a customer's documents one after the other, each applying the balance the previous one left.

    `applies[i]` false (a credit memo) posts the document without the balance: a memo's credit stays on the
    memo (Zuora's unapplied amount; a Stripe credit note moves the balance by its credit_amount only), and
    it neither uses a credit balance nor takes on a debit one. Returns the postings and the account's
    balance afterwards (balance_after_finalize).
    """
    postings = []
    for i, total in enumerate(totals):
        if applies is not None and not applies[i]:
            due = max(0, total)
            postings.append(Posting(balance, due, balance, status_after_finalize(due)))
            continue
        due, ending = balance_after_finalize(total, balance)
        postings.append(Posting(balance, due, ending, status_after_finalize(due)))
        balance = ending
    return postings, balance
