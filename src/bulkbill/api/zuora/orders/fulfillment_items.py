"""POST /v1/fulfillment-items and GET/PUT/DELETE /v1/fulfillment-items/{id}."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import Field

import bulkbill.services.orders.fulfillment_items as service
from bulkbill.api.zuora.edge.call import ZuoraRequest, execute, zuora_request
from bulkbill.api.zuora.edge.openapi import json_body
from bulkbill.api.zuora.edge.validation import parse_model
from bulkbill.api.zuora.orders.fulfillments import ItemModel, item_fields
from bulkbill.api.zuora.orders.order_common import CamelModel, orgs_of, zuora_reasons
from bulkbill.api.zuora.orders.order_render import render_item
from bulkbill.core.errors import InputCollector
from bulkbill.services.platform.uow import UnitOfWork

router = APIRouter()


class CreateItems(CamelModel):
    fulfillment_items: list[ItemModel] = Field(min_length=1)


@router.post("/v1/fulfillment-items", openapi_extra=json_body(CreateItems))
def create_items(call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        with zuora_reasons():
            body = parse_model(CreateItems, c.body)
            errors = InputCollector()
            new = [
                service.NewItem(
                    item=item_fields(item, ("fulfillmentItems", i), errors),
                    fulfillment_id=item.fulfillment_id,
                    fulfillment_number=item.fulfillment_number,
                    fulfillment_external_id=item.fulfillment_external_id,
                )
                for i, item in enumerate(body.fulfillment_items)
            ]
            errors.raise_if_any()
            rows = service.create_items(uow, new, orgs=orgs_of(uow, c))
        return {"success": True, "fulfillmentItems": [{"id": r.id} for r in rows]}

    return execute(call, run)


@router.get("/v1/fulfillment-items/{item_id}")
def get_item(item_id: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        view = service.get_item(uow, item_id, orgs=orgs_of(uow, c))
        return {"success": True, "fulfillmentItem": render_item(view.item, view.fulfillment)}

    return execute(call, run)


@router.put("/v1/fulfillment-items/{item_id}", openapi_extra=json_body(ItemModel))
def update_item(item_id: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        with zuora_reasons():
            body = parse_model(ItemModel, c.body)
            errors = InputCollector()
            fields = item_fields(body, (), errors)
            errors.raise_if_any()
            service.update_item(uow, item_id, fields, orgs=orgs_of(uow, c))
        return {"success": True}

    return execute(call, run)


@router.delete("/v1/fulfillment-items/{item_id}")
def delete_item(item_id: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        service.delete_item(uow, item_id, orgs=orgs_of(uow, c))
        return {"success": True}

    return execute(call, run)
