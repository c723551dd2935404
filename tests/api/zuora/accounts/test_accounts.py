"""Zuora accounts (§6.1), multi-org scoping (Decision 10, §1.12) and accounting periods (§6.2)."""

from __future__ import annotations

import gzip
import re
from typing import Any

import pytest

from tests.helpers import StripeClient, ZuoraClient
from tests.helpers.zuora import CONTACT, account, codes, gzipped, standalone


class TestCreateAccount:
    def test_minimal_account_gets_a_number_and_defaults(self, zuora: ZuoraClient) -> None:
        created = account(zuora)
        assert set(created) == {"success", "accountId", "accountNumber"}
        assert re.fullmatch(r"A\d{8}", created["accountNumber"])
        body = zuora.ok("GET", f"/v1/accounts/{created['accountId']}")
        assert body["basicInfo"] == {
            "id": created["accountId"],
            "accountNumber": created["accountNumber"],
            "name": "Acme Corp",
            "status": "Active",
            "organizationLabel": None,
        }
        assert body["billingAndPayment"] == {
            "currency": "USD",
            "billCycleDay": 0,
            "paymentTerm": "Due Upon Receipt",
            "autoPay": False,
        }
        bill_to, sold_to = body["billToContact"], body["soldToContact"]
        assert re.fullmatch(r"[0-9a-f]{32}", bill_to["id"]) and re.fullmatch(r"[0-9a-f]{32}", sold_to["id"])
        assert bill_to["id"] != sold_to["id"]
        for contact in (bill_to, sold_to):  # soldTo defaults to a copy of billTo
            assert {k: contact[k] for k in CONTACT} == CONTACT
            assert contact["accountId"] == created["accountId"]
            assert contact["accountNumber"] == created["accountNumber"]
            assert contact["city"] is None

    def test_numbers_are_sequential_per_tenant(self, zuora: ZuoraClient, other_zuora: ZuoraClient) -> None:
        first, second = account(zuora)["accountNumber"], account(zuora)["accountNumber"]
        assert (first, second) == ("A00000001", "A00000002")
        assert account(other_zuora)["accountNumber"] == "A00000001"

    def test_every_field_is_stored_and_read_back(self, zuora: ZuoraClient) -> None:
        sold_to = {**CONTACT, "firstName": "Grace", "city": "Arlington", "zipCode": "22201", "mobilePhone": "+1 555"}
        created = account(
            zuora,
            accountNumber="ACME-1",
            soldToContact=sold_to,
            billCycleDay=31,
            autoPay=True,
            paymentTerm="Net 30",
            organizationLabel="EU",
            ErpCustomerId__c="C-1001",
            IntegrationId__NS="ns-1",
            Priority__c=3,
        )
        assert created["accountNumber"] == "ACME-1"
        body = zuora.ok("GET", "/v1/accounts/ACME-1")
        assert body["basicInfo"]["organizationLabel"] == "EU"
        assert body["basicInfo"]["ErpCustomerId__c"] == "C-1001"
        assert body["basicInfo"]["IntegrationId__NS"] == "ns-1" and body["basicInfo"]["Priority__c"] == 3
        assert body["billingAndPayment"] == {
            "currency": "USD",
            "billCycleDay": 31,
            "paymentTerm": "Net 30",
            "autoPay": True,
        }
        assert body["soldToContact"]["firstName"] == "Grace" and body["soldToContact"]["zipCode"] == "22201"
        assert body["billToContact"]["firstName"] == "Ada"

    def test_existing_account_number_is_a_rule_violation(self, zuora: ZuoraClient) -> None:
        account(zuora, accountNumber="DUP-1")
        body = {"name": "Again", "currency": "USD", "billToContact": CONTACT, "accountNumber": "DUP-1"}
        assert codes(zuora.fail("POST", "/v1/accounts", body, status=400)) == [50000030]

    def test_generated_numbers_skip_numbers_taken_by_hand(self, zuora: ZuoraClient) -> None:
        account(zuora, accountNumber="A00000001")
        assert account(zuora)["accountNumber"] == "A00000002"

    def test_missing_required_fields_are_category_22(self, zuora: ZuoraClient) -> None:
        body = zuora.fail("POST", "/v1/accounts", {"billToContact": {"firstName": "Ada"}}, status=400)
        messages = " ".join(r["message"] for r in body["reasons"])
        assert set(codes(body)) == {50000022}
        for name in ("name", "currency", "billToContact.lastName"):
            assert name in messages

    @pytest.mark.parametrize(
        "field",
        [
            {"currency": "XYZ"},
            {"currency": "USDX"},
            {"paymentTerm": "Net 45"},
            {"billCycleDay": 32},
            {"billCycleDay": -1},
            {"name": ""},
            {"name": "n" * 256},
            {"billToContact": {**CONTACT, "firstName": "f" * 101}},
            {"billToContact": {**CONTACT, "zipCode": "z" * 21}},
            {"accountNumber": "a" * 71},
            {"IntegrationId__NS": "x" * 256},
            {"Nested__c": {"a": 1}},
        ],
    )
    def test_invalid_values_are_category_20(self, zuora: ZuoraClient, field: dict[str, Any]) -> None:
        body = {"name": "Acme", "currency": "USD", "billToContact": CONTACT, **field}
        assert codes(zuora.fail("POST", "/v1/accounts", body, status=400)) == [50000020]

    def test_legacy_version_answers_errors_with_http_200(self, zuora: ZuoraClient) -> None:
        zuora.version = "211.0"
        body = zuora.fail("POST", "/v1/accounts", {"name": "x"}, status=200)
        assert body["success"] is False and 50000022 in codes(body)
        assert zuora.fail("GET", "/v1/accounts/A99999999", status=200)["reasons"][0]["code"] == 50000040

    def test_idempotency_key_replays_the_first_result(self, zuora: ZuoraClient) -> None:
        body = {"name": "Acme", "currency": "USD", "billToContact": CONTACT}
        first = zuora.request("POST", "/v1/accounts", body, headers={"Idempotency-Key": "acct-1"})
        again = zuora.request("POST", "/v1/accounts", body, headers={"Idempotency-Key": "acct-1"})
        assert first.json() == again.json() and again.headers.get("Idempotent-Replayed") == "true"
        assert account(zuora)["accountNumber"] == "A00000002"  # the replay created nothing


class TestGetAccount:
    def test_unknown_account_is_404(self, zuora: ZuoraClient) -> None:
        body = zuora.fail("GET", "/v1/accounts/nope", status=404)
        assert codes(body) == [50000040]

    def test_other_tenants_accounts_do_not_exist(self, zuora: ZuoraClient, other_zuora: ZuoraClient) -> None:
        created = account(zuora)
        other_zuora.fail("GET", f"/v1/accounts/{created['accountId']}", status=404)
        other_zuora.fail("GET", f"/v1/accounts/{created['accountNumber']}", status=404)

    def test_one_core_stripe_customer_is_an_account(self, zuora: ZuoraClient, stripe: StripeClient) -> None:
        customer = stripe.ok("POST", "/v1/customers", {"name": "Stripe Co", "email": "s@example.com"})
        body = zuora.ok("GET", f"/v1/accounts/{customer['id']}")
        assert body["basicInfo"]["id"] == customer["id"] and body["basicInfo"]["name"] == "Stripe Co"
        assert body["basicInfo"]["accountNumber"] is None and body["billToContact"] is None
        created = account(zuora, name="Zuora Co")
        seen = stripe.ok("GET", f"/v1/customers/{created['accountId']}")
        assert seen["name"] == "Zuora Co" and seen["email"] == "ada@example.com" and seen["currency"] == "usd"

    def test_track_id_is_echoed_and_request_id_sent(self, zuora: ZuoraClient) -> None:
        created = account(zuora)
        response = zuora.request("GET", f"/v1/accounts/{created['accountId']}", headers={"Zuora-Track-Id": "run-42"})
        assert response.headers["Zuora-Track-Id"] == "run-42" and response.headers["Zuora-Request-Id"]

    def test_gzip_request_and_response(self, zuora: ZuoraClient) -> None:
        body = {"name": "Gzip Co", "currency": "EUR", "billToContact": CONTACT}
        response = zuora.request(
            "POST", "/v1/accounts", gzipped(body), headers={"Content-Encoding": "gzip", "Accept-Encoding": "identity"}
        )
        assert response.status_code == 200, response.text
        account_id = response.json()["accountId"]
        raw = zuora.client.get(f"/zuora/v1/accounts/{account_id}", headers=zuora.headers({"Accept-Encoding": "gzip"}))
        assert raw.headers["Content-Encoding"] == "gzip" and raw.json()["basicInfo"]["name"] == "Gzip Co"
        small = zuora.request("GET", "/v1/accounts/none", headers={"Accept-Encoding": "gzip"})
        assert "Content-Encoding" not in small.headers  # under 1000 bytes: sent as is
        assert gzip.decompress(gzip.compress(b"x")) == b"x"


class TestOrgScope:
    def test_org_ids_restrict_reads(self, zuora: ZuoraClient) -> None:
        eu, us, none = account(zuora, organizationLabel="EU"), account(zuora, organizationLabel="US"), account(zuora)
        eu_only = {"Zuora-Org-Ids": "EU"}
        zuora.ok("GET", f"/v1/accounts/{eu['accountId']}", headers=eu_only)
        for hidden in (us, none):  # outside the scope: not found; no org: in scope only without the header
            assert codes(zuora.fail("GET", f"/v1/accounts/{hidden['accountId']}", headers=eu_only, status=404)) == [
                50000040
            ]
        zuora.ok("GET", f"/v1/accounts/{us['accountId']}", headers={"Zuora-Org-Ids": "EU, US"})
        zuora.ok("GET", f"/v1/accounts/{none['accountId']}")

    def test_an_org_the_tenant_does_not_have_is_403(self, zuora: ZuoraClient, other_zuora: ZuoraClient) -> None:
        created = account(zuora, organizationLabel="EU")
        account(other_zuora, organizationLabel="APAC")
        for orgs in ("APAC", "EU,APAC"):
            body = zuora.fail(
                "GET", f"/v1/accounts/{created['accountId']}", headers={"Zuora-Org-Ids": orgs}, status=403
            )
            assert codes(body) == [50000010]
        zuora.version = "211.0"
        zuora.fail("GET", f"/v1/accounts/{created['accountId']}", headers={"Zuora-Org-Ids": "APAC"}, status=200)

    def test_creating_under_org_ids_stays_inside_them(self, zuora: ZuoraClient) -> None:
        account(zuora, organizationLabel="EU")
        body = {"name": "x", "currency": "USD", "billToContact": CONTACT}
        scoped = {"Zuora-Org-Ids": "EU"}
        zuora.ok("POST", "/v1/accounts", {**body, "organizationLabel": "EU"}, headers=scoped)
        assert codes(
            zuora.fail("POST", "/v1/accounts", {**body, "organizationLabel": "US"}, headers=scoped, status=403)
        ) == [50000010]
        zuora.fail("POST", "/v1/accounts", body, headers=scoped, status=403)

    def test_documents_follow_their_account_org(self, zuora: ZuoraClient) -> None:
        eu, us = account(zuora, organizationLabel="EU"), account(zuora, organizationLabel="US")
        invoice = standalone(zuora, eu["accountId"])
        scoped = {"Zuora-Org-Ids": "US"}
        zuora.fail("GET", f"/v1/invoices/{invoice['id']}", headers=scoped, status=404)
        zuora.fail("GET", f"/v1/invoices/{invoice['id']}/items", headers=scoped, status=404)
        zuora.fail("PUT", f"/v1/invoices/{invoice['id']}/post", {}, headers=scoped, status=404)
        zuora.fail("PUT", f"/v1/invoices/{invoice['id']}", {"comments": "x"}, headers=scoped, status=404)
        body = zuora.fail(
            "PUT", "/v1/invoices", {"invoices": [{"id": invoice["id"], "comments": "x"}]}, headers=scoped, status=404
        )
        assert invoice["id"] in body["reasons"][0]["message"]
        new = {
            "accountId": eu["accountId"],
            "invoiceDate": "2024-07-11",
            "invoiceItems": [{"chargeName": "c", "amount": 1, "serviceStartDate": "2024-07-01"}],
        }
        assert codes(zuora.fail("POST", "/v1/invoices", new, headers=scoped, status=400)) == [58490020]
        listed = zuora.ok("GET", "/object-query/invoices", headers=scoped)
        assert listed["data"] == []
        assert zuora.ok("GET", f"/v1/invoices/{invoice['id']}", headers={"Zuora-Org-Ids": "EU"})["id"] == invoice["id"]
        assert us["accountId"]


class TestAccountingPeriods:
    def period(self, zuora: ZuoraClient, **fields: Any) -> dict[str, Any]:
        body = {"name": "2024-07", "startDate": "2024-07-01", "endDate": "2024-07-31", "fiscalYear": 2024, **fields}
        return zuora.ok("POST", "/v1/accounting-periods", body)

    def test_create_close_reopen(self, zuora: ZuoraClient) -> None:
        created = self.period(zuora, fiscalQuarter=3, notes="Q3 July")
        assert set(created) == {"success", "id"} and re.fullmatch(r"[0-9a-f]{32}", created["id"])
        path = f"/v1/accounting-periods/{created['id']}"
        shown = zuora.ok("GET", path)
        assert (shown["status"], shown["name"], shown["fiscalQuarter"], shown["notes"]) == (
            "Open",
            "2024-07",
            3,
            "Q3 July",
        )
        assert zuora.ok("PUT", path + "/close") == {"success": True}
        assert zuora.ok("GET", path)["status"] == "Closed"
        assert codes(zuora.fail("PUT", path + "/close", status=400)) == [50000030]
        assert zuora.ok("PUT", path + "/reopen") == {"success": True}
        assert codes(zuora.fail("PUT", path + "/reopen", status=400)) == [50000030]

    def test_unknown_period_is_404(self, zuora: ZuoraClient, other_zuora: ZuoraClient) -> None:
        created = self.period(zuora)
        for verb in ("close", "reopen"):
            zuora.fail("PUT", f"/v1/accounting-periods/{'0' * 32}/{verb}", status=404)
            other_zuora.fail("PUT", f"/v1/accounting-periods/{created['id']}/{verb}", status=404)

    def test_names_are_unique_and_periods_do_not_overlap(self, zuora: ZuoraClient) -> None:
        self.period(zuora)
        same_name = {"startDate": "2024-08-01", "endDate": "2024-08-31"}
        assert codes(
            zuora.fail(
                "POST", "/v1/accounting-periods", {"name": "2024-07", "fiscalYear": 2024, **same_name}, status=400
            )
        ) == [50000030]
        overlap = {"name": "mid", "startDate": "2024-07-31", "endDate": "2024-08-15", "fiscalYear": 2024}
        assert codes(zuora.fail("POST", "/v1/accounting-periods", overlap, status=400)) == [50000030]
        self.period(zuora, name="2024-08", startDate="2024-08-01", endDate="2024-08-31")

    @pytest.mark.parametrize(
        "fields",
        [
            {"endDate": "2024-06-30"},
            {"fiscalQuarter": 5},
            {"name": ""},
            {"name": "n" * 101},
            {"notes": "n" * 256},
            {"startDate": "2024-13-01"},
            {"fiscalYear": "MMXXIV"},
        ],
    )
    def test_invalid_values_are_category_20(self, zuora: ZuoraClient, fields: dict[str, Any]) -> None:
        body = {"name": "p", "startDate": "2024-07-01", "endDate": "2024-07-31", "fiscalYear": 2024, **fields}
        assert codes(zuora.fail("POST", "/v1/accounting-periods", body, status=400)) == [50000020]

    def test_missing_fields_are_category_22(self, zuora: ZuoraClient) -> None:
        body = zuora.fail("POST", "/v1/accounting-periods", {}, status=400)
        assert codes(body) == [50000022] * 4
