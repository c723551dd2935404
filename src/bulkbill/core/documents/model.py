"""The document model: what a finalized invoice or credit memo shows, independent of any rendering.

Amounts are integer minor units, exactly the figures the API shows; a renderer only formats them.
A document is a value: equal documents render to equal files, so its content hash names its file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bulkbill.core.documents.display import DEFAULT_PAPER, AmountTaxDisplay, Paper

# Bumped whenever a renderer's output changes for the same document: cached files then re-render.
LAYOUT_VERSION = 3


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_MEMO = "credit_memo"


class DocumentState(StrEnum):
    """The state a customer is told about: open (to pay), paid, void, uncollectible."""

    OPEN = "open"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


# Which stored invoice statuses have a document at all: a draft is not sent to anyone (as Stripe).
_STATES = {
    "open": DocumentState.OPEN,
    "paid": DocumentState.PAID,
    "void": DocumentState.VOID,
    "uncollectible": DocumentState.UNCOLLECTIBLE,
}


def document_state(status: str) -> DocumentState | None:
    """The state a document shows for an invoice status; None for a draft, which has no document."""
    return _STATES.get(status)


@dataclass(frozen=True, slots=True)
class Party:
    name: str | None = None
    address: str | None = None
    email: str | None = None
    tax_id: str | None = None


@dataclass(frozen=True, slots=True)
class Branding:
    """The issuer's look: logo bytes (PNG/JPEG/SVG), accent colour (#rgb/#rrggbb), footer text."""

    logo: bytes | None = None
    logo_type: str | None = None
    accent: str = "#1f6feb"
    footer: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentLine:
    description: str
    quantity: Decimal
    unit_amount: Decimal  # minor units, unrounded (a unit price may carry decimals)
    amount: int
    period_start: int | None = None
    period_end: int | None = None
    # The part of `amount` that is inclusive tax (after the line's discounts), for amount_tax_display.
    inclusive_tax: int = 0


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A discount or a tax summed over the document: its label ("" for the generic word) and amount (minor units)."""

    label: str
    amount: int
    inclusive: bool = False


@dataclass(frozen=True, slots=True)
class Document:
    kind: DocumentKind
    state: DocumentState
    number: str
    currency: str
    locale: str
    issued: int  # unix seconds
    due: int | None
    period_start: int | None
    period_end: int | None
    issuer: Party
    customer: Party
    branding: Branding
    lines: tuple[DocumentLine, ...]
    subtotal: int
    discounts: tuple[Adjustment, ...]
    taxes: tuple[Adjustment, ...]
    total: int
    balance_applied: int  # credit (negative) or debt (positive) carried from the customer's balance
    amount_paid: int
    amount_due: int
    memo: str | None = None
    payment_terms: str | None = None
    custom_fields: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # Stripe's invoice `rendering`: whether line amounts show their inclusive tax, and the paper.
    tax_display: AmountTaxDisplay | None = None
    paper: Paper = DEFAULT_PAPER

    @property
    def amount_remaining(self) -> int:
        """What is still owed: the amount due less what was paid (never below zero)."""
        return max(self.amount_due - self.amount_paid, 0)


def content_hash(document: Document) -> str:
    """A document's identity for caching: equal content (and layout version) gives the same hash."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, bytes):
            return hashlib.sha256(value).hexdigest()
        raise TypeError(type(value).__name__)

    payload = json.dumps([LAYOUT_VERSION, asdict(document)], sort_keys=True, default=default)
    return hashlib.sha256(payload.encode()).hexdigest()
