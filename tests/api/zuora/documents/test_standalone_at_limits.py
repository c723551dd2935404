"""A standalone invoice at its limits (1,000 items with 10 discount items each, issue 12 defect 10):
stored whole and right, with a fixed number of statements however many items it holds (rows written
in bulk, not one ORM object each), so one call cannot hold the write lock for seconds."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from bulkbill.services.invoicing.invoice_views import EMBEDDED_LINES
from tests.helpers import ZuoraClient
from tests.helpers.counting import counted
from tests.helpers.zuora import account, item

ITEMS, DISCOUNTS = 1000, 10


def body(account_id: str, items: int, discounts: int, **fields: Any) -> dict[str, Any]:
    one = item(100, discountItems=[{"amount": -1, "chargeName": "Promo"} for _ in range(discounts)])
    lines = [{**one, "amount": 100 + k % 7, "description": f"line {k}"} for k in range(items)]
    return {"accountId": account_id, "invoiceDate": "2024-07-11", "invoiceItems": lines, **fields}


def test_a_thousand_items_with_ten_discounts_each_are_stored_whole(zuora: ZuoraClient, client: TestClient) -> None:
    acct = account(zuora)["accountId"]
    created = zuora.ok("POST", "/v1/invoices", body(acct, ITEMS, DISCOUNTS, status="Posted"))
    expected = sum(100 + k % 7 - DISCOUNTS for k in range(ITEMS))
    assert Decimal(str(created["amount"])) == expected  # major units on the wire, cents stored
    assert created["status"] == "Posted"
    engine = client.app.state.bulkbill.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT position, id, amount, description, extras FROM invoice_items"
                " WHERE invoice_id = :inv ORDER BY position"
            ),
            {"inv": created["id"]},
        ).all()
    assert [r.position for r in rows] == list(range(ITEMS * (DISCOUNTS + 1)))
    charges = rows[:: DISCOUNTS + 1]
    assert [r.description for r in charges] == [f"line {k}" for k in range(ITEMS)]
    assert [r.amount for r in charges] == [(100 + k % 7) * 100 for k in range(ITEMS)]
    ids = {r.position: r for r in rows}
    for k in range(0, ITEMS, 97):  # each discount item follows and names its charge
        charge_position = k * (DISCOUNTS + 1)
        for d in range(1, DISCOUNTS + 1):
            extras = ids[charge_position + d].extras
            extras = extras if isinstance(extras, dict) else json.loads(extras)
            assert extras["processingType"] == "Discount"
            assert extras["appliedToItemId"] == ids[charge_position].id
            assert ids[charge_position + d].amount == -100
    first_page = zuora.ok("GET", f"/v1/invoices/{created['id']}/items", params={"pageSize": 40})["invoiceItems"]
    assert first_page[0]["chargeName"] == "Consulting" and first_page[0]["description"] == "line 0"


def test_the_work_does_not_grow_with_the_items(zuora: ZuoraClient, client: TestClient) -> None:
    acct = account(zuora)["accountId"]
    zuora.ok("POST", "/v1/invoices", body(acct, 2, 1))  # warm: first-use queries are not counted
    with counted(client) as small:
        zuora.ok("POST", "/v1/invoices", body(acct, 2, 1, status="Posted"))
    with counted(client) as large:
        zuora.ok("POST", "/v1/invoices", body(acct, 300, DISCOUNTS, status="Posted"))
    assert large["statements"] == small["statements"], (small, large)
    # Rows written and read as rows, never as one ORM object each: the only objects are those of the
    # invoice.created event's data.object, which embeds the first page of lines (a fixed number).
    assert large["objects"] <= EMBEDDED_LINES, (small, large)
