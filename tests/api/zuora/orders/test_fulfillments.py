"""Zuora fulfillments and fulfillment items: create (with runBilling), states, quantities, reads."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from bulkbill.services.platform.tenants import NewTenant
from bulkbill.storage.tables_orders import OrderLineItem
from tests.helpers import ZuoraClient, zuora_seed_body
from tests.helpers.zuora import (
    INVALID,
    MISSING,
    NOT_FOUND,
    RULE,
    B,
    booked_line,
    codes,
    create,
    documents,
    fulfillment,
    get_line,
    new_account,
    new_line,
    returned_line_id,
)

SEED_OLI = "4028828c82819b74018286e02e041bd6"


def relabel(client: TestClient, tenant: NewTenant, old: str, new: str) -> None:
    """Give a line the id a seed page uses, so the page's JSON can be sent byte for byte."""
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    with state.sessions.begin() as session:
        session.execute(
            update(OrderLineItem).where(OrderLineItem.tenant_id == tenant.id, OrderLineItem.id == old).values(id=new)
        )


class TestSeed001:
    def test_raw_json_bills_ten_units_on_one_invoice(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        relabel(client, tenant, booked_line(zuora, account), SEED_OLI)
        raw = json.dumps(zuora_seed_body("001"))
        assert SEED_OLI in raw
        response = zuora.request("POST", "/v1/fulfillments", raw)
        body = response.json()
        assert response.status_code == 200 and body["success"] is True, response.text
        assert [f["fulfillmentNumber"][:2] for f in body["fulfillments"]] == ["F-", "F-"]
        assert all(f["fulfillmentItems"] == [] for f in body["fulfillments"])
        assert len(body["invoiceNumbers"]) == 1 and body["creditMemoNumbers"] is None
        assert body["paymentNumber"] is None and body["paidAmount"] is None
        [doc] = documents(client, tenant)
        assert doc.invoice.number == body["invoiceNumbers"][0] and doc.invoice.invoice_date == "2022-01-02"
        assert doc.invoice.target_date == "2022-01-02" and doc.invoice.total == 20000
        assert [i.quantity_decimal for i in doc.items] == [5, 5] and sum(i.quantity_decimal for i in doc.items) == 10
        assert [i.source_id for i in doc.items] == [f["id"] for f in body["fulfillments"]]
        assert {i.extras["sourceItemType"] for i in doc.items} == {"OrderLineItem"}
        assert [i.extras["serviceStartDate"] for i in doc.items] == ["2022-01-01", "2022-01-02"]
        wire = zuora.ok("GET", f"/v1/invoices/{doc.invoice.number}/items")["invoiceItems"]
        assert [(i["quantity"], i["unitPrice"], i["chargeAmount"]) for i in wire] == [(5, 20, 100), (5, 20, 100)]
        assert [i["fulfillmentId"] for i in wire] == [f["id"] for f in body["fulfillments"]]
        oli = get_line(zuora, SEED_OLI, fulfillment="true")
        assert oli["itemState"] == "Complete"  # fully fulfilled and every fulfillment SentToBilling
        assert (oli["quantityFulfilled"], oli["quantityPendingFulfillment"], oli["quantityAvailableForReturn"]) == (
            10,
            0,
            10,
        )
        assert [f["externalId"] for f in oli["fulfillments"]] == ["SRC-0987123", "SRC-09871234"]
        assert oli["fulfillments"][0]["carrier"] == "CarrierA" and oli["fulfillments"][1]["state"] == "SentToBilling"

    def test_with_the_id_substituted(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        raw = json.dumps(zuora_seed_body("001")).replace(SEED_OLI, oli)
        body = zuora.ok("POST", "/v1/fulfillments", raw)
        assert len(body["invoiceNumbers"]) == 1


class TestCreateRules:
    def test_parent_must_be_a_booked_rule_b_line(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        rule_a = new_line(zuora, account, itemState="Booked")
        executing = new_line(zuora, account, billingRule=B)
        body = zuora.fail(
            "POST",
            "/v1/fulfillments",
            {"fulfillments": [fulfillment(rule_a), fulfillment(executing), fulfillment("e" * 32)]},
            status=400,
        )
        assert codes(body) == [RULE, RULE, NOT_FOUND]
        assert rule_a in body["reasons"][0]["message"] and executing in body["reasons"][1]["message"]

    def test_required_fields(self, zuora: ZuoraClient) -> None:
        body = zuora.fail("POST", "/v1/fulfillments", {"fulfillments": [{"description": "x"}]}, status=400)
        assert codes(body) == [MISSING, MISSING, MISSING]

    def test_quantity_never_exceeds_what_is_left(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        create(zuora, fulfillment(oli, 4))  # Executing fulfillments count toward the limit
        body = zuora.fail(
            "POST", "/v1/fulfillments", {"fulfillments": [fulfillment(oli, 3), fulfillment(oli, 4)]}, status=400
        )
        assert codes(body) == [RULE] and body["reasons"][0]["message"].startswith("fulfillments[1].quantity")
        for bad in (0, -1):
            zuora.fail("POST", "/v1/fulfillments", {"fulfillments": [fulfillment(oli, bad)]}, status=400)
        create(zuora, fulfillment(oli, 6))
        assert get_line(zuora, oli)["quantityPendingFulfillment"] == 10  # Executing ones are not booked yet

    def test_at_most_100_fulfillments_per_line(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = booked_line(zuora, new_account(client, tenant), quantity=200)
        body = zuora.fail("POST", "/v1/fulfillments", {"fulfillments": [fulfillment(oli, 1)] * 101}, status=400)
        assert [r["message"].split(":")[0] for r in body["reasons"]] == ["fulfillments[100].orderLineItemId"]
        create(zuora, *[fulfillment(oli, 1)] * 100)
        zuora.fail("POST", "/v1/fulfillments", {"fulfillments": [fulfillment(oli, 1)]}, status=400)

    def test_creation_states(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        create(
            zuora,
            fulfillment(oli, 1, state="Executing"),
            fulfillment(oli, 1, state="Booked"),
            fulfillment(oli, 1, state="SentToBilling"),
        )
        for state in ("Complete", "Cancelled", "Canceled"):
            body = zuora.fail(
                "POST", "/v1/fulfillments", {"fulfillments": [fulfillment(oli, 1, state=state)]}, status=400
            )
            assert codes(body) == [RULE]
        assert codes(
            zuora.fail("POST", "/v1/fulfillments", {"fulfillments": [fulfillment(oli, 1, state="Shipped")]}, status=400)
        ) == [INVALID]
        got = get_line(zuora, oli)
        assert (got["quantityFulfilled"], got["quantityPendingFulfillment"], got["quantityAvailableForReturn"]) == (
            2,
            8,
            1,
        )

    def test_type_follows_the_line(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        body = zuora.fail(
            "POST", "/v1/fulfillments", {"fulfillments": [fulfillment(oli, fulfillmentType="Return")]}, status=400
        )
        assert codes(body) == [INVALID]
        created = create(zuora, fulfillment(oli))
        got = zuora.ok("GET", f"/v1/fulfillments/{created['fulfillments'][0]['id']}")["fulfillment"]
        assert got["fulfillmentType"] == "Delivery"

    def test_all_or_nothing(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        zuora.fail(
            "POST",
            "/v1/fulfillments",
            {
                "fulfillments": [
                    fulfillment(oli, 5, state="SentToBilling", billTargetDate="2022-01-01"),
                    fulfillment(oli, 50, externalId="EXT-9"),
                ],
                "processingOptions": {"runBilling": True},
            },
            status=400,
        )
        got = get_line(zuora, oli, fulfillment="true")
        assert got["fulfillments"] == [] and got["quantityFulfilled"] == 0
        assert documents(client, tenant) == []
        first = create(zuora, fulfillment(oli, 1))["fulfillments"][0]["fulfillmentNumber"]
        assert first.startswith("F-")

    def test_items_inline(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        items = [{"itemIdentifier": "SN-1", "customFields": {"category__c": "Old"}}, {"itemIdentifier": "SN-2"}]
        body = create(zuora, fulfillment(oli, 2, state="Booked", fulfillmentItems=items))
        assert len(body["fulfillments"][0]["fulfillmentItems"]) == 2
        number = body["fulfillments"][0]["fulfillmentNumber"]
        got = zuora.ok("GET", f"/v1/fulfillments/{number}", params={"fulfillment-items": "true"})["fulfillment"]
        assert [i["itemIdentifier"] for i in got["fulfillmentItems"]] == ["SN-1", "SN-2"]
        assert got["fulfillmentItems"][0]["customFields"] == {"category__c": "Old"}
        assert "fulfillmentItems" not in zuora.ok("GET", f"/v1/fulfillments/{number}")["fulfillment"]
        for bad in (
            {"state": "Executing", "fulfillmentItems": items},
            {"state": "Booked", "quantity": 1, "fulfillmentItems": items},
        ):
            zuora.fail(
                "POST", "/v1/fulfillments", {"fulfillments": [fulfillment(oli, **{"quantity": 2, **bad})]}, status=400
            )

    def test_unknown_line_in_another_tenant(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient, other_zuora: ZuoraClient
    ) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        other_zuora.fail("POST", "/v1/fulfillments", {"fulfillments": [fulfillment(oli)]}, status=404)


class TestUpdateAndDelete:
    STATES = ["Executing", "Booked", "SentToBilling", "Complete", "Cancelled"]
    ALLOWED = {
        ("Executing", "Booked"),
        ("Executing", "SentToBilling"),
        ("Executing", "Cancelled"),
        ("Booked", "SentToBilling"),
        ("SentToBilling", "Complete"),
    }

    @pytest.mark.parametrize("start", ["Executing", "Booked", "SentToBilling"])
    @pytest.mark.parametrize("target", STATES)
    def test_transitions(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient, start: str, target: str
    ) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        key = create(zuora, fulfillment(oli, 2, state=start))["fulfillments"][0]["id"]
        response = zuora.request("PUT", f"/v1/fulfillments/{key}", {"state": target})
        if start == target or (start, target) in self.ALLOWED:
            assert response.status_code == 200 and response.json() == {"success": True}
        else:
            assert response.status_code == 400 and codes(response.json()) == [RULE]
        expected = target if start == target or (start, target) in self.ALLOWED else start
        assert zuora.ok("GET", f"/v1/fulfillments/{key}")["fulfillment"]["state"] == expected

    def test_locked_after_complete(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        key = create(zuora, fulfillment(oli, 2, state="SentToBilling"))["fulfillments"][0]["fulfillmentNumber"]
        zuora.ok("PUT", f"/v1/fulfillments/{key}", {"state": "Complete"})
        for state in ("Executing", "Cancelled", "SentToBilling"):
            zuora.fail("PUT", f"/v1/fulfillments/{key}", {"state": state}, status=400)

    def test_canceled_spelling_and_freed_quantity(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        key = create(zuora, fulfillment(oli, 10))["fulfillments"][0]["id"]
        zuora.fail("POST", "/v1/fulfillments", {"fulfillments": [fulfillment(oli, 1)]}, status=400)
        zuora.ok("PUT", f"/v1/fulfillments/{key}", {"state": "Canceled"})
        assert zuora.ok("GET", f"/v1/fulfillments/{key}")["fulfillment"]["state"] == "Cancelled"
        create(zuora, fulfillment(oli, 10))

    def test_fields_change_only_while_executing(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        key = create(zuora, fulfillment(oli, 2))["fulfillments"][0]["id"]
        zuora.ok(
            "PUT",
            f"/v1/fulfillments/{key}",
            {
                "quantity": 3,
                "trackingNumber": "T-1",
                "carrier": "UPS",
                "customFields": {"priority__c": "High"},
                "fulfillmentType": "Delivery",
            },
        )
        got = zuora.ok("GET", f"/v1/fulfillments/{key}")["fulfillment"]
        assert (got["quantity"], got["trackingNumber"], got["customFields"]) == (3, "T-1", {"priority__c": "High"})
        zuora.fail("PUT", f"/v1/fulfillments/{key}", {"quantity": 11}, status=400)
        zuora.ok("PUT", f"/v1/fulfillments/{key}", {"state": "Booked", "carrier": "UPS"})  # unchanged values pass
        body = zuora.fail("PUT", f"/v1/fulfillments/{key}", {"carrier": "DHL"}, status=400)
        assert codes(body) == [RULE]

    def test_delete_only_while_executing(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        made = create(zuora, fulfillment(oli, 2), fulfillment(oli, 2, state="Booked"))["fulfillments"]
        zuora.ok("DELETE", f"/v1/fulfillments/{made[0]['fulfillmentNumber']}")
        zuora.fail("GET", f"/v1/fulfillments/{made[0]['id']}", status=404)
        assert codes(zuora.fail("DELETE", f"/v1/fulfillments/{made[1]['id']}", status=400)) == [RULE]
        zuora.fail("DELETE", "/v1/fulfillments/F-99999999", status=404)

    def test_line_completes_when_the_last_fulfillment_is_done(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        oli = booked_line(zuora, new_account(client, tenant), quantity=4)
        made = create(zuora, fulfillment(oli, 2, state="SentToBilling"), fulfillment(oli, 2, state="Booked"))
        assert get_line(zuora, oli)["itemState"] == "Booked"
        zuora.ok("PUT", f"/v1/fulfillments/{made['fulfillments'][1]['id']}", {"state": "SentToBilling"})
        assert get_line(zuora, oli)["itemState"] == "Complete"


class TestBilling:
    def test_run_billing_bills_only_sent_to_billing_fulfillments_of_the_call(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        create(zuora, fulfillment(oli, 2, state="SentToBilling", billTargetDate="2022-01-01"))
        body = create(
            zuora,
            fulfillment(oli, 3, state="SentToBilling", billTargetDate="2099-01-01"),
            fulfillment(oli, 1, state="Booked"),
            runBilling=True,
        )
        assert len(body["invoiceNumbers"]) == 1
        [doc] = documents(client, tenant)
        assert [i.quantity_decimal for i in doc.items] == [3] and doc.invoice.total == 6000
        nothing = create(zuora, fulfillment(oli, 1, state="Booked"), runBilling=True)
        assert nothing["invoiceNumbers"] is None and nothing["creditMemoNumbers"] is None

    def test_return_fulfillment_credit_memo(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        ret = returned_line_id(zuora, account, itemState="Booked", billingRule=B)
        body = create(
            zuora,
            fulfillment(ret, 2, state="SentToBilling", fulfillmentType="Return"),
            runBilling=True,
            billingOptions={"creditMemoReasonCode": "Damaged"},
        )
        assert body["invoiceNumbers"] is None and len(body["creditMemoNumbers"]) == 1
        assert zuora.ok("GET", f"/v1/credit-memos/{body['creditMemoNumbers'][0]}")["reasonCode"] == "Damaged"
        [memo] = documents(client, tenant)
        assert memo.invoice.document_type == "credit_memo" and memo.invoice.total == 6000
        assert get_line(zuora, ret)["itemState"] == "Complete"


class TestFulfillmentItems:
    def test_crud(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        f = create(zuora, fulfillment(oli, 2, state="Booked", externalId="EXT-1"))["fulfillments"][0]
        made = zuora.ok(
            "POST",
            "/v1/fulfillment-items",
            {
                "fulfillmentItems": [
                    {"fulfillmentId": f["id"], "itemIdentifier": "A"},
                    {"fulfillmentNumber": f["fulfillmentNumber"], "itemIdentifier": "B"},
                ]
            },
        )["fulfillmentItems"]
        assert len(made) == 2
        got = zuora.ok("GET", f"/v1/fulfillment-items/{made[0]['id']}")["fulfillmentItem"]
        assert got == {
            "id": made[0]["id"],
            "fulfillmentId": f["id"],
            "fulfillmentNumber": f["fulfillmentNumber"],
            "fulfillmentExternalId": "EXT-1",
            "itemIdentifier": "A",
            "description": None,
            "customFields": {},
        }
        zuora.ok(
            "PUT", f"/v1/fulfillment-items/{made[0]['id']}", {"description": "serial", "customFields": {"c__c": 1}}
        )
        got = zuora.ok("GET", f"/v1/fulfillment-items/{made[0]['id']}")["fulfillmentItem"]
        assert (got["description"], got["customFields"]) == ("serial", {"c__c": 1})
        too_many = zuora.fail(
            "POST",
            "/v1/fulfillment-items",
            {"fulfillmentItems": [{"fulfillmentExternalId": "EXT-1", "itemIdentifier": "C"}]},
            status=400,
        )
        assert codes(too_many) == [RULE]
        zuora.ok("DELETE", f"/v1/fulfillment-items/{made[1]['id']}")
        zuora.fail("GET", f"/v1/fulfillment-items/{made[1]['id']}", status=404)

    def test_parent_rules(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        oli = booked_line(zuora, new_account(client, tenant))
        executing = create(zuora, fulfillment(oli, 2))["fulfillments"][0]["id"]
        body = zuora.fail(
            "POST",
            "/v1/fulfillment-items",
            {
                "fulfillmentItems": [
                    {"fulfillmentId": executing},
                    {"fulfillmentNumber": "F-99999999"},
                    {"itemIdentifier": "orphan"},
                ]
            },
            status=400,
        )
        assert codes(body) == [RULE, NOT_FOUND, MISSING]
