"""Zuora bill runs: what they pick up (billTargetDate ≤ targetDate, SentToBilling, unbilled), drafts, posting."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bulkbill.services.platform.tenants import NewTenant
from tests.helpers import ZuoraClient
from tests.helpers.zuora import (
    MISSING,
    NOT_FOUND,
    RULE,
    booked_line,
    bulk,
    codes,
    create,
    create_order,
    documents,
    fulfillment,
    line,
    new_account,
    new_line,
    run,
    sent,
)


class TestSelection:
    def test_picks_only_what_is_due(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        due = sent(zuora, account, "2021-06-30")
        sent(zuora, account, "2021-07-01")  # after the target date
        new_line(zuora, account, itemState="Booked", billTargetDate="2021-01-01")
        new_line(zuora, account, billTargetDate="2021-01-01")
        billed = new_line(zuora, account)
        bulk(zuora, [{"id": billed, "itemState": "SentToBilling", "billTargetDate": "2021-01-01"}], runBilling=True)
        oli = booked_line(zuora, account)
        shipped = create(
            zuora,
            fulfillment(oli, 3, state="SentToBilling", billTargetDate="2021-06-01"),
            fulfillment(oli, 3, state="SentToBilling", billTargetDate="2021-12-01"),
            fulfillment(oli, 3, state="Booked", billTargetDate="2021-01-01"),
        )["fulfillments"]

        body = run(zuora)
        assert body["status"] == "Completed" and body["billRunNumber"].startswith("BR-") and len(body["id"]) == 32
        assert (body["numberOfAccounts"], body["numberOfInvoices"], body["numberOfCreditMemos"]) == (1, 1, 0)
        assert body["targetDate"] == "2021-06-30" and body["invoiceDate"] == "2021-07-01"
        [_, doc] = documents(client, tenant)
        assert doc.invoice.bill_run_id == body["id"] and doc.invoice.origin == "bill_run"
        assert doc.invoice.status == "draft" and doc.invoice.number.startswith("INV")  # Draft unless autoPost
        assert doc.invoice.invoice_date == "2021-07-01" and doc.invoice.target_date == "2021-06-30"
        assert [i.source_id for i in doc.items] == [due, shipped[0]["id"]]
        assert [i.extras["sourceItemType"] for i in doc.items] == ["OrderLineItem", "OrderLineItem"]
        assert [i.extras["fulfillmentId"] for i in doc.items] == [None, shipped[0]["id"]]

        again = run(zuora)
        assert again["numberOfInvoices"] == 0 and len(documents(client, tenant)) == 2
        later = run(zuora, target="2021-12-31")
        assert later["numberOfInvoices"] == 1 and len(documents(client, tenant)[-1].items) == 2

    def test_complete_lines_are_billed_only_if_they_went_to_billing(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        owed = sent(zuora, account, "2021-01-01")
        zuora.ok("PUT", f"/v1/order-line-items/{owed}", {"itemState": "Complete"})
        new_line(zuora, account, itemState="Complete", billTargetDate="2021-01-01")  # skipped billing (path 6)
        run(zuora)
        [doc] = documents(client, tenant)
        assert [i.source_id for i in doc.items] == [owed]

    def test_account_filter(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        one, two = new_account(client, tenant), new_account(client, tenant)
        mine = sent(zuora, one, "2021-01-01")
        sent(zuora, two, "2021-01-01")
        body = run(zuora, billRunFilters=[{"filterType": "Account", "accountId": one}])
        assert body["numberOfAccounts"] == 1 and body["billRunFilters"][0]["accountId"] == one
        [doc] = documents(client, tenant)
        assert [i.source_id for i in doc.items] == [mine]
        assert run(zuora)["numberOfAccounts"] == 1  # the other account, now
        missing = zuora.fail(
            "POST",
            "/v1/bill-runs",
            {"targetDate": "2021-01-01", "billRunFilters": [{"filterType": "Account", "accountId": "nobody"}]},
            status=404,
        )
        assert codes(missing) == [NOT_FOUND]

    def test_org_scope(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        east, west = new_account(client, tenant, org="east"), new_account(client, tenant, org="west")
        in_east = sent(zuora, east, "2021-01-01")
        sent(zuora, west, "2021-01-01")
        zuora.ok("POST", "/v1/bill-runs", {"targetDate": "2021-01-31"}, headers={"Zuora-Org-Ids": "east"})
        [doc] = documents(client, tenant)
        assert [i.source_id for i in doc.items] == [in_east]

    def test_returns_go_on_credit_memos(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        sale = create_order(zuora, account, [line(itemState="SentToBilling", billTargetDate="2021-01-01")])
        create_order(
            zuora,
            account,
            [
                {
                    "itemCategory": "Return",
                    "itemName": "back",
                    "quantity": 1,
                    "itemState": "SentToBilling",
                    "billTargetDate": "2021-01-02",
                    "originalOrderNumber": sale["orderNumber"],
                    "originalOrderLineItemNumber": "1",
                }
            ],
            category="Return",
        )
        body = run(zuora)
        assert (body["numberOfInvoices"], body["numberOfCreditMemos"]) == (1, 1)
        assert sorted(d.invoice.document_type for d in documents(client, tenant)) == ["credit_memo", "invoice"]

    def test_nothing_when_order_line_items_are_excluded(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        sent(zuora, new_account(client, tenant), "2021-01-01")
        assert run(zuora, includeOrderLineItems=False)["numberOfInvoices"] == 0
        assert run(zuora, billRunType="CatchUp")["numberOfInvoices"] == 0
        assert documents(client, tenant) == []


class TestLifecycle:
    def test_post_a_run(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        sent(zuora, new_account(client, tenant), "2021-01-01")
        created = run(zuora, name="June")
        got = zuora.ok("GET", f"/v1/bill-runs/{created['id']}")
        assert got["status"] == "Completed" and got["name"] == "June" and got["autoPost"] is False
        assert zuora.ok("GET", f"/v1/bill-runs/{created['billRunNumber']}")["id"] == created["id"]
        [draft] = documents(client, tenant)
        posted = zuora.ok("PUT", f"/v1/bill-runs/{created['id']}/post", {"invoiceDate": "2021-07-02"})
        assert posted["status"] == "Posted" and posted["invoiceDate"] == "2021-07-02"
        [doc] = documents(client, tenant)
        assert doc.invoice.status != "draft" and doc.invoice.number == draft.invoice.number
        assert doc.invoice.invoice_date == "2021-07-02"
        assert codes(zuora.fail("PUT", f"/v1/bill-runs/{created['id']}/post", {}, status=400)) == [RULE]

    def test_auto_post(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        sent(zuora, new_account(client, tenant), "2021-01-01")
        body = run(zuora, autoPost=True)
        assert body["status"] == "Posted" and body["autoPost"] is True
        [doc] = documents(client, tenant)
        assert doc.invoice.number is not None and doc.invoice.number.startswith("INV")

    def test_errors(self, zuora: ZuoraClient, other_zuora: ZuoraClient) -> None:
        assert codes(zuora.fail("POST", "/v1/bill-runs", {"autoPost": False}, status=400)) == [MISSING]
        assert codes(zuora.fail("GET", "/v1/bill-runs/" + "0" * 32, status=404)) == [NOT_FOUND]
        zuora.fail(
            "POST", "/v1/bill-runs", {"targetDate": "2021-01-01", "schedule": {"repeatType": "Daily"}}, status=400
        )
        zuora.fail(
            "POST",
            "/v1/bill-runs",
            {
                "targetDate": "2021-01-01",
                "batches": ["AllBatches"],
                "billRunFilters": [{"filterType": "Account", "accountId": "x"}],
            },
            status=400,
        )
        created = zuora.ok("POST", "/v1/bill-runs", {"targetDate": "2021-01-01", "batches": ["AllBatches"]})
        other_zuora.fail("GET", f"/v1/bill-runs/{created['id']}", status=404)

    def test_closed_period(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        sent(zuora, new_account(client, tenant), "2021-01-01")
        period = zuora.ok(
            "POST",
            "/v1/accounting-periods",
            {"name": "Jul 2021", "startDate": "2021-07-01", "endDate": "2021-07-31", "fiscalYear": 2021},
        )
        zuora.ok("PUT", f"/v1/accounting-periods/{period['id']}/close")
        body = zuora.fail(
            "POST", "/v1/bill-runs", {"targetDate": "2021-06-30", "invoiceDate": "2021-07-01"}, status=400
        )
        assert codes(body) == [RULE] and documents(client, tenant) == []
        created = zuora.ok("POST", "/v1/bill-runs", {"targetDate": "2021-06-30", "invoiceDate": "2021-08-01"})
        body = zuora.fail("PUT", f"/v1/bill-runs/{created['id']}/post", {"invoiceDate": "2021-07-15"}, status=400)
        assert codes(body) == [RULE]


class TestProgressAndAccounts:
    def test_a_run_reports_its_progress_and_accounts(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        one, two = new_account(client, tenant), new_account(client, tenant)
        for account in (one, one, two):
            sent(zuora, account, "2021-06-01")
        body = run(zuora)
        assert body["progress"] == {"totalChunks": 1, "chunksDone": 1, "plannedLines": 3, "billedLines": 3}
        assert zuora.ok("GET", f"/v1/bill-runs/{body['id']}")["progress"] == body["progress"]
        accounts = zuora.ok("GET", f"/v1/bill-runs/{body['id']}/accounts")["accounts"]
        assert sorted((a["accountNumber"], a["numberOfItems"]) for a in accounts) == sorted([(one, 2), (two, 1)])
        assert all(a["status"] == "Billed" and a["numberOfInvoices"] == 1 for a in accounts)
        assert accounts[0]["totals"][0]["invoiceAmount"] == 100 * next(
            a["numberOfItems"] for a in accounts if a is accounts[0]
        )
        # Nothing left: the next run has no chunk at all and is Completed at once.
        again = run(zuora)
        assert again["progress"] == {"totalChunks": 0, "chunksDone": 0, "plannedLines": 0, "billedLines": 0}
        assert zuora.ok("GET", f"/v1/bill-runs/{again['id']}/accounts")["accounts"] == []
