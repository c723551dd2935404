"""POST /v1/fulfillments (many at once, runBilling) and GET/PUT/DELETE /v1/fulfillments/{key}."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import Field

import bulkbill.services.orders.fulfillments as service
from bulkbill.api.zuora.edge.call import ZuoraRequest, execute, zuora_request
from bulkbill.api.zuora.edge.openapi import BOOLEAN_FLAG, json_body, query
from bulkbill.api.zuora.edge.validation import ZDate, ZQuantity, parse_model
from bulkbill.api.zuora.orders.order_common import (
    CamelModel,
    ProcessingOptionsModel,
    Str25,
    Str36,
    Str50,
    Str100,
    Str255,
    check_custom_fields,
    orgs_of,
    zuora_reasons,
)
from bulkbill.api.zuora.orders.order_render import document_lists, render_fulfillment
from bulkbill.core.errors import ErrorCode, InputCollector
from bulkbill.core.orders.fulfillments import FulfillmentState, FulfillmentType, parse_state
from bulkbill.services.platform.uow import UnitOfWork

router = APIRouter()
Path = tuple[str | int, ...]


class ItemModel(CamelModel):
    """FulfillmentItem (inline) and CreateFulfillmentItem."""

    custom: dict[str, Any] | None = Field(default=None, alias="customFields")
    description: Str255 | None = None
    item_identifier: Str36 | None = None
    fulfillment_id: str | None = Field(default=None, min_length=32, max_length=32)
    fulfillment_number: Str100 | None = None
    fulfillment_external_id: Str50 | None = None


class UpdateModel(CamelModel):
    """UpdateFulfillmentRequest (fulfillmentType is accepted and ignored: it cannot change)."""

    bill_target_date: ZDate | None = None
    carrier: Str25 | None = None
    custom: dict[str, Any] | None = Field(default=None, alias="customFields")
    description: Str255 | None = None
    external_id: Str50 | None = None
    fulfillment_date: ZDate | None = None
    fulfillment_location: Str50 | None = None
    fulfillment_system: Str25 | None = None
    quantity: ZQuantity | None = None
    state: str | None = None
    tracking_number: Str50 | None = None
    fulfillment_type: str | None = None


class CreateModel(UpdateModel):
    """CreateFulfillment; required fields are checked by the service so every problem is reported."""

    order_line_item_id: str | None = Field(default=None, min_length=32)
    fulfillment_items: list[ItemModel] | None = None


class CreateRequest(CamelModel):
    fulfillments: list[CreateModel] = Field(min_length=1)
    processing_options: ProcessingOptionsModel | None = None


TEXT = ("description", "externalId", "trackingNumber", "carrier", "fulfillmentSystem", "fulfillmentLocation")


def item_fields(model: ItemModel, path: Path, errors: InputCollector) -> service.ItemFields:
    return service.ItemFields(
        item_identifier=model.item_identifier,
        description=model.description,
        custom_fields=check_custom_fields(model.custom, path, errors),
        given=model.given(),
    )


def _fields(model: UpdateModel, path: Path, errors: InputCollector, *, create: bool) -> service.FulfillmentFields:
    state: FulfillmentState | None = None
    if model.state is not None:
        state = parse_state(model.state)
        if state is None:
            errors.add(
                (*path, "state"), ErrorCode.INVALID_VALUE, "state must be one of: " + ", ".join(FulfillmentState)
            )
    kind: FulfillmentType | None = None
    if create and model.fulfillment_type is not None:
        try:
            kind = FulfillmentType(model.fulfillment_type)
        except ValueError:
            errors.add(
                (*path, "fulfillmentType"), ErrorCode.INVALID_VALUE, "fulfillmentType must be Delivery or Return."
            )
    if model.quantity is not None and model.quantity < 0:
        errors.add((*path, "quantity"), ErrorCode.INVALID_VALUE, "Negative quantities are not supported.")
    data = model.model_dump(by_alias=True, exclude_unset=True)
    items: tuple[service.ItemFields, ...] = ()
    if isinstance(model, CreateModel) and model.fulfillment_items:
        items = tuple(
            item_fields(item, (*path, "fulfillmentItems", j), errors) for j, item in enumerate(model.fulfillment_items)
        )
    return service.FulfillmentFields(
        given=model.given(),
        order_line_item_id=model.order_line_item_id if isinstance(model, CreateModel) else None,
        fulfillment_date=model.fulfillment_date,
        quantity=model.quantity,
        state=state,
        fulfillment_type=kind,
        bill_target_date=model.bill_target_date,
        text={name: data[name] for name in TEXT if name in data},
        custom_fields=check_custom_fields(model.custom, path, errors),
        items=items,
    )


@router.post("/v1/fulfillments", openapi_extra=json_body(CreateRequest))
def create_fulfillments(call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        with zuora_reasons():
            body = parse_model(CreateRequest, c.body)
            errors = InputCollector()
            new = [_fields(f, ("fulfillments", i), errors, create=True) for i, f in enumerate(body.fulfillments)]
            options = body.processing_options
            billing = options.billing(("processingOptions",), errors) if options else None
            errors.raise_if_any()
            created = service.create_fulfillments(uow, new, billing=billing, orgs=orgs_of(uow, c))
        invoices, memos = document_lists(created.documents)
        return {
            "success": True,
            "fulfillments": [
                {
                    "id": f.id,
                    "fulfillmentNumber": f.fulfillment_number,
                    "fulfillmentItems": [{"id": i.id} for i in created.items.get(f.id, [])],
                }
                for f in created.fulfillments
            ],
            # Decision 5: null, not [], when no document of a kind was generated.
            "invoiceNumbers": [d.number for d in invoices] or None,
            "creditMemoNumbers": [d.number for d in memos] or None,
            "paymentNumber": None,
            "paidAmount": None,
        }

    return execute(call, run)


@router.get(
    "/v1/fulfillments/{key}",
    openapi_extra=query(("fulfillment-items", BOOLEAN_FLAG, "true: include the fulfillment items")),
)
def get_fulfillment(key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        row = service.get_fulfillment(uow, key, orgs=orgs_of(uow, c))
        with_items = (c.query_value("fulfillment-items") or "").lower() == "true"
        items = service.fulfillment_items(uow, [row.id]).get(row.id, []) if with_items else None
        return {"success": True, "fulfillment": render_fulfillment(row, items)}

    return execute(call, run)


@router.put("/v1/fulfillments/{key}", openapi_extra=json_body(UpdateModel))
def update_fulfillment(key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        with zuora_reasons():
            body = parse_model(UpdateModel, c.body)
            errors = InputCollector()
            fields = _fields(body, (), errors, create=False)
            errors.raise_if_any()
            service.update_fulfillment(uow, key, fields, orgs=orgs_of(uow, c))
        return {"success": True}

    return execute(call, run)


@router.delete("/v1/fulfillments/{key}")
def delete_fulfillment(key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        service.delete_fulfillment(uow, key, orgs=orgs_of(uow, c))
        return {"success": True}

    return execute(call, run)


__all__ = ["ItemModel", "item_fields", "router"]
