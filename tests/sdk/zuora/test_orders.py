"""Order billing driven by the official zuora-sdk (3.21.0) against a real bulkbill server, on both databases.

The SDK sends what it sends (its injected defaults included) and parses every answer with its own
models; each call's raw response is also checked: JSON, a Zuora-Request-Id, the Track-Id echoed.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from zuora_sdk import (
    ApiClient,
    BillRunApi,
    BillRunResponse,
    CreateBillRunRequest,
    CreateFulfillmentsResponse,
    CreateOrderOrderLineItem,
    CreateOrderRequest,
    CreateOrderResponse,
    FulfillmentsApi,
    GetBulkUpdateOrderLineItemsResponse,
    GetFulfillmentResponse,
    GetOrderLineItemResponse,
    GetOrderResponse,
    OrderLineItemsApi,
    OrdersApi,
    PostBillRunRequest,
)
from zuora_sdk.exceptions import BadRequestException, NotFoundException

from bulkbill.services.customers.customers import CustomerFields, create_customer
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.testing.server import BulkbillServer
from bulkbill.testing.tenant import Tenant
from tests.helpers import zuora_seed_body

pytestmark = pytest.mark.sdk
SEED_001_OLI = "4028828c82819b74018286e02e041bd6"


@dataclass
class Zuora:
    """One tenant seen through zuora-sdk: an ApiClient with a bearer token, and an account."""

    server: BulkbillServer
    client: ApiClient
    token: str
    account: str

    @property
    def orders(self) -> OrdersApi:
        return OrdersApi(self.client)

    @property
    def lines(self) -> OrderLineItemsApi:
        return OrderLineItemsApi(self.client)

    @property
    def fulfillments(self) -> FulfillmentsApi:
        return FulfillmentsApi(self.client)

    @property
    def bill_runs(self) -> BillRunApi:
        return BillRunApi(self.client)

    def order(self, **line: Any) -> CreateOrderResponse:
        fields = {
            "item_name": "Widget",
            "item_type": "Product",
            "quantity": Decimal(4),
            "amount_per_unit": Decimal("12.5"),
        }
        request = CreateOrderRequest(
            order_date=dt.date(2021, 1, 1),
            existing_account_number=self.account,
            order_line_items=[CreateOrderOrderLineItem(**{**fields, **line})],
        )
        response = self.orders.create_order(request, idempotency_key=uuid.uuid4().hex)
        assert isinstance(response, CreateOrderResponse) and response.success is True
        return response


def check_raw(headers: Any, track_id: str | None = None) -> None:
    lowered = {k.lower(): v for k, v in dict(headers).items()}
    assert lowered["content-type"].startswith("application/json")
    assert len(lowered["zuora-request-id"]) == 36
    if track_id is not None:
        assert lowered["zuora-track-id"] == track_id


@pytest.fixture
def zuora(bulkbill_server: BulkbillServer, bulkbill_tenant: Tenant, zuora_api_client: ApiClient) -> Zuora:
    state = bulkbill_server.app.state.bulkbill
    account = "A" + uuid.uuid4().hex[:10].upper()
    with state.sessions.begin() as session:
        customer = create_customer(
            UnitOfWork(session, state.settings, tenant_id=bulkbill_tenant.id), CustomerFields(name="Acme")
        )
        customer.account_number, customer.currency = account, "usd"
    return Zuora(bulkbill_server, zuora_api_client, zuora_api_client.configuration.access_token, account)


class TestOrderLineItems:
    def test_order_then_seed_000_bills_an_invoice(self, zuora: Zuora) -> None:
        created = zuora.order()
        assert created.order_number.startswith("O-") and created.account_number == zuora.account
        item_id = created.order_line_items[0].id

        body = json.loads(json.dumps(zuora_seed_body("000")).replace("{{orderLineItemId}}", item_id))
        api = zuora.lines.update_order_line_items_with_http_info(
            body, idempotency_key="seed-000-" + item_id, zuora_track_id="track-seed-000"
        )
        check_raw(api.headers, "track-seed-000")
        response = api.data
        assert isinstance(response, GetBulkUpdateOrderLineItemsResponse) and response.success is True
        assert response.order_line_items[0].item_state == "SentToBilling"
        assert str(response.order_line_items[0].bill_target_date) == "2021-02-01"
        assert len(response.invoices) == 1 and response.invoices[0]["invoiceNumber"].startswith("INV")
        assert response.additional_properties["creditMemos"] == []

        got = zuora.lines.get_order_line_item(item_id, fulfillment=True)
        assert isinstance(got, GetOrderLineItemResponse)
        oli = got.order_line_item
        assert (oli.item_state, oli.amount, oli.quantity_fulfilled, oli.fulfillments) == ("SentToBilling", 50, 4, [])

        order = zuora.orders.get_order(created.order_number)
        assert isinstance(order, GetOrderResponse) and order.order.state == "Executing"
        assert order.order.order_line_items[0].id == item_id

    def test_sdk_model_updates_keep_the_rule(self, zuora: Zuora) -> None:
        from zuora_sdk import BulkUpdateOrderLineItem, BulkUpdateOrderLineItemsRequest

        item_id = zuora.order(item_state="Booked", billing_rule="TriggerAsFulfillmentOccurs").order_line_items[0].id
        # The SDK adds billingRule=TriggerWithoutFulfillment unless told otherwise: a rule-B line refuses the flip.
        with pytest.raises(BadRequestException) as refused:
            zuora.lines.update_order_line_items(
                BulkUpdateOrderLineItemsRequest(
                    order_line_items=[BulkUpdateOrderLineItem(id=item_id, payment_term="Net 30")]
                )
            )
        assert refused.value.status == 400 and refused.value.data.reasons[0].code in (50000030, "50000030")
        ok = zuora.lines.update_order_line_items(
            BulkUpdateOrderLineItemsRequest(
                order_line_items=[
                    BulkUpdateOrderLineItem(
                        id=item_id, payment_term="Net 30", billing_rule="TriggerAsFulfillmentOccurs"
                    )
                ]
            )
        )
        assert ok.success is True and ok.order_line_items[0].payment_term == "Net 30"

    def test_errors_by_version(self, zuora: Zuora) -> None:
        with pytest.raises(NotFoundException) as missing:
            zuora.lines.get_order_line_item("0" * 32)
        assert missing.value.status == 404 and json.loads(missing.value.body)["reasons"][0]["code"] == 50000040
        # An older Zuora-Version answers errors with HTTP 200 and success false: the SDK returns them.
        zuora.client.set_default_header("Zuora-Version", "211.0")
        legacy = zuora.lines.get_order_line_item("0" * 32)
        assert legacy.success is False and legacy.reasons[0].message.startswith("No such order line item")


class TestFulfillments:
    def test_seed_001_bills_ten_units(self, zuora: Zuora) -> None:
        item_id = (
            zuora.order(
                item_state="Booked",
                billing_rule="TriggerAsFulfillmentOccurs",
                quantity=Decimal(10),
                amount_per_unit=Decimal(20),
            )
            .order_line_items[0]
            .id
        )
        body = json.loads(json.dumps(zuora_seed_body("001")).replace(SEED_001_OLI, item_id))
        api = zuora.fulfillments.create_fulfillment_with_http_info(body, zuora_track_id="seed-001")
        check_raw(api.headers, "seed-001")
        created = api.data
        assert isinstance(created, CreateFulfillmentsResponse) and created.success is True
        assert len(created.fulfillments) == 2 and len(created.invoice_numbers) == 1
        assert created.credit_memo_numbers is None and created.paid_amount is None

        number = created.fulfillments[0].fulfillment_number
        got = zuora.fulfillments.get_fulfillment(number, fulfillment_items=True)
        assert isinstance(got, GetFulfillmentResponse)
        assert (got.fulfillment.quantity, got.fulfillment.state, got.fulfillment.fulfillment_items) == (
            5,
            "SentToBilling",
            [],
        )
        oli = zuora.lines.get_order_line_item(item_id).order_line_item
        assert (oli.item_state, oli.quantity_fulfilled, oli.quantity_pending_fulfillment) == ("Complete", 10, 0)


class TestBillRuns:
    def test_create_get_and_post(self, zuora: Zuora) -> None:
        zuora.order(item_state="SentToBilling", bill_target_date=dt.date(2021, 1, 15))
        api = zuora.bill_runs.create_bill_run_with_http_info(
            CreateBillRunRequest(target_date=dt.date(2021, 1, 31), invoice_date=dt.date(2021, 2, 1), name="Jan"),
            idempotency_key=uuid.uuid4().hex,
            zuora_track_id="bill-run-1",
        )
        check_raw(api.headers, "bill-run-1")
        run = api.data
        assert isinstance(run, BillRunResponse) and run.success is True and run.status == "Completed"
        assert run.bill_run_number.startswith("BR-") and run.additional_properties["numberOfInvoices"] == 1

        got = zuora.bill_runs.get_bill_run(run.id)
        assert isinstance(got, BillRunResponse) and got.id == run.id and str(got.target_date) == "2021-01-31"

        # BillRunApi.post_bill_run has no bill-run id parameter in 3.21.0: use its own serializer with one.
        bill_runs = zuora.bill_runs
        params = bill_runs._post_bill_run_serialize(
            bill_run_id=run.id,
            request=PostBillRunRequest(invoice_date=dt.date(2021, 2, 2)),
            accept_encoding=None,
            content_encoding=None,
            authorization=None,
            zuora_track_id=None,
            zuora_entity_ids=None,
            zuora_version=None,
            zuora_org_ids=None,
            _request_auth=None,
            _content_type=None,
            _headers=None,
            _host_index=0,
        )
        raw = zuora.client.call_api(*params)
        raw.read()
        posted = zuora.client.response_deserialize(raw, {"200": "BillRunResponse"}).data
        assert isinstance(posted, BillRunResponse) and posted.status == "Posted"


class TestWire:
    def test_gzip_both_ways(self, zuora: Zuora) -> None:
        item_id = zuora.order().order_line_items[0].id
        # Responses: gzip when asked and over 1,000 bytes; urllib3 inflates, the SDK parses.
        api = zuora.lines.get_order_line_item_with_http_info(item_id, accept_encoding="gzip", zuora_track_id="gz")
        check_raw(api.headers, "gz")
        assert {k.lower(): v for k, v in api.headers.items()}["content-encoding"] == "gzip"
        assert api.data.order_line_item.id == item_id
        # Requests: the SDK only sets Content-Encoding, so compress the body and send it through its client.
        body = {"orderLineItems": [{"id": item_id, "description": "gzipped"}]}
        raw = zuora.client.call_api(
            "POST",
            zuora.client.configuration.host + "/v1/order-line-items/bulk",
            header_params={
                "Authorization": "Bearer " + zuora.token,
                "Content-Type": "application/octet-stream",
                "Content-Encoding": "gzip",
                "Accept": "application/json",
                "Zuora-Version": "2025-08-12",
            },
            body=gzip.compress(json.dumps(body).encode()),
        )
        raw.read()
        response = zuora.client.response_deserialize(raw, {"200": "GetBulkUpdateOrderLineItemsResponse"}).data
        assert isinstance(response, GetBulkUpdateOrderLineItemsResponse)
        assert response.order_line_items[0].description == "gzipped"

    def test_idempotent_create_replays(self, zuora: Zuora) -> None:
        request = CreateOrderRequest(
            order_date=dt.date(2021, 1, 1),
            existing_account_number=zuora.account,
            order_line_items=[
                CreateOrderOrderLineItem(
                    item_name="W", item_type="Fee", quantity=Decimal(1), amount_per_unit=Decimal(1)
                )
            ],
        )
        first = zuora.orders.create_order(request, idempotency_key="order-once")
        again = zuora.orders.create_order(request, idempotency_key="order-once")
        assert first.order_number == again.order_number
