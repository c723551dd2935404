"""Stripe /v1/customers/{customer}/balance_transactions: a customer's balance moves (create, retrieve, update, list).

A created transaction is a manual `adjustment` that moves the balance at once (negative: a credit the next
finalized invoices apply, as Stripe's `starting_balance`/`ending_balance`); finalizing an invoice that uses the
balance records an `applied_to_invoice` one. Only description and metadata change afterwards.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.customers.balance_transactions as service
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.expansion import allowed, listed
from bulkbill.api.stripe.edge.filters import CREATED_LIST_PARAMS
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import AMOUNT, EXPAND, Currency, Metadata, Obj, Str, Unsettable, parse
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.core.metadata import Clear
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import CustomerBalanceTransaction

router = APIRouter()

DESCRIPTION = Str(350)
CREATE = Obj(
    {"amount": AMOUNT, "currency": Currency(), "description": DESCRIPTION, "metadata": Metadata(), "expand": EXPAND},
    required=frozenset({"amount", "currency"}),
)
UPDATE = Obj({"description": Unsettable(DESCRIPTION), "metadata": Metadata(), "expand": EXPAND})
RETRIEVE = Obj({"expand": EXPAND})
LIST = Obj({**CREATED_LIST_PARAMS, "invoice": Str()})


def render_balance_transaction(t: CustomerBalanceTransaction) -> dict[str, Any]:
    return {
        "id": t.id,
        "object": "customer_balance_transaction",
        "amount": t.amount,
        "checkout_session": None,
        "created": t.created,
        "credit_note": t.credit_note_id,
        "currency": t.currency,
        "customer": t.customer_id,
        "customer_account": None,
        "description": t.description,
        "ending_balance": t.ending_balance,
        "invoice": t.invoice_id,
        "livemode": False,
        "metadata": dict(t.metadata_),
        "type": t.type,
    }


@router.post("/v1/customers/{customer_id}/balance_transactions", openapi_extra=body_params(CREATE))
def create_balance_transaction(customer_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        check_expand(p, allowed("customer_balance_transaction"))
        row = service.create_transaction(
            uow, customer_id, p["amount"], p["currency"], p.get("description"), p.get("metadata")
        )
        return render_balance_transaction(row)

    return execute(call, run)


@router.get("/v1/customers/{customer_id}/balance_transactions/{transaction_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_balance_transaction(
    customer_id: str, transaction_id: str, call: StripeRequest = Depends(stripe_request)
) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), allowed("customer_balance_transaction"))
        return render_balance_transaction(service.get_transaction(uow, customer_id, transaction_id))

    return execute(call, run)


@router.post("/v1/customers/{customer_id}/balance_transactions/{transaction_id}", openapi_extra=body_params(UPDATE))
def update_balance_transaction(
    customer_id: str, transaction_id: str, call: StripeRequest = Depends(stripe_request)
) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(UPDATE, params)
        check_expand(p, allowed("customer_balance_transaction"))
        description = p.get("description")
        row = service.update_transaction(
            uow,
            customer_id,
            transaction_id,
            None if isinstance(description, Clear) else description,
            p.get("metadata"),
            description_given="description" in p,
        )
        return render_balance_transaction(row)

    return execute(call, run)


@router.get("/v1/customers/{customer_id}/balance_transactions", openapi_extra=query_params(LIST))
def list_balance_transactions(customer_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        check_expand(p, listed("customer_balance_transaction"))
        page = service.list_transactions(uow, customer_id, cursor_from(p), invoice=p.get("invoice"))
        url = f"/v1/customers/{customer_id}/balance_transactions"
        return list_object(url, page, render_balance_transaction)

    return execute(call, run)
