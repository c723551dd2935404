"""Read shapes of orders, order line items, fulfillments, fulfillment items and bill runs (zuora-sdk models)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bulkbill.api.zuora.orders.oli_fields import ATTR_FIELDS, STANDARD_ATTRS, attr_value
from bulkbill.api.zuora.orders.order_common import major, timestamp
from bulkbill.core.money import line_amount
from bulkbill.core.orders.line_items import BillingRule, DiscountType, ItemState, order_state
from bulkbill.services.orders.order_views import LineView
from bulkbill.storage.tables import Customer, Invoice
from bulkbill.storage.tables_orders import BillRun, Fulfillment, FulfillmentItem, Order


def render_line(
    view: LineView, *, items: Mapping[str, Sequence[FulfillmentItem]] | None = None, with_fulfillments: bool = False
) -> dict[str, Any]:
    """GetOrderLineItem: every field, null when unset; fulfillments only when asked for."""
    ln, cur = view.line, view.line.currency
    amount = line_amount(ln.amount_per_unit, ln.quantity)
    list_price = line_amount(ln.list_price_per_unit, ln.quantity)
    discount_per_unit = ln.inline_discount_per_unit
    if discount_per_unit is not None and ln.inline_discount_type == DiscountType.FIXED_AMOUNT:
        discount_per_unit = major(discount_per_unit, cur)
    attrs = ln.attrs or {}
    amount_major = major(amount, cur)
    original, original_order = view.original, view.original_order
    body: dict[str, Any] = {
        "id": ln.id,
        "orderId": ln.order_id,
        "itemNumber": ln.item_number,
        "itemName": ln.item_name,
        "itemType": ln.item_type,
        "itemCategory": ln.item_category,
        "itemState": ln.item_state,
        "billingRule": ln.billing_rule,
        "requiresFulfillment": ln.billing_rule == BillingRule.AS_FULFILLMENT_OCCURS,
        "description": ln.description,
        "currency": cur.upper(),
        "quantity": ln.quantity,
        "quantityFulfilled": view.quantities.fulfilled,
        "quantityPendingFulfillment": view.quantities.pending,
        "quantityAvailableForReturn": view.quantities.available_for_return,
        "listPricePerUnit": major(ln.list_price_per_unit, cur),
        "amountPerUnit": major(ln.amount_per_unit, cur),
        "inlineDiscountType": ln.inline_discount_type,
        "inlineDiscountPerUnit": discount_per_unit,
        "listPrice": major(list_price, cur),
        "amount": amount_major,
        "amountWithoutTax": amount_major,
        "discount": major(list_price - amount, cur),
        "billTargetDate": ln.bill_target_date,
        "transactionStartDate": ln.transaction_start_date,
        "transactionEndDate": ln.transaction_end_date,
        "UOM": ln.uom,
        "productCode": ln.product_code,
        "invoiceOwnerAccountId": view.account.id,
        "invoiceOwnerAccountName": view.account.name,
        "invoiceOwnerAccountNumber": view.account.account_number,
        "ownerAccountId": view.owner.id,
        "ownerAccountName": view.owner.name,
        "ownerAccountNumber": view.owner.account_number,
        "originalOrderId": original_order.id if original_order else None,
        "originalOrderNumber": original_order.order_number if original_order else None,
        "originalOrderDate": original_order.order_date if original_order else None,
        "originalOrderLineItemId": original.id if original else None,
        "originalOrderLineItemNumber": original.item_number if original else None,
        "amendedByOrderOn": None,
        "billToSnapshotId": None,
        "soldToSnapshotId": None,
        "shipToSnapshotId": None,
    }
    for name in STANDARD_ATTRS:
        body[name] = attrs.get(name)
    body.update({name: attr_value(name, attrs[name]) for name in ATTR_FIELDS if name in attrs})
    body["customFields"] = dict(ln.custom_fields or {})
    if with_fulfillments:
        body["fulfillments"] = [render_fulfillment(f, (items or {}).get(f.id)) for f in view.fulfillments]
    return body


def render_order(order: Order, account: Customer, views: Sequence[LineView]) -> dict[str, Any]:
    """Order: an OLI-only order (no subscriptions) of `account`, its own account; state follows its lines."""
    return {
        "orderNumber": order.order_number,
        "orderDate": order.order_date,
        "category": order.category,
        "description": order.description,
        "existingAccountNumber": account.account_number,
        "currency": account.currency.upper() if account.currency else None,
        "customFields": dict(order.custom_fields or {}),
        "status": order.status,
        "state": order_state(ItemState(v.line.item_state) for v in views),
        "reasonCode": order.reason_code,
        "cancelReason": None,
        "createdBy": None,
        "createdDate": timestamp(order.created),
        "updatedBy": None,
        "updatedDate": timestamp(order.updated),
        "invoiceScheduleId": None,
        "schedulingOptions": None,
        "subscriptions": [],
        "commitments": [],
        "orderLineItems": [render_line(v) for v in views],
    }


def render_fulfillment(f: Fulfillment, items: Sequence[FulfillmentItem] | None = None) -> dict[str, Any]:
    """GetFulfillment; fulfillmentItems only when asked for."""
    body: dict[str, Any] = {
        "id": f.id,
        "fulfillmentNumber": f.fulfillment_number,
        "orderLineItemId": f.order_line_item_id,
        "fulfillmentDate": f.fulfillment_date,
        "fulfillmentType": f.fulfillment_type,
        "quantity": f.quantity,
        "state": f.state,
        "billTargetDate": f.bill_target_date,
        "description": f.description,
        "externalId": f.external_id,
        "trackingNumber": f.tracking_number,
        "carrier": f.carrier,
        "fulfillmentSystem": f.fulfillment_system,
        "fulfillmentLocation": f.fulfillment_location,
        "customFields": dict(f.custom_fields or {}),
    }
    if items is not None:
        body["fulfillmentItems"] = [render_item(i, f) for i in items]
    return body


def render_item(item: FulfillmentItem, fulfillment: Fulfillment) -> dict[str, Any]:
    """GetFulfillmentItem."""
    return {
        "id": item.id,
        "fulfillmentId": fulfillment.id,
        "fulfillmentNumber": fulfillment.fulfillment_number,
        "fulfillmentExternalId": fulfillment.external_id,
        "itemIdentifier": item.item_identifier,
        "description": item.description,
        "customFields": dict(item.custom_fields or {}),
    }


def render_bill_run(run: BillRun) -> dict[str, Any]:
    """BillRunResponse, plus the counts of accounts and documents the run produced."""
    settings = run.settings or {}
    return {
        "id": run.id,
        "billRunNumber": run.bill_run_number,
        "name": run.name,
        "status": run.status,
        "targetDate": run.target_date,
        "invoiceDate": run.invoice_date,
        "autoPost": run.auto_post,
        "autoEmail": settings.get("autoEmail", False),
        "autoRenewal": settings.get("autoRenewal", False),
        "noEmailForZeroAmountInvoice": settings.get("noEmailForZeroAmountInvoice", False),
        "includeSubscriptions": settings.get("includeSubscriptions", True),
        "includeOrderLineItems": run.include_order_line_items,
        "batches": settings.get("batches"),
        "billCycleDay": settings.get("billCycleDay"),
        "billRunFilters": settings.get("billRunFilters"),
        "chargeTypeToExclude": settings.get("chargeTypeToExclude"),
        "organizationLabels": settings.get("organizationLabels"),
        "schedule": None,
        "scheduledExecutionTime": None,
        "invoiceDateOffset": None,
        "targetDateOffset": None,
        "createdById": None,
        "createdDate": timestamp(run.created),
        "updatedById": None,
        "updatedDate": timestamp(run.updated),
        "numberOfAccounts": run.number_of_accounts,
        "numberOfInvoices": run.number_of_invoices,
        "numberOfCreditMemos": run.number_of_credit_memos,
        "errorMessage": run.error_message,
    }


def document_lists(documents: Sequence[Invoice]) -> tuple[list[Invoice], list[Invoice]]:
    """(invoices, credit memos) among generated documents, in generation order."""
    invoices = [d for d in documents if d.document_type != "credit_memo"]
    memos = [d for d in documents if d.document_type == "credit_memo"]
    return invoices, memos
