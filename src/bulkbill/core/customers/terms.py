"""Account terms: payment terms, bill cycle day, and the due date they give a document."""

from __future__ import annotations

import datetime as dt

from bulkbill.core.errors import ErrorCode, InputCollector, Path
from bulkbill.core.money import is_known_currency
from bulkbill.core.time_range import days_after

DEFAULT_PAYMENT_TERM = "Due Upon Receipt"
PAYMENT_TERM_DAYS = {"Due Upon Receipt": 0, "Net 30": 30, "Net 60": 60, "Net 90": 90}


def check_payment_term(term: str, path: Path, errors: InputCollector) -> None:
    """A payment term is one of Due Upon Receipt, Net 30, Net 60 or Net 90."""
    if term not in PAYMENT_TERM_DAYS:
        errors.add(
            path, ErrorCode.INVALID_VALUE, f"Invalid payment term {term!r}: use one of {', '.join(PAYMENT_TERM_DAYS)}."
        )


def check_bill_cycle_day(day: int, path: Path, errors: InputCollector) -> None:
    """The bill cycle day is 1 to 31 (31 = end of month), or 0 for auto-set."""
    if not 0 <= day <= 31:
        errors.add(path, ErrorCode.INVALID_VALUE, "billCycleDay must be between 0 and 31.")


def check_currency(currency: str, path: Path, errors: InputCollector) -> None:
    """A currency is a known three-letter ISO 4217 code."""
    if not is_known_currency(currency.lower()):
        errors.add(path, ErrorCode.INVALID_VALUE, f"Invalid currency: {currency}.")


def due_date_for(document_date: dt.date, payment_term: str | None) -> dt.date:
    """A document is due its payment term's days after its date (Due Upon Receipt: the same day), by 9999-12-31."""
    return days_after(document_date, PAYMENT_TERM_DAYS.get(payment_term or DEFAULT_PAYMENT_TERM, 0))
