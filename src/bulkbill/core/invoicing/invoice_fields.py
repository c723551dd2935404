"""Rules of Stripe's invoice fields that are not lines: shipping, account tax ids, chosen dates, revisions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bulkbill.core.errors import ErrorCode, InputCollector, InvalidTransition, Path
from bulkbill.core.invoicing.lifecycle import InvoiceStatus

# Stripe schedules a finalization up to five years ahead.
MAX_FINALIZE_AHEAD_SECONDS = 5 * 366 * 24 * 3600
# A tax id object's id (Stripe `txi_…`); bulkbill keeps no account tax id objects, so the shape is all it checks.
_TAX_ID = re.compile(r"txi_[A-Za-z0-9]{1,200}")
# Finalized invoices Stripe lets a revision start from (not void or paid ones).
REVISABLE = frozenset({InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE})


def shipping_amount(
    rate_data: Mapping[str, Any], invoice_currency: str, path: tuple[str, ...], errors: InputCollector
) -> int | None:
    """The fixed amount a shipping rate charges on an invoice in `invoice_currency` (its currency option else)."""
    fixed = rate_data.get("fixed_amount")
    if fixed is None:
        errors.missing((*path, "fixed_amount"))
        return None
    if fixed.get("currency") == invoice_currency:
        return int(fixed["amount"])
    option = (fixed.get("currency_options") or {}).get(invoice_currency)
    if option is not None:
        return int(option["amount"])
    errors.add(
        (*path, "fixed_amount", "currency"),
        ErrorCode.CURRENCY_MISMATCH,
        f"The shipping rate's currency ({fixed.get('currency')}) is not the invoice's ({invoice_currency}), "
        f"and it has no currency_options[{invoice_currency}].",
    )
    return None


def check_account_tax_ids(ids: Sequence[str], errors: InputCollector) -> None:
    """Account tax ids are tax id objects (`txi_…`), each named once."""
    seen: set[str] = set()
    for i, value in enumerate(ids):
        if not _TAX_ID.fullmatch(value):
            errors.add(("account_tax_ids", i), ErrorCode.INVALID_VALUE, f"Invalid tax id: '{value[:40]}' (txi_…).")
        elif value in seen:
            errors.add(("account_tax_ids", i), ErrorCode.INVALID_VALUE, f"Tax id '{value}' is given twice.")
        seen.add(value)


def check_finalizes_at(at: int, now: int, errors: InputCollector) -> None:
    """A scheduled finalization lies in the future, at most five years ahead."""
    if at <= now or at > now + MAX_FINALIZE_AHEAD_SECONDS:
        errors.add(
            ("automatically_finalizes_at",),
            ErrorCode.INVALID_VALUE,
            "automatically_finalizes_at must be in the future and at most 5 years from now.",
        )


def ensure_revisable(status: str, subscription_id: str | None) -> None:
    """Only open or uncollectible invoices of no subscription are revised (the finalized revision voids them)."""
    if status not in REVISABLE:
        raise InvalidTransition(
            f"You can only revise an invoice that is open or uncollectible; this invoice is {status}."
        )
    if subscription_id is not None:
        raise InvalidTransition("Invoices of a subscription cannot be revised after finalization.")


def check_tax_behavior(current: str | None, new: str | None, errors: InputCollector) -> None:
    """An item's tax_behavior, once inclusive or exclusive, cannot change (Stripe's rule)."""
    if new is not None and current in ("inclusive", "exclusive") and new != current:
        errors.add(
            ("tax_behavior",),
            ErrorCode.FIELD_NOT_EDITABLE,
            f"tax_behavior is {current}: once inclusive or exclusive, it cannot be changed.",
        )


def check_manual_taxes(
    line_tax_rates: Sequence[str] | None,
    default_tax_rates: Sequence[str],
    errors: InputCollector,
    path: Path = ("tax_amounts",),
) -> None:
    """Tax amounts given by hand replace computed ones: not on a line taxed by tax rates (its own or the invoice's)."""
    if line_tax_rates or default_tax_rates:
        errors.add(
            path,
            ErrorCode.INVALID_VALUE,
            "You cannot set tax_amounts on a line that has tax_rates, or on an invoice with default_tax_rates.",
        )
