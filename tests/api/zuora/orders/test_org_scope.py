"""Zuora-Org-Ids (Decision 10) on what orders refer to: owner accounts and the orders a return gives back.

A call naming orgs sees only objects of those orgs: an org the tenant does not have is 403
(category 10), an object outside the orgs is not found (category 40), as GET /v1/accounts answers.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from bulkbill.services.platform.tenants import NewTenant
from tests.helpers import ZuoraClient
from tests.helpers.zuora import BOTH, DENIED, EAST, NORTH, NOT_FOUND, codes, create_order, line, new_account


class TestOrderReferences:
    def test_owner_account_outside_the_orgs_is_not_found(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        east, west = new_account(client, tenant, org="east"), new_account(client, tenant, org="west")
        body = {"orderDate": "2021-01-01", "existingAccountNumber": east}
        owned = {**body, "orderLineItems": [line(ownerAccountNumber=west)]}
        refused = zuora.fail("POST", "/v1/orders", owned, headers=EAST, status=404)
        assert codes(refused) == [NOT_FOUND] and "ownerAccountNumber" in refused["reasons"][0]["message"]
        zuora.ok("POST", "/v1/orders", owned, headers=BOTH)
        zuora.ok("POST", "/v1/orders", owned)
        assert codes(zuora.fail("POST", "/v1/orders", owned, headers=NORTH, status=403)) == [DENIED]

    def test_updating_the_owner_to_an_account_outside_the_orgs(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        east, west = new_account(client, tenant, org="east"), new_account(client, tenant, org="west")
        oli = create_order(zuora, east, [line()])["orderLineItems"][0]["id"]
        change = {"ownerAccountNumber": west}
        refused = zuora.fail("PUT", f"/v1/order-line-items/{oli}", change, headers=EAST, status=404)
        assert codes(refused) == [NOT_FOUND] and "ownerAccountNumber" in refused["reasons"][0]["message"]
        bulk = {"orderLineItems": [{"id": oli, **change}]}
        zuora.fail("POST", "/v1/order-line-items/bulk", bulk, headers=EAST, status=404)
        got = zuora.ok("GET", f"/v1/order-line-items/{oli}")["orderLineItem"]
        assert got["ownerAccountNumber"] == east
        zuora.ok("PUT", f"/v1/order-line-items/{oli}", change, headers=BOTH)
        assert zuora.ok("GET", f"/v1/order-line-items/{oli}")["orderLineItem"]["ownerAccountNumber"] == west

    def test_a_return_of_an_order_outside_the_orgs_is_not_found(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        east, west = new_account(client, tenant, org="east"), new_account(client, tenant, org="west")
        sale = create_order(zuora, west, [line(itemState="SentToBilling", billTargetDate="2021-01-01")])
        give_back = {
            "itemCategory": "Return",
            "itemName": "back",
            "quantity": 1,
            "originalOrderNumber": sale["orderNumber"],
            "originalOrderLineItemNumber": "1",
        }
        body = {
            "orderDate": "2021-01-02",
            "existingAccountNumber": east,
            "category": "Return",
            "orderLineItems": [give_back],
        }
        refused = zuora.fail("POST", "/v1/orders", body, headers=EAST, status=404)
        assert codes(refused) == [NOT_FOUND] and "originalOrderLineItemNumber" in refused["reasons"][0]["message"]
        returned = zuora.ok("POST", "/v1/orders", body, headers=BOTH)
        assert returned["orderNumber"].startswith("RMA-")
        # Within one org, as before.
        own_sale = create_order(zuora, east, [line(itemState="SentToBilling", billTargetDate="2021-01-01")])
        own = {**body, "orderLineItems": [{**give_back, "originalOrderNumber": own_sale["orderNumber"]}]}
        zuora.ok("POST", "/v1/orders", own, headers=EAST)
