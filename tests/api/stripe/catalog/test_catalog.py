"""Stripe catalog: /v1/products, /v1/prices, /v1/tax_rates, /v1/coupons."""

from __future__ import annotations

import re
import time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from bulkbill.api.stripe.catalog.coupons import render_coupon
from bulkbill.config import Settings
from bulkbill.core.errors import RuleViolation
from bulkbill.core.invoicing.commands import DiscountRef
from bulkbill.services.catalog.coupons import coupon_is_valid
from bulkbill.services.catalog.discounts import apply_discounts
from bulkbill.services.platform.tenants import NewTenant
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Coupon
from tests.helpers import StripeClient
from tests.helpers.schema import assert_stripe_schema


def call(
    stripe: StripeClient, method: str, path: str, data: dict[str, Any] | str | None, schema: str
) -> dict[str, Any]:
    """Call, insist on 200 and on Stripe's schema for the object (or each item of a list)."""
    body = stripe.ok(method, path, data)
    for obj in body["data"] if body.get("object") == "list" else [body]:
        assert_stripe_schema(obj, schema)
    return body


def product(stripe: StripeClient, **params: Any) -> dict[str, Any]:
    return call(stripe, "POST", "/v1/products", {"name": "Widget", **params}, "product")


def price(stripe: StripeClient, **params: Any) -> dict[str, Any]:
    if "product" not in params and "product_data" not in params:
        params["product"] = product(stripe)["id"]
    return call(stripe, "POST", "/v1/prices", {"currency": "usd", **params}, "price")


class TestProducts:
    def test_create_retrieve_update_delete(self, stripe: StripeClient) -> None:
        created = product(stripe, description="Blue", unit_label="seat", metadata={"a": "1"})
        assert created["id"].startswith("prod_") and created["object"] == "product"
        assert created["active"] is True and created["name"] == "Widget" and created["default_price"] is None
        assert created["description"] == "Blue" and created["unit_label"] == "seat"
        assert call(stripe, "GET", f"/v1/products/{created['id']}", None, "product") == created
        updated = call(
            stripe,
            "POST",
            f"/v1/products/{created['id']}",
            "name=Gadget&active=false&description=&metadata[a]=&metadata[b]=2",
            "product",
        )
        assert updated["name"] == "Gadget" and updated["active"] is False
        assert updated["description"] is None and updated["metadata"] == {"b": "2"}
        deleted = stripe.ok("DELETE", f"/v1/products/{created['id']}")
        assert deleted == {"id": created["id"], "object": "product", "deleted": True}
        assert_stripe_schema(deleted, "deleted_product")
        assert stripe.error("GET", f"/v1/products/{created['id']}", status=404)["code"] == "resource_missing"

    def test_custom_id_and_duplicate(self, stripe: StripeClient) -> None:
        assert product(stripe, id="gold-plan")["id"] == "gold-plan"
        error = stripe.error("POST", "/v1/products", {"name": "Again", "id": "gold-plan"})
        assert error["param"] == "id"

    def test_name_is_required(self, stripe: StripeClient) -> None:
        error = stripe.error("POST", "/v1/products", {"description": "no name"})
        assert error["code"] == "parameter_missing" and error["param"] == "name"

    def test_default_price_data_without_an_amount_is_refused_under_its_name(self, stripe: StripeClient) -> None:
        error = stripe.error("POST", "/v1/products", "name=x&default_price_data[currency]=usd")
        assert error["code"] == "parameter_missing" and error["param"].startswith("default_price_data[")
        assert stripe.ok("GET", "/v1/products")["data"] == []

    def test_default_price_must_be_the_products_own(self, stripe: StripeClient) -> None:
        own = price(stripe, unit_amount=100)
        updated = call(stripe, "POST", f"/v1/products/{own['product']}", {"default_price": own["id"]}, "product")
        assert updated["default_price"] == own["id"]
        foreign = price(stripe, unit_amount=100)
        error = stripe.error("POST", f"/v1/products/{own['product']}", {"default_price": foreign["id"]})
        assert error["param"] == "default_price"
        error = stripe.error("POST", f"/v1/products/{own['product']}", {"default_price": "price_nope"})
        assert error["code"] == "resource_missing" and error["param"] == "default_price"

    def test_product_with_prices_cannot_be_deleted(self, stripe: StripeClient) -> None:
        p = price(stripe, unit_amount=100)
        stripe.error("DELETE", f"/v1/products/{p['product']}")
        assert stripe.ok("GET", f"/v1/products/{p['product']}")["id"] == p["product"]

    def test_list_filters_active_and_paginates(self, stripe: StripeClient) -> None:
        ids = [product(stripe, name=f"p{i}")["id"] for i in range(3)]
        stripe.ok("POST", f"/v1/products/{ids[0]}", {"active": False})
        gone = product(stripe)["id"]
        stripe.ok("DELETE", f"/v1/products/{gone}")
        listed = call(stripe, "GET", "/v1/products", None, "product")
        assert [p["id"] for p in listed["data"]] == ids[::-1] and listed["url"] == "/v1/products"
        active = call(stripe, "GET", "/v1/products", {"active": True}, "product")
        assert [p["id"] for p in active["data"]] == [ids[2], ids[1]]
        page = stripe.ok("GET", "/v1/products", {"limit": 1, "starting_after": ids[2]})
        assert [p["id"] for p in page["data"]] == [ids[1]] and page["has_more"]

    def test_other_tenant_cannot_see_products(self, stripe: StripeClient, other_stripe: StripeClient) -> None:
        created = product(stripe, name="Secret")
        assert other_stripe.error("GET", f"/v1/products/{created['id']}", status=404)["code"] == "resource_missing"
        other_stripe.error("POST", f"/v1/products/{created['id']}", {"name": "x"}, status=404)
        other_stripe.error("DELETE", f"/v1/products/{created['id']}", status=404)
        assert other_stripe.ok("GET", "/v1/products")["data"] == []


_PRICE = {"currency": "usd", "product": "P", "unit_amount": 1}
_NO_AMOUNT = {"currency": "usd", "product": "P"}
_BAD_INT = "parameter_invalid_integer"
_TOO_LONG = "parameter_invalid_string_blank"


class TestPrices:
    def test_create_one_time_with_integer_amount(self, stripe: StripeClient) -> None:
        created = price(stripe, unit_amount=1500, currency="USD", nickname="std", metadata={"k": "v"})
        assert created["id"].startswith("price_") and created["object"] == "price"
        assert created["currency"] == "usd" and created["type"] == "one_time" and created["recurring"] is None
        assert created["unit_amount"] == 1500 and created["unit_amount_decimal"] == "1500"
        assert created["billing_scheme"] == "per_unit" and created["tax_behavior"] == "unspecified"
        assert created["nickname"] == "std" and created["metadata"] == {"k": "v"} and created["livemode"] is False
        assert call(stripe, "GET", f"/v1/prices/{created['id']}", None, "price") == created

    def test_decimal_amount_and_recurring(self, stripe: StripeClient) -> None:
        created = price(stripe, unit_amount_decimal="12.3450", recurring={"interval": "month", "interval_count": 3})
        assert created["unit_amount"] is None and created["unit_amount_decimal"] == "12.345"
        assert created["type"] == "recurring"
        assert created["recurring"] == {
            "interval": "month",
            "interval_count": 3,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
        whole = price(stripe, unit_amount_decimal="2000.000", recurring={"interval": "year"})
        assert whole["unit_amount"] == 2000 and whole["unit_amount_decimal"] == "2000"
        assert whole["recurring"]["interval_count"] == 1
        assert price(stripe, unit_amount=0)["unit_amount_decimal"] == "0"

    def test_product_data_creates_a_product(self, stripe: StripeClient) -> None:
        created = price(stripe, unit_amount=100, product_data={"name": "Inline", "metadata": {"x": "1"}})
        made = call(stripe, "GET", f"/v1/products/{created['product']}", None, "product")
        assert made["name"] == "Inline" and made["metadata"] == {"x": "1"}

    def test_expand_product(self, stripe: StripeClient) -> None:
        created = price(stripe, unit_amount=100)
        expanded = call(stripe, "GET", f"/v1/prices/{created['id']}", {"expand": ["product"]}, "price")
        assert expanded["product"]["id"] == created["product"] and expanded["product"]["object"] == "product"
        listed = call(stripe, "GET", "/v1/prices", {"expand": ["data.product"]}, "price")
        assert listed["data"][0]["product"]["id"] == created["product"]
        assert stripe.error("GET", f"/v1/prices/{created['id']}", {"expand": ["customer"]})["param"] == "expand"

    @pytest.mark.parametrize(
        ("params", "code", "param"),
        [
            ({"product": "P", "unit_amount": 1}, "parameter_missing", "currency"),
            ({**_PRICE, "currency": "xyz"}, None, "currency"),
            ({"currency": "usd", "unit_amount": 1}, "parameter_missing", "product"),
            ({"currency": "usd", "product": "P"}, "parameter_missing", "unit_amount"),
            ({**_PRICE, "product_data": {"name": "n"}}, "parameters_exclusive", None),
            ({**_PRICE, "unit_amount_decimal": "1"}, "parameters_exclusive", None),
            ({**_NO_AMOUNT, "unit_amount": -1}, "parameter_invalid_integer", "unit_amount"),
            ({**_NO_AMOUNT, "unit_amount_decimal": "1.0000000000001"}, None, "unit_amount_decimal"),
            ({**_NO_AMOUNT, "unit_amount_decimal": "-0.5"}, None, "unit_amount_decimal"),
            ({**_NO_AMOUNT, "unit_amount_decimal": "1e3"}, None, "unit_amount_decimal"),
            ({**_PRICE, "recurring": {"interval": "fortnight"}}, None, "recurring[interval]"),
            ({**_PRICE, "recurring": {"interval_count": 2}}, "parameter_missing", "recurring[interval]"),
            (
                {**_PRICE, "recurring": {"interval": "month", "interval_count": 0}},
                _BAD_INT,
                "recurring[interval_count]",
            ),
            ({**_PRICE, "recurring": {"interval": "year", "interval_count": 4}}, _BAD_INT, "recurring[interval_count]"),
            ({**_PRICE, "tax_behavior": "sometimes"}, None, "tax_behavior"),
            ({**_PRICE, "tiers_mode": "graduated"}, None, "tiers_mode"),
        ],
    )
    def test_validation(
        self, stripe: StripeClient, params: dict[str, Any], code: str | None, param: str | None
    ) -> None:
        if params.get("product") == "P":
            params = {**params, "product": product(stripe)["id"]}
        error = stripe.error("POST", "/v1/prices", params)
        assert error.get("code") == code and error.get("param") == param, error

    def test_product_data_needs_a_name(self, stripe: StripeClient) -> None:
        params = {"currency": "usd", "product_data": {"active": True}, "unit_amount": 1}
        error = stripe.error("POST", "/v1/prices", params)
        assert error["code"] == "parameter_missing" and error["param"] == "product_data[name]"

    def test_unknown_or_foreign_product_is_400(self, stripe: StripeClient, other_stripe: StripeClient) -> None:
        error = stripe.error("POST", "/v1/prices", {"currency": "usd", "product": "prod_nope", "unit_amount": 1})
        assert error["code"] == "resource_missing" and error["param"] == "product"
        theirs = product(other_stripe)["id"]
        error = stripe.error("POST", "/v1/prices", {"currency": "usd", "product": theirs, "unit_amount": 1})
        assert error["code"] == "resource_missing" and error["param"] == "product"

    def test_update(self, stripe: StripeClient) -> None:
        created = price(stripe, unit_amount=100, nickname="a")
        updated = call(
            stripe,
            "POST",
            f"/v1/prices/{created['id']}",
            {"active": False, "nickname": "", "metadata": {"m": "1"}, "tax_behavior": "exclusive", "lookup_key": "k"},
            "price",
        )
        assert updated["active"] is False and updated["nickname"] is None and updated["metadata"] == {"m": "1"}
        assert updated["tax_behavior"] == "exclusive" and updated["lookup_key"] == "k"
        error = stripe.error("POST", f"/v1/prices/{created['id']}", {"tax_behavior": "inclusive"})
        assert error["param"] == "tax_behavior"
        error = stripe.error("POST", f"/v1/prices/{created['id']}", {"unit_amount": 5})
        assert error["code"] == "parameter_unknown" and error["param"] == "unit_amount"

    def test_lookup_keys_are_unique_unless_transferred(self, stripe: StripeClient) -> None:
        first = price(stripe, unit_amount=100, lookup_key="pro")
        taken = {"currency": "usd", "product": first["product"], "unit_amount": 2, "lookup_key": "pro"}
        assert stripe.error("POST", "/v1/prices", taken)["param"] == "lookup_key"
        second = price(stripe, product=first["product"], unit_amount=200, lookup_key="pro", transfer_lookup_key=True)
        assert stripe.ok("GET", f"/v1/prices/{first['id']}")["lookup_key"] is None
        found = stripe.ok("GET", "/v1/prices", {"lookup_keys": ["pro"]})
        assert [p["id"] for p in found["data"]] == [second["id"]]

    def test_list_filters(self, stripe: StripeClient) -> None:
        prod = product(stripe)["id"]
        usd = price(stripe, product=prod, unit_amount=1)
        eur = price(stripe, product=prod, currency="eur", unit_amount=1, recurring={"interval": "week"})
        other = price(stripe, unit_amount=1, active=False)

        def ids(params: dict[str, Any]) -> list[str]:
            return [p["id"] for p in call(stripe, "GET", "/v1/prices", params, "price")["data"]]

        assert ids({}) == [other["id"], eur["id"], usd["id"]]
        assert ids({"product": prod}) == [eur["id"], usd["id"]]
        assert ids({"currency": "EUR"}) == [eur["id"]]
        assert ids({"type": "one_time"}) == [other["id"], usd["id"]]
        assert ids({"active": False}) == [other["id"]]
        assert stripe.error("GET", "/v1/prices", {"type": "tiered"})["param"] == "type"

    def test_other_tenant_cannot_see_prices(self, stripe: StripeClient, other_stripe: StripeClient) -> None:
        created = price(stripe, unit_amount=100)
        assert other_stripe.error("GET", f"/v1/prices/{created['id']}", status=404)["code"] == "resource_missing"
        other_stripe.error("POST", f"/v1/prices/{created['id']}", {"active": False}, status=404)
        assert other_stripe.ok("GET", "/v1/prices")["data"] == []


def tax_rate(stripe: StripeClient, **params: Any) -> dict[str, Any]:
    body = {"display_name": "VAT", "percentage": "19", "inclusive": False, **params}
    return call(stripe, "POST", "/v1/tax_rates", body, "tax_rate")


class TestTaxRates:
    def test_create_retrieve_update(self, stripe: StripeClient) -> None:
        created = tax_rate(
            stripe, percentage="8.875", country="us", state="ny", jurisdiction="NYC", tax_type="sales_tax"
        )
        assert created["id"].startswith("txr_") and created["object"] == "tax_rate"
        assert created["percentage"] == 8.875 and created["effective_percentage"] == 8.875
        assert created["country"] == "US" and created["state"] == "NY" and created["tax_type"] == "sales_tax"
        assert created["rate_type"] == "percentage" and created["flat_amount"] is None
        assert created["jurisdiction_level"] is None and created["active"] is True
        assert call(stripe, "GET", f"/v1/tax_rates/{created['id']}", None, "tax_rate") == created
        updated = call(
            stripe,
            "POST",
            f"/v1/tax_rates/{created['id']}",
            {"active": False, "display_name": "Sales tax", "jurisdiction": "", "metadata": {"a": "b"}},
            "tax_rate",
        )
        assert updated["active"] is False and updated["display_name"] == "Sales tax"
        assert updated["jurisdiction"] is None and updated["metadata"] == {"a": "b"}
        assert updated["percentage"] == 8.875

    def test_whole_percentage_is_an_integer(self, stripe: StripeClient) -> None:
        created = tax_rate(stripe, percentage="20.000", inclusive=True)
        assert created["percentage"] == 20 and isinstance(created["percentage"], int)
        assert created["inclusive"] is True

    @pytest.mark.parametrize(
        ("params", "code", "param"),
        [
            ({"percentage": "5", "inclusive": False}, "parameter_missing", "display_name"),
            ({"display_name": "T", "inclusive": False}, "parameter_missing", "percentage"),
            ({"display_name": "T", "percentage": "5"}, "parameter_missing", "inclusive"),
            ({"display_name": "T", "percentage": "100.5", "inclusive": False}, None, "percentage"),
            ({"display_name": "T", "percentage": "-1", "inclusive": False}, None, "percentage"),
            ({"display_name": "T", "percentage": "abc", "inclusive": False}, None, "percentage"),
            ({"display_name": "x" * 51, "percentage": "5", "inclusive": False}, _TOO_LONG, "display_name"),
            ({"display_name": "T", "percentage": "5", "inclusive": False, "tax_type": "luxury"}, None, "tax_type"),
            ({"display_name": "T", "percentage": "5", "inclusive": "maybe"}, None, "inclusive"),
            ({"display_name": "T", "percentage": "5", "inclusive": False, "country": "1x"}, None, "country"),
        ],
    )
    def test_validation(
        self, stripe: StripeClient, params: dict[str, Any], code: str | None, param: str | None
    ) -> None:
        error = stripe.error("POST", "/v1/tax_rates", params)
        assert error.get("code") == code and error.get("param") == param, error

    def test_percentage_and_inclusive_cannot_change(self, stripe: StripeClient) -> None:
        created = tax_rate(stripe)
        for params in ({"percentage": "5"}, {"inclusive": True}):
            error = stripe.error("POST", f"/v1/tax_rates/{created['id']}", params)
            assert error["code"] == "parameter_unknown"

    def test_list_filters(self, stripe: StripeClient) -> None:
        exclusive = tax_rate(stripe)
        inclusive = tax_rate(stripe, inclusive=True)
        archived = tax_rate(stripe, active=False)

        def ids(params: dict[str, Any]) -> list[str]:
            return [t["id"] for t in call(stripe, "GET", "/v1/tax_rates", params, "tax_rate")["data"]]

        assert ids({}) == [archived["id"], inclusive["id"], exclusive["id"]]
        assert ids({"active": True}) == [inclusive["id"], exclusive["id"]]
        assert ids({"inclusive": True}) == [inclusive["id"]]
        assert ids({"active": True, "inclusive": False}) == [exclusive["id"]]

    def test_other_tenant_cannot_see_tax_rates(self, stripe: StripeClient, other_stripe: StripeClient) -> None:
        created = tax_rate(stripe)
        assert other_stripe.error("GET", f"/v1/tax_rates/{created['id']}", status=404)["code"] == "resource_missing"
        other_stripe.error("POST", f"/v1/tax_rates/{created['id']}", {"active": False}, status=404)
        assert other_stripe.ok("GET", "/v1/tax_rates")["data"] == []


def coupon(stripe: StripeClient, **params: Any) -> dict[str, Any]:
    return call(stripe, "POST", "/v1/coupons", params or {"percent_off": "25.5"}, "coupon")


class TestCoupons:
    def test_create_retrieve_update_delete(self, stripe: StripeClient) -> None:
        created = coupon(stripe, percent_off="25.5", name="Quarter-ish", metadata={"a": "1"})
        assert re.fullmatch(r"[A-Z0-9]{8}", created["id"]) and created["object"] == "coupon"
        assert created["percent_off"] == 25.5 and created["amount_off"] is None and created["currency"] is None
        assert created["duration"] == "once" and created["duration_in_months"] is None
        assert created["valid"] is True and created["times_redeemed"] == 0 and created["max_redemptions"] is None
        assert call(stripe, "GET", f"/v1/coupons/{created['id']}", None, "coupon") == created
        updated = call(stripe, "POST", f"/v1/coupons/{created['id']}", "name=&metadata[a]=&metadata[b]=2", "coupon")
        assert updated["name"] is None and updated["metadata"] == {"b": "2"}
        deleted = stripe.ok("DELETE", f"/v1/coupons/{created['id']}")
        assert deleted == {"id": created["id"], "object": "coupon", "deleted": True}
        assert stripe.error("GET", f"/v1/coupons/{created['id']}", status=404)["code"] == "resource_missing"
        stripe.error("DELETE", f"/v1/coupons/{created['id']}", status=404)

    def test_amount_off_custom_id_repeating(self, stripe: StripeClient) -> None:
        redeem_by = int(time.time()) + 3600
        created = coupon(
            stripe,
            id="SUMMER",
            amount_off=500,
            currency="EUR",
            duration="repeating",
            duration_in_months=3,
            max_redemptions=10,
            redeem_by=redeem_by,
        )
        assert created["id"] == "SUMMER" and created["amount_off"] == 500 and created["currency"] == "eur"
        assert created["percent_off"] is None and created["duration"] == "repeating"
        assert created["duration_in_months"] == 3 and created["max_redemptions"] == 10
        assert created["redeem_by"] == redeem_by and created["valid"] is True
        assert stripe.error("POST", "/v1/coupons", {"id": "SUMMER", "percent_off": "5"})["param"] == "id"
        assert coupon(stripe, percent_off="100", duration="forever")["percent_off"] == 100

    @pytest.mark.parametrize(
        ("params", "code", "param"),
        [
            ({"duration": "once"}, "parameter_missing", "percent_off"),
            ({"percent_off": "10", "amount_off": 100, "currency": "usd"}, "parameters_exclusive", None),
            ({"amount_off": 100}, "parameter_missing", "currency"),
            ({"amount_off": 0, "currency": "usd"}, "parameter_invalid_integer", "amount_off"),
            ({"amount_off": 100, "currency": "abc"}, None, "currency"),
            ({"percent_off": "100.01"}, None, "percent_off"),
            ({"percent_off": "0"}, None, "percent_off"),
            ({"percent_off": "10", "duration": "repeating"}, "parameter_missing", "duration_in_months"),
            ({"percent_off": "10", "duration": "once", "duration_in_months": 3}, None, "duration_in_months"),
            ({"percent_off": "10", "duration": "weekly"}, None, "duration"),
            ({"percent_off": "10", "redeem_by": 1_000_000}, None, "redeem_by"),
            ({"percent_off": "10", "max_redemptions": 0}, "parameter_invalid_integer", "max_redemptions"),
            ({"percent_off": "10", "name": "n" * 41}, _TOO_LONG, "name"),
            (
                {"percent_off": "10", "applies_to": {"products": ["prod_x"]}},
                "resource_missing",
                "applies_to[products][0]",
            ),
        ],
    )
    def test_validation(
        self, stripe: StripeClient, params: dict[str, Any], code: str | None, param: str | None
    ) -> None:
        error = stripe.error("POST", "/v1/coupons", params)
        assert error.get("code") == code and error.get("param") == param, error

    def test_only_name_and_metadata_can_change(self, stripe: StripeClient) -> None:
        created = coupon(stripe)
        error = stripe.error("POST", f"/v1/coupons/{created['id']}", {"percent_off": "50"})
        assert error["code"] == "parameter_unknown" and error["param"] == "percent_off"

    def test_list_skips_deleted(self, stripe: StripeClient) -> None:
        kept = [coupon(stripe)["id"] for _ in range(2)]
        gone = coupon(stripe)["id"]
        stripe.ok("DELETE", f"/v1/coupons/{gone}")
        listed = call(stripe, "GET", "/v1/coupons", None, "coupon")
        # Random coupon ids are not time-ordered: within one second the order follows the ids.
        assert sorted(c["id"] for c in listed["data"]) == sorted(kept) and listed["url"] == "/v1/coupons"

    def test_other_tenant_cannot_see_coupons(self, stripe: StripeClient, other_stripe: StripeClient) -> None:
        created = coupon(stripe, id="SECRET", percent_off="10")
        assert other_stripe.error("GET", "/v1/coupons/SECRET", status=404)["code"] == "resource_missing"
        other_stripe.error("POST", "/v1/coupons/SECRET", {"name": "x"}, status=404)
        other_stripe.error("DELETE", "/v1/coupons/SECRET", status=404)
        assert other_stripe.ok("GET", "/v1/coupons")["data"] == []
        assert coupon(other_stripe, id="SECRET", percent_off="20")["percent_off"] == 20  # ids are per tenant
        assert stripe.ok("GET", f"/v1/coupons/{created['id']}")["percent_off"] == 10


class TestCouponRedemptions:
    """Every application of a coupon (to an invoice, an item or line, a subscription) is one redemption."""

    def draft(self, stripe: StripeClient) -> tuple[str, str]:
        customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
        return customer, stripe.ok("POST", "/v1/invoices", {"customer": customer, "currency": "usd"})["id"]

    def test_one_call_cannot_redeem_past_max_redemptions(self, stripe: StripeClient) -> None:
        limited = coupon(stripe, percent_off="10", max_redemptions=2)["id"]
        _, invoice = self.draft(stripe)
        lines = [{"amount": 1000, "discounts": [{"coupon": limited}]} for _ in range(10)]
        error = stripe.error("POST", f"/v1/invoices/{invoice}/add_lines", {"lines": lines})
        assert (error["code"], error["param"]) == ("coupon_expired", "lines[2][discounts][0][coupon]"), error
        assert stripe.ok("GET", f"/v1/invoices/{invoice}")["lines"]["data"] == []
        assert stripe.ok("GET", f"/v1/coupons/{limited}")["times_redeemed"] == 0
        stripe.ok("POST", f"/v1/invoices/{invoice}/add_lines", {"lines": lines[:2]})
        shown = stripe.ok("GET", f"/v1/coupons/{limited}")
        assert (shown["times_redeemed"], shown["valid"]) == (2, False)
        error = stripe.error("POST", f"/v1/invoices/{invoice}/add_lines", {"lines": lines[:1]})
        assert (error["code"], error["param"]) == ("coupon_expired", "lines[0][discounts][0][coupon]"), error

    def test_every_kind_of_application_counts(self, stripe: StripeClient) -> None:
        limited = coupon(stripe, percent_off="10", max_redemptions=3)["id"]
        customer, invoice = self.draft(stripe)
        stripe.ok("POST", f"/v1/invoices/{invoice}", {"discounts": [{"coupon": limited}]})
        stripe.ok(
            "POST",
            "/v1/invoiceitems",
            {"customer": customer, "amount": 500, "currency": "usd", "discounts": [{"coupon": limited}]},
        )
        seat = price(stripe, unit_amount=1200, recurring={"interval": "month"})["id"]
        stripe.ok(
            "POST",
            "/v1/subscriptions",
            {"customer": customer, "items": [{"price": seat}], "discounts": [{"coupon": limited}]},
        )
        assert stripe.ok("GET", f"/v1/coupons/{limited}")["times_redeemed"] == 3
        _, other = self.draft(stripe)
        error = stripe.error("POST", "/v1/invoices", {"customer": customer, "discounts": [{"coupon": limited}]})
        assert (error["code"], error["param"]) == ("coupon_expired", "discounts[0][coupon]"), error
        error = stripe.error("POST", f"/v1/invoices/{other}", {"discounts": [{"coupon": limited}]})
        assert (error["code"], error["param"]) == ("coupon_expired", "discounts[0][coupon]"), error
        assert stripe.ok("GET", f"/v1/coupons/{limited}")["times_redeemed"] == 3

    def test_no_code_path_redeems_past_the_limit(self, stripe: StripeClient, tenant: NewTenant) -> None:
        limited = coupon(stripe, percent_off="10", max_redemptions=1)["id"]
        state = stripe.client.app.state.bulkbill  # type: ignore[attr-defined]
        customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
        with state.sessions.begin() as session:  # apply_discounts without any check before it
            uow = UnitOfWork(session, Settings(), tenant.id)
            apply_discounts(uow, [DiscountRef(coupon=limited)], customer_id=customer)
            with pytest.raises(RuleViolation):
                apply_discounts(uow, [DiscountRef(coupon=limited)], customer_id=customer)
            session.rollback()
        assert stripe.ok("GET", f"/v1/coupons/{limited}")["times_redeemed"] == 0

    def test_a_coupon_past_redeem_by_is_not_applied(self, stripe: StripeClient) -> None:
        dated = coupon(stripe, percent_off="10", redeem_by=int(time.time()) + 3600)["id"]
        state = stripe.client.app.state.bulkbill  # type: ignore[attr-defined]
        with state.sessions.begin() as session:  # an hour later: redeem_by has passed
            session.execute(update(Coupon).where(Coupon.id == dated).values(redeem_by=int(time.time()) - 1))
        assert stripe.ok("GET", f"/v1/coupons/{dated}")["valid"] is False
        _, invoice = self.draft(stripe)
        lines = [{"amount": 1000, "discounts": [{"coupon": dated}]}]
        error = stripe.error("POST", f"/v1/invoices/{invoice}/add_lines", {"lines": lines})
        assert (error["code"], error["param"]) == ("coupon_expired", "lines[0][discounts][0][coupon]"), error
        assert stripe.ok("GET", f"/v1/coupons/{dated}")["times_redeemed"] == 0


def _coupon_row(**kw: Any) -> Coupon:
    base: dict[str, Any] = {
        "tenant_id": "t",
        "id": "C",
        "percent_off": Decimal("12.5"),
        "duration": "once",
        "times_redeemed": 0,
        "metadata_": {},
        "created": 1_000,
        "deleted": False,
    }
    return Coupon(**{**base, **kw})


class TestCouponValidity:
    def test_redeem_by_max_redemptions_and_deleted(self) -> None:
        assert coupon_is_valid(_coupon_row(), now=2_000)
        assert coupon_is_valid(_coupon_row(redeem_by=2_000), now=2_000)
        assert not coupon_is_valid(_coupon_row(redeem_by=2_000), now=2_001)
        assert coupon_is_valid(_coupon_row(max_redemptions=2, times_redeemed=1), now=2_000)
        assert not coupon_is_valid(_coupon_row(max_redemptions=2, times_redeemed=2), now=2_000)
        assert not coupon_is_valid(_coupon_row(deleted=True), now=2_000)

    def test_render_reports_validity_at_now(self) -> None:
        row = _coupon_row(redeem_by=2_000)
        assert render_coupon(row, 1_500)["valid"] is True
        rendered = render_coupon(row, 2_500)
        assert rendered["valid"] is False and rendered["percent_off"] == 12.5
        assert_stripe_schema(rendered, "coupon")
