"""Stripe /v1/customers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.customers.customers as service
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import AMOUNT, EXPAND, LIST_PARAMS, Metadata, Obj, Str, Unsettable, parse
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.core.metadata import Clear
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer

router = APIRouter()

_FIELDS = {
    "name": Unsettable(Str(256)),
    "email": Unsettable(Str(512)),
    "description": Unsettable(Str()),
    "phone": Unsettable(Str(20)),
    "balance": AMOUNT,
    "invoice_prefix": Str(12),
    "metadata": Metadata(),
    "expand": EXPAND,
}
CREATE = Obj({**_FIELDS, "test_clock": Str()})
UPDATE = Obj(_FIELDS)
RETRIEVE = Obj({"expand": EXPAND})
LIST = Obj({**LIST_PARAMS, "email": Str(512)})


def render_customer(c: Customer) -> dict[str, Any]:
    return {
        "id": c.id,
        "object": "customer",
        "address": None,
        "balance": c.balance,
        "created": c.created,
        "currency": c.currency,
        "default_source": None,
        "delinquent": False,
        "description": c.description,
        "discount": None,
        "email": c.email,
        "invoice_prefix": c.invoice_prefix,
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": c.metadata_,
        "name": c.name,
        "next_invoice_sequence": c.next_invoice_sequence,
        "phone": c.phone,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": c.test_clock_id,
    }


def _fields(p: dict[str, Any]) -> service.CustomerFields:
    def text(name: str) -> str | None:
        value = p.get(name)
        return "" if isinstance(value, Clear) else value

    return service.CustomerFields(
        name=text("name"),
        email=text("email"),
        description=text("description"),
        phone=text("phone"),
        balance=p.get("balance"),
        invoice_prefix=p.get("invoice_prefix"),
        metadata=p.get("metadata"),
        test_clock=p.get("test_clock"),
    )


@router.post("/v1/customers", openapi_extra=body_params(CREATE))
def create_customer(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        check_expand(p, ())
        return render_customer(service.create_customer(uow, _fields(p)))

    return execute(call, run)


@router.get("/v1/customers/{customer_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_customer(customer_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), ())
        customer = service.get_customer(uow, customer_id, include_deleted=True)
        if customer.deleted:
            return {"id": customer.id, "object": "customer", "deleted": True}
        return render_customer(customer)

    return execute(call, run)


@router.post("/v1/customers/{customer_id}", openapi_extra=body_params(UPDATE))
def update_customer(customer_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        check_expand(p, ())
        return render_customer(service.update_customer(uow, customer_id, _fields(p)))

    return execute(call, run)


@router.delete("/v1/customers/{customer_id}")
def delete_customer(customer_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        parse(Obj({}), params)
        customer = service.delete_customer(uow, customer_id)
        return {"id": customer.id, "object": "customer", "deleted": True}

    return execute(call, run)


@router.get("/v1/customers", openapi_extra=query_params(LIST))
def list_customers(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        check_expand(p, ())
        page = service.list_customers(uow, cursor_from(p), email=p.get("email"))
        return list_object("/v1/customers", page, render_customer)

    return execute(call, run)
