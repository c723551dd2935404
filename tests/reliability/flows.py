"""Zuora order billing over HTTP for the reliability tests: bodies, and reading results from the database."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, text

from bulkbill.core.billing.plan import SourceType
from bulkbill.storage.db import normalize_url

if TYPE_CHECKING:
    from tests.reliability.conftest import Live, StripeHTTP, ZuoraHTTP

CONTACT = {"firstName": "Ada", "lastName": "Lovelace", "workEmail": "ada@example.com", "country": "United States"}
RULE_A, RULE_B = "TriggerWithoutFulfillment", "TriggerAsFulfillmentOccurs"
WRITERS = 8  # concurrent clients in the races
# What zuora-sdk sends on every CreateBillRunRequest.
BILL_RUN_DEFAULTS = {
    "autoEmail": False,
    "autoPost": False,
    "autoRenewal": False,
    "noEmailForZeroAmountInvoice": False,
    "includeSubscriptions": True,
    "includeOrderLineItems": True,
}
TERMINAL = frozenset({"Completed", "Posted", "Error", "Cancelled", "Canceled"})
OLI, FUL = SourceType.ORDER_LINE_ITEM.value, SourceType.FULFILLMENT.value


def plain_engine(database_url: str) -> Engine:
    """A reader that takes no write lock (the application's SQLite engine begins IMMEDIATE)."""
    return create_engine(normalize_url(database_url))


def account_body(name: str = "Acme") -> dict[str, Any]:
    return {"name": name, "currency": "USD", "billToContact": CONTACT}


def sales_line(n: int, **kw: Any) -> dict[str, Any]:
    return {"itemName": f"Widget {n}", "itemType": "Product", "quantity": 10, "amountPerUnit": 1 + n % 7, **kw}


def order_body(account_number: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {"orderDate": "2021-01-01", "existingAccountNumber": account_number, "orderLineItems": lines}


def bulk_body(line_ids: list[str], bill_target: str, *, run_billing: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "orderLineItems": [{"id": i, "itemState": "SentToBilling", "billTargetDate": bill_target} for i in line_ids]
    }
    if run_billing:
        body["processingOptions"] = {"runBilling": True, "billingOptions": {"targetDate": bill_target}}
    return body


def fulfillment_body(entries: list[tuple[str, int]], bill_target: str, *, run_billing: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "fulfillments": [
            {
                "orderLineItemId": oli,
                "fulfillmentDate": "2021-01-05",
                "quantity": quantity,
                "state": "SentToBilling",
                "billTargetDate": bill_target,
            }
            for oli, quantity in entries
        ]
    }
    if run_billing:
        body["processingOptions"] = {"runBilling": True, "billingOptions": {"targetDate": bill_target}}
    return body


def bill_run_body(target: str) -> dict[str, Any]:
    return {**BILL_RUN_DEFAULTS, "targetDate": target, "invoiceDate": target}


def wait_for_bill_run(get: Any, run_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Follow a run until it ends (runs may be executed by workers after the POST answers)."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = get(run_id)
        if body.get("status") in TERMINAL or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


# --- the database's own account of what was billed ------------------------------------------------


def billed_counts(engine: Engine, tenant_id: str) -> dict[tuple[str, str], int]:
    """(source type, source id) → how many billable items bill it."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT source_type, source_id, COUNT(*) FROM invoice_items"
                " WHERE tenant_id = :t AND source_type IS NOT NULL GROUP BY source_type, source_id"
            ),
            {"t": tenant_id},
        ).all()
    return {(str(kind), str(source)): int(n) for kind, source, n in rows}


def document_problems(engine: Engine, tenant_id: str) -> list[str]:
    """Documents whose totals differ from the sums of their items, or that have no items, or lines ≠ items."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT i.id, i.number, i.total, i.subtotal, i.line_count,"
                " (SELECT COALESCE(SUM(it.amount), 0) FROM invoice_items it"
                "   WHERE it.tenant_id = i.tenant_id AND it.invoice_id = i.id),"
                " (SELECT COUNT(*) FROM invoice_items it WHERE it.tenant_id = i.tenant_id AND it.invoice_id = i.id),"
                " (SELECT COUNT(line_id) FROM invoice_items l WHERE l.tenant_id = i.tenant_id AND l.invoice_id = i.id)"
                " FROM invoices i WHERE i.tenant_id = :t"
            ),
            {"t": tenant_id},
        ).all()
    problems = []
    for doc_id, number, total, subtotal, line_count, item_sum, items, lines in rows:
        if items == 0:
            problems.append(f"{number or doc_id}: a document without items")
        if not (total == subtotal == item_sum) or not (line_count == items == lines):
            problems.append(
                f"{number or doc_id}: total {total}/{subtotal} vs items {item_sum}; {line_count}/{items}/{lines}"
            )
    return problems


def count(engine: Engine, table: str, tenant_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text(f"SELECT COUNT(*) FROM {table} WHERE tenant_id = :t"), {"t": tenant_id}).scalar_one()
        )


def numbers(engine: Engine, table: str, column: str, tenant_id: str) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT {column} FROM {table} WHERE tenant_id = :t AND {column} IS NOT NULL"), {"t": tenant_id}
        ).all()
    return sorted(str(r[0]) for r in rows)


def gapless(values: list[str], prefix: str, width: int) -> bool:
    """INV00000001, INV00000002, ...: every number from 1 to len(values), once."""
    return values == [f"{prefix}{n:0{width}d}" for n in range(1, len(values) + 1)]


def zuora_world(live: Live) -> tuple[StripeHTTP, ZuoraHTTP, str]:
    """A tenant seen through both dialects, and a Zuora account (a Stripe customer)."""
    tenant = live.tenant("conc")
    zuora = live.zuora(tenant)
    account = zuora.ok("POST", "/v1/accounts", {"name": "Acme", "currency": "USD", "billToContact": CONTACT})
    return live.stripe(tenant), zuora, str(account["accountId"])
