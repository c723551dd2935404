"""Stripe-dialect test helpers: catalog objects, draft invoices and their lines, subscriptions on test clocks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import stripe as stripe_sdk

from tests.helpers import StripeClient
from tests.helpers.schema import assert_stripe_schema

# --- catalog, customers, invoices and their lines ----------------------------------------------


def setup_invoice(stripe: StripeClient, **invoice: Any) -> dict[str, Any]:
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})
    return stripe.ok("POST", "/v1/invoices", {"customer": customer["id"], "currency": "usd", **invoice})


def price(stripe: StripeClient, unit_amount: int = 1500, currency: str = "usd", **extra: Any) -> str:
    product = stripe.ok("POST", "/v1/products", {"name": "Widget"})
    return str(
        stripe.ok(
            "POST", "/v1/prices", {"product": product["id"], "currency": currency, "unit_amount": unit_amount, **extra}
        )["id"]
    )


def tax_rate(stripe: StripeClient, percentage: str = "20", inclusive: bool = False) -> str:
    return str(
        stripe.ok("POST", "/v1/tax_rates", {"display_name": "VAT", "percentage": percentage, "inclusive": inclusive})[
            "id"
        ]
    )


def coupon(stripe: StripeClient, **terms: Any) -> str:
    return str(stripe.ok("POST", "/v1/coupons", terms)["id"])


def all_lines(stripe: StripeClient, invoice_id: str) -> list[dict[str, Any]]:
    return list(stripe.ok("GET", f"/v1/invoices/{invoice_id}/lines", {"limit": 100})["data"])


def pending_item(stripe: StripeClient, customer: str, amount: int = 500, currency: str = "usd") -> str:
    return str(
        stripe.ok("POST", "/v1/invoiceitems", {"customer": customer, "amount": amount, "currency": currency})["id"]
    )


def customer_items(stripe: StripeClient, customer: str) -> list[dict[str, Any]]:
    """The customer's invoice items, newest first."""
    return list(stripe.ok("GET", "/v1/invoiceitems", {"customer": customer, "limit": 100})["data"])


def draft_with_item(stripe: StripeClient, *, percent_off: int | None = None) -> tuple[str, dict[str, Any]]:
    """A draft of a new customer with one item of 1000 USD (less `percent_off` %); returns (draft id, item)."""
    customer = stripe.ok("POST", "/v1/customers", {"name": "Net"})["id"]
    draft = stripe.ok("POST", "/v1/invoices", {"customer": customer})["id"]
    params: dict[str, Any] = {"customer": customer, "invoice": draft, "amount": 1000, "currency": "usd"}
    if percent_off is not None:
        coupon = stripe.ok("POST", "/v1/coupons", {"percent_off": percent_off, "duration": "once"})["id"]
        params["discounts"] = [{"coupon": coupon}]
    return draft, stripe.ok("POST", "/v1/invoiceitems", params)


# --- subscriptions and test clocks ---------------------------------------------------------------


DAY = 86400


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp())


T0 = ts(2025, 1, 1)
FEB1 = ts(2025, 2, 1)
MAR1 = ts(2025, 3, 1)


def new_clock(stripe: StripeClient, frozen_time: int = T0) -> str:
    clock = stripe.ok("POST", "/v1/test_helpers/test_clocks", {"frozen_time": frozen_time, "name": "billing"})
    assert_stripe_schema(clock, "test_helpers.test_clock")
    return str(clock["id"])


def advance(stripe: StripeClient, clock_id: str, frozen_time: int) -> dict[str, Any]:
    clock = stripe.ok("POST", f"/v1/test_helpers/test_clocks/{clock_id}/advance", {"frozen_time": frozen_time})
    assert_stripe_schema(clock, "test_helpers.test_clock")
    assert (clock["frozen_time"], clock["status"]) == (frozen_time, "ready")
    return clock


def new_customer(stripe: StripeClient, clock: str | None = None, **extra: Any) -> str:
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada", "test_clock": clock, **extra})
    assert_stripe_schema(customer, "customer")
    assert customer["test_clock"] == clock
    return str(customer["id"])


def recurring_price(
    stripe: StripeClient,
    unit_amount: int,
    *,
    interval: str = "month",
    count: int = 1,
    currency: str = "usd",
    name: str = "Seat",
) -> str:
    product = stripe.ok("POST", "/v1/products", {"name": name})
    return str(
        stripe.ok(
            "POST",
            "/v1/prices",
            {
                "product": product["id"],
                "currency": currency,
                "unit_amount": unit_amount,
                "recurring": {"interval": interval, "interval_count": count},
            },
        )["id"]
    )


SUBSCRIPTION_FIELDS = frozenset(
    k for k in stripe_sdk.Subscription.__annotations__ if not k.isupper() and not k.startswith("_")
)


ITEM_FIELDS = frozenset(
    k for k in stripe_sdk.SubscriptionItem.__annotations__ if not k.isupper() and not k.startswith("_")
) - {"deleted"}


PLAN_FIELDS = frozenset(k for k in stripe_sdk.Plan.__annotations__ if not k.isupper() and not k.startswith("_")) - {
    "deleted"
}


def assert_subscription_shape(sub: dict[str, Any]) -> None:
    """Stripe's schema subset prunes `subscription`: every attribute stripe-python declares must be there,
    and every object inside that the subset does cover must match its schema."""
    assert sub["object"] == "subscription"
    assert set(sub) >= SUBSCRIPTION_FIELDS, SUBSCRIPTION_FIELDS - set(sub)
    assert "current_period_start" not in sub  # basil and later: the period lives on the items
    items = sub["items"]
    assert items["object"] == "list" and items["url"].startswith("/v1/subscription_items")
    for item in items["data"]:
        assert item["object"] == "subscription_item" and set(item) >= ITEM_FIELDS, ITEM_FIELDS - set(item)
        assert item["plan"]["object"] == "plan" and set(item["plan"]) >= PLAN_FIELDS
        assert_stripe_schema(item["price"], "price")
        for rate in item["tax_rates"]:
            assert_stripe_schema(rate, "tax_rate")
    for rate in sub["default_tax_rates"]:
        assert_stripe_schema(rate, "tax_rate")
    if isinstance(sub["latest_invoice"], dict):
        assert_stripe_schema(sub["latest_invoice"], "invoice")


def assert_invoice(invoice: dict[str, Any]) -> None:
    assert_stripe_schema(invoice, "invoice")
    for line in invoice["lines"]["data"]:
        assert_stripe_schema(line, "line_item")


def subscribe(stripe: StripeClient, customer: str, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    sub = stripe.ok("POST", "/v1/subscriptions", {"customer": customer, "items": items, **extra})
    assert_subscription_shape(sub)
    return sub


def invoice(stripe: StripeClient, invoice_id: str) -> dict[str, Any]:
    body = stripe.ok("GET", f"/v1/invoices/{invoice_id}")
    assert_invoice(body)
    return body


def invoices_of(stripe: StripeClient, customer: str) -> list[dict[str, Any]]:
    """The customer's invoices, oldest first."""
    body = stripe.ok("GET", "/v1/invoices", {"customer": customer, "limit": 100})
    return list(reversed(body["data"]))


def world(stripe: StripeClient, **extra: Any) -> dict[str, Any]:
    """A clock at 2025-01-01, a customer on it, and a monthly subscription of 2 × 1500 + 1 × 500."""
    clock = new_clock(stripe)
    customer = new_customer(stripe, clock)
    seat, support = recurring_price(stripe, 1500), recurring_price(stripe, 500, name="Support")
    sub = subscribe(stripe, customer, [{"price": seat, "quantity": 2}, {"price": support}], **extra)
    return {"clock": clock, "customer": customer, "seat": seat, "support": support, "sub": sub}
