"""Stripe /v1/customers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.customers.customers as service
import bulkbill.services.customers.tax_ids as tax_ids_service
from bulkbill.api.stripe.customers.tax_ids import TAX_ID_DATA, new_tax_ids, tax_id_list
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.expansion import allowed
from bulkbill.api.stripe.edge.filters import CREATED_LIST_PARAMS
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import (
    AMOUNT,
    EXPAND,
    MAX_INT32,
    Array,
    Bool,
    Enum,
    Int,
    Metadata,
    Obj,
    Refused,
    Str,
    Unsettable,
    parse,
)
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.api.stripe.subscriptions.test_clocks import expanded_clock
from bulkbill.core.documents.display import AmountTaxDisplay
from bulkbill.core.invoicing.totals import TaxExempt
from bulkbill.core.metadata import Clear
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer

router = APIRouter()

_ADDRESS_FIELDS = {name: Str() for name in ("city", "country", "line1", "line2", "postal_code", "state")}
ADDRESS = Obj(_ADDRESS_FIELDS)
_SHIPPING = Obj({"address": ADDRESS, "name": Str(), "phone": Str()}, required=frozenset({"address", "name"}))
CUSTOM_FIELDS = Unsettable(
    Array(Obj({"name": Str(40), "value": Str(140)}, required=frozenset({"name", "value"})), max_items=4)
)
# Invoice rendering templates are made in Stripe's Dashboard; bulkbill has none to name, so it refuses them
# (here and on invoices) rather than keep an id no document would ever use.
NO_TEMPLATES = (
    "bulkbill has no invoice rendering templates; every document uses its own layout, branded per tenant "
    "(`bulkbill tenants update --logo --accent --footer`)."
)
_RENDERING_OPTIONS = Obj(
    {
        "amount_tax_display": Unsettable(Enum(tuple(v.value for v in AmountTaxDisplay))),
        "template": Refused(NO_TEMPLATES),
    }
)
_INVOICE_SETTINGS = Obj(
    {
        "custom_fields": CUSTOM_FIELDS,
        "footer": Unsettable(Str(5000)),
        "rendering_options": Unsettable(_RENDERING_OPTIONS),
    }
)
_TAX = Obj({"ip_address": Unsettable(Str()), "validate_location": Enum(("auto", "deferred", "immediately"))})
_FIELDS = {
    "name": Unsettable(Str(256)),
    "email": Unsettable(Str(512)),
    "description": Unsettable(Str()),
    "phone": Unsettable(Str(20)),
    "balance": AMOUNT,
    "invoice_prefix": Str(12),
    "metadata": Metadata(),
    "address": Unsettable(ADDRESS),
    "shipping": Unsettable(_SHIPPING),
    "tax_exempt": Unsettable(Enum(tuple(TaxExempt))),
    "preferred_locales": Unsettable(Array(Str(), max_items=30)),
    "invoice_settings": _INVOICE_SETTINGS,
    "next_invoice_sequence": Int(1, MAX_INT32),
    "business_name": Unsettable(Str(150)),
    "individual_name": Unsettable(Str(150)),
    "tax": _TAX,
    # Stripe validates a payment source with it; bulkbill has none to validate: accepted, no effect.
    "validate": Bool(),
    "expand": EXPAND,
}
EXPANDABLE = allowed("customer")
CREATE = Obj({**_FIELDS, "test_clock": Str(), "tax_id_data": TAX_ID_DATA})
UPDATE = Obj(_FIELDS)
RETRIEVE = Obj({"expand": EXPAND})
LIST = Obj({**CREATED_LIST_PARAMS, "email": Str(512), "test_clock": Str()})
# Customer.details keys, each a parameter of the same name.
_DETAILS = ("address", "shipping", "preferred_locales", "business_name", "individual_name")


def render_customer(c: Customer) -> dict[str, Any]:
    details = c.details or {}
    settings = details.get("invoice_settings") or {}
    shipping = details.get("shipping")
    # Stripe's schema has business_name and individual_name non-null: shown only when set.
    names = {k: details[k] for k in ("business_name", "individual_name") if details.get(k) is not None}
    return {
        **names,
        "id": c.id,
        "object": "customer",
        "address": render_address(details.get("address")),
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
            "custom_fields": settings.get("custom_fields"),
            "default_payment_method": None,
            "footer": settings.get("footer"),
            "rendering_options": _rendering_options(settings.get("rendering_options")),
        },
        "livemode": False,
        "metadata": c.metadata_,
        "name": c.name,
        "next_invoice_sequence": c.next_invoice_sequence,
        "phone": c.phone,
        "preferred_locales": details.get("preferred_locales") or [],
        "shipping": render_shipping(shipping),
        "tax_exempt": c.tax_exempt or "none",
        "test_clock": c.test_clock_id,
    }


def render_address(a: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if a is None else {name: a.get(name) for name in _ADDRESS_FIELDS}


def render_shipping(s: dict[str, Any] | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "address": render_address(s.get("address") or {}),
        "carrier": None,
        "name": s.get("name"),
        "phone": s.get("phone"),
        "tracking_number": None,
    }


def _rendering_options(r: dict[str, Any] | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"amount_tax_display": r.get("amount_tax_display"), "template": r.get("template")}


def customer_response(uow: UnitOfWork, c: Customer, expand: set[str]) -> dict[str, Any]:
    """The customer with `tax`, `tax_ids` and `test_clock` when expanded."""
    body = render_customer(c)
    if "tax" in expand:
        ip = ((c.details or {}).get("tax") or {}).get("ip_address")
        body["tax"] = {"automatic_tax": "not_collecting", "ip_address": ip, "location": None, "provider": "stripe"}
    if "tax_ids" in expand:
        body["tax_ids"] = tax_id_list(c.id, tax_ids_service.tax_ids_of(uow, c.id))
    if "test_clock" in expand and c.test_clock_id:
        body["test_clock"] = expanded_clock(uow, c.test_clock_id)
    return body


def _unset(value: Any) -> Any:
    """None for "" (Clear): a details key to remove."""
    if isinstance(value, Clear):
        return None
    if isinstance(value, dict):
        return {k: _unset(v) for k, v in value.items()}
    return value


def _details(p: dict[str, Any]) -> dict[str, Any]:
    details = {name: _unset(p[name]) for name in _DETAILS if name in p}
    if "invoice_settings" in p:
        details["invoice_settings"] = _unset(p["invoice_settings"])
    if "tax" in p and "ip_address" in p["tax"]:
        details["tax"] = {"ip_address": _unset(p["tax"]["ip_address"])}
    return details


def customer_fields(p: dict[str, Any]) -> service.CustomerFields:
    def text(name: str) -> str | None:
        value = p.get(name)
        return "" if isinstance(value, Clear) else value

    tax_exempt = p.get("tax_exempt")
    return service.CustomerFields(
        name=text("name"),
        email=text("email"),
        description=text("description"),
        phone=text("phone"),
        balance=p.get("balance"),
        invoice_prefix=p.get("invoice_prefix"),
        metadata=p.get("metadata"),
        test_clock=p.get("test_clock"),
        next_invoice_sequence=p.get("next_invoice_sequence"),
        tax_exempt=TaxExempt.NONE if isinstance(tax_exempt, Clear) else tax_exempt,
        details=_details(p),
    )


@router.post("/v1/customers", openapi_extra=body_params(CREATE))
def create_customer(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        expand = check_expand(p, EXPANDABLE)
        customer = service.create_customer(uow, customer_fields(p))
        tax_ids_service.add_tax_ids(uow, customer.id, new_tax_ids(p.get("tax_id_data")), ("tax_id_data",))
        return customer_response(uow, customer, expand)

    return execute(call, run)


@router.get("/v1/customers/{customer_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_customer(customer_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        expand = check_expand(parse(RETRIEVE, params), EXPANDABLE)
        customer = service.shown_customer(uow, customer_id)
        if customer.deleted:
            return {"id": customer.id, "object": "customer", "deleted": True}
        return customer_response(uow, customer, expand)

    return execute(call, run)


@router.post("/v1/customers/{customer_id}", openapi_extra=body_params(UPDATE))
def update_customer(customer_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        expand = check_expand(p, EXPANDABLE)
        return customer_response(uow, service.update_customer(uow, customer_id, customer_fields(p)), expand)

    return execute(call, run)


@router.delete("/v1/customers/{customer_id}")
def delete_customer(customer_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        parse(Obj({}), params)
        customer = service.delete_customer(uow, customer_id)
        return {"id": customer.id, "object": "customer", "deleted": True}

    return execute(call, run)


@router.delete("/v1/customers/{customer_id}/discount")
def delete_customer_discount(customer_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        parse(Obj({}), params)
        service.delete_discount(uow, customer_id)

    return execute(call, run)


@router.get("/v1/customers", openapi_extra=query_params(LIST))
def list_customers(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        expand = {e.removeprefix("data.") for e in check_expand(p, [f"data.{e}" for e in EXPANDABLE])}
        page = service.list_customers(uow, cursor_from(p), email=p.get("email"), test_clock=p.get("test_clock"))
        return list_object("/v1/customers", page, lambda c: customer_response(uow, c, expand))

    return execute(call, run)
