"""zuora-sdk 3.21.0 against a real bulkbill server: accounts, periods, invoices (seed 004), Object Query.

The server is the shared live one (the plugin's `bulkbill_server`, once per database), the client the
plugin's `zuora_api_client` on a fresh tenant.
Every call goes through the SDK's own ApiClient and comes back as the SDK's models; the seed's raw
JSON, sent with plain HTTP, must have exactly the effect the SDK call has.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import requests
import zuora_sdk as z
from sqlalchemy import update
from zuora_sdk.exceptions import ApiException, BadRequestException, ForbiddenException, NotFoundException

from bulkbill.storage.tables import Invoice
from bulkbill.testing.server import BulkbillServer

pytestmark = pytest.mark.sdk


@dataclass
class ZuoraTenant:
    server: BulkbillServer
    token: str
    client: z.ApiClient

    @property
    def base(self) -> str:
        return self.server.url + "/zuora"

    def raw(self, method: str, path: str, body: Any = None, **headers: str) -> requests.Response:
        return requests.request(
            method,
            self.base + path,
            data=json.dumps(body) if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json", **headers},
            timeout=30,
        )


@pytest.fixture
def zt(bulkbill_server: BulkbillServer, zuora_api_client: z.ApiClient) -> ZuoraTenant:
    return ZuoraTenant(bulkbill_server, zuora_api_client.configuration.access_token, zuora_api_client)


def new_account(zt: ZuoraTenant, **fields: Any) -> z.CreateAccountResponse:
    request = z.CreateAccountRequest(
        name="Acme Corp",
        currency="USD",
        bill_to_contact=z.CreateAccountContact(first_name="Ada", last_name="Lovelace", work_email="ada@example.com"),
        payment_term="Net 30",
        **fields,
    )
    request.additional_properties["ErpCustomerId__c"] = "C-1001"
    response = z.AccountsApi(zt.client).create_account(request, idempotency_key=uuid.uuid4().hex)
    assert isinstance(response, z.CreateAccountResponse) and response.success, response
    return response


def new_invoice(zt: ZuoraTenant, account_id: str, *, discount: bool = True) -> z.InvoiceResponse:
    item = z.CreateInvoiceItem(
        charge_name="Consulting",
        amount=Decimal("300"),
        quantity=Decimal("3"),
        unit_price=Decimal("100"),
        service_start_date=date(2024, 7, 1),
        service_end_date=date(2024, 7, 31),
        discount_items=[z.CreateDiscountItem(amount=Decimal("-10"), charge_name="Intro")] if discount else None,
    )
    request = z.CreateInvoiceRequest(account_id=account_id, invoice_date=date(2024, 7, 11), invoice_items=[item])
    request.additional_properties["Project__c"] = "P-7"
    invoice = z.InvoicesApi(zt.client).create_standalone_invoice(request, idempotency_key=uuid.uuid4().hex)
    assert isinstance(invoice, z.InvoiceResponse) and invoice.success
    return invoice


def items(zt: ZuoraTenant, invoice_id: str) -> list[z.InvoiceItem]:
    response = z.InvoicesApi(zt.client).get_invoice_items(invoice_id, page_size=40)
    assert isinstance(response, z.InvoiceItemsResponse) and response.success
    return list(response.invoice_items or [])


SEED_ITEM = {
    "recognizedRevenueAccountingCode": "4000",
    "serviceEndDate": "2024-07-31",
    "description": "Edited",
    "revRecCode": "RR-1",
    "adjustmentRevenueAccountingCode": "4100",
    "chargeDate": "2024-07-11 10:00:00",
    "uom": "hours",
    "itemType": "Service",
    "excludeItemBillingFromRevenueAccounting": True,
    "SyncDate__NS": "2024-07-12",
    "revRecTriggerCondition": "ContractEffectiveDate",
    "sku": "SKU-1",
    "accountingCode": "1000",
    "contractAssetAccountingCode": "1200",
    "unbilledReceivablesAccountingCode": "1300",
    "chargeName": "Consulting (edited)",
    "deferredRevenueAccountingCode": "2000",
    "unitPrice": 120,
    "IntegrationStatus__NS": "Synced",
    "IntegrationId__NS": "ns-item",
    "quantity": 3,
    "revenueRecognitionRuleName": "Ratable",
    "purchaseOrderNumber": "PO-9",
    "adjustmentLiabilityAccountingCode": "2100",
    "amount": 360,
    "serviceStartDate": "2024-07-02",
    "taxCode": "TX",
    "contractRecognizedRevenueAccountingCode": "4200",
    "taxMode": "TaxExclusive",
    "contractLiabilityAccountingCode": "2200",
}
SEED_DISCOUNT = {
    "description": "Loyalty",
    "chargeName": "Loyalty discount",
    "sku": "SKU-D",
    "accountingCode": "1001",
    "bookingReference": None,
    "purchaseOrderNumber": "PO-9",
    "IntegrationId__NS": "ns-d",
    "amount": -18,
}


def seed_body(invoice_id: str, item_id: str, discount_id: str, other_id: str) -> dict[str, Any]:
    """Seed 004's request: several invoices, every field, custom fields flat."""
    discount = {k: v for k, v in SEED_DISCOUNT.items() if v is not None}
    return {
        "invoices": [
            {
                "id": invoice_id,
                "dueDate": "2024-09-01",
                "IntegrationStatus__NS": "Pending",
                "SyncDate__NS": "2024-07-12",
                "IntegrationId__NS": "ns-inv",
                "autoPay": True,
                "comments": "edited",
                "Region__c": "EMEA",
                "invoiceItems": [
                    {"id": item_id, **SEED_ITEM, "Detail__c": "d", "discountItems": [{"id": discount_id, **discount}]}
                ],
            },
            {"id": other_id, "invoiceDate": "2024-07-20", "comments": "second"},
        ]
    }


def sdk_seed_request(body: dict[str, Any]) -> z.BulkUpdateInvoicesRequest:
    """The same request built from the SDK's models (custom fields via additional_properties)."""
    invoices = []
    for entry in body["invoices"]:
        entry = dict(entry)
        raw_items = entry.pop("invoiceItems", None)
        invoice = z.InvoiceForBulkUpdate.from_dict(entry)
        assert invoice is not None
        if raw_items:
            built = []
            for raw in raw_items:
                raw = dict(raw)
                discounts = [z.UpdateDiscountInvoiceItem.from_dict(d) for d in raw.pop("discountItems", [])]
                one = z.UpdateInvoiceItem.from_dict(raw)
                assert one is not None
                one.discount_items = [d for d in discounts if d is not None]
                built.append(one)
            invoice.invoice_items = built
        invoices.append(invoice)
    assert invoices[0].additional_properties == {"Region__c": "EMEA"}
    return z.BulkUpdateInvoicesRequest(invoices=invoices)


def comparable(item: z.InvoiceItem) -> dict[str, Any]:
    data = item.to_dict()
    for volatile in ("id", "appliedToItemId", "chargeDate"):
        data.pop(volatile, None)
    return data


def test_accounts_and_periods(zt: ZuoraTenant) -> None:
    created = new_account(zt, organization_label="EU", bill_cycle_day=1)
    assert created.account_number == "A00000001"
    detail = z.AccountsApi(zt.client).get_account(created.account_number)
    assert isinstance(detail, z.AccountDetailResponse) and detail.success
    assert detail.basic_info.id == created.account_id and detail.basic_info.organization_label == "EU"
    assert detail.basic_info.additional_properties["ErpCustomerId__c"] == "C-1001"
    assert detail.billing_and_payment.payment_term == "Net 30" and detail.billing_and_payment.currency == "USD"
    assert detail.bill_to_contact.first_name == "Ada" and len(detail.sold_to_contact.id) == 32
    periods = z.AccountingPeriodsApi(zt.client)
    period = periods.create_accounting_period(
        z.CreateAccountingPeriodRequest(
            name="Jul", start_date=date(2024, 7, 1), end_date=date(2024, 7, 31), fiscal_year=2024
        )
    )
    assert isinstance(period, z.CreateAccountingPeriodResponse) and period.success and len(period.id) == 32
    assert periods.close_accounting_period(period.id).success
    with pytest.raises(BadRequestException) as refused:
        periods.close_accounting_period(period.id)
    assert refused.value.status == 400 and refused.value.data.reasons[0].code == 50000030
    assert periods.reopen_accounting_period(period.id).success
    with pytest.raises(NotFoundException) as missing:
        z.AccountsApi(zt.client).get_account("A99999999")
    assert json.loads(missing.value.body)["reasons"][0]["code"] == 50000040
    with pytest.raises(ForbiddenException):
        z.AccountsApi(zt.client).get_account(created.account_id, zuora_org_ids="APAC")


def test_standalone_invoice_read_back(zt: ZuoraTenant) -> None:
    account = new_account(zt)
    invoice = new_invoice(zt, account.account_id)
    assert invoice.invoice_number == "INV00000001" and invoice.status == "Draft" and invoice.source_type == "Standalone"
    assert invoice.amount == Decimal("290") and str(invoice.due_date) == "2024-08-10"  # the SDK keeps dates as sent
    assert invoice.additional_properties["Project__c"] == "P-7"
    api = z.InvoicesApi(zt.client)
    again = api.get_invoice(invoice.invoice_number)
    assert again.id == invoice.id and again.balance == Decimal("290")
    charge, discount = items(zt, invoice.id)
    assert charge.charge_name == "Consulting" and charge.unit_price == 100 and charge.quantity == 3
    assert discount.applied_to_item_id == charge.id and Decimal(discount.charge_amount) == -10
    page = api.get_invoice_items(invoice.id, page_size=1)
    assert page.next_page == f"{zt.base}/v1/invoices/{invoice.id}/items?page=2&pageSize=1"


def test_seed_004_bulk_update_through_the_sdk_and_plain_http(zt: ZuoraTenant) -> None:
    account = new_account(zt)
    api = z.InvoicesApi(zt.client)
    runs = []
    for via_sdk in (True, False):
        invoice, other = new_invoice(zt, account.account_id), new_invoice(zt, account.account_id)
        charge, discount = items(zt, invoice.id)
        body = seed_body(invoice.id, charge.id, discount.id, other.id)
        if via_sdk:
            result = api.bulk_update_invoices(sdk_seed_request(body), zuora_track_id="seed-004")
            assert isinstance(result, z.CommonResponse) and result.success is True
        else:
            response = zt.raw("PUT", "/v1/invoices", body, **{"Zuora-Version": "2025-08-12"})
            assert response.status_code == 200 and response.json() == {"success": True}
        runs.append((api.get_invoice(invoice.id), api.get_invoice(other.id), items(zt, invoice.id)))
    (sdk_invoice, sdk_other, sdk_items), (raw_invoice, raw_other, raw_items) = runs
    assert sdk_invoice.amount == raw_invoice.amount == Decimal("342")
    assert str(sdk_invoice.due_date) == str(raw_invoice.due_date) == "2024-09-01"
    assert sdk_invoice.comments == raw_invoice.comments == "edited" and sdk_invoice.auto_pay is True
    assert sdk_invoice.integration_id__ns == raw_invoice.integration_id__ns == "ns-inv"
    assert sdk_invoice.additional_properties["Region__c"] == raw_invoice.additional_properties["Region__c"] == "EMEA"
    assert str(sdk_other.invoice_date) == str(raw_other.invoice_date) == "2024-07-20"
    assert [comparable(i) for i in sdk_items] == [comparable(i) for i in raw_items]
    charge = sdk_items[0]
    assert (charge.sku, charge.unit_of_measure, charge.tax_mode, charge.accounting_code) == (
        "SKU-1",
        "hours",
        "TaxExclusive",
        "1000",
    )
    assert charge.additional_properties["Detail__c"] == "d" and charge.integration_id__ns == "ns-item"


def test_bulk_update_refusal_is_all_or_nothing(zt: ZuoraTenant) -> None:
    account = new_account(zt)
    good, posted = new_invoice(zt, account.account_id), new_invoice(zt, account.account_id)
    api = z.InvoicesApi(zt.client)
    assert api.post_invoice(posted.id, z.PostAsyncInvoiceRequest()).success
    request = z.BulkUpdateInvoicesRequest(
        invoices=[z.InvoiceForBulkUpdate(id=good.id, comments="x"), z.InvoiceForBulkUpdate(id=posted.id, comments="y")]
    )
    with pytest.raises(BadRequestException) as refused:
        api.bulk_update_invoices(request)
    data = refused.value.data
    assert isinstance(data, z.CommonResponse) and data.success is False
    assert [r.code for r in data.reasons] == [50000030] and posted.id in data.reasons[0].message
    assert api.get_invoice(good.id).comments is None
    legacy = z.ApiClient(z.Configuration(host=zt.base, access_token=zt.token))
    legacy.set_default_header("Zuora-Version", "211.0")
    answer = z.InvoicesApi(legacy).bulk_update_invoices(request)
    assert answer.success is False and answer.reasons[0].code == 50000030


def test_posting_and_object_query(zt: ZuoraTenant) -> None:
    account = new_account(zt)
    first, second = new_invoice(zt, account.account_id), new_invoice(zt, account.account_id, discount=False)
    api = z.InvoicesApi(zt.client)
    posted = api.bulk_post_invoices(
        z.BulkPostInvoicesRequest(invoices=[z.PostInvoiceRequest(id=first.id), z.PostInvoiceRequest(id=first.id)])
    )
    assert isinstance(posted, z.BulkPostInvoicesResponse) and posted.success
    assert [r.success for r in posted.invoices] == [True, False] and posted.invoices[1].reasons[0].code == 59210020
    queries = z.ObjectQueriesApi(zt.client)
    listed = queries.query_invoices(filter=[f"accountId.EQ:{account.account_id}"], expand=["invoiceitems"], page_size=1)
    assert isinstance(listed, z.QueryInvoicesResponse) and listed.next_page
    assert [d.id for d in listed.data] == [first.id] and listed.data[0].status == "Posted"
    assert len(listed.data[0].invoice_items) == 2 and listed.data[0].invoice_items[0].charge_name == "Consulting"
    rest = queries.query_invoices(filter=[f"accountId.EQ:{account.account_id}"], cursor=listed.next_page, page_size=1)
    assert [d.id for d in rest.data] == [second.id] and rest.next_page is None
    drafts = queries.query_invoices(filter=["status.EQ:Draft"])
    assert [d.id for d in drafts.data] == [second.id]
    one = queries.query_invoice_by_key(second.invoice_number)
    assert isinstance(one, z.ExpandedInvoice) and one.id == second.id
    with pytest.raises(ApiException) as bad:
        queries.query_invoices(filter=["amount.EQ:1"])
    assert bad.value.status == 400


def test_credit_memo_reads(zt: ZuoraTenant) -> None:
    account = new_account(zt)
    invoice = new_invoice(zt, account.account_id, discount=False)
    state = zt.server.app.state.bulkbill
    with state.sessions.begin() as session:  # as return billing makes them
        session.execute(
            update(Invoice).where(Invoice.id == invoice.id).values(document_type="credit_memo", number="CM00000001")
        )
    memos = z.CreditMemosApi(zt.client)
    memo = memos.get_credit_memo("CM00000001")
    assert isinstance(memo, z.CreditMemoResponse) and memo.id == invoice.id and memo.amount == Decimal("300")
    memo_items = memos.get_credit_memo_items(invoice.id)
    assert isinstance(memo_items, z.CreditMemoItemsResponse) and memo_items.items[0].quantity == 3
    with pytest.raises(NotFoundException):
        z.InvoicesApi(zt.client).get_invoice(invoice.id)
