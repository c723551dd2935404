"""Invoices, credit memos and their items in Zuora's shapes (v1 GET, PUT response, Object Query).

Amounts are the core's minor units shown as major-unit decimals (money.to_major); dates are
YYYY-MM-DD and timestamps YYYY-MM-DD HH:MM:SS (UTC). Custom fields are flat (Decision 6).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bulkbill.api.zuora.edge.money import to_major
from bulkbill.api.zuora.edge.validation import is_custom_field
from bulkbill.core.invoicing.document_edits import document_status
from bulkbill.services.documents.documents import DOC_KEY
from bulkbill.services.invoicing.invoice_totals import LoadedLine
from bulkbill.storage.tables import Customer, Invoice, InvoiceItem, TaxRate

ACCOUNTING_CODES = (
    "accountingCode",
    "accountsReceivableAccountingCode",
    "adjustmentLiabilityAccountingCode",
    "adjustmentRevenueAccountingCode",
    "contractAssetAccountingCode",
    "contractLiabilityAccountingCode",
    "contractRecognizedRevenueAccountingCode",
    "deferredRevenueAccountingCode",
    "recognizedRevenueAccountingCode",
    "unbilledReceivablesAccountingCode",
)
ITEM_DETAILS = (
    "bookingReference",
    "chargeType",
    "itemType",
    "productName",
    "productRatePlanChargeId",
    "purchaseOrderNumber",
    "revRecCode",
    "revRecStartDate",
    "revRecTriggerCondition",
    "revenueRecognitionRuleName",
    "sku",
    "soldToContactId",
    "taxCode",
    "taxMode",
    "unitOfMeasure",
    "excludeItemBillingFromRevenueAccounting",
    *ACCOUNTING_CODES,
)


# --- values ------------------------------------------------------------------------------------


def zdate(timestamp: int | None) -> str | None:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).date().isoformat() if timestamp is not None else None


def zdatetime(timestamp: int | None) -> str | None:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def stored_custom(values: Mapping[str, Any]) -> dict[str, Any]:
    """Custom-field values as stored: exact decimals that are not whole numbers keep their digits."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Decimal):
            value = int(value) if value == value.to_integral_value() else {"$decimal": str(value)}
        out[key] = value
    return out


def custom_fields(stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The flat custom fields of an object, as the client sent them."""
    out: dict[str, Any] = {}
    for key, value in (stored or {}).items():
        if not is_custom_field(key):
            continue
        if isinstance(value, dict) and "$decimal" in value:
            value = Decimal(value["$decimal"])
        out[key] = value
    return out


def _money(minor: int, currency: str) -> Decimal:
    return to_major(minor, currency)


def _doc(invoice: Invoice) -> Mapping[str, Any]:
    doc = (invoice.custom_fields or {}).get(DOC_KEY)
    return doc if isinstance(doc, Mapping) else {}


def source_of(invoice: Invoice, bill_run_number: str | None) -> tuple[str, str | None, str]:
    """(source, sourceId, sourceType) from who made the document."""
    if invoice.origin == "bill_run":
        return "BillRun", bill_run_number, "Order"
    if invoice.origin == "run_billing":
        return "API", None, "Order"
    return "API", None, "Standalone"


def document_date(invoice: Invoice) -> str | None:
    """The document date; documents made without one (Stripe drafts) are dated by their creation."""
    return invoice.invoice_date or zdate(invoice.created)


def balance(invoice: Invoice) -> int:
    """What is still owed: the total while Draft, nothing once Canceled, else what finalizing left due."""
    if invoice.status == "draft":
        return invoice.total
    if invoice.status == "void":
        return 0
    return invoice.amount_due - invoice.amount_paid


def _updated(invoice: Invoice) -> int:
    stamps = (invoice.created, invoice.finalized_at, invoice.paid_at, invoice.voided_at)
    return max(s for s in stamps if s is not None)


# --- invoices ----------------------------------------------------------------------------------


def render_invoice(invoice: Invoice, customer: Customer | None, bill_run_number: str | None = None) -> dict[str, Any]:
    """GET /v1/invoices/{key} (InvoiceResponse), without the envelope."""
    cur = invoice.currency
    doc = _doc(invoice)
    source, source_id, source_type = source_of(invoice, bill_run_number)
    discount = sum(int(d["amount"]) for d in invoice.total_discount_amounts or [])
    body: dict[str, Any] = {
        "id": invoice.id,
        "invoiceNumber": invoice.number,
        "accountId": invoice.customer_id,
        "accountNumber": customer.account_number if customer is not None else None,
        "invoiceDate": document_date(invoice),
        "dueDate": zdate(invoice.due_date),
        "targetDate": invoice.target_date,
        "currency": cur.upper(),
        "status": document_status(invoice.status).value,
        "amount": _money(invoice.total, cur),
        "amountWithoutTax": _money(invoice.total_excluding_tax, cur),
        "taxAmount": _money(invoice.total - invoice.total_excluding_tax, cur),
        "taxExemptAmount": _money(0, cur),
        "balance": _money(balance(invoice), cur),
        "discount": _money(discount, cur),
        "paymentAmount": _money(invoice.amount_paid, cur),
        "refundAmount": _money(0, cur),
        "adjustmentAmount": _money(0, cur),
        "creditMemoAmount": _money(0, cur),
        "creditBalanceAdjustmentAmount": _money(0, cur),
        "autoPay": invoice.auto_pay,
        "comments": invoice.comments,
        "templateId": invoice.template_id,
        "transferredToAccounting": invoice.transferred_to_accounting or "No",
        "source": source,
        "sourceId": source_id,
        "sourceType": source_type,
        "billRunId": invoice.bill_run_id,
        "paymentTerm": doc.get("paymentTerm"),
        "billToContactId": doc.get("billToContactId"),
        "soldToContactId": doc.get("soldToContactId"),
        "shipToContactId": doc.get("shipToContactId"),
        "sequenceSetId": doc.get("sequenceSetId"),
        "invoiceGroupNumber": doc.get("invoiceGroupNumber"),
        "postedBy": None,
        "postedDate": zdate(invoice.finalized_at),
        "includesOneTime": True,
        "includesRecurring": False,
        "includesUsage": False,
        "taxStatus": "Complete",
        "createdDate": zdatetime(invoice.created),
        "createdById": None,
        "updatedDate": zdatetime(_updated(invoice)),
        "updatedById": None,
    }
    body.update(custom_fields(invoice.custom_fields))
    return body


def render_invoice_update(invoice: Invoice) -> dict[str, Any]:
    """PUT /v1/invoices/{key} (UpdateInvoiceResponse): note number, comment, postedOn."""
    cur = invoice.currency
    body: dict[str, Any] = {
        "id": invoice.id,
        "number": invoice.number,
        "accountId": invoice.customer_id,
        "invoiceDate": document_date(invoice),
        "currency": cur.upper(),
        "targetDate": invoice.target_date,
        "dueDate": zdate(invoice.due_date),
        "postedOn": zdatetime(invoice.finalized_at),
        "postedById": None,
        "status": document_status(invoice.status).value,
        "amount": _money(invoice.total, cur),
        "taxAmount": _money(invoice.total - invoice.total_excluding_tax, cur),
        "totalTaxExemptAmount": _money(0, cur),
        "balance": _money(balance(invoice), cur),
        "discount": _money(sum(int(d["amount"]) for d in invoice.total_discount_amounts or []), cur),
        "comment": invoice.comments,
        "autoPay": invoice.auto_pay,
        "templateId": invoice.template_id,
        "transferredToAccounting": invoice.transferred_to_accounting or "No",
        "creditBalanceAdjustmentAmount": _money(0, cur),
        "createdDate": zdatetime(invoice.created),
        "createdById": None,
        "updatedDate": zdatetime(_updated(invoice)),
        "updatedById": None,
        "cancelledOn": zdatetime(invoice.voided_at),
        "cancelledById": None,
    }
    body.update(custom_fields(invoice.custom_fields))
    return body


def _service_date(item: InvoiceItem, key: str, timestamp: int) -> str | None:
    value = (item.extras or {}).get(key)
    return value if isinstance(value, str) else zdate(timestamp)


def _unit_price(item: InvoiceItem, currency: str) -> Decimal:
    shown = (item.extras or {}).get("unitPrice")  # a discount item's unit price is for display only
    return Decimal(shown) if isinstance(shown, str) else to_major(item.unit_amount_decimal, currency)


def render_item(entry: LoadedLine, invoice: Invoice) -> dict[str, Any]:
    """One invoice item (InvoiceItem of GET /v1/invoices/{key}/items)."""
    item, extras, cur = entry.item, entry.item.extras or {}, invoice.currency
    tax = sum(int(t["amount"]) for t in entry.taxes if not t.get("inclusive"))
    open_amount = 0 if invoice.status in ("paid", "void") else item.amount
    body: dict[str, Any] = {
        "id": item.id,
        "chargeAmount": _money(item.amount, cur),
        "balance": _money(open_amount, cur),
        "availableToCreditAmount": _money(item.amount, cur),
        "taxAmount": _money(tax, cur),
        "unitPrice": _unit_price(item, cur),
        "quantity": item.quantity_decimal,
        "chargeName": extras.get("chargeName") or item.description,
        "chargeDescription": item.description,
        "description": item.description,
        "chargeId": None,
        "chargeDate": extras.get("chargeDate") or zdatetime(item.created),
        "processingType": extras.get("processingType", "Charge"),
        "appliedToItemId": extras.get("appliedToItemId"),
        "serviceStartDate": _service_date(item, "serviceStartDate", item.period_start),
        "serviceEndDate": _service_date(item, "serviceEndDate", item.period_end),
        "sourceItemType": extras.get("sourceItemType"),
        "orderLineItemId": extras.get("orderLineItemId"),
        "fulfillmentId": extras.get("fulfillmentId"),
        "subscriptionId": item.subscription_id,
        "subscriptionName": None,
        "taxationItems": {"data": []},
    }
    for key in ITEM_DETAILS:
        body.setdefault(key, extras.get(key))
    if body["chargeType"] is None:
        body["chargeType"] = "OneTime"
    body.update(custom_fields(item.custom_fields))
    return body


def render_expanded_item(entry: LoadedLine, invoice: Invoice) -> dict[str, Any]:
    """An invoice item as Object Query's invoiceItems expansion names its fields."""
    body = render_item(entry, invoice)
    body["invoiceId"] = invoice.id
    body["accountId"] = invoice.customer_id
    body["sKU"] = body.pop("sku")
    body["uOM"] = body.pop("unitOfMeasure")
    body["appliedToInvoiceItemId"] = body.pop("appliedToItemId")
    body["createdDate"] = zdatetime(entry.item.created)
    body["taxationItems"] = []  # a plain list here (ExpandedTaxationItem[]), not v1's {"data": [...]}
    return body


# --- credit memos ------------------------------------------------------------------------------


def render_credit_memo(
    invoice: Invoice, customer: Customer | None, bill_run_number: str | None = None
) -> dict[str, Any]:
    """GET /v1/credit-memos/{key} (CreditMemoResponse), without the envelope."""
    cur = invoice.currency
    doc = _doc(invoice)
    source, source_id, source_type = source_of(invoice, bill_run_number)
    unapplied = 0 if invoice.status == "void" else invoice.total
    body: dict[str, Any] = {
        "id": invoice.id,
        "number": invoice.number,
        "accountId": invoice.customer_id,
        "accountNumber": customer.account_number if customer is not None else None,
        "currency": cur.upper(),
        "creditMemoDate": document_date(invoice),
        "targetDate": invoice.target_date,
        "status": document_status(invoice.status).value,
        "amount": _money(invoice.total, cur),
        "taxAmount": _money(invoice.total - invoice.total_excluding_tax, cur),
        "totalTaxExemptAmount": _money(0, cur),
        "unappliedAmount": _money(unapplied, cur),
        "appliedAmount": _money(0, cur),
        "refundAmount": _money(0, cur),
        "reasonCode": doc.get("reasonCode", "Return Order"),
        "source": source,
        "sourceId": source_id,
        "sourceType": source_type,
        "referredInvoiceId": doc.get("referredInvoiceId"),
        "comment": invoice.comments,
        "postedById": None,
        "postedOn": zdatetime(invoice.finalized_at),
        "createdDate": zdatetime(invoice.created),
        "createdById": None,
        "updatedDate": zdatetime(_updated(invoice)),
        "updatedById": None,
        "cancelledOn": zdatetime(invoice.voided_at),
        "cancelledById": None,
        "transferredToAccounting": invoice.transferred_to_accounting or "No",
        "taxStatus": "Complete",
        "reversed": False,
        "autoApplyUponPosting": False,
        "excludeFromAutoApplyRules": False,
        "billToContactId": doc.get("billToContactId"),
        "sequenceSetId": doc.get("sequenceSetId"),
        "invoiceGroupNumber": doc.get("invoiceGroupNumber"),
        "latestPDFFileId": None,
        "organizationLabel": customer.org_label if customer is not None else None,
    }
    body.update(custom_fields(invoice.custom_fields))
    return body


def _credit_tax_items(entry: LoadedLine, invoice: Invoice, rates: Mapping[str, TaxRate]) -> list[dict[str, Any]]:
    """A credit memo item's taxes as Zuora's taxation items: one per tax rate it credits."""
    out = []
    for i, t in enumerate(entry.taxes):
        rate = rates.get(t["tax_rate"])
        out.append(
            {
                "id": f"{entry.item.id}-tax-{i + 1}",
                "name": rate.display_name if rate is not None else t["tax_rate"],
                "taxAmount": _money(int(t["amount"]), invoice.currency),
                "taxRate": Decimal(rate.percentage) if rate is not None else None,
                "taxRateType": "Percentage",
                "taxMode": "TaxInclusive" if t["inclusive"] else "TaxExclusive",
                "taxDate": zdate(invoice.finalized_at or invoice.created),
                "taxCode": rate.tax_type if rate is not None else None,
                "jurisdiction": rate.jurisdiction if rate is not None else None,
                "exemptAmount": _money(0, invoice.currency),
            }
        )
    return out


def render_credit_memo_item(
    entry: LoadedLine, invoice: Invoice, rates: Mapping[str, TaxRate] | None = None
) -> dict[str, Any]:
    """One credit memo item (CreditMemoItem): sourceItemId is the return order line item billed.

    An item billed from a return fulfillment names the fulfillment in fulfillmentId; its source
    item is still the fulfillment's return line (spec §4.6). Its taxes (a Stripe credit note's, credited
    from the invoice line) are its taxationItems; `amount` holds an inclusive tax, `amountWithoutTax` not.
    """
    item, extras, cur = entry.item, entry.item.extras or {}, invoice.currency
    amount = _money(item.amount, cur)
    inclusive = [int(t["amount"]) for t in entry.taxes if t["inclusive"]]
    body: dict[str, Any] = {
        "id": item.id,
        "amount": amount,
        "amountWithoutTax": _money(item.amount - sum(inclusive), cur),
        "appliedAmount": _money(0, cur),
        "unappliedAmount": _money(0 if invoice.status == "void" else item.amount, cur),
        "refundAmount": _money(0, cur),
        "quantity": item.quantity_decimal,
        "unitPrice": to_major(item.unit_amount_decimal, cur),
        "unitOfMeasure": extras.get("unitOfMeasure"),
        "sku": extras.get("sku"),
        "skuName": extras.get("chargeName") or item.description,
        "description": item.description,
        "serviceStartDate": _service_date(item, "serviceStartDate", item.period_start),
        "serviceEndDate": _service_date(item, "serviceEndDate", item.period_end),
        "processingType": extras.get("processingType", "Charge"),
        "sourceItemType": extras.get("sourceItemType"),
        "sourceItemId": extras.get("orderLineItemId") or item.source_id,
        "orderLineItemId": extras.get("orderLineItemId"),
        "fulfillmentId": extras.get("fulfillmentId"),
        "creditFromItemId": None,
        "creditFromItemSource": None,
        "itemType": extras.get("itemType"),
        "purchaseOrderNumber": extras.get("purchaseOrderNumber"),
        "taxMode": extras.get("taxMode") or _tax_mode(entry.taxes),
        "taxationItems": {"data": _credit_tax_items(entry, invoice, rates or {})},
        "excludeItemBillingFromRevenueAccounting": extras.get("excludeItemBillingFromRevenueAccounting"),
        "createdDate": zdatetime(item.created),
        "updatedDate": zdatetime(item.created),
    }
    body.update(custom_fields(item.custom_fields))
    return body


def _tax_mode(taxes: list[dict[str, Any]]) -> str | None:
    if not taxes:
        return None
    return "TaxInclusive" if any(t["inclusive"] for t in taxes) else "TaxExclusive"


def render_expanded_credit_memo(
    invoice: Invoice, customer: Customer | None, bill_run_number: str | None = None
) -> dict[str, Any]:
    """A credit memo as Object Query names its fields (memoNumber, memoDate, totalAmount, ...)."""
    body = render_credit_memo(invoice, customer, bill_run_number)
    body["memoNumber"] = body.pop("number")
    body["memoDate"] = body.pop("creditMemoDate")
    body["totalAmount"] = body.pop("amount")
    body["totalAmountWithoutTax"] = _money(invoice.total_excluding_tax, invoice.currency)
    body["balance"] = body["unappliedAmount"]
    body["comments"] = body.pop("comment")
    return body
