"""Input exactly as strict as the wire formats (issue 12, defects 4, 5, 11 and 12), on both databases.

Each class reproduces one defect as it was found: the request that was accepted (or answered 500),
now refused in the dialect's envelope naming the field, with nothing written.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from bulkbill.core.money import MAX_AMOUNT, MAX_QUANTITY, MAX_TOTAL
from bulkbill.core.time_range import MAX_ANCHOR_TIMESTAMP, MAX_TIMESTAMP
from tests.helpers import StripeClient, ZuoraClient
from tests.helpers.zuora import account, item, standalone


def zuora_reason(body: dict[str, Any], field: str) -> str:
    """The message of the category-20 reason naming `field` (its Zuora path); fails when there is none."""
    for reason in body["reasons"]:
        if reason["code"] % 100 == 20 and reason["message"].startswith(field + ":"):
            return str(reason["message"])
    raise AssertionError(f"no category-20 reason names {field}: {body['reasons']}")


def invoice_count(zuora: ZuoraClient, account_id: str) -> int:
    query = {"filter[]": f"accountId.EQ:{account_id}", "pageSize": 50}
    return len(zuora.ok("GET", "/object-query/invoices", params=query)["data"])


class TestLenientParsing:
    """Defect 11: Python's int()/Decimal()/date.fromisoformat and a lenient gunzip accepted too much."""

    @pytest.mark.parametrize("text", ["1_000", "١٢٣", "１２", " 12", "12 ", "1__0"])
    def test_stripe_numbers_take_ascii_digits_only(self, stripe: StripeClient, text: str) -> None:
        error = stripe.error("POST", "/v1/customers", {"name": "A", "balance": text})
        assert (error["param"], error["code"]) == ("balance", "parameter_invalid_integer")
        body = {"currency": "usd", "unit_amount_decimal": text, "product_data": {"name": "W"}}
        assert stripe.error("POST", "/v1/prices", body)["param"] == "unit_amount_decimal"
        assert stripe.ok("GET", "/v1/prices")["data"] == []

    @pytest.mark.parametrize("text", ["1_000", "١٢٣", "１２", " 12", "1e3 ", "0x10"])
    def test_zuora_numbers_take_ascii_digits_only(self, zuora: ZuoraClient, text: str) -> None:
        acct = account(zuora)
        body = {"accountId": acct["accountId"], "invoiceDate": "2024-07-11", "invoiceItems": [item(text)]}
        zuora_reason(zuora.fail("POST", "/v1/invoices", body, status=400), "invoiceItems[0].amount")
        body = {"name": "P", "startDate": "2031-01-01", "endDate": "2031-01-31", "fiscalYear": "2_031"}
        zuora_reason(zuora.fail("POST", "/v1/accounting-periods", body, status=400), "fiscalYear")
        zuora.fail("GET", f"/v1/invoices/{'0' * 32}/items", params={"page": "1_0"}, status=400)
        assert invoice_count(zuora, acct["accountId"]) == 0
        # The same numbers in ASCII are read as before.
        standalone(zuora, acct["accountId"], [item("1000")])
        zuora.ok("POST", "/v1/accounting-periods", {**body, "fiscalYear": "2031"})

    @pytest.mark.parametrize("text", ["20240711", "2024-W28-4", "2024-07-11T00:00:00", "2024-07-11x", "٢٠٢٤-07-11"])
    def test_zuora_dates_are_yyyy_mm_dd(self, zuora: ZuoraClient, text: str) -> None:
        acct = account(zuora)
        body = {"accountId": acct["accountId"], "invoiceDate": text, "invoiceItems": [item()]}
        zuora_reason(zuora.fail("POST", "/v1/invoices", body, status=400), "invoiceDate")
        query = {"filter[]": f"invoiceDate.GE:{text}"}
        refused = zuora.fail("GET", "/object-query/invoices", params=query, status=400)
        assert refused["reasons"][0]["code"] % 100 == 27
        assert invoice_count(zuora, acct["accountId"]) == 0
        # The SDK's own pattern lets months and days have one digit.
        assert standalone(zuora, acct["accountId"], invoiceDate="2024-7-1")["invoiceDate"] == "2024-07-01"

    @pytest.mark.parametrize("text", ["2024-07-01 25:00:00", "2024-02-30 10:00:00", "2024-07-01T10:00:00"])
    def test_zuora_charge_dates_are_real_date_times(self, zuora: ZuoraClient, text: str) -> None:
        acct = account(zuora)
        body = {"accountId": acct["accountId"], "invoiceDate": "2024-07-11", "invoiceItems": [item(chargeDate=text)]}
        zuora_reason(zuora.fail("POST", "/v1/invoices", body, status=400), "invoiceItems[0].chargeDate")
        assert invoice_count(zuora, acct["accountId"]) == 0

    def test_gzip_bodies_must_be_whole(self, zuora: ZuoraClient) -> None:
        body = json.dumps({"name": "Acme", "currency": "USD", "billToContact": {"firstName": "A", "lastName": "B"}})
        packed = gzip.compress(body.encode())
        for broken in (packed[:-8], packed[:-1], packed + b"junk", packed + packed):
            refused = zuora.fail("POST", "/v1/accounts", broken, status=400)
            assert refused["reasons"][0]["code"] % 100 == 90
        assert zuora.ok("GET", "/object-query/invoices")["data"] == []  # nothing was created meanwhile
        created = zuora.ok("POST", "/v1/accounts", packed)
        assert created["accountNumber"] == "A00000001"  # the whole body is read; no number went to a refused one

    def test_custom_field_values_hold_255_characters(self, zuora: ZuoraClient) -> None:
        acct = account(zuora)
        body = {"accountId": acct["accountId"], "invoiceDate": "2024-07-11", "invoiceItems": [item()]}
        zuora_reason(zuora.fail("POST", "/v1/invoices", {**body, "x__c": "a" * 256}, status=400), "x__c")
        nested = {**body, "invoiceItems": [item(y__c="b" * 100_000)]}
        zuora_reason(zuora.fail("POST", "/v1/invoices", nested, status=400), "invoiceItems[0].y__c")
        order = {
            "orderDate": "2024-07-01",
            "existingAccountNumber": acct["accountNumber"],
            "customFields": {"z__c": "c" * 256},
            "orderLineItems": [{"itemName": "W", "quantity": 1, "amountPerUnit": 1, "customFields": {"w__c": [1]}}],
        }
        refused = zuora.fail("POST", "/v1/orders", order, status=400)
        zuora_reason(refused, "customFields.z__c")
        zuora_reason(refused, "orderLineItems[0].customFields.w__c")
        assert invoice_count(zuora, acct["accountId"]) == 0
        assert standalone(zuora, acct["accountId"], x__c="a" * 255)["x__c"] == "a" * 255


class TestNulCharacters:
    """Defect 12: NUL was stored on SQLite and refused on PostgreSQL as "out of range"; now refused on both."""

    def test_stripe_bodies_and_queries(self, stripe: StripeClient) -> None:
        for body, param in (
            ({"name": "a\x00b"}, "name"),
            ({"name": "A", "metadata": {"k": "v\x00"}}, "metadata[k]"),
            ({"name": "A", "metadata": {"k\x00": "v"}}, "metadata[k\x00]"),
        ):
            error = stripe.error("POST", "/v1/customers", body)
            assert error["param"] == param and "NUL" in error["message"]
        customer = stripe.ok("POST", "/v1/customers", {"name": "A"})
        invoice = stripe.ok("POST", "/v1/invoices", {"customer": customer["id"]})
        lines = {"lines": [{"amount": 100, "description": "ok"}, {"amount": 100, "description": "x\x00"}]}
        error = stripe.error("POST", f"/v1/invoices/{invoice['id']}/add_lines", lines)
        assert error["param"] == "lines[1][description]"
        assert stripe.ok("GET", f"/v1/invoices/{invoice['id']}")["lines"]["data"] == []
        assert stripe.error("GET", "/v1/invoices", {"customer": "cus\x00"})["param"] == "customer"
        assert "NUL" in stripe.error("GET", "/v1/customers/cus_a%00b")["message"]
        assert [c["name"] for c in stripe.ok("GET", "/v1/customers")["data"]] == ["A"]

    def test_zuora_bodies_queries_and_forms(self, client: Any, zuora: ZuoraClient) -> None:
        contact = {"firstName": "A", "lastName": "B\x00"}
        body = {"name": "Acme", "currency": "USD", "billToContact": contact}
        zuora_reason(zuora.fail("POST", "/v1/accounts", body, status=400), "billToContact.lastName")
        legacy = zuora.request("POST", "/v1/accounts", {**body, "x\x00__c": 1}, headers={"Zuora-Version": "196.0"})
        assert legacy.status_code == 200 and legacy.json()["success"] is False
        acct = account(zuora)
        for value in ("INV\x00", "a\x00b"):
            query = {"filter[]": f"invoiceNumber.EQ:{value}"}
            refused = zuora.fail("GET", "/object-query/invoices", params=query, status=400)
            assert "NUL" in refused["reasons"][0]["message"]
        zuora.fail("GET", "/v1/accounts/A%00", status=400)
        token = client.post(
            "/zuora/oauth/token",
            data={"client_id": "x\x00", "client_secret": "y", "grant_type": "client_credentials"},
        )
        assert token.status_code == 400 and "NUL" in token.json()["reasons"][0]["message"]
        assert invoice_count(zuora, acct["accountId"]) == 0
        assert zuora.ok("GET", f"/v1/accounts/{acct['accountNumber']}")["basicInfo"]["name"] == "Acme Corp"


class TestTimeRange:
    """Defect 4: times past 9999-12-31 were accepted and then answered 500 wherever a date was shown."""

    def test_line_periods_end_with_9999(self, stripe: StripeClient, zuora: ZuoraClient) -> None:
        customer = stripe.ok("POST", "/v1/customers", {"name": "A"})
        invoice = stripe.ok("POST", "/v1/invoices", {"customer": customer["id"]})
        url = f"/v1/invoices/{invoice['id']}/add_lines"
        for start, end, param in ((MAX_TIMESTAMP + 1, MAX_TIMESTAMP, "start"), (0, MAX_TIMESTAMP + 1, "end")):
            body = {"lines": [{"amount": 100, "period": {"start": start, "end": end}}]}
            error = stripe.error("POST", url, body)
            assert error["param"] == f"lines[0][period][{param}]" and "9999-12-31T23:59:59Z" in error["message"]
        item = {"customer": customer["id"], "amount": 1, "period": {"start": -1, "end": 1}}
        assert stripe.error("POST", "/v1/invoiceitems", item)["param"] == "period[start]"
        assert stripe.ok("GET", url.removesuffix("/add_lines"))["lines"]["data"] == []
        stripe.ok("POST", url, {"lines": [{"amount": 100, "period": {"start": MAX_TIMESTAMP, "end": MAX_TIMESTAMP}}]})
        # Every read showing the line's dates works (they answered 500 for a second past 9999).
        (line,) = zuora.ok("GET", f"/v1/invoices/{invoice['id']}/items")["invoiceItems"]
        assert (line["serviceStartDate"], line["serviceEndDate"]) == ("9999-12-31", "9999-12-31")
        (found,) = zuora.ok("GET", "/object-query/invoices", params={"expand[]": "invoiceitems"})["data"]
        assert found["invoiceItems"][0]["serviceStartDate"] == "9999-12-31"
        assert stripe.ok("GET", "/v1/invoices")["data"][0]["lines"]["data"][0]["period"]["end"] == MAX_TIMESTAMP

    def test_other_stripe_times(self, stripe: StripeClient) -> None:
        customer = stripe.ok("POST", "/v1/customers", {"name": "A"})
        body = {"customer": customer["id"], "collection_method": "send_invoice", "due_date": MAX_TIMESTAMP + 1}
        assert stripe.error("POST", "/v1/invoices", body)["param"] == "due_date"
        assert stripe.error("POST", "/v1/coupons", {"percent_off": 5, "redeem_by": 2**40})["param"] == "redeem_by"
        assert stripe.ok("GET", "/v1/invoices")["data"] == [] and stripe.ok("GET", "/v1/coupons")["data"] == []

    def test_clocks_and_subscriptions_stop_at_9000(self, stripe: StripeClient) -> None:
        for frozen in (2**40, MAX_ANCHOR_TIMESTAMP + 1, MAX_TIMESTAMP):
            error = stripe.error("POST", "/v1/test_helpers/test_clocks", {"frozen_time": frozen})
            assert error["param"] == "frozen_time" and "9000-01-01T00:00:00Z" in error["message"]
        assert stripe.ok("GET", "/v1/test_helpers/test_clocks")["data"] == []
        clock = stripe.ok("POST", "/v1/test_helpers/test_clocks", {"frozen_time": MAX_ANCHOR_TIMESTAMP - 86400})
        customer = stripe.ok("POST", "/v1/customers", {"name": "C", "test_clock": clock["id"]})
        yearly = {"interval": "year", "interval_count": 3}
        price = {"currency": "usd", "unit_amount": 100, "recurring": yearly, "product_data": {"name": "P"}}
        price = stripe.ok("POST", "/v1/prices", price)
        terms = {"collection_method": "send_invoice", "days_until_due": 3650}
        sub = stripe.ok(
            "POST", "/v1/subscriptions", {"customer": customer["id"], "items": [{"price": price["id"]}], **terms}
        )
        first = stripe.ok("GET", f"/v1/invoices/{sub['latest_invoice']}")
        assert first["status"] == "open" and first["due_date"] == MAX_ANCHOR_TIMESTAMP - 86400 + 3650 * 86400
        advance = f"/v1/test_helpers/test_clocks/{clock['id']}/advance"
        assert stripe.error("POST", advance, {"frozen_time": MAX_ANCHOR_TIMESTAMP + 1})["param"] == "frozen_time"
        assert stripe.ok("POST", advance, {"frozen_time": MAX_ANCHOR_TIMESTAMP})["frozen_time"] == MAX_ANCHOR_TIMESTAMP
        assert stripe.ok("GET", f"/v1/subscriptions/{sub['id']}")["status"] == "active"

    @pytest.mark.parametrize("day", ["1969-12-31", "0001-01-01", "10000-01-01"])
    def test_zuora_dates_from_1970_to_9999(self, zuora: ZuoraClient, day: str) -> None:
        acct = account(zuora)
        body = {"accountId": acct["accountId"], "invoiceDate": day, "invoiceItems": [item()]}
        zuora_reason(zuora.fail("POST", "/v1/invoices", body, status=400), "invoiceDate")
        refused = zuora.fail("GET", "/object-query/invoices", params={"filter[]": f"dueDate.LT:{day}"}, status=400)
        assert refused["reasons"][0]["code"] % 100 == 27
        assert invoice_count(zuora, acct["accountId"]) == 0

    def test_zuora_due_dates_stop_at_9999(self, zuora: ZuoraClient) -> None:
        acct = account(zuora, paymentTerm="Net 90")
        last = standalone(zuora, acct["accountId"], invoiceDate="9999-12-31")
        assert (last["invoiceDate"], last["dueDate"]) == ("9999-12-31", "9999-12-31")
        line = {"itemName": "W", "itemType": "Product", "quantity": 1, "amountPerUnit": 1}
        line |= {"itemState": "SentToBilling", "billTargetDate": "2024-01-01"}
        zuora.ok(
            "POST",
            "/v1/orders",
            {"orderDate": "2024-01-01", "existingAccountNumber": acct["accountNumber"], "orderLineItems": [line]},
        )
        run = zuora.ok("POST", "/v1/bill-runs", {"targetDate": "2024-01-01"})
        # Posting the run's drafts on 9999-12-31 with Net 90 answered 500 (the due date overflowed).
        zuora.ok("PUT", f"/v1/bill-runs/{run['id']}/post", {"invoiceDate": "9999-12-31"})
        dates = {(i["invoiceDate"], i["dueDate"]) for i in zuora.ok("GET", "/object-query/invoices")["data"]}
        assert dates == {("9999-12-31", "9999-12-31")}


class TestAmountLimits:
    """Defect 5: a balance of 2^63−1 and an invoice of 2×10^15 overflowed the BIGINT columns on finalize."""

    def test_stripe_amounts_past_the_limit_are_refused(self, stripe: StripeClient) -> None:
        for balance in (2**63 - 1, MAX_AMOUNT + 1, -MAX_AMOUNT - 1):
            error = stripe.error("POST", "/v1/customers", {"name": "A", "balance": balance})
            assert (error["param"], error["code"]) == ("balance", "parameter_invalid_integer")
        customer = stripe.ok("POST", "/v1/customers", {"name": "A", "balance": MAX_AMOUNT})
        invoice = stripe.ok("POST", "/v1/invoices", {"customer": customer["id"]})
        url = f"/v1/invoices/{invoice['id']}/add_lines"
        assert stripe.error("POST", url, {"lines": [{"amount": 2 * 10**15}]})["param"] == "lines[0][amount]"
        price = {"currency": "usd", "product_data": {"name": "W"}}
        for name in ("unit_amount", "unit_amount_decimal"):
            assert stripe.error("POST", "/v1/prices", {**price, name: MAX_AMOUNT + 1})["param"] == name
        assert stripe.error("POST", "/v1/coupons", {"amount_off": 2**63, "currency": "usd"})["param"] == "amount_off"
        item = {"customer": customer["id"], "unit_amount_decimal": MAX_AMOUNT + 1}
        assert stripe.error("POST", "/v1/invoiceitems", item)["param"] == "unit_amount_decimal"
        # Within the limits, the invoice of the defect finalizes: the balance is owed on top of it.
        stripe.ok("POST", url, {"lines": [{"amount": MAX_AMOUNT}]})
        final = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/finalize")
        assert (final["total"], final["amount_due"]) == (MAX_AMOUNT, 2 * MAX_AMOUNT)

    def test_a_computed_line_amount_past_the_limit_is_refused(self, stripe: StripeClient) -> None:
        customer = stripe.ok("POST", "/v1/customers", {"name": "A"})
        invoice = stripe.ok("POST", "/v1/invoices", {"customer": customer["id"]})
        data = {"currency": "usd", "unit_amount": MAX_AMOUNT, "product_data": {"name": "W"}}
        line = {"price_data": data, "quantity": 10**9}
        error = stripe.error("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [line]})
        assert (error["param"], error["code"]) == ("lines[0][quantity]", "amount_too_large")
        assert stripe.error("POST", "/v1/invoiceitems", {"customer": customer["id"], **line})["param"] == "quantity"
        assert stripe.ok("GET", f"/v1/invoices/{invoice['id']}")["lines"]["data"] == []

    def test_a_total_past_the_limit_is_refused(self, stripe: StripeClient) -> None:
        rates = [
            stripe.ok("POST", "/v1/tax_rates", {"display_name": f"T{i}", "percentage": 100, "inclusive": False})["id"]
            for i in range(10)
        ]
        customer = stripe.ok("POST", "/v1/customers", {"name": "A"})
        invoice = stripe.ok("POST", "/v1/invoices", {"customer": customer["id"], "default_tax_rates": rates})
        url = f"/v1/invoices/{invoice['id']}/add_lines"
        lines = {"lines": [{"amount": MAX_AMOUNT}] * 50}
        assert stripe.ok("POST", url, lines)["total"] == 50 * 11 * MAX_AMOUNT  # each line taxed 10 × 100 %
        error = stripe.error("POST", url, lines)  # 100 lines would total 1.1 × MAX_TOTAL
        assert error["code"] == "amount_too_large" and str(MAX_TOTAL) in error["message"]
        after = stripe.ok("GET", f"/v1/invoices/{invoice['id']}")
        assert (len(after["lines"]["data"]), after["total"]) == (10, 50 * 11 * MAX_AMOUNT)  # first page of 50

    def test_zuora_amounts_past_the_limit_are_refused(self, zuora: ZuoraClient) -> None:
        acct = account(zuora)
        major = MAX_AMOUNT // 100  # USD has two places
        body = {"accountId": acct["accountId"], "invoiceDate": "2024-07-11"}
        for items, field in (
            ([item(str(MAX_AMOUNT + 1))], "invoiceItems[0].amount"),
            ([item(f"{major}.01")], "invoiceItems[0].amount"),
            ([item(None, unitPrice=f"{major}.01")], "invoiceItems[0].unitPrice"),
            ([item(None, unitPrice=major, quantity=2)], "invoiceItems[0].quantity"),
            ([item(None, unitPrice=1, quantity=MAX_QUANTITY + 1)], "invoiceItems[0].quantity"),
        ):
            zuora_reason(zuora.fail("POST", "/v1/invoices", {**body, "invoiceItems": items}, status=400), field)
        line = {"itemName": "W", "itemType": "Product", "quantity": 2, "amountPerUnit": major}
        order = {"orderDate": "2024-07-01", "existingAccountNumber": acct["accountNumber"], "orderLineItems": [line]}
        zuora_reason(zuora.fail("POST", "/v1/orders", order, status=400), "orderLineItems[0].quantity")
        order["orderLineItems"] = [{**line, "quantity": 1, "listPricePerUnit": f"{major}.01"}]
        zuora_reason(zuora.fail("POST", "/v1/orders", order, status=400), "orderLineItems[0].listPricePerUnit")
        assert invoice_count(zuora, acct["accountId"]) == 0
        assert standalone(zuora, acct["accountId"], [item(major)])["amount"] == major
