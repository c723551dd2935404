"""/v1/subscriptions and /v1/subscription_items, on SQLite and PostgreSQL.

Most tests run the customer on a test clock, so every instant is known exactly; one test shows the
real-time path (due work done lazily when the subscription is read).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from bulkbill.storage.tables_subscriptions import Subscription
from tests.helpers import StripeClient
from tests.helpers.schema import assert_stripe_schema
from tests.helpers.stripe import (
    DAY,
    FEB1,
    ITEM_FIELDS,
    MAR1,
    T0,
    advance,
    assert_subscription_shape,
    coupon,
    invoice,
    invoices_of,
    new_clock,
    new_customer,
    recurring_price,
    subscribe,
    tax_rate,
    world,
)

# --- helpers ---------------------------------------------------------------------------------


def one_time_price(stripe: StripeClient, unit_amount: int = 900) -> str:
    product = stripe.ok("POST", "/v1/products", {"name": "Setup"})
    return str(
        stripe.ok("POST", "/v1/prices", {"product": product["id"], "currency": "usd", "unit_amount": unit_amount})["id"]
    )


# --- create ----------------------------------------------------------------------------------


class TestCreate:
    def test_first_invoice_is_created_and_finalized_at_once(self, stripe: StripeClient) -> None:
        # given / when
        w = world(stripe)
        sub = w["sub"]
        # then: the subscription
        assert (sub["status"], sub["currency"], sub["collection_method"]) == ("active", "usd", "charge_automatically")
        assert (sub["start_date"], sub["billing_cycle_anchor"], sub["created"]) == (T0, T0, T0)
        assert sub["test_clock"] == w["clock"] and sub["customer"] == w["customer"]
        items = sub["items"]["data"]
        assert [(i["price"]["id"], i["quantity"]) for i in items] == [(w["seat"], 2), (w["support"], 1)]
        assert all((i["current_period_start"], i["current_period_end"]) == (T0, FEB1) for i in items)
        # and its first invoice, finalized with the clock's time
        first = invoice(stripe, sub["latest_invoice"])
        assert (first["status"], first["billing_reason"], first["auto_advance"]) == (
            "open",
            "subscription_create",
            True,
        )
        assert (first["created"], first["status_transitions"]["finalized_at"]) == (T0, T0)
        assert (first["period_start"], first["period_end"]) == (T0, T0)
        assert first["number"] is not None and first["total"] == 3500 and first["amount_due"] == 3500
        assert first["parent"] == {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": sub["id"]},
        }
        assert first["test_clock"] == w["clock"] and first["automatically_finalizes_at"] is None
        lines = first["lines"]["data"]
        assert [ln["amount"] for ln in lines] == [3000, 500]
        assert [ln["description"] for ln in lines] == [
            "2 × Seat (at $15.00 / month)",
            "1 × Support (at $5.00 / month)",
        ]
        for line, item in zip(lines, items, strict=True):
            assert line["parent"]["type"] == "subscription_item_details"
            details = line["parent"]["subscription_item_details"]
            assert (details["subscription"], details["subscription_item"], details["invoice_item"]) == (
                sub["id"],
                item["id"],
                None,
            )
            assert line["subscription"] == sub["id"]
            assert line["period"] == {"start": T0, "end": FEB1}
            assert line["pricing"]["price_details"]["price"] == item["price"]["id"]

    def test_real_time_subscription_starts_now(self, stripe: StripeClient) -> None:
        customer = new_customer(stripe)
        before = int(time.time())
        sub = subscribe(stripe, customer, [{"price": recurring_price(stripe, 1000, interval="week")}])
        item = sub["items"]["data"][0]
        assert before <= sub["start_date"] <= int(time.time())
        assert item["current_period_end"] - item["current_period_start"] == 7 * DAY
        assert sub["test_clock"] is None
        assert invoice(stripe, sub["latest_invoice"])["test_clock"] is None

    def test_send_invoice_is_due_days_after_finalization(self, stripe: StripeClient) -> None:
        w = world(stripe, collection_method="send_invoice", days_until_due=30)
        first = invoice(stripe, w["sub"]["latest_invoice"])
        assert (first["collection_method"], first["due_date"]) == ("send_invoice", T0 + 30 * DAY)
        assert w["sub"]["days_until_due"] == 30

    def test_tax_rates_discounts_and_metadata(self, stripe: StripeClient) -> None:
        # given: 20 % default VAT, a 5 % rate on the support item, 10 % off forever
        vat, low = tax_rate(stripe, "20"), tax_rate(stripe, "5")
        ten = coupon(stripe, percent_off="10", duration="forever")
        clock = new_clock(stripe)
        customer = new_customer(stripe, clock)
        seat, support = recurring_price(stripe, 1500), recurring_price(stripe, 500, name="Support")
        # when
        sub = subscribe(
            stripe,
            customer,
            [{"price": seat, "quantity": 2}, {"price": support, "tax_rates": [low], "metadata": {"tier": "gold"}}],
            default_tax_rates=[vat],
            discounts=[{"coupon": ten}],
            metadata={"plan": "pro"},
        )
        # then
        assert [r["id"] for r in sub["default_tax_rates"]] == [vat]
        assert len(sub["discounts"]) == 1 and sub["discounts"][0].startswith("di_")
        assert sub["items"]["data"][1]["metadata"] == {"tier": "gold"}
        first = invoice(stripe, sub["latest_invoice"])
        assert first["discounts"] == sub["discounts"]
        assert [r["id"] for r in first["default_tax_rates"]] == [vat]
        # seat 3000 - 300 = 2700, VAT 540; support 500 - 50 = 450, 5 % = 23 (22.5 rounded half up)
        assert (first["subtotal"], first["total"]) == (3500, 3500 - 350 + 540 + 23)
        assert [ln["metadata"] for ln in first["lines"]["data"]] == [{"plan": "pro"}, {"plan": "pro"}]
        assert first["parent"]["subscription_details"]["metadata"] == {"plan": "pro"}

    def test_once_coupon_applies_to_the_first_invoice_only(self, stripe: StripeClient) -> None:
        once = coupon(stripe, amount_off=1000, currency="usd", duration="once")
        w = world(stripe, discounts=[{"coupon": once}])
        assert invoice(stripe, w["sub"]["latest_invoice"])["total"] == 2500
        assert stripe.ok("GET", f"/v1/subscriptions/{w['sub']['id']}")["discounts"] == []
        advance(stripe, w["clock"], FEB1)
        renewal = invoice(stripe, stripe.ok("GET", f"/v1/subscriptions/{w['sub']['id']}")["latest_invoice"])
        assert (renewal["total"], renewal["discounts"]) == (3500, [])

    def test_pending_items_join_the_first_invoice_before_the_subscription_lines(self, stripe: StripeClient) -> None:
        clock = new_clock(stripe)
        customer = new_customer(stripe, clock)
        pending = stripe.ok("POST", "/v1/invoiceitems", {"customer": customer, "amount": 700, "currency": "usd"})
        sub = subscribe(stripe, customer, [{"price": recurring_price(stripe, 1500)}])
        first = invoice(stripe, sub["latest_invoice"])
        assert [ln["parent"]["type"] for ln in first["lines"]["data"]] == [
            "invoice_item_details",
            "subscription_item_details",
        ]
        assert first["lines"]["data"][0]["parent"]["invoice_item_details"]["invoice_item"] == pending["id"]
        assert first["total"] == 2200

    def test_expand_latest_invoice_and_customer(self, stripe: StripeClient) -> None:
        w = world(stripe)
        body = stripe.ok(
            "GET", f"/v1/subscriptions/{w['sub']['id']}", {"expand": ["latest_invoice", "customer", "test_clock"]}
        )
        assert_subscription_shape(body)
        assert body["latest_invoice"]["id"] == w["sub"]["latest_invoice"]
        assert_stripe_schema(body["customer"], "customer")
        assert_stripe_schema(body["test_clock"], "test_helpers.test_clock")
        error = stripe.error("GET", f"/v1/subscriptions/{w['sub']['id']}", {"expand": ["items"]})
        assert error["message"] == "This property cannot be expanded (items)."


class TestCreateRefusals:
    @pytest.mark.parametrize(
        ("case", "param"),
        [
            ("no_items", "items"),
            ("one_time_price", "items[0][price]"),
            ("mixed_interval", "items[1][price]"),
            ("mixed_currency", "items[1][price]"),
            ("duplicate_price", "items[1][price]"),
            ("unknown_price", "items[0][price]"),
            ("customer_currency", "items[0][price]"),
            ("unknown_customer", "customer"),
            ("trial", "trial_period_days"),
            ("price_data_without_product", "items[0][price_data][product]"),
            ("days_on_charge_automatically", "days_until_due"),
            ("unknown_tax_rate", "default_tax_rates[0]"),
            ("unknown_coupon", "discounts[0][coupon]"),
        ],
    )
    def test_refused_with_the_parameter_named_and_nothing_made(
        self, stripe: StripeClient, case: str, param: str
    ) -> None:
        clock = new_clock(stripe)
        customer = new_customer(stripe, clock)
        monthly = recurring_price(stripe, 1500)
        params: dict[str, Any] = {"customer": customer, "items": [{"price": monthly}]}
        if case == "no_items":
            del params["items"]
        elif case == "one_time_price":
            params["items"] = [{"price": one_time_price(stripe)}]
        elif case == "mixed_interval":
            params["items"].append({"price": recurring_price(stripe, 100, interval="year")})
        elif case == "mixed_currency":
            params["items"].append({"price": recurring_price(stripe, 100, currency="eur")})
        elif case == "duplicate_price":
            params["items"].append({"price": monthly})
        elif case == "unknown_price":
            params["items"] = [{"price": "price_nope"}]
        elif case == "customer_currency":
            stripe.ok("POST", "/v1/invoices", {"customer": customer, "currency": "eur"})
        elif case == "unknown_customer":
            params["customer"] = "cus_nope"
        elif case == "trial":
            params["trial_period_days"] = 731  # beyond Stripe's two years
        elif case == "price_data_without_product":
            params["items"] = [{"price_data": {"currency": "usd"}}]
        elif case == "days_on_charge_automatically":
            params["days_until_due"] = 30
        elif case == "unknown_tax_rate":
            params["default_tax_rates"] = ["txr_nope"]
        elif case == "unknown_coupon":
            params["discounts"] = [{"coupon": "NOPE"}]
        # when
        error = stripe.error("POST", "/v1/subscriptions", params)
        # then
        assert error["type"] == "invalid_request_error" and error["param"] == param, error
        assert stripe.ok("GET", "/v1/subscriptions", {"status": "all"})["data"] == []
        assert [i["id"] for i in invoices_of(stripe, customer) if i["parent"] is not None] == []

    def test_customer_currency_is_set_by_the_first_subscription(self, stripe: StripeClient) -> None:
        customer = new_customer(stripe, new_clock(stripe))
        subscribe(stripe, customer, [{"price": recurring_price(stripe, 100, currency="eur")}])
        assert stripe.ok("GET", f"/v1/customers/{customer}")["currency"] == "eur"
        usd = recurring_price(stripe, 1)
        error = stripe.error("POST", "/v1/subscriptions", {"customer": customer, "items": [{"price": usd}]})
        assert error["param"] == "items[0][price]"

    def test_other_tenants_objects_do_not_exist(self, stripe: StripeClient, other_stripe: StripeClient) -> None:
        w = world(stripe)
        assert other_stripe.error("GET", f"/v1/subscriptions/{w['sub']['id']}", status=404)["code"] == (
            "resource_missing"
        )
        theirs = new_customer(other_stripe)
        error = other_stripe.error("POST", "/v1/subscriptions", {"customer": theirs, "items": [{"price": w["seat"]}]})
        assert error["param"] == "items[0][price]"
        error = other_stripe.error("POST", "/v1/customers", {"test_clock": w["clock"]})
        assert (error["param"], error["code"]) == ("test_clock", "resource_missing")


# --- update and cancel -----------------------------------------------------------------------


class TestUpdate:
    def test_item_changes_apply_from_the_next_period_without_prorations(self, stripe: StripeClient) -> None:
        # given
        w = world(stripe)
        sub = w["sub"]
        seat_item, support_item = (i["id"] for i in sub["items"]["data"])
        extra = recurring_price(stripe, 250, name="Storage")
        # when: 5 seats, support removed, storage added
        updated = stripe.ok(
            "POST",
            f"/v1/subscriptions/{sub['id']}",
            {
                "items": [
                    {"id": seat_item, "quantity": 5},
                    {"id": support_item, "deleted": True},
                    {"price": extra, "quantity": 4},
                ],
                "proration_behavior": "none",
                "metadata": {"plan": "team"},
            },
        )
        # then: no invoice now, the next one follows the new items
        assert_subscription_shape(updated)
        assert [(i["price"]["id"], i["quantity"]) for i in updated["items"]["data"]] == [(w["seat"], 5), (extra, 4)]
        assert updated["latest_invoice"] == sub["latest_invoice"]
        assert len(invoices_of(stripe, w["customer"])) == 1
        advance(stripe, w["clock"], FEB1)
        renewal = invoice(stripe, stripe.ok("GET", f"/v1/subscriptions/{sub['id']}")["latest_invoice"])
        assert [(ln["quantity"], ln["amount"]) for ln in renewal["lines"]["data"]] == [(5, 7500), (4, 1000)]
        assert renewal["parent"]["subscription_details"]["metadata"] == {"plan": "team"}
        assert invoice(stripe, sub["latest_invoice"])["parent"]["subscription_details"]["metadata"] == {}

    def test_other_intervals_and_bad_prorations_refused(self, stripe: StripeClient) -> None:
        w = world(stripe)
        path = f"/v1/subscriptions/{w['sub']['id']}"
        seat_item = w["sub"]["items"]["data"][0]["id"]
        body = {"items": [{"id": seat_item, "quantity": 3}], "proration_behavior": "sometimes"}
        assert stripe.error("POST", path, body)["param"] == "proration_behavior"
        body = {"items": [{"id": seat_item, "quantity": 3}], "proration_date": FEB1}
        assert stripe.error("POST", path, body)["param"] == "proration_date"
        yearly = recurring_price(stripe, 10000, interval="year")
        assert stripe.error("POST", path, {"items": [{"id": seat_item, "price": yearly}]})["param"] == "items[0][price]"
        assert stripe.error("POST", path, {"items": [{"id": "si_nope", "quantity": 1}]})["param"] == "items[0][id]"
        assert stripe.error("POST", path, {"billing_cycle_anchor": T0})["param"] == "billing_cycle_anchor"
        # nothing changed
        assert stripe.ok("GET", path)["items"]["data"][0]["quantity"] == 2

    def test_collection_method_switch(self, stripe: StripeClient) -> None:
        w = world(stripe)
        path = f"/v1/subscriptions/{w['sub']['id']}"
        body = stripe.ok("POST", path, {"collection_method": "send_invoice", "days_until_due": 14})
        assert (body["collection_method"], body["days_until_due"]) == ("send_invoice", 14)
        advance(stripe, w["clock"], FEB1 + 3600)
        renewal = invoice(stripe, stripe.ok("GET", path)["latest_invoice"])
        assert (renewal["collection_method"], renewal["due_date"]) == ("send_invoice", FEB1 + 3600 + 14 * DAY)
        body = stripe.ok("POST", path, {"collection_method": "charge_automatically"})
        assert (body["collection_method"], body["days_until_due"]) == ("charge_automatically", None)


class TestCancel:
    def test_cancel_now_stops_invoicing(self, stripe: StripeClient) -> None:
        w = world(stripe)
        path = f"/v1/subscriptions/{w['sub']['id']}"
        advance(stripe, w["clock"], T0 + 10 * DAY)
        canceled = stripe.ok("DELETE", path)
        assert_subscription_shape(canceled)
        assert (canceled["status"], canceled["canceled_at"], canceled["ended_at"]) == (
            "canceled",
            T0 + 10 * DAY,
            T0 + 10 * DAY,
        )
        assert canceled["cancellation_details"]["reason"] == "cancellation_requested"
        advance(stripe, w["clock"], MAR1)
        assert len(invoices_of(stripe, w["customer"])) == 1
        assert stripe.error("DELETE", path)["type"] == "invalid_request_error"
        assert stripe.error("POST", path, {"items": [{"price": w["seat"]}]})["type"] == "invalid_request_error"
        assert stripe.ok("POST", path, {"metadata": {"why": "moved"}})["metadata"] == {"why": "moved"}

    def test_cancel_with_prorate_and_invoice_now_credits_the_unused_time_on_a_final_invoice(
        self, stripe: StripeClient
    ) -> None:
        w = world(stripe)
        advance(stripe, w["clock"], T0 + 10 * DAY)
        response = stripe.client.request(
            "DELETE",
            f"/stripe/v1/subscriptions/{w['sub']['id']}?invoice_now=true&prorate=true",
            headers={"Authorization": f"Bearer {stripe.key}"},
        )
        assert response.status_code == 200, response.text
        final = invoice(stripe, response.json()["latest_invoice"])
        assert_stripe_schema(final, "invoice")
        assert (final["billing_reason"], final["status"]) == ("subscription_update", "paid")
        # 21 of January's 31 days unused: 3000 × 21/31 = 2032.26 and 500 × 21/31 = 338.71, each rounded once
        assert sorted(ln["amount"] for ln in final["lines"]["data"]) == [-2032, -339]
        assert final["total"] == -2371
        assert all(ln["parent"]["subscription_item_details"]["proration"] for ln in final["lines"]["data"])

    def test_cancel_at_period_end(self, stripe: StripeClient) -> None:
        w = world(stripe)
        path = f"/v1/subscriptions/{w['sub']['id']}"
        advance(stripe, w["clock"], T0 + 5 * DAY)
        body = stripe.ok("POST", path, {"cancel_at_period_end": True})
        assert (body["status"], body["cancel_at"], body["canceled_at"]) == ("active", FEB1, T0 + 5 * DAY)
        advance(stripe, w["clock"], FEB1 + 7200)
        body = stripe.ok("GET", path)
        assert (body["status"], body["ended_at"], body["canceled_at"]) == ("canceled", FEB1, T0 + 5 * DAY)
        assert len(invoices_of(stripe, w["customer"])) == 1


# --- reading ---------------------------------------------------------------------------------


class TestList:
    def test_filters_and_pages(self, stripe: StripeClient) -> None:
        w = world(stripe)
        other = new_customer(stripe, w["clock"])
        second = subscribe(stripe, other, [{"price": w["support"]}])
        third = subscribe(stripe, other, [{"price": w["seat"]}])
        stripe.ok("DELETE", f"/v1/subscriptions/{third['id']}")
        ids = [s["id"] for s in stripe.ok("GET", "/v1/subscriptions")["data"]]
        assert ids == [second["id"], w["sub"]["id"]]  # newest first, canceled left out
        everything = stripe.ok("GET", "/v1/subscriptions", {"status": "all"})["data"]
        assert [s["id"] for s in everything] == [third["id"], second["id"], w["sub"]["id"]]
        for s in everything:
            assert_subscription_shape(s)
        assert [s["id"] for s in stripe.ok("GET", "/v1/subscriptions", {"status": "canceled"})["data"]] == [third["id"]]
        assert [s["id"] for s in stripe.ok("GET", "/v1/subscriptions", {"customer": other})["data"]] == [second["id"]]
        assert [s["id"] for s in stripe.ok("GET", "/v1/subscriptions", {"price": w["seat"]})["data"]] == [
            w["sub"]["id"]
        ]
        assert len(stripe.ok("GET", "/v1/subscriptions", {"test_clock": w["clock"], "status": "all"})["data"]) == 3
        page = stripe.ok("GET", "/v1/subscriptions", {"limit": 1})
        assert page["has_more"] is True and page["url"] == "/v1/subscriptions"
        rest = stripe.ok("GET", "/v1/subscriptions", {"limit": 1, "starting_after": page["data"][0]["id"]})
        assert [s["id"] for s in rest["data"]] == [w["sub"]["id"]] and rest["has_more"] is False

    def test_subscription_items(self, stripe: StripeClient) -> None:
        w = world(stripe)
        items = stripe.ok("GET", "/v1/subscription_items", {"subscription": w["sub"]["id"]})
        assert [i["id"] for i in items["data"]] == [i["id"] for i in w["sub"]["items"]["data"]]
        first = stripe.ok("GET", "/v1/subscription_items", {"subscription": w["sub"]["id"], "limit": 1})
        assert first["has_more"] is True
        one = stripe.ok("GET", f"/v1/subscription_items/{first['data'][0]['id']}")
        assert one["subscription"] == w["sub"]["id"] and set(one) >= ITEM_FIELDS
        assert stripe.error("GET", "/v1/subscription_items")["param"] == "subscription"
        assert stripe.error("GET", "/v1/subscription_items/si_nope", status=404)["code"] == "resource_missing"


class TestRealTime:
    def test_due_work_is_done_when_the_subscription_is_read(self, client: TestClient, stripe: StripeClient) -> None:
        # given: a daily subscription without a clock, started (we pretend) two days and two hours ago
        customer = new_customer(stripe)
        sub = subscribe(stripe, customer, [{"price": recurring_price(stripe, 300, interval="day")}])
        now = int(time.time())
        start = now - 2 * DAY - 7200
        state = client.app.state.bulkbill  # type: ignore[attr-defined]
        with state.sessions.begin() as session:
            session.execute(
                update(Subscription)
                .where(Subscription.id == sub["id"])
                .values(
                    billing_cycle_anchor=start,
                    start_date=start,
                    current_period_start=start,
                    current_period_end=start + DAY,
                )
            )
        # when
        body = stripe.ok("GET", f"/v1/subscriptions/{sub['id']}")
        # then: two renewals, both past their draft hour, so both finalized
        item = body["items"]["data"][0]
        assert (item["current_period_start"], item["current_period_end"]) == (start + 2 * DAY, start + 3 * DAY)
        renewals = [i for i in invoices_of(stripe, customer) if i["billing_reason"] == "subscription_cycle"]
        assert [(i["created"], i["status"]) for i in renewals] == [(start + DAY, "open"), (start + 2 * DAY, "open")]
        assert [i["status_transitions"]["finalized_at"] for i in renewals] == [
            start + DAY + 3600,
            start + 2 * DAY + 3600,
        ]
        assert body["latest_invoice"] == renewals[-1]["id"]
        # reading again bills nothing twice
        stripe.ok("GET", "/v1/subscriptions", {"customer": customer})
        assert len(invoices_of(stripe, customer)) == 3
