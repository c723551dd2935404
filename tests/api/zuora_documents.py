"""Helpers for the Zuora documents tests: accounts, standalone invoices, periods, credit memos."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from bulkbill.storage.tables import Invoice
from tests.helpers import StripeClient, ZuoraClient

CONTACT = {"firstName": "Ada", "lastName": "Lovelace", "workEmail": "ada@example.com", "country": "United States"}


def account(zuora: ZuoraClient, **fields: Any) -> dict[str, Any]:
    """A new account; returns {"accountId", "accountNumber"}."""
    body = {"name": "Acme Corp", "currency": "USD", "billToContact": CONTACT, **fields}
    return zuora.ok("POST", "/v1/accounts", body)


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


def reasons(body: dict[str, Any]) -> list[tuple[int, str]]:
    return [(r["code"], r["message"]) for r in body["reasons"]]


def codes(body: dict[str, Any]) -> list[int]:
    return [r["code"] for r in body["reasons"]]


def gzipped(body: Any) -> bytes:
    return gzip.compress(json.dumps(body, default=str).encode())


def dec(value: Any) -> Decimal:
    return Decimal(str(value))
