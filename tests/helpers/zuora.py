"""Zuora-dialect test helpers: error codes, accounts, orders, line items, fulfillments, bill runs, documents."""

from __future__ import annotations

import gzip
import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from bulkbill.services.customers.customers import CustomerFields, create_customer
from bulkbill.services.platform.tenants import NewTenant
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Invoice, InvoiceItem
from tests.helpers import StripeClient, ZuoraClient

# --- what a refusal says --------------------------------------------------------------------------

RULE, MISSING, INVALID, NOT_FOUND, UNKNOWN = 50000030, 50000022, 50000020, 50000040, 50000021
DENIED = 50000010


def codes(body: dict[str, Any]) -> list[int]:
    return [r["code"] for r in body["reasons"]]


def gzipped(body: Any) -> bytes:
    return gzip.compress(json.dumps(body, default=str).encode())


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


# --- accounts, and the orgs a call names (Zuora-Org-Ids, Decision 10) ------------------------------

CONTACT = {"firstName": "Ada", "lastName": "Lovelace", "workEmail": "ada@example.com", "country": "United States"}


def account(zuora: ZuoraClient, **fields: Any) -> dict[str, Any]:
    """A new account; returns {"accountId", "accountNumber"}."""
    body = {"name": "Acme Corp", "currency": "USD", "billToContact": CONTACT, **fields}
    return zuora.ok("POST", "/v1/accounts", body)


def new_account(
    client: TestClient, tenant: NewTenant, *, currency: str = "usd", org: str | None = None, term: str | None = None
) -> str:
    """A core customer with a Zuora account number (what POST /v1/accounts makes)."""
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    number = "A" + uuid.uuid4().hex[:10].upper()
    with state.sessions.begin() as session:
        uow = UnitOfWork(session, state.settings, tenant_id=tenant.id)
        customer = create_customer(uow, CustomerFields(name="Acme " + number))
        customer.account_number = number
        customer.currency = currency
        customer.org_label = org
        customer.profile = {"paymentTerm": term} if term else {}
    return number


EAST, WEST, BOTH, NORTH = ({"Zuora-Org-Ids": orgs} for orgs in ("east", "west", "east,west", "north"))


# --- orders and order line items ------------------------------------------------------------------

A, B = "TriggerWithoutFulfillment", "TriggerAsFulfillmentOccurs"
SENT = {"itemState": "SentToBilling", "billTargetDate": "2021-01-01"}


def order_body(account: str, lines: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return {"orderDate": "2021-01-01", "existingAccountNumber": account, "orderLineItems": lines, **kw}


def run_billing(*excluded: Any) -> dict[str, Any]:
    return {"runBilling": True, "billingOptions": {"targetDate": "2021-01-01", "chargeTypeToExclude": list(excluded)}}


def line(**kw: Any) -> dict[str, Any]:
    return {"itemName": "Widget", "itemType": "Product", "quantity": 10, "amountPerUnit": 10, **kw}


def create_order(zuora: ZuoraClient, account: str, lines: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return zuora.ok("POST", "/v1/orders", order_body(account, lines, **kw))


def to_billing(*ids: str, target: str = "2021-01-01") -> list[dict[str, Any]]:
    """Bulk-update entries that send these order line items to billing."""
    return [{"id": i, "itemState": "SentToBilling", "billTargetDate": target} for i in ids]


def returned_line_id(zuora: ZuoraClient, account: str, **kw: Any) -> str:
    """A sale of 5 × 30 sent to billing, and a return order of 2 of its line 1; returns the return line's id."""
    sale = create_order(
        zuora, account, [line(quantity=5, amountPerUnit=30, itemState="SentToBilling", billTargetDate="2021-01-01")]
    )
    returned = return_line(sale, 2, **kw)
    return str(create_order(zuora, account, [returned], category="Return")["orderLineItems"][0]["id"])


def new_line(zuora: ZuoraClient, account: str, **kw: Any) -> str:
    """One order line item; returns its id."""
    return str(create_order(zuora, account, [line(**kw)])["orderLineItems"][0]["id"])


def get_line(zuora: ZuoraClient, item_id: str, **params: Any) -> dict[str, Any]:
    body = zuora.ok("GET", f"/v1/order-line-items/{item_id}", params=params or None)
    result: dict[str, Any] = body["orderLineItem"]
    return result


def bulk(zuora: ZuoraClient, items: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"orderLineItems": items}
    if options:
        body["processingOptions"] = options
    return zuora.ok("POST", "/v1/order-line-items/bulk", body)


def return_line(order: dict[str, Any], quantity: int, **kw: Any) -> dict[str, Any]:
    return {
        "itemCategory": "Return",
        "itemName": "Widget back",
        "quantity": quantity,
        "originalOrderNumber": order["orderNumber"],
        "originalOrderLineItemNumber": "1",
        **kw,
    }


# --- fulfillments ---------------------------------------------------------------------------------


def booked_line(zuora: ZuoraClient, account: str, quantity: int = 10, **kw: Any) -> str:
    return new_line(zuora, account, quantity=quantity, amountPerUnit=20, itemState="Booked", billingRule=B, **kw)


def fulfillment(oli: str, quantity: Any = 5, **kw: Any) -> dict[str, Any]:
    return {"orderLineItemId": oli, "fulfillmentDate": "2022-01-01", "quantity": quantity, **kw}


def create(zuora: ZuoraClient, *items: dict[str, Any], **options: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"fulfillments": list(items)}
    if options:
        body["processingOptions"] = options
    return zuora.ok("POST", "/v1/fulfillments", body)


# --- bill runs ------------------------------------------------------------------------------------

# What zuora-sdk sends on every CreateBillRunRequest, whatever the caller set.
SDK_DEFAULTS = {
    "autoEmail": False,
    "autoPost": False,
    "autoRenewal": False,
    "noEmailForZeroAmountInvoice": False,
    "includeSubscriptions": True,
    "includeOrderLineItems": True,
}


def run(zuora: ZuoraClient, target: str = "2021-06-30", **kw: Any) -> dict[str, Any]:
    return zuora.ok("POST", "/v1/bill-runs", {**SDK_DEFAULTS, "targetDate": target, "invoiceDate": "2021-07-01", **kw})


def sent(zuora: ZuoraClient, account: str, bill_target: str, **kw: Any) -> str:
    return new_line(zuora, account, itemState="SentToBilling", billTargetDate=bill_target, **kw)


# --- documents: straight from the database, and through the documents API --------------------------


@dataclass
class Doc:
    invoice: Invoice
    items: list[InvoiceItem] = field(default_factory=list)


def documents(client: TestClient, tenant: NewTenant) -> list[Doc]:
    """Every billing document of the tenant with its items, oldest first (read straight from the database)."""
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    with state.sessions.begin() as session:
        invoices = session.scalars(select(Invoice).where(Invoice.tenant_id == tenant.id).order_by(Invoice.id)).all()
        out = []
        for inv in invoices:
            items = session.scalars(
                select(InvoiceItem)
                .where(InvoiceItem.tenant_id == tenant.id, InvoiceItem.invoice_id == inv.id)
                .order_by(InvoiceItem.id)
            ).all()
            out.append(Doc(inv, list(items)))
        return out


def item(amount: Any = 100, **fields: Any) -> dict[str, Any]:
    return {"chargeName": "Consulting", "amount": amount, "serviceStartDate": "2024-07-01", **fields}


def standalone(
    zuora: ZuoraClient, account_id: str | None = None, items: list[dict[str, Any]] | None = None, **fields: Any
) -> dict[str, Any]:
    """A standalone invoice (Draft unless status is given); a fresh account when none is named."""
    if account_id is None:
        account_id = account(zuora)["accountId"]
    body = {"accountId": account_id, "invoiceDate": "2024-07-11", "invoiceItems": items or [item()], **fields}
    return zuora.ok("POST", "/v1/invoices", body)


def items_of(zuora: ZuoraClient, invoice_id: str, **params: Any) -> list[dict[str, Any]]:
    return list(zuora.ok("GET", f"/v1/invoices/{invoice_id}/items", params={"pageSize": 40, **params})["invoiceItems"])


def get(zuora: ZuoraClient, invoice_id: str) -> dict[str, Any]:
    return zuora.ok("GET", f"/v1/invoices/{invoice_id}")


def closed_period(zuora: ZuoraClient, start: str = "2024-07-01", end: str = "2024-07-31", name: str = "Jul") -> str:
    period = zuora.ok(
        "POST", "/v1/accounting-periods", {"name": name, "startDate": start, "endDate": end, "fiscalYear": 2024}
    )
    zuora.ok("PUT", f"/v1/accounting-periods/{period['id']}/close")
    return str(period["id"])


def post(zuora: ZuoraClient, invoice_id: str) -> None:
    zuora.ok("PUT", f"/v1/invoices/{invoice_id}/post", {})


def cancel(zuora: ZuoraClient, stripe: StripeClient, invoice_id: str) -> None:
    """Post through Zuora, void through Stripe (one core): the invoice is Canceled."""
    post(zuora, invoice_id)
    stripe.ok("POST", f"/v1/invoices/{invoice_id}/void")


def make_credit_memo(client: TestClient, invoice_id: str, number: str) -> None:
    """Turn a document into a credit memo, as return billing creates them (for the read tests)."""
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    with state.sessions.begin() as session:
        session.execute(
            update(Invoice)
            .where(Invoice.id == invoice_id)
            .values(document_type="credit_memo", number=number, origin="run_billing")
        )
