"""Object Query (§6.3): invoice and credit-memo lists with filters, sorts, cursors and expansions."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import StripeClient, ZuoraClient
from tests.helpers.zuora import account, codes, item, make_credit_memo, post, standalone


def query(zuora: ZuoraClient, path: str = "/object-query/invoices", **params: Any) -> dict[str, Any]:
    body = zuora.ok("GET", path, params=params)
    assert "success" not in body
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [d["id"] for d in body["data"]]


class TestInvoices:
    def test_pages_in_creation_order_with_a_cursor(self, zuora: ZuoraClient) -> None:
        acct = account(zuora)["accountId"]
        made = [standalone(zuora, acct)["id"] for _ in range(12)]
        first = query(zuora)
        assert ids(first) == made[:10] and first["nextPage"]
        second = query(zuora, cursor=first["nextPage"])
        assert ids(second) == made[10:] and second["nextPage"] is None
        small = query(zuora, pageSize=5)
        assert ids(small) == made[:5]

    def test_filters(self, zuora: ZuoraClient) -> None:
        one, two = account(zuora)["accountId"], account(zuora)["accountId"]
        early = standalone(zuora, one, invoiceDate="2024-01-15", dueDate="2024-02-01")
        late = standalone(zuora, one, invoiceDate="2024-06-15")
        other = standalone(zuora, two, invoiceDate="2024-03-01")
        post(zuora, late["id"])
        assert ids(query(zuora, **{"filter[]": f"accountId.EQ:{one}"})) == [early["id"], late["id"]]
        assert ids(query(zuora, **{"filter[]": "status.EQ:Posted"})) == [late["id"]]
        assert ids(query(zuora, **{"filter[]": "status.NE:Posted"})) == [early["id"], other["id"]]
        assert ids(query(zuora, **{"filter[]": "status.IN:[Draft,Canceled]"})) == [early["id"], other["id"]]
        assert ids(query(zuora, **{"filter[]": "invoiceDate.GE:2024-03-01"})) == [late["id"], other["id"]]
        assert ids(query(zuora, **{"filter[]": "invoiceDate.LT:2024-03-01"})) == [early["id"]]
        assert ids(query(zuora, **{"filter[]": "invoiceDate.IN:[2024-01-15,2024-03-01]"})) == [early["id"], other["id"]]
        assert ids(query(zuora, **{"filter[]": "dueDate.EQ:2024-02-01"})) == [early["id"]]
        assert ids(query(zuora, **{"filter[]": f"invoiceNumber.EQ:{other['invoiceNumber']}"})) == [other["id"]]
        assert ids(query(zuora, **{"filter[]": f"id.NE:{early['id']}"})) == [late["id"], other["id"]]
        both = query(zuora, **{"filter[]": [f"accountId.EQ:{one}", "invoiceDate.LE:2024-01-15"]})
        assert ids(both) == [early["id"]]
        assert query(zuora, **{"filter[]": "sourceId.EQ:BR-00000001"})["data"] == []

    def test_sort_expand_fields_and_nulls(self, zuora: ZuoraClient) -> None:
        acct = account(zuora)["accountId"]
        a = standalone(zuora, acct, invoiceDate="2024-01-01", items=[item(5), item(6)])
        b = standalone(zuora, acct, invoiceDate="2024-02-01")
        assert ids(query(zuora, **{"sort[]": "invoiceDate.DESC"})) == [b["id"], a["id"]]
        expanded = query(zuora, **{"expand[]": "invoiceItems", "filter[]": f"id.EQ:{a['id']}"})["data"][0]
        charges = expanded["invoiceItems"]
        assert [str(i["chargeAmount"]) for i in charges] == ["5", "6"]
        assert charges[0]["invoiceId"] == a["id"] and "sKU" in charges[0] and "uOM" in charges[0]
        narrow = query(zuora, **{"fields[]": "invoiceNumber,amount"})["data"][0]
        assert set(narrow) == {"id", "invoiceNumber", "amount"}
        lean = query(zuora, includeNullFields="false")["data"][0]
        assert "targetDate" not in lean and lean["invoiceNumber"] == a["invoiceNumber"]

    def test_one_by_key(self, zuora: ZuoraClient) -> None:
        invoice = standalone(zuora)
        for key in (invoice["id"], invoice["invoiceNumber"]):
            body = zuora.ok("GET", f"/object-query/invoices/{key}", params={"expand[]": "invoiceitems"})
            assert body["id"] == invoice["id"] and len(body["invoiceItems"]) == 1 and "success" not in body
        assert codes(zuora.fail("GET", "/object-query/invoices/nope", status=404)) == [50000040]

    @pytest.mark.parametrize(
        "params",
        [
            {"filter[]": "amount.EQ:5"},
            {"filter[]": "status.GT:Draft"},
            {"filter[]": "status.EQ:Open"},
            {"filter[]": "invoiceDate.EQ:yesterday"},
            {"filter[]": "accountId.LIKE:x"},
            {"filter[]": "memoNumber.EQ:CM1"},
            {"sort[]": "amount.ASC"},
            {"sort[]": "invoiceDate.UP"},
            {"pageSize": 0},
            {"pageSize": 51},
            {"pageSize": "ten"},
            {"cursor": "not-a-cursor"},
            {"expand[]": "payments"},
            {"filter[]": ["accountId.NE:x"] * 999},
            {"filter[]": ["accountId.NE:x"] * 51},
            {"filter[]": "accountId.IN:[" + ",".join(f"A{i}" for i in range(201)) + "]"},
            {"sort[]": ["invoiceDate.ASC"] * 11},
        ],
    )
    def test_bad_parameters_are_category_27(self, zuora: ZuoraClient, params: dict[str, Any]) -> None:
        assert codes(zuora.fail("GET", "/object-query/invoices", params=params, status=400)) == [50000027]

    def test_the_largest_query_allowed_is_answered(self, zuora: ZuoraClient) -> None:
        params = {
            "filter[]": ["accountId.NE:x"] * 49 + ["accountId.IN:[" + ",".join(f"A{i}" for i in range(200)) + "]"],
            "sort[]": ["invoiceDate.ASC"] * 10,
        }
        assert zuora.ok("GET", "/object-query/invoices", params=params)["data"] == []

    def test_stripe_invoices_are_listed_and_tenants_apart(
        self, zuora: ZuoraClient, other_zuora: ZuoraClient, stripe: StripeClient
    ) -> None:
        customer = stripe.ok("POST", "/v1/customers", {"name": "S"})
        made = stripe.ok("POST", "/v1/invoices", {"customer": customer["id"], "currency": "usd"})
        (row,) = query(zuora)["data"]
        assert row["id"] == made["id"] and row["status"] == "Draft" and row["invoiceDate"]
        assert ids(query(zuora, **{"filter[]": f"invoiceDate.EQ:{row['invoiceDate']}"})) == [made["id"]]
        assert query(other_zuora)["data"] == []

    def test_org_scope(self, zuora: ZuoraClient) -> None:
        eu, us = account(zuora, organizationLabel="EU"), account(zuora, organizationLabel="US")
        in_eu, in_us = standalone(zuora, eu["accountId"]), standalone(zuora, us["accountId"])
        scoped = zuora.ok("GET", "/object-query/invoices", headers={"Zuora-Org-Ids": "EU"})
        assert ids(scoped) == [in_eu["id"]]
        zuora.fail("GET", f"/object-query/invoices/{in_us['id']}", headers={"Zuora-Org-Ids": "EU"}, status=404)
        zuora.fail("GET", "/object-query/invoices", headers={"Zuora-Org-Ids": "APAC"}, status=403)


class TestCreditMemos:
    def test_list_with_memo_fields(self, zuora: ZuoraClient, client: TestClient) -> None:
        invoice, memo = standalone(zuora), standalone(zuora, items=[item(30)])
        make_credit_memo(client, memo["id"], "CM00000007")
        listed = query(zuora, "/object-query/credit-memos", **{"expand[]": "creditMemoItems"})
        (row,) = listed["data"]
        assert row["id"] == memo["id"] and row["memoNumber"] == "CM00000007" and row["memoDate"] == "2024-07-11"
        assert str(row["totalAmount"]) == "30" and len(row["creditMemoItems"]) == 1
        assert ids(query(zuora, "/object-query/credit-memos", **{"filter[]": "memoNumber.EQ:CM00000007"})) == [
            memo["id"]
        ]
        assert ids(query(zuora, "/object-query/invoices")) == [invoice["id"]]
        bad = {"filter[]": "invoiceNumber.EQ:x"}
        assert codes(zuora.fail("GET", "/object-query/credit-memos", params=bad, status=400)) == [50000027]
        assert codes(
            zuora.fail("GET", "/object-query/credit-memos", params={"expand[]": "invoiceitems"}, status=400)
        ) == [50000027]
