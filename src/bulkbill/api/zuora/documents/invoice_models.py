"""Request bodies of the invoice endpoints (seed 004's PUT /v1/invoices field set) → service commands.

Every field of seed 004 is accepted: pricing, service dates and the description change the core
item; the other item fields (charge name, SKU, unit of measure, accounting codes, revenue
recognition, tax code and mode, ...) are stored on the item and echoed. Fields bulkbill cannot
honour are refused, never ignored: taxItems (no Zuora tax engine) and productRatePlanChargeId
(no product catalog).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from bulkbill.api.zuora.accounts.accounts import WireModel, check_custom_values
from bulkbill.api.zuora.edge.money import to_minor
from bulkbill.api.zuora.edge.validation import ZAmount, ZDate, ZDateTimeText, ZQuantity, ZuoraModel
from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput, Path
from bulkbill.core.invoicing.document_edits import ItemPricing
from bulkbill.services.documents.document_edits import DocumentEdit, ItemEdit

RevRecTrigger = Literal[
    "ContractEffectiveDate",
    "ServiceActivationDate",
    "CustomerAcceptanceDate",
    "Contract Effective Date",
    "Service Activation Date",
    "Customer Acceptance Date",
]
TransferStatus = Literal["No", "Processing", "Yes", "Error", "Ignore"]
ADD_ONLY = ("bookingReference", "productRatePlanChargeId", "taxItems")
_ADD_ONLY = frozenset(ADD_ONLY)
_NONE_SENT: frozenset[str] = frozenset()
HEADER = ("autoPay", "comments", "dueDate", "invoiceDate", "templateId", "transferredToAccounting")
CLEARABLE = frozenset({"comments", "templateId"})
# Wire field → the item's stored detail (extras) name.
_DETAIL_NAMES = {"uom": "unitOfMeasure"}
_NOT_DETAILS = frozenset(
    {"id", "amount", "unitPrice", "quantity", "description", "delete", "serviceStartDate", "serviceEndDate"}
    | {"discountItems", "taxItems", "productRatePlanChargeId"}
)


# The fields (python names) an entry may send without any stored detail or add-only field among them.
_PLAIN_FIELDS = frozenset(
    {"id", "amount", "unit_price", "quantity", "description", "delete", "service_start_date", "service_end_date"}
    | {"discount_items"}
)


class ItemDetailsIn(WireModel):
    """Fields shared by invoice items and discount items."""

    id: str | None = Field(None, min_length=1, max_length=32)
    amount: ZAmount | None = None
    unit_price: ZAmount | None = None
    description: str | None = Field(None, max_length=500)
    charge_name: str | None = Field(None, max_length=130)
    charge_date: ZDateTimeText | None = None
    sku: str | None = Field(None, max_length=255)
    item_type: str | None = Field(None, max_length=50)
    booking_reference: str | None = Field(None, max_length=100)
    purchase_order_number: str | None = Field(None, max_length=100)
    rev_rec_code: str | None = Field(None, max_length=100)
    rev_rec_trigger_condition: RevRecTrigger | None = None
    revenue_recognition_rule_name: str | None = Field(None, max_length=50)
    accounting_code: str | None = Field(None, max_length=100)
    accounts_receivable_accounting_code: str | None = Field(None, max_length=100)
    adjustment_liability_accounting_code: str | None = Field(None, max_length=100)
    adjustment_revenue_accounting_code: str | None = Field(None, max_length=100)
    contract_asset_accounting_code: str | None = Field(None, max_length=100)
    contract_liability_accounting_code: str | None = Field(None, max_length=100)
    contract_recognized_revenue_accounting_code: str | None = Field(None, max_length=100)
    deferred_revenue_accounting_code: str | None = Field(None, max_length=100)
    recognized_revenue_accounting_code: str | None = Field(None, max_length=100)
    unbilled_receivables_accounting_code: str | None = Field(None, max_length=100)
    product_rate_plan_charge_id: str | None = None
    tax_items: list[dict[str, Any]] | None = Field(None, max_length=5)


class DiscountItemIn(ItemDetailsIn):
    pass


class InvoiceItemIn(ItemDetailsIn):
    delete: bool | None = None
    quantity: ZQuantity | None = None
    service_start_date: ZDate | None = None
    service_end_date: ZDate | None = None
    rev_rec_start_date: ZDate | None = None
    uom: str | None = Field(None, max_length=255)
    tax_code: str | None = Field(None, max_length=64)
    tax_mode: Literal["TaxInclusive", "TaxExclusive"] | None = None
    exclude_item_billing_from_revenue_accounting: bool | None = None
    discount_items: list[DiscountItemIn] | None = Field(None, max_length=10)


class InvoiceChangesIn(WireModel):
    """PUT /v1/invoices/{key} (UpdateInvoiceRequest)."""

    auto_pay: bool | None = None
    comments: str | None = Field(None, max_length=255)
    due_date: ZDate | None = None
    invoice_date: ZDate | None = None
    invoice_items: list[InvoiceItemIn] | None = Field(None, min_length=1, max_length=1000)
    template_id: str | None = Field(None, max_length=32)
    transferred_to_accounting: str | None = None


class BulkInvoiceIn(InvoiceChangesIn):
    id: str = Field(min_length=1, max_length=64)


class BulkUpdateIn(WireModel):
    """PUT /v1/invoices (BulkUpdateInvoicesRequest): at most 50 invoices."""

    invoices: list[BulkInvoiceIn] = Field(min_length=1, max_length=50)


class StandaloneIn(WireModel):
    """POST /v1/invoices (CreateInvoiceRequest), bulkbill's subset."""

    account_id: str | None = None
    account_number: str | None = None
    invoice_date: ZDate | None = None
    due_date: ZDate | None = None
    invoice_items: list[InvoiceItemIn] = Field(min_length=1, max_length=1000)
    currency: str | None = None
    invoice_number: str | None = Field(None, min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_-]+$")
    status: Literal["Draft", "Posted"] = "Draft"
    auto_pay: bool | None = None
    comments: str | None = Field(None, max_length=255)
    payment_term: str | None = Field(None, max_length=100)
    template_id: str | None = Field(None, max_length=32)
    transferred_to_accounting: TransferStatus | None = None
    bill_to_contact_id: str | None = Field(None, max_length=64)
    sold_to_contact_id: str | None = Field(None, max_length=64)
    ship_to_contact_id: str | None = Field(None, max_length=64)


class PostIn(WireModel):
    invoice_date: ZDate | None = None


class BulkPostEntryIn(WireModel):
    id: str = Field(min_length=1, max_length=64)
    invoice_date: ZDate | None = None


class BulkPostIn(WireModel):
    invoices: list[BulkPostEntryIn] = Field(min_length=1, max_length=50)


def _camel_trigger(value: str) -> str:
    return value.replace(" ", "")


def details(item: ItemDetailsIn, sent: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stored item details the client sent (null clears one); `sent`: item.sent(), when at hand."""
    out: dict[str, Any] = {}
    for name, value in (item.sent() if sent is None else sent).items():
        if name in _NOT_DETAILS:
            continue
        if name == "revRecTriggerCondition" and isinstance(value, str):
            value = _camel_trigger(value)
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        out[_DETAIL_NAMES.get(name, name)] = value
    if isinstance(item, DiscountItemIn) and item.unit_price is not None:
        out["unitPrice"] = str(item.unit_price)  # a discount's unit price is shown, not charged
    return out


def unsupported(item: ItemDetailsIn, path: Path, errors: list[FieldError]) -> None:
    """Fields bulkbill cannot honour are refused when they would act (on new items)."""
    if item.id is not None:
        return
    if item.tax_items:
        errors.append(
            FieldError(
                (*path, "taxItems"),
                ErrorCode.INVALID_VALUE,
                "taxItems are not supported: bulkbill computes no Zuora taxes.",
            )
        )
    if item.product_rate_plan_charge_id is not None:
        errors.append(
            FieldError(
                (*path, "productRatePlanChargeId"),
                ErrorCode.INVALID_VALUE,
                "productRatePlanChargeId is not supported: bulkbill has no product catalog; "
                "send chargeName and unitPrice.",
            )
        )


def item_edit(item: InvoiceItemIn | DiscountItemIn, currency: str, path: Path, errors: list[FieldError]) -> ItemEdit:
    unsupported(item, path, errors)
    discounts: tuple[ItemEdit, ...] = ()
    unit_price = item.unit_price
    if isinstance(item, InvoiceItemIn):
        quantity, delete, start, end = item.quantity, bool(item.delete), item.service_start_date, item.service_end_date
        if item.discount_items:
            discounts = tuple(
                item_edit(d, currency, (*path, "discountItems", k), errors) for k, d in enumerate(item.discount_items)
            )
    else:  # a discount item: its unit price is shown (a detail), not charged
        quantity, start, end, unit_price = None, None, None, None
        # `delete` is no field of a discount item, but one sent (an extra) still asks for a deletion.
        delete = bool(getattr(item, "delete", False))
    if item.model_fields_set <= _PLAIN_FIELDS:
        # Only core fields sent (most entries of a bulk call): no stored detail and no add-only field.
        item_details = details(item, {}) if isinstance(item, DiscountItemIn) else {}
        add_only = _NONE_SENT
    else:
        sent = item.sent()
        item_details = details(item, sent)
        # The add-only fields sent with a value.
        add_only = (
            _NONE_SENT if _ADD_ONLY.isdisjoint(sent) else frozenset(n for n in ADD_ONLY if sent.get(n) is not None)
        )
    amount = item.amount
    return ItemEdit(
        id=item.id,
        pricing=ItemPricing(
            unit_price=to_minor(unit_price, currency) if unit_price is not None else None,
            quantity=quantity,
            amount=to_minor(amount, currency) if amount is not None else None,
        ),
        delete=delete,
        description=item.description,
        service_start=start,
        service_end=end,
        details=item_details,
        custom_fields=custom_values(item, path, errors) if item.model_extra else {},
        add_only=add_only,
        discounts=discounts,
    )


def custom_values(model: ZuoraModel, path: Path, errors: list[FieldError]) -> dict[str, Any]:
    """The model's flat custom fields, checked; problems are added to `errors`."""
    try:
        return check_custom_values(model.custom_fields(), path)
    except InvalidInput as exc:
        errors.extend(exc.errors)
        return {}


def document_edit(
    body: InvoiceChangesIn, invoice_id: str, currency: str, path: Path, errors: list[FieldError]
) -> DocumentEdit:
    """One invoice's changes as a service command; amounts converted with the invoice's currency."""
    sent = body.sent()
    given = frozenset(n for n in HEADER if n in sent and (sent[n] is not None or n in CLEARABLE))
    items = tuple(
        item_edit(item, currency, (*path, "invoiceItems", j), errors) for j, item in enumerate(body.invoice_items or [])
    )
    return DocumentEdit(
        id=invoice_id,
        path=path,
        given=given,
        invoice_date=body.invoice_date,
        due_date=body.due_date,
        comments=body.comments,
        template_id=body.template_id,
        auto_pay=body.auto_pay,
        transferred_to_accounting=body.transferred_to_accounting,
        custom_fields=custom_values(body, path, errors),
        items=items,
    )
