"""Order line items: the itemState machine, who may edit what when, pricing and quantity bookkeeping.

An order line item (OLI) is billed either on its own (rule A, TriggerWithoutFulfillment) or per
fulfillment (rule B, TriggerAsFulfillmentOccurs). Sales lines produce invoices, return lines
credit memos. Every check returns a message (or None) so callers collect all problems of a bulk
call before anything changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bulkbill.core.money import MAX_AMOUNT, MAX_QUANTITY, MAX_UNIT_PRICE_PLACES, line_amount


class ItemState(StrEnum):
    EXECUTING = "Executing"
    BOOKED = "Booked"
    SENT_TO_BILLING = "SentToBilling"
    COMPLETE = "Complete"
    CANCELED = "Canceled"


class ItemCategory(StrEnum):
    SALES = "Sales"
    RETURN = "Return"


class BillingRule(StrEnum):
    WITHOUT_FULFILLMENT = "TriggerWithoutFulfillment"
    AS_FULFILLMENT_OCCURS = "TriggerAsFulfillmentOccurs"


class DiscountType(StrEnum):
    PERCENTAGE = "Percentage"
    FIXED_AMOUNT = "FixedAmount"
    NONE = "None"


class OrderStatus(StrEnum):
    """The status a client gives an order on create (default Completed); a Draft order is not processed."""

    DRAFT = "Draft"
    PENDING = "Pending"
    COMPLETED = "Completed"
    SCHEDULED = "Scheduled"
    EXECUTING = "Executing"
    FAILED = "Failed"


class ChargeType(StrEnum):
    """Kinds of charge a billing call can leave out (billingOptions.chargeTypeToExclude)."""

    ONE_TIME = "OneTime"
    RECURRING = "Recurring"
    USAGE = "Usage"
    OTHERS = "Others"


# Every order line item (and so every fulfillment) is billed as a one-time charge.
ORDER_LINE_CHARGE_TYPE = ChargeType.ONE_TIME


A, B = BillingRule.WITHOUT_FULFILLMENT, BillingRule.AS_FULFILLMENT_OCCURS
S = ItemState
BOOKED_OR_LATER = frozenset({S.BOOKED, S.SENT_TO_BILLING, S.COMPLETE})
LOCKED = frozenset({S.COMPLETE, S.CANCELED})

_CREATE_STATES = {A: frozenset(S), B: frozenset({S.EXECUTING, S.BOOKED, S.CANCELED})}
_TRANSITIONS: dict[BillingRule, dict[ItemState, frozenset[ItemState]]] = {
    A: {
        S.EXECUTING: frozenset({S.BOOKED, S.SENT_TO_BILLING, S.COMPLETE, S.CANCELED}),
        S.BOOKED: frozenset({S.SENT_TO_BILLING, S.COMPLETE}),
        S.SENT_TO_BILLING: frozenset({S.COMPLETE}),
    },
    B: {S.EXECUTING: frozenset({S.BOOKED, S.CANCELED})},
}

# Who may change which field in which state (spec §2.6 "Updatable when", refined by §2.7).
SALES_EXECUTING_ONLY = frozenset(
    {
        "UOM",
        "accountingCode",
        "adjustmentLiabilityAccountingCode",
        "adjustmentRevenueAccountingCode",
        "amountPerUnit",
        "billTo",
        "contractAssetAccountingCode",
        "contractLiabilityAccountingCode",
        "contractRecognizedRevenueAccountingCode",
        "deferredRevenueAccountingCode",
        "inlineDiscountPerUnit",
        "inlineDiscountType",
        "itemType",
        "listPricePerUnit",
        "ownerAccountNumber",
        "productCode",
        "purchaseOrderNumber",
        "recognizedRevenueAccountingCode",
        "relatedSubscriptionNumber",
        "revenueRecognitionRule",
        "soldTo",
        "shipTo",
        "taxCode",
        "unbilledReceivablesAccountingCode",
    }
)
EXECUTING_ONLY = frozenset(
    {"billingRule", "description", "itemName", "quantity", "transactionEndDate", "transactionStartDate"}
)
EXECUTING_OR_BOOKED = frozenset({"billTargetDate"})
SALES_UNTIL_BILLED = frozenset(
    {"invoiceGroupNumber", "sequenceSetId", "paymentTerm", "invoiceTemplateId", "communicationProfileId"}
)
# No state restriction is documented for these: editable until the line is locked.
UNTIL_LOCKED = frozenset(
    {
        "customFields",
        "isAllocationEligible",
        "isUnbilled",
        "excludeItemBillingFromRevenueAccounting",
        "excludeItemBookingFromRevenueAccounting",
        "revenueRecognitionTiming",
        "revenueAmortizationMethod",
        "taxMode",
    }
)
_UNTIL_BILLED_STATES = frozenset({S.EXECUTING, S.BOOKED, S.SENT_TO_BILLING})


def creation_state_error(rule: BillingRule, state: ItemState) -> str | None:
    """A rule-A line may be created in any state; a rule-B line only Executing, Booked or Canceled."""
    if state in _CREATE_STATES[rule]:
        return None
    return f"An order line item with billingRule {rule.value} cannot be created in state {state.value}."


def transition_error(rule: BillingRule, current: ItemState, target: ItemState) -> str | None:
    """itemState moves only along §2.7's paths; the same state again is a no-op; Complete and Canceled are locked."""
    if current == target:
        return None
    if current in LOCKED:
        return f"The order line item is {current.value} and locked for any edits."
    if target in _TRANSITIONS[rule].get(current, frozenset()):
        return None
    if rule == B and current == S.BOOKED and target == S.COMPLETE:
        return (
            "An order line item billed as fulfillments occur becomes Complete automatically once its "
            "fulfillments are done; it cannot be set to Complete."
        )
    if rule == B and target == S.SENT_TO_BILLING:
        return "Only order line items with billingRule TriggerWithoutFulfillment can be set to SentToBilling."
    if target == S.CANCELED and current == S.SENT_TO_BILLING:
        return "Once an order line item is set to SentToBilling it cannot be canceled."
    return f"The itemState cannot change from {current.value} to {target.value}."


def field_edit_error(field: str, category: ItemCategory, state: ItemState) -> str | None:
    """Each field is editable only in the states (and for the categories) §2.6 lists; locked states take nothing."""
    if state in LOCKED:
        return f"The order line item is {state.value} and locked for any edits."
    if field in UNTIL_LOCKED:
        return None
    if field in EXECUTING_OR_BOOKED:
        ok = state in (S.EXECUTING, S.BOOKED)
        return None if ok else f"{field} can be updated only while the order line item is Executing or Booked."
    if field in SALES_UNTIL_BILLED:
        if category != ItemCategory.SALES:
            return f"{field} cannot be updated on a return order line item."
        return None if state in _UNTIL_BILLED_STATES else f"{field} cannot be updated in state {state.value}."
    if field in EXECUTING_ONLY:
        return None if state == S.EXECUTING else f"{field} can be updated only while the order line item is Executing."
    # SALES_EXECUTING_ONLY, and any field the tables do not name
    if category != ItemCategory.SALES:
        return f"{field} cannot be updated on a return order line item."
    return None if state == S.EXECUTING else f"{field} can be updated only while the order line item is Executing."


def sent_to_billing_error(bill_target_date: object | None) -> str | None:
    """A line needs a billTargetDate (stored or sent in the same request) before it becomes SentToBilling."""
    if bill_target_date is None:
        return "billTargetDate must be set before the order line item can be set to SentToBilling."
    return None


@dataclass(frozen=True, slots=True)
class LinePricing:
    """A line's prices in minor units: per unit unrounded, extended amounts rounded once."""

    list_price_per_unit: Decimal
    amount_per_unit: Decimal
    list_price: int
    amount: int
    discount: int


_NO_PRICING = LinePricing(Decimal(0), Decimal(0), 0, 0, 0)


@dataclass(frozen=True, slots=True)
class PricingProblem:
    """Why a line cannot be priced, and the wire field that causes it."""

    field: str
    message: str


def price_line(
    *,
    list_price_per_unit: Decimal | None,
    amount_per_unit: Decimal | None,
    discount_type: DiscountType | None,
    discount_per_unit: Decimal | None,
    quantity: Decimal,
) -> tuple[LinePricing, PricingProblem | None]:
    """amountPerUnit is computed from listPricePerUnit and an inline discount when one is set, else taken as given.

    Prices beyond MAX_AMOUNT (minor units), quantities beyond MAX_QUANTITY and line amounts (price ×
    quantity) beyond MAX_AMOUNT are refused before any rounding: no such line can be billed, and the
    arithmetic would leave exact decimals. A line amount too large is the quantity's problem.
    """
    fixed = discount_type == DiscountType.FIXED_AMOUNT
    for name, value, limit, unit_text in (
        ("listPricePerUnit", list_price_per_unit, MAX_AMOUNT, " (in minor units)"),
        ("amountPerUnit", amount_per_unit, MAX_AMOUNT, " (in minor units)"),
        ("inlineDiscountPerUnit", discount_per_unit if fixed else None, MAX_AMOUNT, " (in minor units)"),
        ("quantity", quantity, MAX_QUANTITY, ""),
    ):
        if value is not None and abs(value) > limit:
            return _NO_PRICING, PricingProblem(name, f"{name} must be at most {limit}{unit_text}.")
    for unit_price in (list_price_per_unit, amount_per_unit):
        if unit_price is not None and abs(unit_price * quantity) > MAX_AMOUNT:
            message = f"The line amount (quantity × price) must be at most {MAX_AMOUNT} minor units."
            return _NO_PRICING, PricingProblem("quantity", message)
    list_unit = list_price_per_unit if list_price_per_unit is not None else amount_per_unit
    error = None
    unit = amount_per_unit
    if discount_type in (DiscountType.PERCENTAGE, DiscountType.FIXED_AMOUNT) and discount_per_unit is not None:
        base = list_unit if list_unit is not None else Decimal(0)
        if discount_type == DiscountType.PERCENTAGE:
            if not Decimal(0) <= discount_per_unit <= Decimal(100):
                message = "inlineDiscountPerUnit must be a percentage between 0 and 100."
                return _NO_PRICING, PricingProblem("inlineDiscountPerUnit", message)
            unit = base * (Decimal(100) - discount_per_unit) / Decimal(100)
        else:
            if not Decimal(0) <= discount_per_unit <= base:
                message = "inlineDiscountPerUnit must be between 0 and the list price per unit."
                error = PricingProblem("inlineDiscountPerUnit", message)
            unit = base - discount_per_unit
        unit = unit.quantize(Decimal(1).scaleb(-MAX_UNIT_PRICE_PLACES)).normalize()
    if unit is None:
        unit = list_unit if list_unit is not None else Decimal(0)
    if list_unit is None:
        list_unit = unit
    if unit < 0 or list_unit < 0:
        field = "amountPerUnit" if unit < 0 and list_price_per_unit is None else "listPricePerUnit"
        error = error or PricingProblem(field, "Prices cannot be negative.")
    amount = line_amount(unit, quantity)
    list_price = line_amount(list_unit, quantity)
    return LinePricing(list_unit, unit, list_price, amount, list_price - amount), error


@dataclass(frozen=True, slots=True)
class Quantities:
    fulfilled: Decimal
    pending: Decimal
    available_for_return: Decimal


def fulfillment_totals(fulfillments: Iterable[tuple[str, Decimal]]) -> tuple[Decimal, Decimal]:
    """(Σ quantity of fulfillments Booked or later, Σ quantity of those SentToBilling or Complete)."""
    booked = delivered = Decimal(0)
    for state, quantity in fulfillments:
        if state in ("Booked", "SentToBilling", "Complete"):
            booked += quantity
        if state in ("SentToBilling", "Complete"):
            delivered += quantity
    return booked, delivered


def line_quantities(
    *,
    category: ItemCategory,
    rule: BillingRule,
    state: ItemState,
    quantity: Decimal,
    fulfillments: Iterable[tuple[str, Decimal]] = (),
    returned: Decimal = Decimal(0),
) -> Quantities:
    """§2.8: what a line has fulfilled, still has to fulfil, and may still have returned against it.

    `returned` is the total quantity of return lines against this sales line that are Booked or later.
    """
    zero = Decimal(0)
    if state not in BOOKED_OR_LATER:
        return Quantities(zero, zero, zero)
    if rule == A:
        fulfilled, delivered = quantity, (quantity if state != S.BOOKED else zero)
    else:
        fulfilled, delivered = fulfillment_totals(fulfillments)
    pending = max(zero, quantity - fulfilled)
    if category == ItemCategory.RETURN:
        return Quantities(fulfilled, pending, zero)
    return Quantities(fulfilled, pending, max(zero, delivered - returned))


def should_auto_complete(
    rule: BillingRule, state: ItemState, quantity: Decimal, fulfillments: Iterable[tuple[str, Decimal]]
) -> bool:
    """A rule-B line in Booked completes itself once nothing is pending and every fulfillment is done."""
    if rule != B or state != S.BOOKED:
        return False
    items = list(fulfillments)
    if any(f_state not in ("SentToBilling", "Complete", "Cancelled") for f_state, _ in items):
        return False
    booked, _ = fulfillment_totals(items)
    return quantity - booked <= 0 and bool(items)


def return_quantity_error(quantity: Decimal, available_for_return: Decimal) -> str | None:
    """A return line returns more than nothing and at most what the original sales line may still have returned."""
    if quantity <= 0:
        return "The quantity of a return order line item must be greater than 0."
    if quantity > available_for_return:
        return (
            f"The quantity to return ({quantity}) exceeds the quantity available for return "
            f"on the original order line item ({available_for_return})."
        )
    return None


def original_line_error(category: ItemCategory, state: ItemState) -> str | None:
    """A return line refers to a sales line that is not canceled."""
    if category != ItemCategory.SALES:
        return "The original order line item of a return must be a sales order line item."
    if state == S.CANCELED:
        return "A canceled order line item cannot be returned."
    return None


def bills_order_lines(excluded: Iterable[ChargeType]) -> bool:
    """Whether a billing call that leaves out `excluded` charge types bills order line items at all."""
    return ORDER_LINE_CHARGE_TYPE not in set(excluded)


def processing_options_error(status: OrderStatus | None) -> str | None:
    """A draft order is not processed: it takes no processingOptions (runBilling and the like)."""
    if status == OrderStatus.DRAFT:
        return "processingOptions is not supported for draft orders."
    return None


def order_state(states: Iterable[ItemState]) -> str:
    """An order is Executing while any line is open, Canceled when all lines are, otherwise Complete."""
    items = list(states)
    if not items:
        return "Complete"
    if any(s not in LOCKED for s in items):
        return "Executing"
    if all(s == S.CANCELED for s in items):
        return "Canceled"
    return "Complete"


__all__ = [
    "BOOKED_OR_LATER",
    "LOCKED",
    "ORDER_LINE_CHARGE_TYPE",
    "BillingRule",
    "ChargeType",
    "DiscountType",
    "ItemCategory",
    "ItemState",
    "LinePricing",
    "OrderStatus",
    "PricingProblem",
    "Quantities",
    "bills_order_lines",
    "creation_state_error",
    "field_edit_error",
    "fulfillment_totals",
    "line_quantities",
    "order_state",
    "original_line_error",
    "price_line",
    "processing_options_error",
    "return_quantity_error",
    "sent_to_billing_error",
    "should_auto_complete",
    "transition_error",
]
