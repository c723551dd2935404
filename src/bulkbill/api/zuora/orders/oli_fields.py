"""The order line item's wire fields (create and update) and their translation to the core's LineFields."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from bulkbill.api.zuora.edge.validation import ZAmount, ZCount, ZDate, ZQuantity
from bulkbill.api.zuora.orders.order_common import (
    CamelModel,
    Hex32,
    Id32to36,
    Str32,
    Str50,
    Str70,
    Str100,
    Str200,
    Str255,
    Str500,
    check_custom_fields,
)
from bulkbill.core.errors import ErrorCode, InputCollector
from bulkbill.core.money import places
from bulkbill.core.orders.line_items import BillingRule, DiscountType, ItemCategory, ItemState
from bulkbill.core.orders.line_updates import LineField, LineFields

ItemType = Literal["Product", "Fee", "Services", "Prepayment"]
TaxMode = Literal["TaxInclusive", "TaxExclusive"]

# Wire fields with no core meaning: stored as sent (dates as ISO text) and echoed on reads;
# the standard ones always (null when unset), the prepayment ones only when set.
STANDARD_ATTRS = (
    "accountingCode",
    "adjustmentLiabilityAccountingCode",
    "adjustmentRevenueAccountingCode",
    "contractAssetAccountingCode",
    "contractLiabilityAccountingCode",
    "contractRecognizedRevenueAccountingCode",
    "deferredRevenueAccountingCode",
    "recognizedRevenueAccountingCode",
    "unbilledReceivablesAccountingCode",
    "billTo",
    "soldTo",
    "shipTo",
    "paymentTerm",
    "invoiceTemplateId",
    "communicationProfileId",
    "invoiceGroupNumber",
    "sequenceSetId",
    "purchaseOrderNumber",
    "relatedSubscriptionNumber",
    "revenueRecognitionRule",
    "revenueRecognitionTiming",
    "revenueAmortizationMethod",
    "taxCode",
    "taxMode",
    "productRatePlanChargeId",
    "isAllocationEligible",
    "isUnbilled",
    "excludeItemBillingFromRevenueAccounting",
    "excludeItemBookingFromRevenueAccounting",
)
OPTIONAL_ATTRS = (
    "uniqueToken",
    "prepaidQuantity",
    "prepaidUom",
    "drawdownPriority",
    "prepaymentUnitType",
    "drawdownScope",
    "fundSupportAccountHierarchy",
    "validityPeriodType",
    "specificValidityPeriodLength",
    "numberOfValidityPeriods",
)
ATTR_FIELDS = STANDARD_ATTRS + OPTIONAL_ATTRS
# The typed ones: a wire name is a LineField value (looked up here: an enum call per name costs more).
LINE_FIELDS = {f.value: f for f in LineField}
NUMERIC_ATTRS = frozenset({"prepaidQuantity"})


class OliCommon(CamelModel):
    """Fields shared by the create and update shapes (BulkUpdateOrderLineItem minus id)."""

    uom: str | None = Field(default=None, alias="UOM")
    accounting_code: Str100 | None = None
    adjustment_liability_accounting_code: Str100 | None = None
    adjustment_revenue_accounting_code: Str100 | None = None
    amount_per_unit: ZAmount | None = None
    bill_target_date: ZDate | None = None
    bill_to: Hex32 | None = None
    billing_rule: BillingRule | None = None
    contract_asset_accounting_code: Str100 | None = None
    contract_liability_accounting_code: Str100 | None = None
    contract_recognized_revenue_accounting_code: Str100 | None = None
    custom: dict[str, Any] | None = Field(default=None, alias="customFields")
    deferred_revenue_accounting_code: Str100 | None = None
    description: Str500 | None = None
    inline_discount_per_unit: ZAmount | None = None
    inline_discount_type: DiscountType | None = None
    invoice_group_number: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    is_allocation_eligible: bool | None = None
    is_unbilled: bool | None = None
    exclude_item_billing_from_revenue_accounting: bool | None = None
    exclude_item_booking_from_revenue_accounting: bool | None = None
    revenue_recognition_timing: Str200 | None = None
    revenue_amortization_method: Str200 | None = None
    item_name: Str255 | None = None
    item_state: ItemState | None = None
    item_type: ItemType | None = None
    list_price_per_unit: ZAmount | None = None
    owner_account_number: Str70 | None = None
    product_code: Str100 | None = None
    purchase_order_number: Str100 | None = None
    quantity: ZQuantity | None = None
    recognized_revenue_accounting_code: Str100 | None = None
    related_subscription_number: Str100 | None = None
    revenue_recognition_rule: Str50 | None = None
    sequence_set_id: Str32 | None = None
    payment_term: Str100 | None = None
    invoice_template_id: Str32 | None = None
    communication_profile_id: str | None = None
    sold_to: Id32to36 | None = None
    ship_to: Hex32 | None = None
    tax_code: Str100 | None = None
    tax_mode: TaxMode | None = None
    transaction_end_date: ZDate | None = None
    transaction_start_date: ZDate | None = None
    unbilled_receivables_accounting_code: Str100 | None = None


class OliUpdate(OliCommon):
    """PUT /v1/order-line-items/{itemId} (UpdateOrderLineItemRequest)."""


class OliBulkUpdate(OliCommon):
    """One entry of POST /v1/order-line-items/bulk (BulkUpdateOrderLineItem)."""

    id: str


class OliCreate(OliCommon):
    """One entry of POST /v1/orders orderLineItems[] (CreateOrderOrderLineItem)."""

    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = None
    item_category: ItemCategory | None = None
    item_number: Str100 | None = None
    original_order_line_item_number: Str100 | None = None
    original_order_number: Str100 | None = None
    product_rate_plan_charge_id: Id32to36 | None = None
    unique_token: Str50 | None = None
    prepaid_quantity: ZQuantity | None = None
    prepaid_uom: Str50 | None = None
    drawdown_priority: ZCount | None = None
    prepayment_unit_type: Literal["UNIT", "CURRENCY"] | None = None
    drawdown_scope: Literal["SUBSCRIPTION", "ACCOUNT"] | None = None
    fund_support_account_hierarchy: bool | None = None
    validity_period_type: (
        Literal["ANNUAL", "SEMI_ANNUAL", "QUARTER", "MONTH", "SPECIFIC_DAYS", "SPECIFIC_WEEKS", "SPECIFIC_MONTHS"]
        | None
    ) = None
    specific_validity_period_length: ZCount | None = None
    number_of_validity_periods: ZCount | None = None


def _json_ready(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def line_fields(model: OliCommon, path: tuple[str | int, ...], errors: InputCollector) -> LineFields:
    """The client's fields for one line, typed once here: the fields sent, and wire-only fields kept as attrs."""
    data = model.sent()
    attrs = {name: _json_ready(data[name]) for name in ATTR_FIELDS if name in data} if data else {}
    custom = check_custom_fields(model.custom, path, errors)
    # Only a create carries these (read directly: a missing attribute costs pydantic an exception).
    create = model if isinstance(model, OliCreate) else None
    return LineFields(
        given=frozenset(LINE_FIELDS[name] for name in data if name in LINE_FIELDS),
        item_state=model.item_state,
        item_category=create.item_category if create else None,
        billing_rule=model.billing_rule,
        item_type=model.item_type,
        item_name=model.item_name,
        item_number=create.item_number if create else None,
        description=model.description,
        quantity=model.quantity,
        list_price_per_unit=model.list_price_per_unit,
        amount_per_unit=model.amount_per_unit,
        inline_discount_type=model.inline_discount_type,
        inline_discount_per_unit=model.inline_discount_per_unit,
        bill_target_date=model.bill_target_date,
        transaction_start_date=model.transaction_start_date,
        transaction_end_date=model.transaction_end_date,
        currency=create.currency if create else None,
        uom=model.uom,
        product_code=model.product_code,
        owner_account_number=model.owner_account_number,
        original_order_number=create.original_order_number if create else None,
        original_order_line_item_number=create.original_order_line_item_number if create else None,
        attrs=attrs,
        custom_fields=custom,
    )


def attr_value(name: str, value: Any) -> Any:
    """An attr as it goes back on the wire (numbers as numbers)."""
    if name in NUMERIC_ATTRS and isinstance(value, str):
        return Decimal(value)
    return value


def check_prices(model: OliCommon, path: tuple[str | int, ...], errors: InputCollector) -> None:
    """Zuora prices and quantities carry at most 9 decimal places; prices are never negative."""
    for name, attribute in _PRICES:
        value = getattr(model, attribute)
        if value is None:
            continue
        if places(value) > 9:
            errors.add((*path, name), ErrorCode.INVALID_VALUE, "At most 9 decimal places are allowed.")
        elif value < 0:
            errors.add((*path, name), ErrorCode.INVALID_VALUE, "Must be greater than or equal to 0.")


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


_PRICES = tuple(
    (name, _snake(name)) for name in ("listPricePerUnit", "amountPerUnit", "inlineDiscountPerUnit", "quantity")
)
