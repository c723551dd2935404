"""Zuora invoices (§4): standalone create, GET and items, posting, PUT /v1/invoices (seed 004), credit memos."""

from __future__ import annotations

import gzip
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import StripeClient, ZuoraClient
from tests.helpers.zuora import (
    account,
    cancel,
    closed_period,
    codes,
    dec,
    get,
    gzipped,
    item,
    items_of,
    make_credit_memo,
    post,
    standalone,
)


class TestStandalone:
    def test_draft_with_a_number_and_the_invoice_shape(self, zuora: ZuoraClient) -> None:
        acct = account(zuora, paymentTerm="Net 30")
        invoice = standalone(
            zuora,
            acct["accountId"],
            [item("100.50", quantity=3, unitPrice="33.50", serviceEndDate="2024-07-31", description="July")],
            comments="thanks",
            Project__c="P-7",
            IntegrationId__NS="ns-9",
        )
        assert re.fullmatch(r"[0-9a-f]{32}", invoice["id"]) and invoice["invoiceNumber"] == "INV00000001"
        assert invoice["status"] == "Draft" and invoice["source"] == "API" and invoice["sourceType"] == "Standalone"
        assert invoice["sourceId"] is None and invoice["accountId"] == acct["accountId"]
        assert invoice["accountNumber"] == acct["accountNumber"]
        assert (invoice["invoiceDate"], invoice["dueDate"]) == ("2024-07-11", "2024-08-10")  # Net 30
        assert (invoice["currency"], invoice["paymentTerm"], invoice["transferredToAccounting"]) == (
            "USD",
            "Net 30",
            "No",
        )
        for name in ("amount", "amountWithoutTax", "balance"):
            assert dec(invoice[name]) == Decimal("100.50")
        assert dec(invoice["taxAmount"]) == 0 and invoice["comments"] == "thanks" and invoice["autoPay"] is False
        assert invoice["Project__c"] == "P-7" and invoice["IntegrationId__NS"] == "ns-9"
        assert invoice["includesOneTime"] is True and invoice["postedDate"] is None
        (line,) = items_of(zuora, invoice["id"])
        assert (dec(line["chargeAmount"]), dec(line["unitPrice"]), dec(line["quantity"])) == (
            Decimal("100.50"),
            Decimal("33.50"),
            3,
        )
        assert (line["serviceStartDate"], line["serviceEndDate"], line["description"]) == (
            "2024-07-01",
            "2024-07-31",
            "July",
        )
        assert (
            line["chargeName"] == "Consulting"
            and line["processingType"] == "Charge"
            and line["chargeType"] == "OneTime"
        )

    def test_pricing_defaults(self, zuora: ZuoraClient) -> None:
        invoice = standalone(
            zuora,
            items=[
                item(60, quantity=3),
                {"chargeName": "u", "unitPrice": "2.5", "quantity": 4, "serviceStartDate": "2024-07-02"},
            ],
        )
        first, second = items_of(zuora, invoice["id"])
        assert (
            dec(first["unitPrice"]) == 20 and first["serviceEndDate"] == "2024-07-01"
        )  # amount ÷ quantity; end = start
        assert dec(second["chargeAmount"]) == 10  # unit price × quantity
        assert dec(get(zuora, invoice["id"])["amount"]) == 70

    def test_account_by_number_and_status_posted(self, zuora: ZuoraClient) -> None:
        acct = account(zuora, autoPay=True)
        body = {
            "accountNumber": acct["accountNumber"],
            "invoiceDate": "2024-07-11",
            "invoiceItems": [item()],
            "status": "Posted",
        }
        invoice = zuora.ok("POST", "/v1/invoices", body)
        assert (
            invoice["status"] == "Posted" and invoice["invoiceNumber"] == "INV00000001" and invoice["autoPay"] is True
        )
        assert invoice["postedDate"] is not None

    def test_given_number_is_kept_when_posted(self, zuora: ZuoraClient) -> None:
        invoice = standalone(zuora, invoiceNumber="INV-CUSTOM_1")
        post(zuora, invoice["id"])
        assert get(zuora, "INV-CUSTOM_1")["invoiceNumber"] == "INV-CUSTOM_1"
        assert standalone(zuora)["invoiceNumber"] == "INV00000001"

    def test_duplicate_number_is_a_rule_violation(self, zuora: ZuoraClient) -> None:
        standalone(zuora, invoiceNumber="X-1")
        acct = account(zuora)
        body = {
            "accountId": acct["accountId"],
            "invoiceDate": "2024-07-11",
            "invoiceItems": [item()],
            "invoiceNumber": "X-1",
        }
        assert codes(zuora.fail("POST", "/v1/invoices", body, status=400)) == [50000030]

    def test_unknown_account_has_zuoras_code(self, zuora: ZuoraClient, other_zuora: ZuoraClient) -> None:
        theirs = account(other_zuora)["accountId"]
        for key in ("nope", theirs):
            body = {"accountId": key, "invoiceDate": "2024-07-11", "invoiceItems": [item()]}
            failed = zuora.fail("POST", "/v1/invoices", body, status=400)
            assert failed["reasons"] == [{"code": 58490020, "message": f"No account is found with accountId {key}."}]

    def test_account_id_and_number_must_agree(self, zuora: ZuoraClient) -> None:
        one, two = account(zuora), account(zuora)
        body = {
            "accountId": one["accountId"],
            "accountNumber": two["accountNumber"],
            "invoiceDate": "2024-07-11",
            "invoiceItems": [item()],
        }
        assert codes(zuora.fail("POST", "/v1/invoices", body, status=400)) == [50000020]

    def test_missing_fields_are_category_22(self, zuora: ZuoraClient) -> None:
        acct = account(zuora)
        assert codes(zuora.fail("POST", "/v1/invoices", {"invoiceItems": [item()]}, status=400)) == [50000022]
        body = {"accountId": acct["accountId"], "invoiceItems": [{"quantity": 1}]}
        failed = zuora.fail("POST", "/v1/invoices", body, status=400)
        assert set(codes(failed)) == {50000022}
        text = " ".join(r["message"] for r in failed["reasons"])
        for name in (
            "invoiceDate",
            "invoiceItems[0].chargeName",
            "invoiceItems[0].amount",
            "invoiceItems[0].serviceStartDate",
        ):
            assert name in text
        assert codes(
            zuora.fail(
                "POST", "/v1/invoices", {"accountId": acct["accountId"], "invoiceDate": "2024-07-11"}, status=400
            )
        ) == [50000022]

    @pytest.mark.parametrize(
        "change",
        [
            {"currency": "EUR"},
            {"status": "Canceled"},
            {"paymentTerm": "Net 7"},
            {"invoiceNumber": "bad number"},
            {"transferredToAccounting": "Maybe"},
            {"comments": "c" * 256},
            {"invoiceItems": []},
            {"invoiceItems": [item(100, quantity=3, unitPrice=30)]},
            {"invoiceItems": [item("10.005")]},
            {"invoiceItems": [item(serviceEndDate="2024-06-30")]},
            {"invoiceItems": [item(quantity=-1, unitPrice=1, amount=None)]},
            {"invoiceItems": [item(chargeName="c" * 131)]},
            {"invoiceItems": [item(taxMode="Inclusive")]},
            {"invoiceItems": [item(taxItems=[{"name": "VAT"}])]},
            {"invoiceItems": [item(productRatePlanChargeId="8a90" * 8)]},
            {"invoiceItems": [item(discountItems=[{"amount": 5}])]},
            {"invoiceItems": [item(discountItems=[{"amount": -1}] * 11)]},
        ],
    )
    def test_invalid_values_are_category_20(self, zuora: ZuoraClient, change: dict[str, Any]) -> None:
        acct = account(zuora)
        body = {"accountId": acct["accountId"], "invoiceDate": "2024-07-11", "invoiceItems": [item()], **change}
        assert set(codes(zuora.fail("POST", "/v1/invoices", body, status=400))) == {50000020}

    def test_more_than_1000_items_is_refused(self, zuora: ZuoraClient) -> None:
        acct = account(zuora)
        body = {"accountId": acct["accountId"], "invoiceDate": "2024-07-11", "invoiceItems": [item(1)] * 1001}
        assert codes(zuora.fail("POST", "/v1/invoices", body, status=400)) == [50000020]

    def test_closed_period_is_a_rule_violation(self, zuora: ZuoraClient) -> None:
        closed_period(zuora)
        acct = account(zuora)
        body = {"accountId": acct["accountId"], "invoiceDate": "2024-07-31", "invoiceItems": [item()]}
        failed = zuora.fail("POST", "/v1/invoices", body, status=400)
        assert (
            failed["reasons"][0]["code"] == 50000030 and "closed accounting period" in failed["reasons"][0]["message"]
        )
        zuora.ok("POST", "/v1/invoices", {**body, "invoiceDate": "2024-08-01"})

    def test_discount_items_are_lines_applied_to_their_item(self, zuora: ZuoraClient) -> None:
        invoice = standalone(
            zuora, items=[item(100, discountItems=[{"amount": -10, "chargeName": "Promo", "unitPrice": 10}])]
        )
        charge, discount = items_of(zuora, invoice["id"])
        assert discount["appliedToItemId"] == charge["id"] and discount["processingType"] == "Discount"
        assert dec(discount["chargeAmount"]) == -10 and discount["chargeName"] == "Promo"
        assert (discount["serviceStartDate"], discount["serviceEndDate"]) == ("2024-07-01", "2024-07-01")
        assert dec(get(zuora, invoice["id"])["amount"]) == 90

    def test_idempotency_key(self, zuora: ZuoraClient) -> None:
        acct = account(zuora)
        body = {"accountId": acct["accountId"], "invoiceDate": "2024-07-11", "invoiceItems": [item()]}
        first = zuora.request("POST", "/v1/invoices", body, headers={"Idempotency-Key": "inv-1"})
        again = zuora.request("POST", "/v1/invoices", body, headers={"Idempotency-Key": "inv-1"})
        assert first.json()["id"] == again.json()["id"] and again.headers.get("Idempotent-Replayed") == "true"
        other = zuora.request(
            "POST", "/v1/invoices/bulk-post", {"invoices": [{"id": "x"}]}, headers={"Idempotency-Key": "inv-1"}
        )
        assert other.status_code == 422


class TestGetInvoice:
    def test_by_id_or_number_and_not_found(self, zuora: ZuoraClient, other_zuora: ZuoraClient) -> None:
        invoice = standalone(zuora)
        assert get(zuora, invoice["invoiceNumber"])["id"] == get(zuora, invoice["id"])["id"]
        assert codes(zuora.fail("GET", "/v1/invoices/INV99999999", status=404)) == [50000040]
        other_zuora.fail("GET", f"/v1/invoices/{invoice['id']}", status=404)
        other_zuora.fail("GET", f"/v1/invoices/{invoice['id']}/items", status=404)
        zuora.version = "211.0"
        assert zuora.fail("GET", "/v1/invoices/nope", status=200)["reasons"][0]["code"] == 50000040

    def test_items_pages(self, zuora: ZuoraClient) -> None:
        invoice = standalone(zuora, items=[item(i + 1, description=f"#{i}") for i in range(45)])
        key = invoice["invoiceNumber"]
        first = zuora.ok("GET", f"/v1/invoices/{key}/items")
        assert len(first["invoiceItems"]) == 20
        assert first["nextPage"] == f"http://testserver/zuora/v1/invoices/{key}/items?page=2&pageSize=20"
        third = zuora.ok("GET", f"/v1/invoices/{key}/items", params={"page": 3})
        assert [i["description"] for i in third["invoiceItems"]] == [f"#{i}" for i in range(40, 45)]
        assert "nextPage" not in third
        wide = zuora.ok("GET", f"/v1/invoices/{key}/items", params={"pageSize": 100})
        assert len(wide["invoiceItems"]) == 40 and wide["nextPage"].endswith("page=2&pageSize=40")
        assert zuora.ok("GET", f"/v1/invoices/{key}/items", params={"page": 9})["invoiceItems"] == []
        for bad in ({"page": 0}, {"pageSize": 0}, {"pageSize": "x"}):
            assert codes(zuora.fail("GET", f"/v1/invoices/{key}/items", params=bad, status=400)) == [50000020]

    def test_gzip_response_and_track_id(self, zuora: ZuoraClient) -> None:
        invoice = standalone(zuora)
        raw = zuora.client.get(
            f"/zuora/v1/invoices/{invoice['id']}/items",
            headers=zuora.headers({"Accept-Encoding": "gzip", "Zuora-Track-Id": "t-1"}),
        )
        assert raw.headers["Content-Encoding"] == "gzip" and raw.headers["Zuora-Track-Id"] == "t-1"
        assert raw.json()["invoiceItems"][0]["chargeName"] == "Consulting"


class TestPosting:
    def test_post_once(self, zuora: ZuoraClient) -> None:
        invoice = standalone(zuora)
        assert zuora.ok("PUT", f"/v1/invoices/{invoice['invoiceNumber']}/post", {}) == {
            "id": invoice["id"],
            "success": True,
        }
        shown = get(zuora, invoice["id"])
        assert shown["status"] == "Posted" and shown["postedDate"] and dec(shown["balance"]) == 100
        failed = zuora.fail("PUT", f"/v1/invoices/{invoice['id']}/post", {}, status=400)
        assert failed["reasons"] == [{"code": 59210020, "message": "Only invoices with Draft status can be posted."}]
        zuora.version = "211.0"
        zuora.fail("PUT", f"/v1/invoices/{invoice['id']}/post", {}, status=200)

    def test_post_with_a_new_date_and_closed_periods(self, zuora: ZuoraClient) -> None:
        closed_period(zuora)
        invoice = standalone(zuora, invoiceDate="2024-08-05")
        failed = zuora.fail("PUT", f"/v1/invoices/{invoice['id']}/post", {"invoiceDate": "2024-07-15"}, status=400)
        assert codes(failed) == [50000030]
        assert get(zuora, invoice["id"])["status"] == "Draft"
        zuora.ok("PUT", f"/v1/invoices/{invoice['id']}/post", {"invoiceDate": "2024-08-20"})
        assert get(zuora, invoice["id"])["invoiceDate"] == "2024-08-20"

    def test_post_unknown_is_404(self, zuora: ZuoraClient) -> None:
        zuora.fail("PUT", "/v1/invoices/nope/post", {}, status=404)

    def test_bulk_post_reports_each_invoice(self, zuora: ZuoraClient) -> None:
        one, two = standalone(zuora), standalone(zuora)
        post(zuora, two["id"])
        body = {"invoices": [{"id": one["id"], "Batch__c": "b1"}, {"id": two["id"]}, {"id": "missing"}]}
        result = zuora.ok("POST", "/v1/invoices/bulk-post", body)
        assert result["success"] is True
        ok, not_draft, missing = result["invoices"]
        assert ok == {"id": one["id"], "success": True}
        assert not_draft["success"] is False and not_draft["reasons"][0]["code"] == 59210020 and not_draft["processId"]
        assert missing["success"] is False and missing["reasons"][0]["code"] == 50000040
        shown = get(zuora, one["id"])
        assert shown["status"] == "Posted" and shown["Batch__c"] == "b1"

    def test_bulk_post_limits(self, zuora: ZuoraClient) -> None:
        body = {"invoices": [{"id": f"i{n}"} for n in range(51)]}
        assert codes(zuora.fail("POST", "/v1/invoices/bulk-post", body, status=400)) == [50000020]
        assert codes(zuora.fail("POST", "/v1/invoices/bulk-post", {}, status=400)) == [50000022]

    def test_bulk_post_closed_period_fails_alone(self, zuora: ZuoraClient) -> None:
        closed_period(zuora)
        one, two = standalone(zuora, invoiceDate="2024-08-01"), standalone(zuora, invoiceDate="2024-08-01")
        body = {"invoices": [{"id": one["id"], "invoiceDate": "2024-07-02"}, {"id": two["id"]}]}
        first, second = zuora.ok("POST", "/v1/invoices/bulk-post", body)["invoices"]
        assert first["success"] is False and first["reasons"][0]["code"] == 50000030 and second["success"] is True
        assert (get(zuora, one["id"])["status"], get(zuora, one["id"])["invoiceDate"]) == ("Draft", "2024-08-01")


SEED_ITEM_FIELDS: dict[str, Any] = {
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
    "revRecTriggerCondition": "Service Activation Date",
    "sku": "SKU-1",
    "accountingCode": "1000",
    "contractAssetAccountingCode": "1200",
    "unbilledReceivablesAccountingCode": "1300",
    "chargeName": "Consulting (edited)",
    "deferredRevenueAccountingCode": "2000",
    "unitPrice": "120",
    "IntegrationStatus__NS": "Synced",
    "IntegrationId__NS": "ns-item",
    "quantity": "3",
    "revenueRecognitionRuleName": "Ratable",
    "purchaseOrderNumber": "PO-9",
    "adjustmentLiabilityAccountingCode": "2100",
    "amount": "360",
    "serviceStartDate": "2024-07-02",
    "taxCode": "TX",
    "contractRecognizedRevenueAccountingCode": "4200",
    "taxMode": "TaxExclusive",
    "contractLiabilityAccountingCode": "2200",
    "Detail__c": "d",
}
SEED_DISCOUNT_FIELDS: dict[str, Any] = {
    "recognizedRevenueAccountingCode": "4001",
    "description": "Loyalty",
    "revRecCode": "RR-2",
    "adjustmentRevenueAccountingCode": "4101",
    "chargeDate": "2024-07-11 10:00:00",
    "itemType": "Discount",
    "SyncDate__NS": "2024-07-12",
    "revRecTriggerCondition": "ContractEffectiveDate",
    "sku": "SKU-D",
    "accountingCode": "1001",
    "contractAssetAccountingCode": "1201",
    "unbilledReceivablesAccountingCode": "1301",
    "chargeName": "Loyalty discount",
    "deferredRevenueAccountingCode": "2001",
    "unitPrice": "5",
    "IntegrationStatus__NS": "Synced",
    "IntegrationId__NS": "ns-d",
    "revenueRecognitionRuleName": "Ratable",
    "purchaseOrderNumber": "PO-9",
    "adjustmentLiabilityAccountingCode": "2101",
    "amount": "-18",
    "contractRecognizedRevenueAccountingCode": "4201",
    "contractLiabilityAccountingCode": "2201",
}


def bulk(zuora: ZuoraClient, *invoices: dict[str, Any], status: int = 200, **kw: Any) -> dict[str, Any]:
    if status == 200:
        return zuora.ok("PUT", "/v1/invoices", {"invoices": list(invoices)}, **kw)
    return zuora.fail("PUT", "/v1/invoices", {"invoices": list(invoices)}, status=status, **kw)


class TestBulkUpdateSeed004:
    def test_every_seed_field(self, zuora: ZuoraClient) -> None:
        invoice = standalone(zuora, items=[item(100, discountItems=[{"amount": -10, "chargeName": "d"}])])
        charge, discount = items_of(zuora, invoice["id"])
        other = standalone(zuora)
        body = {
            "id": invoice["id"],
            "dueDate": "2024-09-01",
            "IntegrationStatus__NS": "Pending",
            "SyncDate__NS": "2024-07-12",
            "IntegrationId__NS": "ns-inv",
            "autoPay": True,
            "comments": "edited",
            "Region__c": "EMEA",
            "invoiceItems": [
                {
                    "id": charge["id"],
                    **SEED_ITEM_FIELDS,
                    "discountItems": [{"id": discount["id"], **SEED_DISCOUNT_FIELDS}],
                }
            ],
        }
        assert bulk(zuora, body, {"id": other["id"], "invoiceDate": "2024-07-20"}) == {"success": True}
        shown = get(zuora, invoice["id"])
        assert (shown["dueDate"], shown["autoPay"], shown["comments"], shown["Region__c"]) == (
            "2024-09-01",
            True,
            "edited",
            "EMEA",
        )
        assert (shown["IntegrationStatus__NS"], shown["SyncDate__NS"], shown["IntegrationId__NS"]) == (
            "Pending",
            "2024-07-12",
            "ns-inv",
        )
        assert dec(shown["amount"]) == 342  # 3 × 120 − 18
        assert get(zuora, other["id"])["invoiceDate"] == "2024-07-20"
        charge, discount = items_of(zuora, invoice["id"])
        expected = {k: v for k, v in SEED_ITEM_FIELDS.items() if k not in ("uom", "unitPrice", "quantity", "amount")}
        expected["revRecTriggerCondition"] = "ServiceActivationDate"  # stored in the camel-case spelling
        for name, value in expected.items():
            assert charge[name] == value, name
        assert charge["unitOfMeasure"] == "hours"
        assert (dec(charge["unitPrice"]), dec(charge["quantity"]), dec(charge["chargeAmount"])) == (120, 3, 360)
        for name, value in SEED_DISCOUNT_FIELDS.items():
            if name not in ("amount", "unitPrice"):
                assert discount[name] == value, name
        assert (dec(discount["chargeAmount"]), dec(discount["unitPrice"])) == (-18, 5)
        assert discount["appliedToItemId"] == charge["id"]

    def test_seed_body_with_invoice_date_and_transfer(self, zuora: ZuoraClient) -> None:
        draft, posted = standalone(zuora), standalone(zuora)
        post(zuora, posted["id"])
        bulk(
            zuora,
            {"id": draft["id"], "invoiceDate": "2024-07-15"},
            {"id": posted["id"], "transferredToAccounting": "Yes", "autoPay": True},
        )
        assert get(zuora, draft["id"])["invoiceDate"] == "2024-07-15"
        shown = get(zuora, posted["id"])
        assert (shown["transferredToAccounting"], shown["autoPay"]) == ("Yes", True)


class TestDecision8:
    @pytest.mark.parametrize(
        ("change", "allowed"),
        [
            ({"invoiceDate": "2024-07-20"}, {"Draft"}),
            ({"dueDate": "2024-09-01"}, {"Draft"}),
            ({"comments": "c"}, {"Draft"}),
            ({"templateId": "T-1"}, {"Draft"}),
            ({"autoPay": True}, {"Draft", "Posted"}),
            ({"Region__c": "EMEA"}, {"Draft", "Posted"}),
            ({"IntegrationId__NS": "ns"}, {"Draft", "Posted"}),
            ({"transferredToAccounting": "Processing"}, {"Posted"}),
            ({"invoiceItems": [{"description": "x"}]}, {"Draft"}),
        ],
    )
    @pytest.mark.parametrize("status", ["Draft", "Posted", "Canceled"])
    def test_field_by_status(
        self, zuora: ZuoraClient, stripe: StripeClient, change: dict[str, Any], allowed: set[str], status: str
    ) -> None:
        invoice = standalone(zuora)
        if status == "Posted":
            post(zuora, invoice["id"])
        elif status == "Canceled":
            cancel(zuora, stripe, invoice["id"])
        if "invoiceItems" in change:
            change = {"invoiceItems": [{"id": items_of(zuora, invoice["id"])[0]["id"], "description": "x"}]}
        before = get(zuora, invoice["id"])
        if status in allowed:
            bulk(zuora, {"id": invoice["id"], **change})
            return
        failed = bulk(zuora, {"id": invoice["id"], **change}, status=400)
        assert codes(failed) == [50000030] and failed["reasons"][0]["message"].startswith(f"Invoice {invoice['id']}: ")
        assert get(zuora, invoice["id"]) == before

    def test_transfer_status_values(self, zuora: ZuoraClient) -> None:
        invoice = standalone(zuora)
        post(zuora, invoice["id"])
        for value in ("Processing", "Yes", "Error", "Ignore"):
            bulk(zuora, {"id": invoice["id"], "transferredToAccounting": value})
            assert get(zuora, invoice["id"])["transferredToAccounting"] == value
        for value in ("No", "Done"):
            assert codes(bulk(zuora, {"id": invoice["id"], "transferredToAccounting": value}, status=400)) == [50000020]

    def test_invoice_date_and_due_date_together(self, zuora: ZuoraClient) -> None:
        invoice = standalone(zuora)
        failed = bulk(zuora, {"id": invoice["id"], "invoiceDate": "2024-07-20", "dueDate": "2024-09-01"}, status=400)
        assert codes(failed) == [50000020]

    def test_invoice_date_in_closed_period(self, zuora: ZuoraClient) -> None:
        invoice = standalone(zuora, invoiceDate="2024-08-02")
        closed_period(zuora)
        failed = bulk(zuora, {"id": invoice["id"], "invoiceDate": "2024-07-20"}, status=400)
        assert failed["reasons"] == [
            {
                "code": 50000030,
                "message": f"Invoice {invoice['id']}: invoices[0].invoiceDate: "
                "The invoice date cannot be in a closed accounting period.",
            }
        ]

    def test_items_of_any_draft_update_but_add_and_delete_need_standalone(
        self, zuora: ZuoraClient, stripe: StripeClient
    ) -> None:
        acct = account(zuora)
        draft = stripe.ok("POST", "/v1/invoices", {"customer": acct["accountId"], "currency": "usd"})
        draft = stripe.ok(
            "POST", f"/v1/invoices/{draft['id']}/add_lines", {"lines": [{"amount": 1000, "description": "s"}]}
        )
        (line,) = items_of(zuora, draft["id"])
        bulk(zuora, {"id": draft["id"], "invoiceItems": [{"id": line["id"], "quantity": 2, "chargeName": "Two"}]})
        assert stripe.ok("GET", f"/v1/invoices/{draft['id']}")["total"] == 2000
        add = {"id": draft["id"], "invoiceItems": [item()]}
        assert codes(bulk(zuora, add, status=400)) == [50000030]
        delete = {"id": draft["id"], "invoiceItems": [{"id": line["id"], "delete": True}]}
        assert codes(bulk(zuora, delete, status=400)) == [50000030]
        discount = {"id": draft["id"], "invoiceItems": [{"id": line["id"], "discountItems": [{"amount": -1}]}]}
        assert codes(bulk(zuora, discount, status=400)) == [50000030]

    def test_add_and_delete_on_a_standalone_draft(self, zuora: ZuoraClient) -> None:
        invoice = standalone(zuora, items=[item(100, discountItems=[{"amount": -10}]), item(50)])
        first, discount, second = items_of(zuora, invoice["id"])
        bulk(
            zuora,
            {
                "id": invoice["id"],
                "invoiceItems": [
                    {"id": first["id"], "delete": True},
                    item(7, chargeName="Added", bookingReference="B-1", discountItems=[{"amount": -2}]),
                    {"id": second["id"], "discountItems": [{"amount": "-5", "chargeName": "late"}]},
                ],
            },
        )
        rows = items_of(zuora, invoice["id"])
        assert [r["chargeName"] for r in rows] == ["Consulting", "Added", None, "late"]
        added = rows[1]
        assert added["bookingReference"] == "B-1" and rows[2]["appliedToItemId"] == added["id"]
        assert rows[3]["appliedToItemId"] == second["id"] and rows[3]["serviceStartDate"] == second["serviceStartDate"]
        assert dec(get(zuora, invoice["id"])["amount"]) == 50 + 7 - 2 - 5
        assert discount["id"] not in {r["id"] for r in rows}

    @pytest.mark.parametrize(
        ("entry", "code"),
        [
            ({"delete": True}, 50000020),
            ({"id": "ii_nope", "description": "x"}, 50000040),
            ({"id": "FIRST", "bookingReference": "B"}, 50000020),
            ({"id": "FIRST", "amount": "10.001"}, 50000020),
            ({"id": "FIRST", "amount": 10, "unitPrice": 3, "quantity": 3}, 50000020),
            ({"id": "FIRST", "quantity": -1}, 50000020),
            ({"id": "FIRST", "serviceEndDate": "2024-06-01"}, 50000020),
            ({"id": "FIRST", "taxMode": "Both"}, 50000020),
            ({"id": "FIRST", "revRecTriggerCondition": "Whenever"}, 50000020),
            ({"id": "FIRST", "chargeDate": "yesterday"}, 50000020),
            ({"id": "FIRST", "discountItems": [{"id": "ii_nope", "amount": -1}]}, 50000040),
            ({"id": "FIRST", "discountItems": [{"amount": 3}]}, 50000020),
            ({"id": "FIRST", "taxItems": [{}] * 6}, 50000020),
            ({"id": "FIRST", "discountItems": [{"amount": -1}] * 11}, 50000020),
            ({"chargeName": "c", "amount": 1, "serviceStartDate": "2024-07-01", "taxItems": [{"name": "t"}]}, 50000020),
            ({"chargeName": "c", "amount": 1}, 50000022),
        ],
    )
    def test_item_entries_refused(self, zuora: ZuoraClient, entry: dict[str, Any], code: int) -> None:
        invoice = standalone(zuora)
        first = items_of(zuora, invoice["id"])[0]["id"]
        entry = {k: (first if v == "FIRST" else v) for k, v in entry.items()}
        before = items_of(zuora, invoice["id"])
        failed = bulk(zuora, {"id": invoice["id"], "invoiceItems": [entry]}, status=400 if code != 50000040 else 404)
        assert codes(failed) == [code]
        assert items_of(zuora, invoice["id"]) == before

    def test_item_of_another_invoice_is_not_found(self, zuora: ZuoraClient) -> None:
        mine, theirs = standalone(zuora), standalone(zuora)
        foreign = items_of(zuora, theirs["id"])[0]["id"]
        assert codes(bulk(zuora, {"id": mine["id"], "invoiceItems": [{"id": foreign, "quantity": 2}]}, status=404)) == [
            50000040
        ]

    def test_amount_alone_sets_the_unit_price(self, zuora: ZuoraClient) -> None:
        invoice = standalone(zuora, items=[item(30, quantity=3)])
        (line,) = items_of(zuora, invoice["id"])
        bulk(zuora, {"id": invoice["id"], "invoiceItems": [{"id": line["id"], "amount": 100}]})
        (line,) = items_of(zuora, invoice["id"])
        assert dec(line["chargeAmount"]) == 100 and dec(line["quantity"]) == 3
        assert dec(line["unitPrice"]) * 3 == pytest.approx(Decimal(100), abs=Decimal("0.000001"))
        bulk(zuora, {"id": invoice["id"], "invoiceItems": [{"id": line["id"], "quantity": 1, "unitPrice": "19.99"}]})
        assert dec(get(zuora, invoice["id"])["amount"]) == Decimal("19.99")


class TestBulkUpdateRules:
    def test_all_or_nothing_with_a_reason_per_invoice(self, zuora: ZuoraClient) -> None:
        good, posted = standalone(zuora), standalone(zuora)
        post(zuora, posted["id"])
        before = (get(zuora, good["id"]), get(zuora, posted["id"]))
        failed = bulk(
            zuora,
            {"id": good["id"], "comments": "would change"},
            {"id": posted["id"], "comments": "no", "dueDate": "2024-09-01"},
            {"id": "missing-invoice", "comments": "x"},
            {"id": good["id"], "autoPay": True},
            status=400,
        )
        messages = [r["message"] for r in failed["reasons"]]
        assert codes(failed) == [50000030, 50000030, 50000040, 50000020]
        assert messages[0].startswith(f"Invoice {posted['id']}: invoices[1].comments")
        assert messages[1].startswith(f"Invoice {posted['id']}: invoices[1].dueDate")
        assert (
            messages[2]
            == "Invoice missing-invoice: invoices[2].id: Cannot find a Invoice instance with id missing-invoice."
        )
        assert "appears more than once" in messages[3]
        assert (get(zuora, good["id"]), get(zuora, posted["id"])) == before

    def test_legacy_version_is_http_200(self, zuora: ZuoraClient) -> None:
        zuora.version = "211.0"
        failed = zuora.fail("PUT", "/v1/invoices", {"invoices": [{"id": "nope", "comments": "x"}]}, status=200)
        assert failed["success"] is False and codes(failed) == [50000040]

    def test_limits(self, zuora: ZuoraClient) -> None:
        invoice = standalone(zuora)
        assert codes(bulk(zuora, *[{"id": invoice["id"]}] * 51, status=400)) == [50000020]
        assert codes(zuora.fail("PUT", "/v1/invoices", {"invoices": []}, status=400)) == [50000020]
        assert codes(zuora.fail("PUT", "/v1/invoices", {}, status=400)) == [50000022]
        too_many = {"id": invoice["id"], "invoiceItems": [{"id": "x", "description": "d"}] * 1001}
        failed = bulk(zuora, too_many, status=400)
        assert codes(failed) == [50000020] and failed["reasons"][0]["message"].startswith(f"Invoice {invoice['id']}:")
        assert codes(bulk(zuora, {"id": invoice["id"], "comments": "c" * 256}, status=400)) == [50000020]
        assert codes(bulk(zuora, {"id": invoice["id"], "templateId": "t" * 33}, status=400)) == [50000020]
        assert codes(zuora.fail("PUT", "/v1/invoices", "{not json", status=400)) == [50000090]

    def test_gzip_body_and_track_id(self, zuora: ZuoraClient) -> None:
        invoice = standalone(zuora)
        body = {"invoices": [{"id": invoice["id"], "comments": "zipped"}]}
        response = zuora.request(
            "PUT", "/v1/invoices", gzipped(body), headers={"Content-Encoding": "gzip", "Zuora-Track-Id": "bulk-7"}
        )
        assert response.status_code == 200 and response.json() == {"success": True}
        assert response.headers["Zuora-Track-Id"] == "bulk-7"
        assert get(zuora, invoice["id"])["comments"] == "zipped"
        # Gzip bytes are recognised by their magic number even without the header.
        sniffed = zuora.request("PUT", "/v1/invoices", gzip.compress(json.dumps(body).encode()))
        assert sniffed.status_code == 200
        # zuora-sdk's content_encoding= sets the header without compressing: plain JSON still parses.
        plain = zuora.request("PUT", "/v1/invoices", json.dumps(body), headers={"Content-Encoding": "gzip"})
        assert plain.status_code == 200 and plain.json() == {"success": True}

    def test_stripe_draft_due_date_makes_it_sent(self, zuora: ZuoraClient, stripe: StripeClient) -> None:
        acct = account(zuora)
        draft = stripe.ok("POST", "/v1/invoices", {"customer": acct["accountId"], "currency": "usd"})
        bulk(zuora, {"id": draft["id"], "dueDate": "2030-01-31"})
        seen = stripe.ok("GET", f"/v1/invoices/{draft['id']}")
        assert seen["collection_method"] == "send_invoice" and seen["due_date"] == 1896048000
        post(zuora, draft["id"])
        assert get(zuora, draft["id"])["dueDate"] == "2030-01-31"


class TestSingleUpdate:
    def test_returns_the_update_shape(self, zuora: ZuoraClient) -> None:
        invoice = standalone(zuora)
        line = items_of(zuora, invoice["id"])[0]
        body = zuora.ok(
            "PUT",
            f"/v1/invoices/{invoice['invoiceNumber']}",
            {"comments": "single", "Region__c": "EU", "invoiceItems": [{"id": line["id"], "amount": 80}]},
        )
        assert body["success"] is True and body["number"] == invoice["invoiceNumber"] and body["comment"] == "single"
        assert dec(body["amount"]) == 80 and body["Region__c"] == "EU" and body["status"] == "Draft"
        assert {"postedOn", "postedById", "cancelledOn", "transferredToAccounting"} <= set(body)
        assert "invoiceNumber" not in body and "comments" not in body

    def test_unknown_and_refused(self, zuora: ZuoraClient) -> None:
        zuora.fail("PUT", "/v1/invoices/INV-NOPE", {"comments": "x"}, status=404)
        invoice = standalone(zuora)
        failed = zuora.fail("PUT", f"/v1/invoices/{invoice['id']}", {"transferredToAccounting": "Yes"}, status=400)
        assert codes(failed) == [50000030]
        assert codes(zuora.fail("PUT", f"/v1/invoices/{invoice['id']}", {"invoiceItems": []}, status=400)) == [50000020]


class TestCreditMemos:
    @pytest.fixture
    def memo(self, zuora: ZuoraClient, client: TestClient) -> dict[str, Any]:
        invoice = standalone(zuora, items=[item(60, quantity=2, sku="W-1", uom="each")])
        make_credit_memo(client, invoice["id"], "CM00000001")
        return invoice

    @pytest.mark.parametrize("spelling", ["credit-memos", "creditmemos"])
    def test_read_shape(self, zuora: ZuoraClient, memo: dict[str, Any], spelling: str) -> None:
        for key in (memo["id"], "CM00000001"):
            body = zuora.ok("GET", f"/v1/{spelling}/{key}")
            assert body["id"] == memo["id"] and body["number"] == "CM00000001"
            assert (body["status"], body["reasonCode"], body["sourceType"], body["source"]) == (
                "Draft",
                "Return Order",
                "Order",
                "API",
            )
            assert dec(body["amount"]) == 60 and dec(body["unappliedAmount"]) == 60 and body["currency"] == "USD"
            assert body["creditMemoDate"] == "2024-07-11"
        items = zuora.ok("GET", f"/v1/{spelling}/CM00000001/items")
        (line,) = items["items"]
        assert (dec(line["amount"]), dec(line["quantity"]), dec(line["unitPrice"])) == (60, 2, 30)
        assert (line["sku"], line["unitOfMeasure"], line["skuName"]) == ("W-1", "each", "Consulting")

    def test_credit_memos_are_not_invoices(
        self, zuora: ZuoraClient, stripe: StripeClient, memo: dict[str, Any]
    ) -> None:
        zuora.fail("GET", f"/v1/invoices/{memo['id']}", status=404)
        zuora.fail("GET", "/v1/invoices/CM00000001/items", status=404)
        zuora.fail("PUT", f"/v1/invoices/{memo['id']}/post", {}, status=404)
        assert codes(bulk(zuora, {"id": memo["id"], "comments": "x"}, status=404)) == [50000040]
        invoice = standalone(zuora)
        zuora.fail("GET", f"/v1/credit-memos/{invoice['id']}", status=404)
        zuora.fail("GET", "/v1/credit-memos/nope/items", status=404)
        # The Stripe dialect never shows credit memos.
        stripe.error("GET", f"/v1/invoices/{memo['id']}", status=404)
        stripe.error("POST", f"/v1/invoices/{memo['id']}/finalize", status=404)
        stripe.error("POST", f"/v1/invoices/{memo['id']}", {"description": "x"}, status=404)
        stripe.error("GET", f"/v1/invoices/{memo['id']}/lines", status=404)
        stripe.error("POST", f"/v1/invoices/{memo['id']}/add_lines", {"lines": [{"amount": 5}]}, status=404)
        stripe.error("POST", "/v1/invoiceitems", {"customer": memo["accountId"], "amount": 5, "invoice": memo["id"]})
        assert stripe.ok("GET", "/v1/invoiceitems", {"invoice": memo["id"]})["data"] == []
        listed = stripe.ok("GET", "/v1/invoices", {"limit": 100})["data"]
        assert invoice["id"] in {i["id"] for i in listed} and memo["id"] not in {i["id"] for i in listed}


class TestExactDecimals:
    def test_a_unit_price_with_nine_decimals_goes_out_exactly(self, zuora: ZuoraClient) -> None:
        invoice = standalone(zuora, items=[item("100000000.00", quantity=1, unitPrice="99999999.999999999")])
        for response in (
            zuora.request("GET", f"/v1/invoices/{invoice['id']}/items"),
            zuora.request("GET", f"/v1/invoices/{invoice['id']}/items", headers={"Accept-Encoding": "gzip"}),
        ):
            assert response.status_code == 200, response.text
            (line,) = json.loads(response.text, parse_float=Decimal)["invoiceItems"]
            assert line["unitPrice"] == Decimal("99999999.999999999")
            assert '"unitPrice":99999999.999999999' in response.text  # a JSON number, every digit
            assert line["chargeAmount"] == 100000000
