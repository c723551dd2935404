"""POST /v1/orders (orders of sales or return order line items, optionally billed at once), GET /v1/orders/{n}."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import Field

import bulkbill.services.orders.orders as service
from bulkbill.api.zuora.edge.call import ZuoraRequest, execute, zuora_request
from bulkbill.api.zuora.edge.openapi import BOOLEAN_FLAG, doc, json_body, query
from bulkbill.api.zuora.edge.validation import ZDate, parse_model
from bulkbill.api.zuora.orders.oli_fields import OliCreate, check_prices, line_fields
from bulkbill.api.zuora.orders.order_common import (
    CamelModel,
    ProcessingOptionsModel,
    Str70,
    Str100,
    Str255,
    Str500,
    check_custom_fields,
    minor,
    orgs_of,
    zuora_reasons,
)
from bulkbill.api.zuora.orders.order_render import document_lists, render_order
from bulkbill.core.errors import ErrorCode, InputCollector
from bulkbill.core.orders.line_items import OrderStatus, processing_options_error
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.platform.uow import UnitOfWork

router = APIRouter()


class CreateOrder(CamelModel):
    """CreateOrderRequest, the subset for orders without subscriptions."""

    order_date: ZDate
    existing_account_number: Str70 | None = None
    new_account: dict[str, Any] | None = None
    category: Literal["NewSales", "Return"] | None = None
    custom: dict[str, Any] | None = Field(default=None, alias="customFields")
    description: Str500 | None = None
    order_number: Str100 | None = None
    order_line_items: list[OliCreate] | None = None
    processing_options: ProcessingOptionsModel | None = None
    reason_code: Str255 | None = None
    status: OrderStatus | None = None
    subscriptions: list[Any] | None = None


def _flag(call: ZuoraRequest, name: str) -> bool:
    return (call.query_value(name) or "").lower() == "true"


@router.post(
    "/v1/orders",
    openapi_extra=doc(json_body(CreateOrder), query(("returnIds", BOOLEAN_FLAG, "true: return the ids too"))),
)
def create_order(call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        with zuora_reasons():
            body = parse_model(CreateOrder, c.body)
            errors = InputCollector()
            if body.new_account is not None:
                errors.add(
                    ("newAccount",),
                    ErrorCode.INVALID_VALUE,
                    "newAccount is not supported: create the account with POST /v1/accounts, "
                    "then pass existingAccountNumber.",
                )
            elif body.existing_account_number is None:
                errors.missing(("existingAccountNumber",))
            if body.subscriptions:
                errors.add(("subscriptions",), ErrorCode.INVALID_VALUE, "Orders with subscriptions are not supported.")
            lines = []
            for i, oli in enumerate(body.order_line_items or []):
                check_prices(oli, ("orderLineItems", i), errors)
                lines.append(line_fields(oli, ("orderLineItems", i), errors))
            options = body.processing_options
            if options is not None and (problem := processing_options_error(body.status)):
                errors.add(("processingOptions",), ErrorCode.RULE_VIOLATION, problem)
            billing = options.billing(("processingOptions",), errors) if options else None
            runs_billing = options is not None and options.runs_billing
            custom = check_custom_fields(body.custom, (), errors)
            errors.raise_if_any()
            assert body.existing_account_number is not None
            created = service.create_order(
                uow,
                service.NewOrder(
                    account_key=body.existing_account_number,
                    order_date=body.order_date,
                    lines=tuple(lines),
                    order_number=body.order_number,
                    category=body.category or "NewSales",
                    description=body.description,
                    reason_code=body.reason_code,
                    status=body.status.value if body.status else None,
                    custom_fields=custom,
                ),
                to_minor=minor,
                billing=billing,
                orgs=orgs_of(uow, c),
            )
        out: dict[str, Any] = {
            "success": True,
            "orderNumber": created.order.order_number,
            "accountNumber": created.account.account_number,
            "status": created.order.status,
            "orderLineItems": [{"id": ln.id, "itemNumber": ln.item_number} for ln in created.lines],
        }
        invoices, memos = document_lists(created.documents)
        if runs_billing:
            out["invoiceNumbers"] = [d.number for d in invoices]
            out["creditMemoNumbers"] = [d.number for d in memos]
        if _flag(c, "returnIds"):
            out["orderId"] = created.order.id
            out["accountId"] = created.account.id
            if runs_billing:
                out["invoiceIds"] = [d.id for d in invoices]
                out["creditMemoIds"] = [d.id for d in memos]
        return out

    return execute(call, run)


@router.get("/v1/orders/{order_number}")
def get_order(order_number: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        order, views = service.get_order(uow, order_number, orgs=orgs_of(uow, c))
        account = get_customer(uow, order.account_id, include_deleted=True)
        return {"success": True, "order": render_order(order, account, views)}

    return execute(call, run)
