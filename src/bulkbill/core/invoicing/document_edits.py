"""Billing documents (invoices, credit memos) edited as Zuora edits them: Decision 8, and item pricing.

Which document fields change in which status:
* invoice date, due date, comments, template: Draft only; an invoice date and a due date never
  change in the same request;
* auto-pay and custom fields: Draft or Posted; the accounting-transfer status: Posted only, and
  never back to "No";
* the fields of an existing item: any Draft document; adding or deleting items: Draft documents
  created as standalone invoices only;
* nothing at all on a Canceled document.

Item pricing follows the core's one rule (core.items): unit price × quantity, rounded once, is
the item amount; an amount sent without a unit price sets the unit price to amount ÷ quantity;
an amount that disagrees with unit price × quantity is refused.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from enum import StrEnum

from bulkbill.core.errors import ErrorCode, InputCollector, Path
from bulkbill.core.invoicing.commands import LineChanges, PriceData
from bulkbill.core.invoicing.items import ItemOwner, ItemValues, References, apply_changes, build_new_item, evolve
from bulkbill.core.money import MAX_UNIT_PRICE_PLACES

NO_REFERENCES = References(prices={}, coupons={}, discounts={}, tax_rates={}, products=set())
TRANSFER_STATUSES = ("Processing", "Yes", "Error", "Ignore")
# An amount over a quantity is divided at 60 digits, then kept to 12 places (unit_for_amount).
_DIVISION = Context(prec=60)
_UNIT_STEP = Decimal(1).scaleb(-MAX_UNIT_PRICE_PLACES)
_UNIT_GIVEN = frozenset({"unit_amount_decimal"})


class DocumentStatus(StrEnum):
    DRAFT = "Draft"
    POSTED = "Posted"
    CANCELED = "Canceled"


def document_status(core_status: str) -> DocumentStatus:
    """A draft is Draft, a void document Canceled, anything finalized (open, paid, uncollectible) Posted."""
    if core_status == "draft":
        return DocumentStatus.DRAFT
    if core_status == "void":
        return DocumentStatus.CANCELED
    return DocumentStatus.POSTED


# Decision 8: the statuses in which each document-level field may change.
HEADER_EDITABLE: dict[str, frozenset[DocumentStatus]] = {
    "invoiceDate": frozenset({DocumentStatus.DRAFT}),
    "dueDate": frozenset({DocumentStatus.DRAFT}),
    "comments": frozenset({DocumentStatus.DRAFT}),
    "templateId": frozenset({DocumentStatus.DRAFT}),
    "autoPay": frozenset({DocumentStatus.DRAFT, DocumentStatus.POSTED}),
    "customFields": frozenset({DocumentStatus.DRAFT, DocumentStatus.POSTED}),
    "transferredToAccounting": frozenset({DocumentStatus.POSTED}),
}


@dataclass(frozen=True, slots=True)
class DocumentState:
    """What the edit rules need to know about a document as it stands."""

    status: DocumentStatus
    standalone: bool
    item_ids: frozenset[str] = frozenset()
    # discount item id → the id of the item it applies to
    discount_parents: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ItemPricing:
    """Pricing fields a client sent for an item, in minor units (None: not sent)."""

    unit_price: Decimal | None = None
    quantity: Decimal | None = None
    amount: Decimal | None = None


def check_header_edit(state: DocumentState, given: Collection[str], path: Path, errors: InputCollector) -> None:
    """Each document field changes only in the statuses Decision 8 lists; nothing changes once Canceled."""
    for name in sorted(given):
        allowed = HEADER_EDITABLE.get(name)
        if allowed is not None and state.status not in allowed:
            statuses = " or ".join(s.value for s in DocumentStatus if s in allowed)
            errors.add(
                (*path, name),
                ErrorCode.NOT_EDITABLE,
                f"{name} can only be updated on {statuses} invoices; this invoice is {state.status.value}.",
            )
    if "invoiceDate" in given and "dueDate" in given:
        errors.add(
            (*path, "dueDate"), ErrorCode.INVALID_VALUE, "You can only specify invoiceDate or dueDate in one request."
        )


def check_transfer_status(value: str, path: Path, errors: InputCollector) -> None:
    """The accounting-transfer status is set to Processing, Yes, Error or Ignore; never back to No."""
    if value not in TRANSFER_STATUSES:
        errors.add(
            path, ErrorCode.INVALID_VALUE, f"transferredToAccounting must be one of {', '.join(TRANSFER_STATUSES)}."
        )


def check_item_entry(
    state: DocumentState,
    item_id: str | None,
    *,
    delete: bool,
    add_only: Collection[str],
    path: Path,
    errors: InputCollector,
    parent_id: str | None = None,
) -> bool:
    """An item entry updates (id), deletes (id + delete) or adds (no id) an item; True when it may proceed."""
    if state.status != DocumentStatus.DRAFT:
        errors.add(
            path,
            ErrorCode.NOT_EDITABLE,
            f"Invoice items can only be changed on Draft invoices; this invoice is {state.status.value}.",
        )
        return False
    ok = True
    if item_id is None:
        if delete:
            errors.add(
                (*path, "delete"), ErrorCode.INVALID_VALUE, "delete is only valid with the id of an existing item."
            )
            ok = False
        elif not state.standalone:
            errors.add(
                path,
                ErrorCode.NOT_EDITABLE,
                "Items can only be added to Draft invoices created as standalone invoices.",
            )
            ok = False
        return ok
    known = state.discount_parents.get(item_id) == parent_id if parent_id else item_id in state.item_ids
    if not known:
        what = f"discount item of item {parent_id}" if parent_id else "item of this invoice"
        errors.add((*path, "id"), ErrorCode.RESOURCE_MISSING, f"{item_id} is not an {what}.")
        return False
    if delete and not state.standalone:
        errors.add(
            (*path, "delete"), ErrorCode.NOT_EDITABLE, "Items can only be deleted from Draft standalone invoices."
        )
        ok = False
    for name in sorted(add_only):
        errors.add((*path, name), ErrorCode.INVALID_VALUE, f"{name} is only valid when adding an item (without id).")
        ok = False
    return ok


def unit_for_amount(amount: Decimal, quantity: Decimal) -> Decimal:
    """The unit price that makes `amount` over `quantity` (12 decimal places at most)."""
    unit = _DIVISION.divide(amount, quantity)
    exponent = unit.as_tuple().exponent
    # Past 12 places only when its exponent is (normalize() only raises it): most units skip the normalize.
    if isinstance(exponent, int) and exponent < -MAX_UNIT_PRICE_PLACES:
        normalized = unit.normalize(_DIVISION).as_tuple().exponent
        if isinstance(normalized, int) and -normalized > MAX_UNIT_PRICE_PLACES:
            unit = unit.quantize(_UNIT_STEP, rounding=ROUND_HALF_UP, context=_DIVISION)
    return unit


@functools.cache
def _given(quantity: bool, description: bool, period: bool, unit: bool) -> frozenset[str]:
    """The wire names a priced item's LineChanges carries (16 sets, built once)."""
    flags = (("quantity", quantity), ("description", description), ("period", period), ("price_data", unit))
    return frozenset(name for name, sent in flags if sent)


def price_item(
    base: ItemValues | None,
    owner: ItemOwner,
    pricing: ItemPricing,
    *,
    description: str | None,
    period: tuple[int, int] | None,
    path: Path,
    errors: InputCollector,
    now: int,
) -> ItemValues:
    """Item values through core.items (`base` None: a new item): unit price × quantity is the amount."""
    quantity, amount = pricing.quantity, pricing.amount
    unit = pricing.unit_price
    whole = amount is None or amount == amount.to_integral_value()
    if not whole:
        errors.add(
            (*path, "amount"), ErrorCode.INVALID_VALUE, "The amount has more decimal places than the currency allows."
        )
    if unit is None and amount is not None:
        q = quantity if quantity is not None else (base.quantity if base is not None else Decimal(1))
        if q == 0:
            if amount != 0:
                errors.add((*path, "amount"), ErrorCode.INVALID_VALUE, "A non-zero amount needs a non-zero quantity.")
                whole = False  # reported: no second complaint about the same amount
            unit = base.unit_amount_decimal if base is not None else Decimal(0)
        else:
            unit = unit_for_amount(amount, q)
    data = None
    if unit is not None:
        data = PriceData(unit_amount_decimal=unit, given=_UNIT_GIVEN, product_required=False)
    given = _given(quantity is not None, description is not None, period is not None, unit is not None)
    changes = LineChanges(given=given, price_data=data, quantity=quantity, description=description, period=period)
    local = InputCollector()
    if base is None:
        values = build_new_item(owner, changes, NO_REFERENCES, path, local, now=now)
    else:
        values = apply_changes(base, owner, changes, NO_REFERENCES, path, local)
    priced_by = "unitPrice" if pricing.unit_price is not None else "amount"  # the unit price came from the amount
    for e in local.errors:  # name the fields as the client sent them
        rest = e.path[len(path) :]
        name = priced_by if rest[:1] == ("price_data",) else ("serviceEndDate" if rest[:1] == ("period",) else None)
        errors.add((*path, name) if name else e.path, e.code, e.message)
    if amount is not None and whole and not local.errors and values.amount != int(amount):
        errors.add((*path, "amount"), ErrorCode.INVALID_VALUE, "The amount must equal quantity × unitPrice.")
    if values.amount < 0:
        values = evolve(values, discountable=False)
    return values


def day_start(day: dt.date) -> int:
    """A date as the Unix timestamp of its first second (UTC): how dates sit in timestamp fields."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def day_of(timestamp: int) -> dt.date:
    """The UTC date of a Unix timestamp."""
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).date()
