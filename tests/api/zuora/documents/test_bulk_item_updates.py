"""PUT /v1/invoices re-pricing the items of many drafts (issue 16, item 5): right totals, and a fixed number
of statements however many invoices the call names (set-based reads and writes, no per-invoice round trips)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import ZuoraClient
from tests.helpers.counting import counted
from tests.helpers.zuora import account, get, item, items_of, standalone

ITEMS = 4


def drafts(zuora: ZuoraClient, account_id: str, count: int) -> dict[str, list[str]]:
    made = {}
    for _ in range(count):
        invoice = standalone(zuora, account_id, [item(10 + j, description=f"item {j}") for j in range(ITEMS)])
        made[invoice["id"]] = [i["id"] for i in items_of(zuora, invoice["id"])]
    return made


def repricing(invoices: dict[str, list[str]], base: int) -> dict[str, Any]:
    return {
        "invoices": [
            {
                "id": inv,
                "invoiceItems": [{"id": i, "amount": base + j, "description": f"new {j}"} for j, i in enumerate(ids)],
            }
            for inv, ids in invoices.items()
        ]
    }


def test_item_updates_on_many_drafts_take_a_fixed_number_of_statements(zuora: ZuoraClient, client: TestClient) -> None:
    account_id = account(zuora)["accountId"]
    few, many = drafts(zuora, account_id, 2), drafts(zuora, account_id, 6)
    with counted(client) as on_few:
        zuora.ok("PUT", "/v1/invoices", repricing(few, 100))
    with counted(client) as on_many:
        zuora.ok("PUT", "/v1/invoices", repricing(many, 200))
    assert on_many["statements"] == on_few["statements"]
    for invoices, base in ((few, 100), (many, 200)):
        for inv, ids in invoices.items():
            assert Decimal(str(get(zuora, inv)["amount"])) == sum(base + j for j in range(ITEMS))
            shown = {i["id"]: i for i in items_of(zuora, inv)}
            assert [Decimal(str(shown[i]["chargeAmount"])) for i in ids] == [base + j for j in range(ITEMS)]
            assert [shown[i]["description"] for i in ids] == [f"new {j}" for j in range(ITEMS)]


def test_item_details_custom_fields_and_dates_merge_into_what_is_stored(zuora: ZuoraClient) -> None:
    # Each item changes a different set of columns (one statement per set): the details and custom
    # fields sent are merged into the stored ones (null removes one), the rest of the item is kept.
    invoice = standalone(
        zuora,
        items=[
            item(10, description="a", sku="SKU-A", Project__c="P1", Team__c="T1"),
            item(20, description="b", sku="SKU-B"),
            item(30, description="c", serviceEndDate="2024-07-31"),
        ],
    )
    first, second, third = items_of(zuora, invoice["id"])
    body = {
        "id": invoice["id"],
        "invoiceItems": [
            {"id": first["id"], "Project__c": "P2", "Team__c": None},
            {"id": second["id"], "amount": 25, "sku": "SKU-B2"},
            {"id": third["id"], "serviceStartDate": "2024-07-02", "description": "c2"},
        ],
    }
    zuora.ok("PUT", "/v1/invoices", {"invoices": [body]})
    first, second, third = items_of(zuora, invoice["id"])
    assert (first["Project__c"], first.get("Team__c"), first["sku"], first["description"]) == ("P2", None, "SKU-A", "a")
    assert (Decimal(str(second["chargeAmount"])), second["sku"], second["description"]) == (25, "SKU-B2", "b")
    assert (third["serviceStartDate"], third["serviceEndDate"], third["description"]) == (
        "2024-07-02",
        "2024-07-31",
        "c2",
    )
    assert Decimal(str(third["chargeAmount"])) == 30
    assert Decimal(str(get(zuora, invoice["id"])["amount"])) == 10 + 25 + 30


def test_stored_fractions_and_negative_items_are_read_back_exactly(zuora: ZuoraClient) -> None:
    # The edited lines are read as plain driver rows: a stored fractional quantity and unit price come
    # back as the exact decimals they are (an amount re-prices the unit over that quantity), and an
    # item left alone or given only a description keeps its figures.
    invoice = standalone(
        zuora,
        items=[
            item(3, quantity=1.5, unitPrice=2),
            item(7.5, quantity=3, unitPrice=2.5),
            item(-4, description="credit"),
        ],
    )
    first, second, third = items_of(zuora, invoice["id"])
    body = {
        "id": invoice["id"],
        "invoiceItems": [
            {"id": first["id"], "amount": 4.5},
            {"id": second["id"], "description": "same price"},
            {"id": third["id"], "description": "still a credit"},
        ],
    }
    zuora.ok("PUT", "/v1/invoices", {"invoices": [body]})
    first, second, third = items_of(zuora, invoice["id"])
    figures = [
        (Decimal(str(i["quantity"])), Decimal(str(i["unitPrice"])), Decimal(str(i["chargeAmount"])))
        for i in (first, second)
    ]
    assert figures == [(Decimal("1.5"), Decimal(3), Decimal("4.5")), (Decimal(3), Decimal("2.5"), Decimal("7.5"))]
    assert (Decimal(str(third["chargeAmount"])), third["description"]) == (-4, "still a credit")
    assert Decimal(str(get(zuora, invoice["id"])["amount"])) == Decimal(8)
