"""Plan, then commit (bulkbill): a planned run freezes its exact items; committing bills exactly those."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from bulkbill.services.platform.tenants import NewTenant
from tests.helpers import ZuoraClient
from tests.helpers.zuora import NOT_FOUND, RULE, SDK_DEFAULTS, bulk, codes, documents, new_account, new_line, sent

PLAN_ONLY = {"bulkbillOptions": {"planOnly": True}}


def plan(zuora: ZuoraClient, target: str = "2021-06-30", **kw: Any) -> dict[str, Any]:
    body = {**SDK_DEFAULTS, "targetDate": target, "invoiceDate": "2021-07-01", **PLAN_ONLY, **kw}
    return zuora.ok("POST", "/v1/bill-runs", body)


def commit(zuora: ZuoraClient, run_id: str) -> dict[str, Any]:
    return zuora.ok("PUT", f"/v1/bill-runs/{run_id}/commit")


class TestPlan:
    def test_a_plan_bills_nothing_and_reports_per_account(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        one, two = new_account(client, tenant), new_account(client, tenant, currency="jpy")
        sent(zuora, one, "2021-06-01", quantity=3, amountPerUnit="10.005")  # 30.015 → 3002 cents (half up)
        sent(zuora, one, "2021-06-02", quantity=1, amountPerUnit=5)
        sent(zuora, two, "2021-06-03", quantity=2, amountPerUnit=700)
        sent(zuora, two, "2021-12-01")  # not due
        body = plan(zuora)
        assert body["status"] == "Planned" and body["numberOfInvoices"] == 0
        assert documents(client, tenant) == []
        p = body["plan"]
        assert (p["numberOfAccounts"], p["numberOfItems"], p["numberOfInvoices"], p["numberOfCreditMemos"]) == (
            2,
            3,
            2,
            0,
        )
        assert {t["currency"]: t["invoiceAmount"] for t in p["totals"]} == {"USD": 35.02, "JPY": 1400}
        by_account = {a["accountNumber"]: a for a in p["accounts"]}
        assert by_account[one]["numberOfItems"] == 2 and by_account[one]["status"] == "Planned"
        assert by_account[one]["totals"] == [{"currency": "USD", "invoiceAmount": 35.02, "creditMemoAmount": 0}]
        assert body["progress"]["plannedLines"] == 3 and body["progress"]["billedLines"] == 0
        got = zuora.ok("GET", f"/v1/bill-runs/{body['id']}")
        assert got["status"] == "Planned" and got["plan"]["numberOfItems"] == 3

    def test_commit_bills_exactly_the_frozen_items(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        frozen = sent(zuora, account, "2021-06-01")
        taken = sent(zuora, account, "2021-06-02")
        planned = plan(zuora)
        assert planned["plan"]["numberOfItems"] == 2
        later = sent(zuora, account, "2021-06-03")  # due too, but after the plan was made
        bulk(zuora, [{"id": taken, "itemState": "SentToBilling"}], runBilling=True)  # billed elsewhere meanwhile
        done = commit(zuora, planned["id"])
        assert done["status"] == "Completed" and done["numberOfInvoices"] == 1
        assert done["progress"]["billedLines"] == 1 and "plan" not in done
        run_docs = [d for d in documents(client, tenant) if d.invoice.bill_run_id == planned["id"]]
        assert [[i.source_id for i in d.items] for d in run_docs] == [[frozen]]
        # An ordinary run afterwards bills what was left out of the plan.
        rest = zuora.ok("POST", "/v1/bill-runs", {**SDK_DEFAULTS, "targetDate": "2021-06-30"})
        assert rest["numberOfInvoices"] == 1
        last = [d for d in documents(client, tenant) if d.invoice.bill_run_id == rest["id"]]
        assert [i.source_id for i in last[0].items] == [later]

    def test_commit_twice_and_other_states(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        sent(zuora, new_account(client, tenant), "2021-06-01")
        planned = plan(zuora)
        commit(zuora, planned["id"])
        assert codes(zuora.fail("PUT", f"/v1/bill-runs/{planned['id']}/commit", status=400)) == [RULE]
        ordinary = zuora.ok("POST", "/v1/bill-runs", {**SDK_DEFAULTS, "targetDate": "2021-06-30"})
        assert codes(zuora.fail("PUT", f"/v1/bill-runs/{ordinary['id']}/commit", status=400)) == [RULE]
        assert codes(zuora.fail("PUT", "/v1/bill-runs/" + "0" * 32 + "/commit", status=404)) == [NOT_FOUND]
        # A committed plan is an ordinary Completed run: it posts.
        posted = zuora.ok("PUT", f"/v1/bill-runs/{planned['id']}/post", {})
        assert posted["status"] == "Posted"

    def test_a_planned_run_cannot_be_posted(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        sent(zuora, new_account(client, tenant), "2021-06-01")
        planned = plan(zuora)
        assert codes(zuora.fail("PUT", f"/v1/bill-runs/{planned['id']}/post", {}, status=400)) == [RULE]

    def test_auto_post_and_account_filter(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        one, two = new_account(client, tenant), new_account(client, tenant)
        mine = sent(zuora, one, "2021-06-01")
        sent(zuora, two, "2021-06-01")
        planned = plan(zuora, autoPost=True, billRunFilters=[{"filterType": "Account", "accountId": one}])
        assert planned["plan"]["numberOfAccounts"] == 1
        done = commit(zuora, planned["id"])
        assert done["status"] == "Posted"
        [doc] = documents(client, tenant)
        assert doc.invoice.status != "draft" and [i.source_id for i in doc.items] == [mine]

    def test_an_empty_plan(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        new_line(zuora, new_account(client, tenant))  # Executing: nothing due
        planned = plan(zuora)
        assert planned["status"] == "Planned" and planned["plan"]["numberOfItems"] == 0
        assert commit(zuora, planned["id"])["status"] == "Completed"


class TestAccounts:
    def test_pages_of_accounts(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        accounts = sorted(new_account(client, tenant) for _ in range(5))
        for account in accounts:
            sent(zuora, account, "2021-06-01")
        run = zuora.ok("POST", "/v1/bill-runs", {**SDK_DEFAULTS, "targetDate": "2021-06-30"})
        first = zuora.ok("GET", f"/v1/bill-runs/{run['id']}/accounts", params={"pageSize": 2})
        numbers = [a["accountNumber"] for a in zuora.ok("GET", f"/v1/bill-runs/{run['id']}/accounts")["accounts"]]
        assert sorted(numbers) == accounts  # in account-id order
        assert [a["accountNumber"] for a in first["accounts"]] == numbers[:2]
        assert first["accounts"][0]["status"] == "Billed" and first["accounts"][0]["numberOfInvoices"] == 1
        assert "page=2" in first["nextPage"]
        last = zuora.ok("GET", f"/v1/bill-runs/{run['id']}/accounts", params={"page": 3, "pageSize": 2})
        assert [a["accountNumber"] for a in last["accounts"]] == numbers[4:] and "nextPage" not in last
        zuora.fail("GET", f"/v1/bill-runs/{run['id']}/accounts", params={"page": 0}, status=400)
