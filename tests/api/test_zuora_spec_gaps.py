"""Zuora spec gaps closed after the audit: chargeTypeToExclude, order status, media types, token errors, GET order."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bulkbill.services.platform.tenants import NewTenant
from tests.api.test_zuora_fulfillments import booked_line, fulfillment
from tests.api.test_zuora_orders import INVALID, RULE, codes, create_order, documents, get_line, line, new_account
from tests.helpers import ZuoraClient

UNSUPPORTED = 50000045
SENT = {"itemState": "SentToBilling", "billTargetDate": "2021-01-01"}


def order_body(account: str, lines: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return {"orderDate": "2021-01-01", "existingAccountNumber": account, "orderLineItems": lines, **kw}


def run_billing(*excluded: Any) -> dict[str, Any]:
    return {"runBilling": True, "billingOptions": {"targetDate": "2021-01-01", "chargeTypeToExclude": list(excluded)}}


# --- 1. processingOptions.billingOptions.chargeTypeToExclude ------------------------------------


class TestChargeTypeToExclude:
    @pytest.mark.parametrize("path", ["/v1/orders", "/v1/order-line-items/bulk", "/v1/fulfillments"])
    def test_unknown_values_are_refused(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient, path: str
    ) -> None:
        account = new_account(client, tenant)
        bodies = {
            "/v1/orders": order_body(account, [line(**SENT)]),
            "/v1/order-line-items/bulk": {"orderLineItems": [{"id": "0" * 32, "itemName": "x"}]},
            "/v1/fulfillments": {"fulfillments": [fulfillment("0" * 32)]},
        }
        body = {**bodies[path], "processingOptions": run_billing("Usage", "Fee")}
        refused = zuora.fail("POST", path, body, status=400)
        assert codes(refused) == [INVALID]
        message = refused["reasons"][0]["message"]
        assert message.startswith("processingOptions.billingOptions.chargeTypeToExclude[1]:") and "OneTime" in message
        for wrong in ("oneTime", 7, None):
            body["processingOptions"]["billingOptions"]["chargeTypeToExclude"] = [wrong]
            assert codes(zuora.fail("POST", path, body, status=400)) == [INVALID]
        assert documents(client, tenant) == []

    def test_excluding_one_time_bills_no_order(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        created = zuora.ok(
            "POST",
            "/v1/orders",
            order_body(account, [line(**SENT)], processingOptions=run_billing("OneTime", "Usage")),
            params={"returnIds": "true"},
        )
        assert created["invoiceNumbers"] == [] and created["creditMemoNumbers"] == [] and created["invoiceIds"] == []
        assert documents(client, tenant) == []
        assert get_line(zuora, created["orderLineItems"][0]["id"])["itemState"] == "SentToBilling"
        # The other charge types leave order line items billable.
        other = create_order(zuora, account, [line(**SENT)], processingOptions=run_billing("Recurring", "Usage"))
        assert len(other["invoiceNumbers"]) == 1 and len(documents(client, tenant)) == 1

    def test_excluding_one_time_updates_lines_without_billing(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        oli = create_order(zuora, account, [line()])["orderLineItems"][0]["id"]
        body = zuora.ok(
            "POST",
            "/v1/order-line-items/bulk",
            {
                "orderLineItems": [{"id": oli, "description": "sent", **SENT}],
                "processingOptions": run_billing("OneTime"),
            },
        )
        assert body["invoices"] == [] and body["creditMemos"] == []
        [updated] = body["orderLineItems"]
        assert (updated["itemState"], updated["description"]) == ("SentToBilling", "sent")
        assert documents(client, tenant) == []
        # Still unbilled: a later runBilling without the exclusion bills it.
        again = zuora.ok(
            "POST",
            "/v1/order-line-items/bulk",
            {"orderLineItems": [{"id": oli}], "processingOptions": run_billing("Others")},
        )
        assert len(again["invoices"]) == 1

    def test_excluding_one_time_bills_no_fulfillment(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        body = zuora.ok(
            "POST",
            "/v1/fulfillments",
            {
                "fulfillments": [fulfillment(oli, 3, state="SentToBilling", billTargetDate="2021-01-01")],
                "processingOptions": run_billing("OneTime"),
            },
        )
        assert body["invoiceNumbers"] is None and body["creditMemoNumbers"] is None
        assert len(body["fulfillments"]) == 1 and documents(client, tenant) == []
        assert get_line(zuora, oli)["quantityFulfilled"] == 3


# --- 2. order status ----------------------------------------------------------------------------


class TestOrderStatus:
    def test_documented_statuses_only(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        for status in ("Draft", "Pending", "Completed", "Scheduled", "Executing", "Failed"):
            created = create_order(zuora, account, [line()], status=status)
            assert created["status"] == status
            assert zuora.ok("GET", f"/v1/orders/{created['orderNumber']}")["order"]["status"] == status
        for wrong in ("Bogus", "completed", "", 3):
            refused = zuora.fail("POST", "/v1/orders", order_body(account, [line()], status=wrong), status=400)
            assert codes(refused) == [INVALID] and refused["reasons"][0]["message"].startswith("status:")

    def test_draft_orders_take_no_processing_options(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        for options in ({"runBilling": True}, {"runBilling": False}, run_billing("OneTime")):
            body = order_body(account, [line(**SENT)], status="Draft", processingOptions=options)
            refused = zuora.fail("POST", "/v1/orders", body, status=400)
            assert codes(refused) == [RULE]
            assert refused["reasons"][0]["message"].startswith("processingOptions: ")
            assert "draft" in refused["reasons"][0]["message"]
        assert documents(client, tenant) == []
        # Without processingOptions (or with null) a draft order is created; other statuses still bill.
        assert create_order(zuora, account, [line()], status="Draft", processingOptions=None)["status"] == "Draft"
        billed = create_order(zuora, account, [line(**SENT)], status="Pending", processingOptions={"runBilling": True})
        assert len(billed["invoiceNumbers"]) == 1


# --- 3. request media type ------------------------------------------------------------------------


class TestMediaType:
    def test_xml_is_415(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        payload = json.dumps(order_body(account, [line()]))
        for kind in ("application/xml", "text/plain", "text/xml; charset=utf-8", "multipart/form-data"):
            refused = zuora.fail("POST", "/v1/orders", payload, headers={"Content-Type": kind}, status=415)
            assert codes(refused) == [UNSUPPORTED] and "Content-Type" in refused["reasons"][0]["message"]
        refused = zuora.fail(
            "PUT", "/v1/invoices", "<invoices/>", headers={"Content-Type": "application/xml"}, status=415
        )
        assert codes(refused) == [UNSUPPORTED]

    def test_legacy_versions_answer_200(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        payload = json.dumps(order_body(new_account(client, tenant), [line()]))
        for version in ("211.0", "2023-01-01"):
            zuora.version = version
            refused = zuora.fail("POST", "/v1/orders", payload, headers={"Content-Type": "application/xml"}, status=200)
            assert codes(refused) == [UNSUPPORTED]

    def test_authentication_comes_first(self, client: TestClient) -> None:
        response = client.post("/zuora/v1/orders", content=b"<order/>", headers={"Content-Type": "application/xml"})
        assert response.status_code == 401

    def test_json_gzip_and_missing_type_still_work(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        payload = json.dumps(order_body(account, [line()]))
        for kind in ("application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"):
            assert zuora.ok("POST", "/v1/orders", payload, headers={"Content-Type": kind})["orderNumber"]
        packed = gzip.compress(payload.encode())
        for headers in (
            {"Content-Encoding": "gzip"},
            {"Content-Type": "application/octet-stream", "Content-Encoding": "gzip"},
            {"Content-Type": "application/octet-stream"},
        ):
            assert zuora.ok("POST", "/v1/orders", packed, headers=headers)["orderNumber"]
        # No Content-Type at all: read as JSON, as before.
        bare = client.post(
            "/zuora/v1/orders",
            content=payload.encode(),
            headers={"Authorization": f"Bearer {zuora.token}", "Zuora-Version": "2025-08-12"},
        )
        assert bare.status_code == 200 and bare.json()["success"] is True
        # An empty body is not refused for its type: there is nothing to read (orderDate is missing).
        empty = zuora.fail("POST", "/v1/orders", b"", headers={"Content-Type": "text/plain"}, status=400)
        assert codes(empty) == [50000022]

    def test_token_endpoint(self, client: TestClient, tenant: NewTenant) -> None:
        form = {"client_id": tenant.zuora_client_id, "client_secret": tenant.zuora_client_secret}
        ok = client.post(
            "/zuora/oauth/token",
            data={**form, "grant_type": "client_credentials"},
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
        )
        assert ok.status_code == 200 and ok.json()["token_type"] == "bearer"
        xml = client.post("/zuora/oauth/token", content=b"<token/>", headers={"Content-Type": "application/xml"})
        assert xml.status_code == 415 and xml.json()["code"] == UNSUPPORTED
        # JSON is not the token endpoint's type but is read (and lacks the form's fields): 400 as before.
        as_json = client.post("/zuora/oauth/token", json={**form, "grant_type": "client_credentials"})
        assert as_json.status_code == 400 and as_json.json()["code"] == 50000022


# --- 4. POST /oauth/token error bodies ------------------------------------------------------------


class TestTokenErrors:
    def test_400_carries_code_and_message(self, client: TestClient, tenant: NewTenant) -> None:
        missing = client.post("/zuora/oauth/token", data={"client_id": tenant.zuora_client_id})
        body = missing.json()
        assert missing.status_code == 400 and body["success"] is False and len(body["reasons"]) == 2
        assert body["code"] == 50000022 and isinstance(body["code"], int)
        assert body["message"] == body["reasons"][0]["message"] and "client_secret" in body["message"]
        wrong = client.post(
            "/zuora/oauth/token",
            data={"client_id": tenant.zuora_client_id, "client_secret": "x", "grant_type": "password"},
        )
        assert wrong.status_code == 400 and wrong.json()["code"] == INVALID
        assert "grant_type" in wrong.json()["message"]

    def test_401_keeps_its_shape(self, client: TestClient, tenant: NewTenant) -> None:
        response = client.post(
            "/zuora/oauth/token",
            data={"client_id": tenant.zuora_client_id, "client_secret": "nope", "grant_type": "client_credentials"},
        )
        body = response.json()
        assert response.status_code == 401 and body["message"] == "Authentication error" and "code" not in body

    def test_other_calls_are_unchanged(self, zuora: ZuoraClient) -> None:
        body = zuora.fail("POST", "/v1/orders", {}, status=400)
        assert "code" not in body and "message" not in body


# --- 5. GET /v1/orders/{n} without order line items ------------------------------------------------


class TestOrderWithoutLines:
    def test_account_and_currency_from_the_order(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant, currency="eur")
        created = create_order(zuora, account, [])
        order = zuora.ok("GET", f"/v1/orders/{created['orderNumber']}")["order"]
        assert (order["existingAccountNumber"], order["currency"]) == (account, "EUR")
        assert order["orderLineItems"] == [] and order["state"] == "Complete"
        with_lines = create_order(zuora, account, [line()])
        order = zuora.ok("GET", f"/v1/orders/{with_lines['orderNumber']}")["order"]
        assert (order["existingAccountNumber"], order["currency"]) == (account, "EUR")
