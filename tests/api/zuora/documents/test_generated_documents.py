"""Invoices and credit memos generated from order line items and fulfillments, as the documents side shows them.

Flexible billing attributes (spec §2.9, §4.3, §4.6): lines whose billTo, paymentTerm,
invoiceTemplateId, sequenceSetId or invoiceGroupNumber differ go on separate documents, and each
document keeps its lines' values (billToContactId, paymentTerm, templateId, sequenceSetId,
invoiceGroupNumber). Items billed from a line or from a fulfillment are `OrderLineItem` items
(spec §2.9 mapping, §4.4 enum); a credit-memo item's sourceItemId is the return line (§4.6).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bulkbill.core.billing.plan import BillableSource, SourceType
from bulkbill.core.orders.line_items import ItemCategory
from bulkbill.services.billing.billing_sets import SourceRecord, extras_json, record_extras
from bulkbill.services.platform.tenants import NewTenant
from tests.helpers import ZuoraClient
from tests.helpers.zuora import (
    SDK_DEFAULTS,
    B,
    booked_line,
    bulk,
    create,
    documents,
    fulfillment,
    new_account,
    new_line,
    returned_line_id,
    to_billing,
)

BILL_TO = "b" * 32
ATTRIBUTES = {
    "billTo": BILL_TO,
    "paymentTerm": "Net 60",
    "invoiceTemplateId": "T-1",
    "sequenceSetId": "S-1",
    "invoiceGroupNumber": "G-1",
}


def invoice(zuora: ZuoraClient, key: str) -> dict[str, Any]:
    return zuora.ok("GET", f"/v1/invoices/{key}")


def attributes_of(body: dict[str, Any]) -> dict[str, Any]:
    names = ("billToContactId", "paymentTerm", "templateId", "sequenceSetId", "invoiceGroupNumber")
    return {name: body[name] for name in names}


def documents_of(body: dict[str, Any]) -> list[str]:
    return [d["invoiceNumber"] for d in body["invoices"]]


class TestInvoiceAttributes:
    def test_the_invoice_keeps_its_lines_attributes(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant, term="Net 45")
        oli = new_line(zuora, account, **ATTRIBUTES)
        body = bulk(zuora, to_billing(oli), runBilling=True, billingOptions={"documentDate": "2021-03-01"})
        [number] = documents_of(body)
        got = invoice(zuora, number)
        assert attributes_of(got) == {
            "billToContactId": BILL_TO,
            "paymentTerm": "Net 60",  # the line's, not the account's
            "templateId": "T-1",
            "sequenceSetId": "S-1",
            "invoiceGroupNumber": "G-1",
        }
        assert (got["invoiceDate"], got["dueDate"]) == ("2021-03-01", "2021-04-30")  # Net 60
        [doc] = documents(client, tenant)
        assert doc.invoice.template_id == "T-1"

    def test_differing_attributes_split_and_each_document_shows_its_own(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        one = new_line(zuora, account, invoiceGroupNumber="G-1", sequenceSetId="S-1")
        two = new_line(zuora, account, invoiceGroupNumber="G-2", invoiceTemplateId="T-2")
        same_as_one = new_line(zuora, account, invoiceGroupNumber="G-1", sequenceSetId="S-1", amountPerUnit=1)
        body = bulk(zuora, to_billing(one, two, same_as_one), runBilling=True)
        numbers = documents_of(body)
        assert len(numbers) == 2
        shown = {invoice(zuora, n)["invoiceGroupNumber"]: invoice(zuora, n) for n in numbers}
        assert set(shown) == {"G-1", "G-2"}
        assert (shown["G-1"]["sequenceSetId"], shown["G-1"]["templateId"], shown["G-1"]["amount"]) == ("S-1", None, 110)
        assert (shown["G-2"]["sequenceSetId"], shown["G-2"]["templateId"], shown["G-2"]["amount"]) == (None, "T-2", 100)

    @pytest.mark.parametrize(
        ("account_term", "line_term", "shown", "due"),
        [
            ("Net 45", None, "Net 45", "2021-02-15"),  # the account's term when the line has none
            (None, None, "Net 30", "2021-01-31"),  # neither: the default the due date is computed with
            ("Net 45", "Due Upon Receipt", "Due Upon Receipt", "2021-01-01"),
        ],
    )
    def test_payment_term_is_the_one_used(
        self,
        client: TestClient,
        tenant: NewTenant,
        zuora: ZuoraClient,
        account_term: str | None,
        line_term: str | None,
        shown: str,
        due: str,
    ) -> None:
        account = new_account(client, tenant, term=account_term)
        oli = new_line(zuora, account, **({"paymentTerm": line_term} if line_term else {}))
        body = bulk(zuora, to_billing(oli), runBilling=True, billingOptions={"documentDate": "2021-01-01"})
        got = invoice(zuora, documents_of(body)[0])
        assert (got["paymentTerm"], got["dueDate"]) == (shown, due)
        assert (got["billToContactId"], got["templateId"], got["sequenceSetId"], got["invoiceGroupNumber"]) == (
            None,
            None,
            None,
            None,
        )

    def test_a_bill_run_keeps_them_too(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        new_line(zuora, account, itemState="SentToBilling", billTargetDate="2021-06-01", **ATTRIBUTES)
        new_line(zuora, account, itemState="SentToBilling", billTargetDate="2021-06-01", invoiceGroupNumber="G-9")
        run = zuora.ok(
            "POST", "/v1/bill-runs", {**SDK_DEFAULTS, "targetDate": "2021-06-30", "invoiceDate": "2021-07-01"}
        )
        assert run["numberOfInvoices"] == 2
        shown = {d.invoice.number: invoice(zuora, d.invoice.id) for d in documents(client, tenant)}
        by_group = {body["invoiceGroupNumber"]: attributes_of(body) for body in shown.values()}
        assert by_group == {
            "G-1": {
                "billToContactId": BILL_TO,
                "paymentTerm": "Net 60",
                "templateId": "T-1",
                "sequenceSetId": "S-1",
                "invoiceGroupNumber": "G-1",
            },
            "G-9": {
                "billToContactId": None,
                "paymentTerm": "Net 30",
                "templateId": None,
                "sequenceSetId": None,
                "invoiceGroupNumber": "G-9",
            },
        }
        assert {body["source"] for body in shown.values()} == {"BillRun"}

    def test_a_later_attribute_change_reaches_the_next_document(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        oli = new_line(zuora, account, itemState="Booked", billTargetDate="2021-01-01")
        zuora.ok("PUT", f"/v1/order-line-items/{oli}", {"invoiceGroupNumber": "G-5", "paymentTerm": "Net 90"})
        body = bulk(zuora, [{"id": oli, "itemState": "SentToBilling"}], runBilling=True)
        got = invoice(zuora, documents_of(body)[0])
        assert (got["invoiceGroupNumber"], got["paymentTerm"]) == ("G-5", "Net 90")


class TestCreditMemoAttributes:
    def test_credit_memo_keeps_sequence_set_group_and_bill_to(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        ret = returned_line_id(zuora, account, billTo=BILL_TO, sequenceSetId="S-CM", invoiceGroupNumber="G-CM")
        body = bulk(zuora, to_billing(ret), runBilling=True)
        [number] = [m["creditMemoNumber"] for m in body["creditMemos"]]
        memo = zuora.ok("GET", f"/v1/credit-memos/{number}")
        assert (memo["billToContactId"], memo["sequenceSetId"], memo["invoiceGroupNumber"]) == (
            BILL_TO,
            "S-CM",
            "G-CM",
        )
        assert memo["reasonCode"] == "Return Order"
        [item] = zuora.ok("GET", f"/v1/credit-memos/{number}/items")["items"]
        assert (item["sourceItemType"], item["sourceItemId"], item["orderLineItemId"], item["fulfillmentId"]) == (
            "OrderLineItem",
            ret,
            ret,
            None,
        )


class TestSourceItemType:
    def test_fulfillment_items_are_order_line_items(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        oli = booked_line(zuora, account)
        made = create(zuora, fulfillment(oli, 2, state="SentToBilling"), runBilling=True)
        [shipment] = made["fulfillments"]
        [number] = made["invoiceNumbers"]
        [item] = zuora.ok("GET", f"/v1/invoices/{number}/items")["invoiceItems"]
        assert (item["sourceItemType"], item["orderLineItemId"], item["fulfillmentId"]) == (
            "OrderLineItem",
            oli,
            shipment["id"],
        )

    def test_return_fulfillment_credit_memo_item_names_the_return_line(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        ret = returned_line_id(zuora, account, itemState="Booked", billingRule=B)
        made = create(zuora, fulfillment(ret, 2, state="SentToBilling", fulfillmentType="Return"), runBilling=True)
        [received] = made["fulfillments"]
        [number] = made["creditMemoNumbers"]
        [item] = zuora.ok("GET", f"/v1/credit-memos/{number}/items")["items"]
        assert (item["sourceItemType"], item["sourceItemId"], item["orderLineItemId"], item["fulfillmentId"]) == (
            "OrderLineItem",
            ret,
            ret,
            received["id"],
        )


def _record(fulfillment_id: str | None, attrs: dict[str, Any]) -> SourceRecord:
    kind = SourceType.FULFILLMENT if fulfillment_id else SourceType.ORDER_LINE_ITEM
    source = BillableSource(
        kind,
        fulfillment_id or "l1",
        "acct",
        "usd",
        ItemCategory.SALES,
        "SentToBilling",
        Decimal(1),
        Decimal(1),
        dt.date(2021, 1, 1),
        True,
        False,
    )
    return SourceRecord(
        source, "l1", "Wídget", None, "SKU-1", "Each", "2021-01-01", "2021-01-02", fulfillment_id, attrs
    )


@pytest.mark.parametrize("fulfillment_id", [None, "f1"])
@pytest.mark.parametrize(
    "attrs",
    [{}, {"soldTo": "s" * 32, "taxCode": "TX", "accountingCode": 4000, "deferredRevenueAccountingCode": "2000-ü"}],
)
def test_extras_json_is_item_extras_byte_for_byte(fulfillment_id: str | None, attrs: dict[str, Any]) -> None:
    record = _record(fulfillment_id, attrs)
    expected = record_extras(record)
    assert extras_json(record) == json.dumps(expected)
    assert expected["sourceItemType"] == "OrderLineItem" and expected["fulfillmentId"] == fulfillment_id
