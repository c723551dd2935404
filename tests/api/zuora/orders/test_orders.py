"""Zuora orders and order line items: create, read, the itemState machine, bulk updates with runBilling."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError

from bulkbill.services.platform.tenants import NewTenant
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import InvoiceItem
from tests.helpers import ZuoraClient, zuora_seed_body
from tests.helpers.zuora import (
    INVALID,
    MISSING,
    NOT_FOUND,
    RULE,
    SENT,
    UNKNOWN,
    A,
    B,
    bulk,
    codes,
    create_order,
    documents,
    get_line,
    line,
    new_account,
    new_line,
    order_body,
    return_line,
    run_billing,
)

# --- helpers shared with the fulfillment and bill-run tests -----------------------------------


# --- POST /v1/orders ---------------------------------------------------------------------------


class TestCreateOrder:
    def test_defaults_numbers_and_amounts(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        body = create_order(
            zuora,
            account,
            [
                line(amountPerUnit="59.5", quantity=2, productCode="C9201", customFields={"externalNumber5__c": "x"}),
                line(),
            ],
        )
        assert body["orderNumber"].startswith("O-") and body["accountNumber"] == account
        assert body["status"] == "Completed" and [o["itemNumber"] for o in body["orderLineItems"]] == ["1", "2"]
        assert all(len(o["id"]) == 32 and int(o["id"], 16) >= 0 for o in body["orderLineItems"])
        assert "invoiceNumbers" not in body
        oli = get_line(zuora, body["orderLineItems"][0]["id"])
        assert oli["itemState"] == "Executing" and oli["billingRule"] == A and oli["itemCategory"] == "Sales"
        assert oli["amountPerUnit"] == 59.5 and oli["listPricePerUnit"] == 59.5 and oli["amount"] == 119
        assert oli["transactionStartDate"] == oli["transactionEndDate"] == "2021-01-01"
        assert oli["currency"] == "USD" and oli["invoiceOwnerAccountNumber"] == account
        assert oli["customFields"] == {"externalNumber5__c": "x"} and oli["productCode"] == "C9201"
        assert oli["requiresFulfillment"] is False and oli["quantityFulfilled"] == 0

    def test_inline_discounts_compute_the_amount_per_unit(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        pct = new_line(zuora, account, amountPerUnit=None, listPricePerUnit=100, inlineDiscountPerUnit=15, quantity=3)
        fixed = new_line(
            zuora, account, listPricePerUnit=100, inlineDiscountType="FixedAmount", inlineDiscountPerUnit="12.5"
        )
        p = get_line(zuora, pct)
        assert (p["inlineDiscountType"], p["amountPerUnit"], p["listPrice"], p["amount"], p["discount"]) == (
            "Percentage",
            85,
            300,
            255,
            45,
        )
        f = get_line(zuora, fixed)
        assert (f["amountPerUnit"], f["inlineDiscountPerUnit"], f["discount"]) == (87.5, 12.5, 125)

    def test_every_problem_is_reported(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        body = zuora.fail(
            "POST",
            "/v1/orders",
            {
                "orderDate": "2021-01-01",
                "existingAccountNumber": account,
                "orderLineItems": [
                    {"itemType": "Product", "quantity": 1, "amountPerUnit": 1},
                    line(itemState="SentToBilling"),
                    line(itemState="Complete", billingRule=B),
                ],
            },
            status=400,
        )
        messages = [r["message"] for r in body["reasons"]]
        assert codes(body) == [MISSING, RULE, RULE]
        assert messages[0].startswith("orderLineItems[0].itemName")
        assert messages[1].startswith("orderLineItems[1].billTargetDate")
        assert messages[2].startswith("orderLineItems[2].itemState")

    def test_malformed_values(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        custom = zuora.fail(
            "POST",
            "/v1/orders",
            {
                "orderDate": "2021-01-01",
                "existingAccountNumber": account,
                "orderLineItems": [line(customFields={"notCustom": 1})],
            },
            status=400,
        )
        assert codes(custom) == [UNKNOWN] and "customFields.notCustom" in custom["reasons"][0]["message"]
        for bad in ({"quantity": -1}, {"itemState": "Shipped"}, {"amountPerUnit": "1.0000000001"}, {"billTo": "x"}):
            body = zuora.fail(
                "POST",
                "/v1/orders",
                {"orderDate": "2021-01-01", "existingAccountNumber": account, "orderLineItems": [line(**bad)]},
                status=400,
            )
            assert codes(body)[0] == INVALID, bad

    def test_account_must_exist(self, zuora: ZuoraClient) -> None:
        body = zuora.fail(
            "POST", "/v1/orders", {"orderDate": "2021-01-01", "existingAccountNumber": "nope"}, status=404
        )
        assert codes(body) == [NOT_FOUND]
        assert codes(zuora.fail("POST", "/v1/orders", {"orderDate": "2021-01-01"}, status=400)) == [MISSING]

    def test_order_numbers(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        number = "ORD-" + uuid.uuid4().hex[:6]
        assert create_order(zuora, account, [line()], orderNumber=number)["orderNumber"] == number
        dup = zuora.fail(
            "POST",
            "/v1/orders",
            {"orderDate": "2021-01-01", "existingAccountNumber": account, "orderNumber": number},
            status=400,
        )
        assert codes(dup) == [RULE]
        slash = zuora.fail(
            "POST",
            "/v1/orders",
            {"orderDate": "2021-01-01", "existingAccountNumber": account, "orderNumber": "a/b"},
            status=400,
        )
        assert codes(slash) == [INVALID]

    def test_item_numbers_all_or_none(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        body = create_order(zuora, account, [line(itemNumber="10"), line(itemNumber="20")])
        assert [o["itemNumber"] for o in body["orderLineItems"]] == ["10", "20"]
        partial = zuora.fail(
            "POST",
            "/v1/orders",
            {
                "orderDate": "2021-01-01",
                "existingAccountNumber": account,
                "orderLineItems": [line(itemNumber="1"), line()],
            },
            status=400,
        )
        assert "orderLineItems[1].itemNumber" in partial["reasons"][0]["message"]

    def test_at_most_100_lines(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        body = zuora.fail(
            "POST",
            "/v1/orders",
            {"orderDate": "2021-01-01", "existingAccountNumber": account, "orderLineItems": [line()] * 101},
            status=400,
        )
        assert "at most 100" in body["reasons"][0]["message"]

    def test_new_account_and_subscriptions_are_not_supported(self, zuora: ZuoraClient) -> None:
        body = zuora.fail(
            "POST",
            "/v1/orders",
            {"orderDate": "2021-01-01", "newAccount": {"name": "x"}, "subscriptions": [{}]},
            status=400,
        )
        assert len(body["reasons"]) == 2

    def test_run_billing_on_create(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        body = zuora.ok(
            "POST",
            "/v1/orders",
            {
                "orderDate": "2021-01-01",
                "existingAccountNumber": account,
                "orderLineItems": [line(itemState="SentToBilling", billTargetDate="2021-01-01"), line()],
                "processingOptions": {
                    "runBilling": True,
                    "billingOptions": {"targetDate": "2021-01-01", "documentDate": "2021-01-01"},
                },
            },
            params={"returnIds": "true"},
        )
        assert len(body["invoiceNumbers"]) == 1 and body["invoiceNumbers"][0].startswith("INV")
        assert body["creditMemoNumbers"] == [] and len(body["invoiceIds"]) == 1 and body["orderId"]
        docs = documents(client, tenant)
        assert len(docs) == 1 and [i.source_id for i in docs[0].items] == [body["orderLineItems"][0]["id"]]
        assert docs[0].invoice.invoice_date == docs[0].invoice.target_date == "2021-01-01"
        assert docs[0].invoice.origin == "run_billing" and docs[0].invoice.status != "draft"


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


# --- GET /v1/orders/{orderNumber} and GET /v1/order-line-items/{id} ------------------------------


class TestReads:
    def test_order_with_lines_and_state(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        created = create_order(
            zuora,
            account,
            [line(itemState="Complete"), line(itemState="Canceled")],
            customFields={"Source__c": "web"},
            description="d",
        )
        order = zuora.ok("GET", f"/v1/orders/{created['orderNumber']}")["order"]
        assert order["state"] == "Complete" and order["status"] == "Completed" and order["subscriptions"] == []
        assert order["existingAccountNumber"] == account and order["customFields"] == {"Source__c": "web"}
        assert [o["id"] for o in order["orderLineItems"]] == [o["id"] for o in created["orderLineItems"]]
        assert "fulfillments" not in order["orderLineItems"][0]
        assert len(order["createdDate"]) == 19

    def test_unknown_and_foreign_objects_are_not_found(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient, other_zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        created = create_order(zuora, account, [line()])
        oli = created["orderLineItems"][0]["id"]
        assert codes(zuora.fail("GET", "/v1/orders/O-99999999", status=404)) == [NOT_FOUND]
        assert codes(zuora.fail("GET", "/v1/order-line-items/" + "0" * 32, status=404)) == [NOT_FOUND]
        other_zuora.fail("GET", f"/v1/orders/{created['orderNumber']}", status=404)
        other_zuora.fail("GET", f"/v1/order-line-items/{oli}", status=404)
        other_zuora.fail(
            "POST", "/v1/order-line-items/bulk", {"orderLineItems": [{"id": oli, "itemName": "x"}]}, status=404
        )

    def test_legacy_version_answers_errors_with_200(self, client: TestClient, zuora: ZuoraClient) -> None:
        zuora.version = "211.0"
        response = zuora.request("GET", "/v1/order-line-items/" + "0" * 32)
        assert response.status_code == 200 and response.json()["success"] is False

    def test_org_scope(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        east = new_account(client, tenant, org="east")
        west = new_account(client, tenant, org="west")
        east_line = new_line(zuora, east)
        new_line(zuora, west)
        assert zuora.ok("GET", f"/v1/order-line-items/{east_line}", headers={"Zuora-Org-Ids": "east"})
        zuora.fail("GET", f"/v1/order-line-items/{east_line}", headers={"Zuora-Org-Ids": "west"}, status=404)
        zuora.fail("GET", f"/v1/order-line-items/{east_line}", headers={"Zuora-Org-Ids": "north"}, status=403)
        zuora.fail(
            "POST",
            "/v1/orders",
            {"orderDate": "2021-01-01", "existingAccountNumber": east},
            headers={"Zuora-Org-Ids": "west"},
            status=404,
        )


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


# --- the itemState machine, through PUT and bulk ----------------------------------------------

STATES = ["Executing", "Booked", "SentToBilling", "Complete", "Canceled"]
ALLOWED_A = {
    ("Executing", "Booked"),
    ("Executing", "SentToBilling"),
    ("Executing", "Complete"),
    ("Executing", "Canceled"),
    ("Booked", "SentToBilling"),
    ("Booked", "Complete"),
    ("SentToBilling", "Complete"),
}
ALLOWED_B = {("Executing", "Booked"), ("Executing", "Canceled")}


class TestStateMachine:
    @pytest.mark.parametrize("current", STATES)
    @pytest.mark.parametrize("target", STATES)
    def test_rule_a(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient, current: str, target: str) -> None:
        account = new_account(client, tenant)
        oli = new_line(zuora, account, itemState=current, billTargetDate="2021-01-01")
        response = zuora.request("PUT", f"/v1/order-line-items/{oli}", {"itemState": target})
        if current == target or (current, target) in ALLOWED_A:
            assert response.status_code == 200 and response.json() == {"success": True}
            assert get_line(zuora, oli)["itemState"] == target
        else:
            assert response.status_code == 400 and codes(response.json()) == [RULE], response.text
            assert oli in response.json()["reasons"][0]["message"]
            assert get_line(zuora, oli)["itemState"] == current

    @pytest.mark.parametrize("current", ["Executing", "Booked", "Canceled"])
    @pytest.mark.parametrize("target", STATES)
    def test_rule_b(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient, current: str, target: str) -> None:
        account = new_account(client, tenant)
        oli = new_line(zuora, account, itemState=current, billingRule=B, billTargetDate="2021-01-01")
        result = (
            bulk(zuora, [{"id": oli, "itemState": target, "billingRule": B}])
            if (current == target or (current, target) in ALLOWED_B)
            else None
        )
        if result is not None:
            assert result["orderLineItems"][0]["itemState"] == target
        else:
            body = zuora.fail(
                "POST",
                "/v1/order-line-items/bulk",
                {"orderLineItems": [{"id": oli, "itemState": target, "billingRule": B}]},
                status=400,
            )
            assert codes(body) == [RULE]

    def test_sent_to_billing_needs_a_bill_target_date(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        oli = new_line(zuora, account)
        body = zuora.fail("PUT", f"/v1/order-line-items/{oli}", {"itemState": "SentToBilling"}, status=400)
        assert body["reasons"][0]["message"].startswith("billTargetDate")
        zuora.ok("PUT", f"/v1/order-line-items/{oli}", {"itemState": "SentToBilling", "billTargetDate": "2021-03-01"})

    def test_unknown_state_value(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = new_line(zuora, new_account(client, tenant))
        assert codes(zuora.fail("PUT", f"/v1/order-line-items/{oli}", {"itemState": "Cancelled"}, status=400)) == [
            INVALID
        ]


class TestFieldEditability:
    def test_executing_sales_line_takes_every_field_and_reprices(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        oli = new_line(zuora, new_account(client, tenant))
        zuora.ok(
            "PUT",
            f"/v1/order-line-items/{oli}",
            {"quantity": 3, "amountPerUnit": "2.5", "UOM": "Each", "accountingCode": "AC", "customFields": {"a__c": 1}},
        )
        got = get_line(zuora, oli)
        assert (got["quantity"], got["amount"], got["UOM"], got["accountingCode"]) == (3, 7.5, "Each", "AC")
        assert got["customFields"] == {"a__c": 1}

    def test_booked_line_takes_only_billing_attributes(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        oli = new_line(zuora, new_account(client, tenant), itemState="Booked")
        zuora.ok(
            "PUT",
            f"/v1/order-line-items/{oli}",
            {
                "paymentTerm": "Net 60",
                "billTargetDate": "2021-05-01",
                "invoiceGroupNumber": "G1",
                "customFields": {"b__c": "x"},
            },
        )
        body = zuora.fail(
            "PUT",
            f"/v1/order-line-items/{oli}",
            {"quantity": 2, "amountPerUnit": 1, "paymentTerm": "Net 30"},
            status=400,
        )
        assert [r["message"].split(":")[0] for r in body["reasons"]] == ["amountPerUnit", "quantity"]
        assert get_line(zuora, oli)["paymentTerm"] == "Net 60"

    def test_unchanged_values_are_not_edits(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        # zuora-sdk adds billingRule=TriggerWithoutFulfillment to every update: equal values pass in any state.
        oli = new_line(zuora, new_account(client, tenant), itemState="SentToBilling", billTargetDate="2021-01-01")
        zuora.ok("PUT", f"/v1/order-line-items/{oli}", {"billingRule": A, "quantity": 10, "itemState": "Complete"})
        zuora.fail("PUT", f"/v1/order-line-items/{oli}", {"description": "late"}, status=400)

    def test_sent_to_billing_refuses_bill_target_date(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        oli = new_line(zuora, new_account(client, tenant), itemState="SentToBilling", billTargetDate="2021-01-01")
        zuora.fail("PUT", f"/v1/order-line-items/{oli}", {"billTargetDate": "2021-01-02"}, status=400)
        zuora.ok("PUT", f"/v1/order-line-items/{oli}", {"invoiceTemplateId": "T1", "sequenceSetId": "S1"})

    def test_rule_b_line_flips_only_when_asked(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = new_line(zuora, new_account(client, tenant), itemState="Booked", billingRule=B)
        body = zuora.fail("PUT", f"/v1/order-line-items/{oli}", {"billingRule": A}, status=400)
        assert body["reasons"][0]["message"].startswith("billingRule")

    def test_owner_account(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account, owner = new_account(client, tenant), new_account(client, tenant)
        oli = new_line(zuora, account)
        zuora.ok("PUT", f"/v1/order-line-items/{oli}", {"ownerAccountNumber": owner})
        got = get_line(zuora, oli)
        assert got["ownerAccountNumber"] == owner and got["invoiceOwnerAccountNumber"] == account
        zuora.fail("PUT", f"/v1/order-line-items/{oli}", {"ownerAccountNumber": "nobody"}, status=404)


# --- POST /v1/order-line-items/bulk ------------------------------------------------------------


class TestBulkUpdate:
    def test_seed_000_raw_json(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        oli = new_line(zuora, account, quantity=4, amountPerUnit="12.5")
        raw = json.dumps(zuora_seed_body("000")).replace("{{orderLineItemId}}", oli)
        response = zuora.request("POST", "/v1/order-line-items/bulk", raw)
        body = response.json()
        assert response.status_code == 200 and body["success"] is True, response.text
        assert body["orderLineItems"][0]["itemState"] == "SentToBilling"
        assert body["orderLineItems"][0]["billTargetDate"] == "2021-02-01"
        assert len(body["invoices"]) == 1 and body["creditMemos"] == []
        assert set(body["invoices"][0]) == {"id", "invoiceNumber"} and body["invoices"][0]["invoiceNumber"].startswith(
            "INV"
        )
        [doc] = documents(client, tenant)
        assert doc.invoice.id == body["invoices"][0]["id"] and doc.invoice.target_date == "2021-01-01"
        assert doc.invoice.total == 5000 and doc.invoice.document_type == "invoice"
        [item] = doc.items
        assert (item.source_type, item.source_id, item.quantity_decimal, item.amount) == (
            "order_line_item",
            oli,
            4,
            5000,
        )
        assert item.extras["sourceItemType"] == "OrderLineItem" and item.extras["orderLineItemId"] == oli
        assert item.extras["chargeName"] == "Widget" and item.extras["serviceStartDate"] == "2021-01-01"
        # Billing leaves the line as it is.
        assert get_line(zuora, oli)["itemState"] == "SentToBilling"
        # The documents side reads the same invoice: one item matching the line.
        number = body["invoices"][0]["invoiceNumber"]
        invoice = zuora.ok("GET", f"/v1/invoices/{number}")
        assert (invoice["status"], invoice["amount"], invoice["targetDate"]) == ("Posted", 50, "2021-01-01")
        [wire] = zuora.ok("GET", f"/v1/invoices/{number}/items")["invoiceItems"]
        assert (wire["quantity"], wire["unitPrice"], wire["chargeAmount"]) == (4, 12.5, 50)
        assert (wire["sourceItemType"], wire["orderLineItemId"], wire["chargeName"]) == ("OrderLineItem", oli, "Widget")

    def test_billed_once(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        oli = new_line(zuora, account)
        first = bulk(
            zuora, [{"id": oli, "itemState": "SentToBilling", "billTargetDate": "2021-01-01"}], runBilling=True
        )
        again = bulk(zuora, [{"id": oli, "itemState": "SentToBilling"}], runBilling=True)
        assert len(first["invoices"]) == 1 and again["invoices"] == [] and again["creditMemos"] == []
        assert len(documents(client, tenant)) == 1
        # The database itself refuses a second item for the same source.
        state = client.app.state.bulkbill  # type: ignore[attr-defined]
        customer = documents(client, tenant)[0].invoice.customer_id
        with pytest.raises(IntegrityError), state.sessions.begin() as session:
            session.add(
                InvoiceItem(
                    tenant_id=tenant.id,
                    id=new_id("ii_"),
                    customer_id=customer,
                    kind="invoice_item",
                    currency="usd",
                    unit_amount_decimal=Decimal(1),
                    quantity_decimal=Decimal(1),
                    amount=1,
                    amount_defined=True,
                    discountable=True,
                    discounts=[],
                    period_start=0,
                    period_end=0,
                    metadata_={},
                    created=0,
                    source_type="order_line_item",
                    source_id=oli,
                    custom_fields={},
                    extras={},
                )
            )

    def test_all_or_nothing(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        good, bad1, bad2 = (new_line(zuora, account) for _ in range(3))
        zuora.ok("PUT", f"/v1/order-line-items/{bad1}", {"itemState": "Canceled"})
        zuora.ok("PUT", f"/v1/order-line-items/{bad2}", {"itemState": "Complete"})
        body = zuora.fail(
            "POST",
            "/v1/order-line-items/bulk",
            {
                "processingOptions": {"runBilling": True},
                "orderLineItems": [
                    {"id": good, "itemState": "SentToBilling", "billTargetDate": "2021-01-01", "quantity": 3},
                    {"id": bad1, "itemState": "SentToBilling", "billTargetDate": "2021-01-01"},
                    {"id": bad2, "description": "x"},
                ],
            },
            status=400,
        )
        assert codes(body) == [RULE, RULE, RULE]
        text = " ".join(r["message"] for r in body["reasons"])
        assert bad1 in text and bad2 in text and good not in text
        got = get_line(zuora, good)
        assert (got["itemState"], got["quantity"], got["billTargetDate"]) == ("Executing", 10, None)
        assert documents(client, tenant) == []

    def test_unknown_and_repeated_ids(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = new_line(zuora, new_account(client, tenant))
        body = zuora.fail(
            "POST",
            "/v1/order-line-items/bulk",
            {
                "orderLineItems": [
                    {"id": "f" * 32, "itemName": "x"},
                    {"id": oli, "itemName": "y"},
                    {"id": oli, "itemName": "z"},
                ]
            },
            status=404,
        )
        assert codes(body) == [NOT_FOUND, INVALID] and "f" * 32 in body["reasons"][0]["message"]
        assert get_line(zuora, oli)["itemName"] == "Widget"

    def test_limits(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = new_line(zuora, new_account(client, tenant))
        body = zuora.fail(
            "POST",
            "/v1/order-line-items/bulk",
            {"orderLineItems": [{"id": oli, "itemName": str(i)} for i in range(101)]},
            status=400,
        )
        assert "At most 100" in body["reasons"][0]["message"]
        zuora.fail("POST", "/v1/order-line-items/bulk", {"orderLineItems": []}, status=400)
        zuora.fail("POST", "/v1/order-line-items/bulk", {"orderLineItems": [{"itemName": "no id"}]}, status=400)

    def test_draft_documents_and_default_dates(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = new_line(zuora, new_account(client, tenant, term="Net 60"))
        body = bulk(
            zuora,
            [{"id": oli, "itemState": "SentToBilling", "billTargetDate": "2021-01-01"}],
            runBilling=True,
            billingOptions={"generateDraftInvoice": True, "documentDate": "2021-03-01"},
        )
        [doc] = documents(client, tenant)
        assert body["invoices"][0]["invoiceNumber"] == doc.invoice.number and doc.invoice.number.startswith("INV")
        assert doc.invoice.status == "draft" and doc.invoice.invoice_date == "2021-03-01"
        assert doc.invoice.target_date is not None and doc.invoice.days_until_due == 60

    def test_without_run_billing_nothing_is_billed(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        oli = new_line(zuora, new_account(client, tenant))
        body = bulk(zuora, [{"id": oli, "itemState": "SentToBilling", "billTargetDate": "2021-01-01"}])
        assert body["invoices"] == [] and documents(client, tenant) == []

    def test_lines_of_two_accounts_get_two_invoices(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        one, two = new_account(client, tenant), new_account(client, tenant)
        a, b, c = new_line(zuora, one), new_line(zuora, one, amountPerUnit=1), new_line(zuora, two)
        body = bulk(
            zuora,
            [{"id": x, "itemState": "SentToBilling", "billTargetDate": "2021-01-01"} for x in (a, b, c)],
            runBilling=True,
        )
        assert len(body["invoices"]) == 2
        assert sorted(len(d.items) for d in documents(client, tenant)) == [1, 2]

    def test_a_closed_period_refuses_the_whole_call(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        oli = new_line(zuora, new_account(client, tenant))
        period = zuora.ok(
            "POST",
            "/v1/accounting-periods",
            {"name": "Jan 2021", "startDate": "2021-01-01", "endDate": "2021-01-31", "fiscalYear": 2021},
        )
        zuora.ok("PUT", f"/v1/accounting-periods/{period['id']}/close")
        body = zuora.fail(
            "POST",
            "/v1/order-line-items/bulk",
            {
                "orderLineItems": [{"id": oli, "itemState": "SentToBilling", "billTargetDate": "2021-01-01"}],
                "processingOptions": {"runBilling": True, "billingOptions": {"documentDate": "2021-01-15"}},
            },
            status=400,
        )
        assert codes(body) == [RULE]
        assert get_line(zuora, oli)["itemState"] == "Executing" and documents(client, tenant) == []

    def test_collect_payment_is_refused(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = new_line(zuora, new_account(client, tenant))
        zuora.fail(
            "POST",
            "/v1/order-line-items/bulk",
            {"orderLineItems": [{"id": oli}], "processingOptions": {"collectPayment": True}},
            status=400,
        )


# --- returns -----------------------------------------------------------------------------------


def sold(zuora: ZuoraClient, account: str, quantity: int = 5, state: str = "SentToBilling") -> dict[str, Any]:
    return create_order(
        zuora, account, [line(quantity=quantity, amountPerUnit=30, itemState=state, billTargetDate="2021-01-01")]
    )


class TestReturns:
    def test_return_inherits_the_price_and_reduces_what_can_be_returned(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        order = sold(zuora, account)
        rma = create_order(zuora, account, [return_line(order, 2, itemState="Booked")], category="Return")
        assert rma["orderNumber"].startswith("RMA-")
        ret = get_line(zuora, rma["orderLineItems"][0]["id"])
        assert (ret["amountPerUnit"], ret["amount"], ret["originalOrderNumber"]) == (30, 60, order["orderNumber"])
        assert get_line(zuora, order["orderLineItems"][0]["id"])["quantityAvailableForReturn"] == 3
        too_many = zuora.fail(
            "POST",
            "/v1/orders",
            {
                "orderDate": "2021-01-01",
                "existingAccountNumber": account,
                "category": "Return",
                "orderLineItems": [return_line(order, 4)],
            },
            status=400,
        )
        assert codes(too_many) == [RULE]

    def test_return_credit_memo(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        order = sold(zuora, account)
        rma = create_order(zuora, account, [return_line(order, 2)], category="Return")
        ret = rma["orderLineItems"][0]["id"]
        body = bulk(zuora, [{"id": ret, "itemState": "SentToBilling", "billTargetDate": "2021-01-05"}], runBilling=True)
        assert body["invoices"] == [] and len(body["creditMemos"]) == 1
        assert body["creditMemos"][0]["creditMemoNumber"].startswith("CM")
        [memo] = documents(client, tenant)
        assert memo.invoice.document_type == "credit_memo" and memo.invoice.total == 6000
        wire = zuora.ok("GET", f"/v1/credit-memos/{memo.invoice.number}")
        assert (wire["amount"], wire["status"], wire["reasonCode"]) == (60, "Posted", "Return Order")

    def test_return_rules(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        undelivered = sold(zuora, account, state="Executing")
        order = sold(zuora, account)
        body = zuora.fail(
            "POST",
            "/v1/orders",
            {
                "orderDate": "2021-01-01",
                "existingAccountNumber": account,
                "category": "Return",
                "orderLineItems": [
                    return_line(undelivered, 1),
                    return_line(order, 1, originalOrderLineItemNumber="9"),
                    {"itemCategory": "Return", "quantity": 1},
                ],
            },
            status=400,
        )
        assert codes(body)[:2] == [RULE, NOT_FOUND] and MISSING in codes(body)
        wrong_order = zuora.fail(
            "POST",
            "/v1/orders",
            {"orderDate": "2021-01-01", "existingAccountNumber": account, "orderLineItems": [return_line(order, 1)]},
            status=400,
        )
        assert "category Return" in wrong_order["reasons"][0]["message"]

    def test_booking_a_return_checks_the_quantity_again(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        order = sold(zuora, account, quantity=3)
        rma = create_order(zuora, account, [return_line(order, 2), return_line(order, 2)], category="Return")
        first, second = (o["id"] for o in rma["orderLineItems"])
        zuora.ok("PUT", f"/v1/order-line-items/{first}", {"itemState": "Booked"})
        body = zuora.fail("PUT", f"/v1/order-line-items/{second}", {"itemState": "Booked"}, status=400)
        assert "exceeds" in body["reasons"][0]["message"]
        zuora.ok("PUT", f"/v1/order-line-items/{second}", {"quantity": 1, "itemState": "Booked"})
        # return lines refuse sales-only fields
        zuora.fail("PUT", f"/v1/order-line-items/{first}", {"amountPerUnit": 1}, status=400)
