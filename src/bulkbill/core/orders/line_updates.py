"""Updating an order line item: what one update changes, checked against the line's state.

A pure planner, like the invoice-line planners (core.invoicing.lines). The dialect maps what its
client sent to LineFields once (typed, snake_case; `given` names the fields sent); the service
loads the line as a StoredLine and resolves a sent owner account (OwnerLookup); plan_line_update
works out the line's values after the update (LinePlan.after), collecting every problem with its
path, and the service writes the plan only when no update of the call had a problem. A field is
named in paths and messages by its LineField value, the name §2.6 gives it (what clients send).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bulkbill.core.errors import ErrorCode, InputCollector, Path
from bulkbill.core.metadata import merge_fields
from bulkbill.core.orders.line_items import (
    BillingRule,
    DiscountType,
    ItemCategory,
    ItemState,
    PricingProblem,
    field_edit_error,
    price_line,
    sent_to_billing_error,
    transition_error,
)

# Prices arrive in the dialect's unit; the dialect hands in its converter (Zuora: major → minor units).
ToMinor = Callable[[Decimal, str], Decimal]
RULE = ErrorCode.RULE_VIOLATION


class LineField(StrEnum):
    """An order line item's typed fields. Member names are the LineValues attributes they set."""

    ITEM_STATE = "itemState"
    BILLING_RULE = "billingRule"
    ITEM_TYPE = "itemType"
    ITEM_NAME = "itemName"
    DESCRIPTION = "description"
    QUANTITY = "quantity"
    LIST_PRICE_PER_UNIT = "listPricePerUnit"
    AMOUNT_PER_UNIT = "amountPerUnit"
    INLINE_DISCOUNT_TYPE = "inlineDiscountType"
    INLINE_DISCOUNT_PER_UNIT = "inlineDiscountPerUnit"
    BILL_TARGET_DATE = "billTargetDate"
    TRANSACTION_START_DATE = "transactionStartDate"
    TRANSACTION_END_DATE = "transactionEndDate"
    UOM = "UOM"
    PRODUCT_CODE = "productCode"
    CUSTOM_FIELDS = "customFields"
    OWNER_ACCOUNT_NUMBER = "ownerAccountNumber"  # names an account; the line stores the account's id

    @property
    def attribute(self) -> str:
        return _ATTRIBUTES[self]


_ATTRIBUTES = {name: name.name.lower() for name in LineField}


# Fields an update may send as null without clearing them: the null is refused, and changes nothing.
NOT_NULL = (LineField.QUANTITY, LineField.ITEM_STATE, LineField.BILLING_RULE)
# Sales lines are re-priced when any of these change.
PRICING = frozenset(
    {
        LineField.LIST_PRICE_PER_UNIT,
        LineField.AMOUNT_PER_UNIT,
        LineField.QUANTITY,
        LineField.INLINE_DISCOUNT_TYPE,
        LineField.INLINE_DISCOUNT_PER_UNIT,
    }
)


@dataclass(frozen=True)
class LineFields:
    """The fields a client sent for one order line item (to create or update it), in the dialect's units.

    `given` holds the typed fields sent (a None among them is a null sent: cleared, or refused);
    `attrs` every other field sent, JSON-ready, stored and echoed as sent (a None clears one).
    """

    given: frozenset[LineField] = frozenset()
    item_state: ItemState | None = None
    item_category: ItemCategory | None = None
    billing_rule: BillingRule | None = None
    item_type: str | None = None
    item_name: str | None = None
    item_number: str | None = None
    description: str | None = None
    quantity: Decimal | None = None
    list_price_per_unit: Decimal | None = None
    amount_per_unit: Decimal | None = None
    inline_discount_type: DiscountType | None = None
    inline_discount_per_unit: Decimal | None = None
    bill_target_date: dt.date | None = None
    transaction_start_date: dt.date | None = None
    transaction_end_date: dt.date | None = None
    currency: str | None = None
    uom: str | None = None
    product_code: str | None = None
    owner_account_number: str | None = None
    original_order_number: str | None = None
    original_order_line_item_number: str | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LineValues:
    """What an update can change on a line, as stored: prices in minor units (None only when a client cleared one)."""

    item_state: ItemState
    billing_rule: BillingRule
    item_type: str | None
    item_name: str | None
    description: str | None
    quantity: Decimal
    list_price_per_unit: Decimal | None
    amount_per_unit: Decimal | None
    inline_discount_type: DiscountType | None
    inline_discount_per_unit: Decimal | None
    bill_target_date: dt.date | None
    transaction_start_date: dt.date | None
    transaction_end_date: dt.date | None
    uom: str | None
    product_code: str | None
    custom_fields: Mapping[str, Any]
    attrs: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StoredLine:
    """The line an update applies to."""

    id: str
    category: ItemCategory
    currency: str
    values: LineValues


@dataclass(frozen=True, slots=True)
class OwnerLookup:
    """A sent owner account, resolved: the number of the line's owner now, and the account sent (None: not found)."""

    current_number: str | None
    account_id: str | None


@dataclass(frozen=True, slots=True)
class LinePlan:
    """What an update does to a line: its values after it, the typed fields that changed, its new owner."""

    line_id: str
    category: ItemCategory
    path: Path
    after: LineValues
    changed: frozenset[LineField]
    owner_account_id: str | None = None

    @property
    def sends_to_billing(self) -> bool:
        """The update moves the line to SentToBilling (the moment it went to billing is recorded)."""
        return LineField.ITEM_STATE in self.changed and self.after.item_state == ItemState.SENT_TO_BILLING


def plan_line_update(
    line: StoredLine,
    sent: LineFields,
    *,
    to_minor: ToMinor,
    owner: OwnerLookup | None,
    path: Path,
    errors: InputCollector,
) -> LinePlan:
    """An update changes the values that differ from the stored ones, each only in a state §2.6 allows.

    itemState moves along §2.7's paths (SentToBilling needs a billTargetDate); quantity, itemState
    and billingRule cannot be cleared; a changed sales price, quantity or discount re-prices the line.
    `owner` is the resolution of a sent ownerAccountNumber (None when none was sent).
    """
    before = line.values
    values = _sent_values(line, sent, to_minor)
    changes = {
        name: value
        for name, value in values.items()
        if value != getattr(before, _ATTRIBUTES[name]) and not (value is None and name in NOT_NULL)
    }
    attrs = {name: value for name, value in sent.attrs.items() if value != before.attrs.get(name)}
    owner_changes = owner is not None and sent.owner_account_number not in (None, owner.current_number)
    label = f"Order line item {line.id}"
    edited: list[str] = [*changes, *attrs]
    if owner_changes:
        edited.append(LineField.OWNER_ACCOUNT_NUMBER)
    for name in sorted(edited):
        if name != LineField.ITEM_STATE and (problem := field_edit_error(name, line.category, before.item_state)):
            errors.add((*path, name), RULE, f"{label}: {problem}")
    after = before
    if changes or attrs:
        changed_values: dict[str, Any] = {_ATTRIBUTES[name]: value for name, value in changes.items()}
        if attrs:
            changed_values["attrs"] = merge_fields(before.attrs, attrs)
        after = _changed(before, changed_values)
    if LineField.ITEM_STATE in changes:
        if problem := transition_error(after.billing_rule, before.item_state, after.item_state):
            errors.add((*path, LineField.ITEM_STATE), RULE, f"{label}: {problem}")
        if after.item_state == ItemState.SENT_TO_BILLING and (problem := sent_to_billing_error(after.bill_target_date)):
            errors.add((*path, LineField.BILL_TARGET_DATE), RULE, f"{label}: {problem}")
    for name in NOT_NULL:
        if name in values and values[name] is None:
            errors.add((*path, name), ErrorCode.INVALID_VALUE, f"{label}: {name} cannot be null.")
    if LineField.QUANTITY in changes and after.quantity < 0:
        errors.add(
            (*path, LineField.QUANTITY), ErrorCode.INVALID_VALUE, f"{label}: negative quantities are not supported."
        )
    if _ends_before_start(before, after, changes):
        message = f"{label}: transactionEndDate is before the start."
        errors.add((*path, LineField.TRANSACTION_END_DATE), ErrorCode.INVALID_VALUE, message)
    owner_id = None
    if owner_changes:
        assert owner is not None and sent.owner_account_number is not None
        owner_id = owner.account_id
        if owner_id is None:
            errors.not_found((*path, LineField.OWNER_ACCOUNT_NUMBER), "account", sent.owner_account_number)
    changed = frozenset(changes)
    if line.category == ItemCategory.SALES and changed & PRICING:
        after, unpriced = _repriced(before, after, changes)
        if unpriced:
            errors.add((*path, unpriced.field), ErrorCode.INVALID_VALUE, f"{label}: {unpriced.message}")
        changed |= {LineField.LIST_PRICE_PER_UNIT, LineField.AMOUNT_PER_UNIT}
    return LinePlan(line.id, line.category, path, after, changed, owner_id)


def _sent_values(line: StoredLine, sent: LineFields, to_minor: ToMinor) -> dict[LineField, Any]:
    """The typed fields sent (LineFields attributes are named as LineValues ones), converted to how they are stored:
    prices in minor units (a percentage discount stays a percentage), custom fields merged into the stored ones."""
    values: dict[LineField, Any] = {}
    for name in sent.given:
        if name == LineField.OWNER_ACCOUNT_NUMBER:
            continue  # an account, not a value of the line (OwnerLookup)
        value = getattr(sent, _ATTRIBUTES[name])
        if value is not None and name in _PRICES:
            value = to_minor(value, line.currency)
        elif value is not None and name == LineField.INLINE_DISCOUNT_PER_UNIT:
            kind = sent.inline_discount_type or line.values.inline_discount_type
            value = to_minor(value, line.currency) if kind == DiscountType.FIXED_AMOUNT else value
        elif name == LineField.CUSTOM_FIELDS:
            value = merge_fields(line.values.custom_fields, value)
        values[name] = value
    return values


_PRICES = frozenset({LineField.LIST_PRICE_PER_UNIT, LineField.AMOUNT_PER_UNIT})
_VALUE_FIELDS = tuple(f.name for f in fields(LineValues))


def _changed(values: LineValues, changes: Mapping[str, Any]) -> LineValues:
    """`values` with some attributes changed (dataclasses.replace, without its cost on a bulk call's every line)."""
    return LineValues(*[changes[name] if name in changes else getattr(values, name) for name in _VALUE_FIELDS])


def _minor(value: Decimal | None, currency: str, to_minor: ToMinor) -> Decimal | None:
    return to_minor(value, currency) if value is not None else None


def _ends_before_start(before: LineValues, after: LineValues, changes: Mapping[LineField, Any]) -> bool:
    """A changed transaction period that ends before it starts (a cleared date counts as the stored one)."""
    if LineField.TRANSACTION_START_DATE not in changes and LineField.TRANSACTION_END_DATE not in changes:
        return False
    start = after.transaction_start_date or before.transaction_start_date
    end = after.transaction_end_date or before.transaction_end_date
    return start is not None and end is not None and end < start


def _repriced(
    before: LineValues, after: LineValues, changes: Mapping[LineField, Any]
) -> tuple[LineValues, PricingProblem | None]:
    """The line's prices after a change of price, quantity or discount (core.orders.line_items.price_line)."""
    amount = changes.get(LineField.AMOUNT_PER_UNIT)
    if amount is None and after.inline_discount_type in (None, DiscountType.NONE):
        amount = before.amount_per_unit  # no discount: the amount per unit stands unless a new one is sent
    pricing, problem = price_line(
        list_price_per_unit=after.list_price_per_unit,
        amount_per_unit=amount,
        discount_type=after.inline_discount_type,
        discount_per_unit=after.inline_discount_per_unit,
        quantity=after.quantity,
    )
    prices = {"list_price_per_unit": pricing.list_price_per_unit, "amount_per_unit": pricing.amount_per_unit}
    return _changed(after, prices), problem


__all__ = [
    "NOT_NULL",
    "PRICING",
    "LineField",
    "LineFields",
    "LinePlan",
    "LineValues",
    "OwnerLookup",
    "StoredLine",
    "ToMinor",
    "plan_line_update",
]
