"""GET/PUT /v1/order-line-items/{itemId} and POST /v1/order-line-items/bulk (update ≤ 100, runBilling)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import Field

import bulkbill.services.orders.order_line_items as service
from bulkbill.api.zuora.edge.call import ZuoraRequest, execute, zuora_request
from bulkbill.api.zuora.edge.openapi import BOOLEAN_FLAG, json_body, query
from bulkbill.api.zuora.edge.validation import parse_model
from bulkbill.api.zuora.orders.oli_fields import OliBulkUpdate, OliUpdate, check_prices, line_fields
from bulkbill.api.zuora.orders.order_common import CamelModel, ProcessingOptionsModel, minor, orgs_of, zuora_reasons
from bulkbill.api.zuora.orders.order_render import document_lists, render_line
from bulkbill.core.errors import InputCollector
from bulkbill.services.orders.order_views import items_of, load_views
from bulkbill.services.platform.uow import UnitOfWork

router = APIRouter()


class BulkUpdate(CamelModel):
    """BulkUpdateOrderLineItemsRequest."""

    order_line_items: list[OliBulkUpdate] = Field(min_length=1)
    processing_options: ProcessingOptionsModel | None = None


@router.get(
    "/v1/order-line-items/{item_id}",
    openapi_extra=query(("fulfillment", BOOLEAN_FLAG, "true: include the fulfillments")),
)
def get_line_item(item_id: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        with_fulfillments = (c.query_value("fulfillment") or "").lower() == "true"
        view = service.get_line_item(uow, item_id, with_fulfillments=with_fulfillments, orgs=orgs_of(uow, c))
        items = items_of(uow, [f.id for f in view.fulfillments]) if with_fulfillments else None
        return {"success": True, "orderLineItem": render_line(view, items=items, with_fulfillments=with_fulfillments)}

    return execute(call, run)


@router.put("/v1/order-line-items/{item_id}", openapi_extra=json_body(OliUpdate))
def update_line_item(item_id: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        with zuora_reasons():
            body = parse_model(OliUpdate, c.body)
            errors = InputCollector()
            check_prices(body, (), errors)
            fields = line_fields(body, (), errors)
            errors.raise_if_any()
            service.update_line_items(
                uow,
                [service.LineUpdate(item_id, fields)],
                to_minor=minor,
                path=(),
                indexed=False,
                orgs=orgs_of(uow, c),
            )
        return {"success": True}

    return execute(call, run)


@router.post("/v1/order-line-items/bulk", openapi_extra=json_body(BulkUpdate))
def bulk_update(call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        with zuora_reasons():
            body = parse_model(BulkUpdate, c.body)
            errors = InputCollector()
            updates = []
            for i, entry in enumerate(body.order_line_items):
                check_prices(entry, ("orderLineItems", i), errors)
                updates.append(service.LineUpdate(entry.id, line_fields(entry, ("orderLineItems", i), errors)))
            options = body.processing_options
            billing = options.billing(("processingOptions",), errors) if options else None
            errors.raise_if_any()
            result = service.update_line_items(uow, updates, to_minor=minor, billing=billing, orgs=orgs_of(uow, c))
        invoices, memos = document_lists(result.documents)
        return {
            "success": True,
            "orderLineItems": [render_line(v) for v in load_views(uow, result.lines)],
            "invoices": [{"id": d.id, "invoiceNumber": d.number} for d in invoices],
            "creditMemos": [{"id": d.id, "creditMemoNumber": d.number} for d in memos],
        }

    return execute(call, run)
