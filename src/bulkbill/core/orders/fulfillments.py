"""Fulfillments: shipments (or return receipts) of a rule-B order line item, each billed on its own.

States spell Cancelled with two l's (unlike the line's Canceled); both spellings are read.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum

from bulkbill.core.orders.line_items import BillingRule, ItemCategory, ItemState


class FulfillmentState(StrEnum):
    EXECUTING = "Executing"
    BOOKED = "Booked"
    SENT_TO_BILLING = "SentToBilling"
    COMPLETE = "Complete"
    CANCELLED = "Cancelled"


class FulfillmentType(StrEnum):
    DELIVERY = "Delivery"
    RETURN = "Return"


F = FulfillmentState
MAX_PER_LINE = 100
MAX_ITEMS = 100
CREATE_STATES = frozenset({F.EXECUTING, F.BOOKED, F.SENT_TO_BILLING})
LOCKED = frozenset({F.COMPLETE, F.CANCELLED})
_TRANSITIONS = {
    F.EXECUTING: frozenset({F.BOOKED, F.SENT_TO_BILLING, F.CANCELLED}),
    F.BOOKED: frozenset({F.SENT_TO_BILLING}),
    F.SENT_TO_BILLING: frozenset({F.COMPLETE}),
}


def parse_state(text: str) -> FulfillmentState | None:
    """A fulfillment state by name; "Canceled" is read as "Cancelled"."""
    if text == "Canceled":
        return F.CANCELLED
    try:
        return FulfillmentState(text)
    except ValueError:
        return None


def parent_error(rule: BillingRule, state: ItemState) -> str | None:
    """Fulfillments attach only to a Booked order line item billed as fulfillments occur."""
    if rule != BillingRule.AS_FULFILLMENT_OCCURS:
        return "Fulfillments can only be added to order line items with billingRule TriggerAsFulfillmentOccurs."
    if state != ItemState.BOOKED:
        return f"Fulfillments can only be added to Booked order line items; this one is {state.value}."
    return None


def default_type(category: ItemCategory) -> FulfillmentType:
    """Sales lines are delivered, return lines received back."""
    return FulfillmentType.DELIVERY if category == ItemCategory.SALES else FulfillmentType.RETURN


def type_error(category: ItemCategory, kind: FulfillmentType) -> str | None:
    """A fulfillment's type matches its line: Delivery for sales, Return for returns."""
    expected = default_type(category)
    if kind != expected:
        return f"A {category.value.lower()} order line item takes fulfillments of type {expected.value}."
    return None


def creation_state_error(state: FulfillmentState) -> str | None:
    """A fulfillment is created Executing, Booked or SentToBilling."""
    if state in CREATE_STATES:
        return None
    return f"A fulfillment cannot be created in state {state.value}."


def transition_error(current: FulfillmentState, target: FulfillmentState) -> str | None:
    """Executing → Booked | SentToBilling | Cancelled; Booked → SentToBilling; SentToBilling → Complete."""
    if current == target:
        return None
    if current in LOCKED:
        return f"The fulfillment is {current.value} and locked for any edits."
    if target in _TRANSITIONS.get(current, frozenset()):
        return None
    if current == F.SENT_TO_BILLING and target == F.CANCELLED:
        return "Once a fulfillment is set to SentToBilling it cannot be cancelled."
    if target == F.COMPLETE:
        return "A fulfillment cannot skip the SentToBilling state."
    return f"The fulfillment state cannot change from {current.value} to {target.value}."


def edit_error(state: FulfillmentState) -> str | None:
    """Fields other than state change only while the fulfillment is Executing."""
    if state == F.EXECUTING:
        return None
    return f"The fulfillment is {state.value}: only its state can change."


def delete_error(state: FulfillmentState) -> str | None:
    """Only an Executing fulfillment can be deleted."""
    if state == F.EXECUTING:
        return None
    return f"Only Executing fulfillments can be deleted; this one is {state.value}."


def remaining_quantity(line_quantity: Decimal, others: Iterable[tuple[str, Decimal]]) -> Decimal:
    """What is left to fulfil: the line's quantity less every other fulfillment that is not Cancelled."""
    taken = sum((q for state, q in others if state != F.CANCELLED.value), Decimal(0))
    return line_quantity - taken


def quantity_error(quantity: Decimal, remaining: Decimal) -> str | None:
    """A fulfillment ships more than nothing and never more than the line still has to fulfil."""
    if quantity <= 0:
        return "The quantity of a fulfillment must be greater than 0."
    if quantity > remaining:
        return (
            f"The quantity ({quantity}) exceeds the quantity remaining to fulfil on the order line item ({remaining})."
        )
    return None


def items_error(count: int, quantity: Decimal) -> str | None:
    """At most 100 items per fulfillment, and no more items than units fulfilled."""
    if count > MAX_ITEMS:
        return f"A fulfillment can have at most {MAX_ITEMS} fulfillment items."
    if count > quantity:
        return "A fulfillment cannot have more fulfillment items than its quantity."
    return None


def items_state_error(state: FulfillmentState) -> str | None:
    """Fulfillment items are added only once the fulfillment has left Executing (and is not locked)."""
    if state == F.EXECUTING:
        return "Fulfillment items cannot be added to a fulfillment in the Executing state."
    if state in LOCKED:
        return f"The fulfillment is {state.value} and locked for any edits."
    return None


__all__ = [
    "CREATE_STATES",
    "LOCKED",
    "MAX_ITEMS",
    "MAX_PER_LINE",
    "FulfillmentState",
    "FulfillmentType",
    "creation_state_error",
    "default_type",
    "delete_error",
    "edit_error",
    "items_error",
    "items_state_error",
    "parent_error",
    "parse_state",
    "quantity_error",
    "remaining_quantity",
    "transition_error",
    "type_error",
]
