"""A customer's balance and the transactions that move it (Stripe's customer balance transactions).

The balance is in minor units of the customer's currency: negative is a credit the customer can use (the next
finalized invoice applies it: core.invoicing.lifecycle.post_in_order), positive an amount owed on top of the
next invoice.
"""

from __future__ import annotations

from enum import StrEnum

from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput, Path
from bulkbill.core.money import check_total


class BalanceTransactionType(StrEnum):
    """What moved the balance: bulkbill's own moves, and Stripe's manual adjustment."""

    ADJUSTMENT = "adjustment"  # made through the API
    APPLIED_TO_INVOICE = "applied_to_invoice"  # a finalized invoice used (or added to) the balance
    CREDIT_NOTE = "credit_note"  # a credit note's credit_amount


def adjusted_balance(balance: int, amount: int, path: Path) -> int:
    """A transaction adds its amount to the balance, which stays within the totals' limit."""
    return check_total(balance + amount, path, what="The customer's balance")


def check_balance_currency(customer_currency: str | None, currency: str, path: Path) -> None:
    """A transaction is in the customer's currency (a customer without one takes the transaction's)."""
    if customer_currency is not None and customer_currency != currency:
        message = (
            f"The customer's balance is in {customer_currency}: a balance transaction in {currency} cannot apply to it."
        )
        raise InvalidInput([FieldError(path, ErrorCode.CURRENCY_MISMATCH, message)])
