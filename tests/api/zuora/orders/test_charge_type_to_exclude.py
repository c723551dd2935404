"""processingOptions.billingOptions.chargeTypeToExclude on orders, bulk updates and fulfillments."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bulkbill.services.platform.tenants import NewTenant
from tests.helpers import ZuoraClient
from tests.helpers.zuora import (
    INVALID,
    SENT,
    booked_line,
    codes,
    create_order,
    documents,
    fulfillment,
    get_line,
    line,
    new_account,
    order_body,
    run_billing,
)


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
