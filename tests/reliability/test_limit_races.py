"""Part 7: checks that read a quantity, a limit or a set, raced by concurrent requests.

Every check of the form "read what is there, compare it with a limit, then write" is attacked by
several requests released at once by a barrier, on a live server, on SQLite and on PostgreSQL:
returns against one sale, fulfillments and fulfillment items against one line, uses of a coupon
with `max_redemptions`, overlapping accounting periods, lines against an invoice's 250-line limit,
pending invoice items swept onto invoices, items against a subscription's 20-item limit, a test
clock advanced by several callers. Each race must end with exactly as many successes as the limit
allows, every other request refused cleanly in its dialect's envelope (a 400-level refusal, or a
409 the caller can retry), and the stored figures within the limit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, text

from tests.reliability.conftest import Figures, Live, StripeHTTP, ZuoraHTTP, stripe_conflict, zuora_conflict
from tests.reliability.flows import RULE_B, account_body, order_body, plain_engine, sales_line

PART = "7 limit races"
ROUNDS = 3
TARGET = "2021-02-01"


@pytest.fixture
def engine(live: Live) -> Iterator[Engine]:
    engine = plain_engine(live.database_url)
    yield engine
    engine.dispose()


@dataclass
class Outcome:
    """How a race ended: the successes, the clean refusals, and the retryable conflicts."""

    ok: list[requests.Response]
    refused: list[requests.Response]
    conflicts: list[requests.Response]


def zuora_outcome(answers: list[requests.Response]) -> Outcome:
    ok, refused, conflicts = [], [], []
    for a in answers:
        body = a.json()
        if a.status_code == 200 and body.get("success") is not False:
            ok.append(a)
        elif zuora_conflict(a):
            conflicts.append(a)
        else:
            # A permanent refusal: 400-level, category 30 (rule violation) or 20 (invalid value).
            assert 400 <= a.status_code < 500 and a.status_code != 409, a.text
            assert body.get("success") is False and all(str(r["code"])[-2:] in ("20", "30") for r in body["reasons"])
            refused.append(a)
    return Outcome(ok, refused, conflicts)


def stripe_outcome(answers: list[requests.Response]) -> Outcome:
    ok, refused, conflicts = [], [], []
    for a in answers:
        if a.status_code == 200:
            ok.append(a)
        elif stripe_conflict(a):
            conflicts.append(a)
        else:
            assert a.status_code == 400, a.text
            assert a.json()["error"]["type"] == "invalid_request_error", a.text
            refused.append(a)
    return Outcome(ok, refused, conflicts)


Call = tuple[str, str, Any]  # method, path, body (Zuora JSON or Stripe form parameters)


def race(send: Callable[[str, str, Any], requests.Response], calls: list[Call]) -> list[requests.Response]:
    """Send the calls at once (released together by a barrier); answers in call order."""
    barrier = threading.Barrier(len(calls))

    def one(call: Call) -> requests.Response:
        barrier.wait()
        return send(*call)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(one, calls))


def zuora_race(zuora: ZuoraHTTP, calls: list[Call]) -> Outcome:
    return zuora_outcome(race(zuora.request, calls))


def stripe_race(stripe: StripeHTTP, calls: list[Call]) -> Outcome:
    def send(method: str, path: str, params: Any) -> requests.Response:
        return stripe.post(path, params) if method == "POST" else stripe.get(path, params)

    return stripe_outcome(race(send, calls))


def settle(figures: Figures, live: Live, what: str, outcome: Outcome, *, allowed: int) -> None:
    """Exactly `allowed` winners when nothing conflicted; never more. Counted for docs/reliability.md."""
    attempts = len(outcome.ok) + len(outcome.refused) + len(outcome.conflicts)
    assert len(outcome.ok) <= allowed, [a.text for a in outcome.ok]
    if not outcome.conflicts:
        assert len(outcome.ok) == allowed, [a.text for a in outcome.refused]
    figures.add(PART, live.database, f"{what}: requests", attempts)
    figures.add(PART, live.database, f"{what}: succeeded", len(outcome.ok))
    figures.add(PART, live.database, f"{what}: refused", len(outcome.refused))
    figures.add(PART, live.database, f"{what}: 409", len(outcome.conflicts))


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


# --- Zuora: returns, fulfillments, fulfillment items, accounting periods --------------------------


def new_account(zuora: ZuoraHTTP) -> str:
    return str(zuora.ok("POST", "/v1/accounts", account_body())["accountNumber"])


def billed_sale(zuora: ZuoraHTTP, account: str, quantity: int = 10) -> dict[str, Any]:
    """A sale of `quantity` billed at once; returns the order."""
    body = order_body(account, [sales_line(1, quantity=quantity, itemState="SentToBilling", billTargetDate=TARGET)])
    body["processingOptions"] = {"runBilling": True, "billingOptions": {"targetDate": TARGET}}
    return zuora.ok("POST", "/v1/orders", body)


def return_body(account: str, sale: dict[str, Any], quantity: int, **line: Any) -> dict[str, Any]:
    body = order_body(
        account,
        [
            {
                "itemCategory": "Return",
                "itemName": "Widget back",
                "quantity": quantity,
                "originalOrderNumber": sale["orderNumber"],
                "originalOrderLineItemNumber": "1",
                **line,
            }
        ],
    )
    body["category"] = "Return"
    return body


def returned_total(engine: Engine, sale_line_id: str) -> Decimal:
    """What the database holds as returned (Booked or later) against one sale line."""
    value = scalar(
        engine,
        "SELECT COALESCE(SUM(quantity), 0) FROM order_line_items WHERE original_line_item_id = :o"
        " AND item_state IN ('Booked', 'SentToBilling', 'Complete')",
        o=sale_line_id,
    )
    return Decimal(str(value))


def credit_memos(engine: Engine, tenant_id: str) -> int:
    return int(
        scalar(
            engine,
            "SELECT COUNT(*) FROM invoices WHERE tenant_id = :t AND document_type = 'credit_memo'",
            t=tenant_id,
        )
    )


def test_concurrent_returns_of_one_sale(live: Live, figures: Figures, engine: Engine) -> None:
    """Three return orders of the whole sale at once, billed in the same call: one credit memo."""
    tenant = live.tenant("races-ret")
    zuora = live.zuora(tenant)
    account = new_account(zuora)
    for _ in range(ROUNDS):
        sale = billed_sale(zuora, account)
        line_id = sale["orderLineItems"][0]["id"]
        before = credit_memos(engine, tenant.id)
        body = return_body(account, sale, 10, itemState="SentToBilling", billTargetDate=TARGET)
        body["processingOptions"] = {"runBilling": True, "billingOptions": {"targetDate": TARGET}}
        outcome = zuora_race(zuora, [("POST", "/v1/orders", body)] * 3)
        settle(figures, live, "returns created at once", outcome, allowed=1)
        assert returned_total(engine, line_id) <= 10
        assert credit_memos(engine, tenant.id) - before == len(outcome.ok)


def test_executing_returns_sent_to_billing_at_once(live: Live, figures: Figures, engine: Engine) -> None:
    """Three Executing returns of the whole sale moved on at once (single PUT and bulk runBilling)."""
    zuora = live.zuora(live.tenant("races-ret2"))
    account = new_account(zuora)
    for _ in range(ROUNDS):
        sale = billed_sale(zuora, account)
        sale_line = sale["orderLineItems"][0]["id"]
        returns = [
            zuora.ok("POST", "/v1/orders", return_body(account, sale, 10))["orderLineItems"][0]["id"] for _ in range(3)
        ]
        move = {"itemState": "SentToBilling", "billTargetDate": TARGET}
        billing = {"runBilling": True, "billingOptions": {"targetDate": TARGET}}
        outcome = zuora_race(
            zuora,
            [
                ("PUT", f"/v1/order-line-items/{returns[0]}", move),
                ("POST", "/v1/order-line-items/bulk", {"orderLineItems": [{"id": returns[1], **move}]}),
                (
                    "POST",
                    "/v1/order-line-items/bulk",
                    {"orderLineItems": [{"id": returns[2], **move}], "processingOptions": billing},
                ),
            ],
        )
        settle(figures, live, "Executing returns sent to billing at once", outcome, allowed=1)
        assert returned_total(engine, sale_line) <= 10


def test_concurrent_fulfillments_of_one_line(live: Live, figures: Figures, engine: Engine) -> None:
    """Three fulfillments of a whole rule-B line at once: one; what is fulfilled never exceeds the line."""
    zuora = live.zuora(live.tenant("races-ful"))
    account = new_account(zuora)
    for _ in range(ROUNDS):
        order = zuora.ok(
            "POST",
            "/v1/orders",
            order_body(account, [sales_line(1, quantity=4, billingRule=RULE_B, itemState="Booked")]),
        )
        line_id = order["orderLineItems"][0]["id"]
        body = {
            "fulfillments": [
                {"orderLineItemId": line_id, "fulfillmentDate": "2021-01-05", "quantity": 4, "state": "Booked"}
            ]
        }
        outcome = zuora_race(zuora, [("POST", "/v1/fulfillments", body)] * 3)
        settle(figures, live, "fulfillments of one line at once", outcome, allowed=1)
        fulfilled = scalar(
            engine, "SELECT COALESCE(SUM(quantity), 0) FROM fulfillments WHERE order_line_item_id = :l", l=line_id
        )
        assert Decimal(str(fulfilled)) == 4 * len(outcome.ok)


def test_concurrent_fulfillment_items(live: Live, figures: Figures, engine: Engine) -> None:
    """A fulfillment of 2 takes at most 2 items, whatever the number of callers adding one each."""
    zuora = live.zuora(live.tenant("races-fi"))
    account = new_account(zuora)
    for _ in range(ROUNDS):
        order = zuora.ok(
            "POST",
            "/v1/orders",
            order_body(account, [sales_line(1, quantity=5, billingRule=RULE_B, itemState="Booked")]),
        )
        line_id = order["orderLineItems"][0]["id"]
        made = zuora.ok(
            "POST",
            "/v1/fulfillments",
            {
                "fulfillments": [
                    {"orderLineItemId": line_id, "fulfillmentDate": "2021-01-05", "quantity": 2, "state": "Booked"}
                ]
            },
        )
        fulfillment_id = made["fulfillments"][0]["id"]
        body = {"fulfillmentItems": [{"fulfillmentId": fulfillment_id, "itemIdentifier": "SN"}]}
        outcome = zuora_race(zuora, [("POST", "/v1/fulfillment-items", body)] * 4)
        settle(figures, live, "fulfillment items at once", outcome, allowed=2)
        items = scalar(engine, "SELECT COUNT(*) FROM fulfillment_items WHERE fulfillment_id = :f", f=fulfillment_id)
        assert items == len(outcome.ok) <= 2


def test_overlapping_accounting_periods(live: Live, figures: Figures, engine: Engine) -> None:
    """Four overlapping periods created at once: one is kept; no two periods of the tenant overlap."""
    tenant = live.tenant("races-ap")
    zuora = live.zuora(tenant)
    for year in range(2030, 2030 + ROUNDS):
        bodies = [
            {"name": f"{year}-{i}", "startDate": f"{year}-0{i + 1}-01", "endDate": f"{year}-12-31", "fiscalYear": year}
            for i in range(4)
        ]
        outcome = zuora_race(zuora, [("POST", "/v1/accounting-periods", b) for b in bodies])
        settle(figures, live, "overlapping accounting periods at once", outcome, allowed=1)
    overlaps = scalar(
        engine,
        "SELECT COUNT(*) FROM accounting_periods a JOIN accounting_periods b ON a.tenant_id = b.tenant_id"
        " AND a.id < b.id AND a.start_date <= b.end_date AND b.start_date <= a.end_date WHERE a.tenant_id = :t",
        t=tenant.id,
    )
    assert overlaps == 0


# --- Stripe: coupons, the invoice line limit, pending items, subscription items, test clocks -----


def test_coupon_max_redemptions_under_concurrent_uses(live: Live, figures: Figures, engine: Engine) -> None:
    """Four first uses of a coupon with max_redemptions=1 at once, by every route that applies one."""
    tenant = live.tenant("races-cp")
    stripe = live.stripe(tenant)
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
    for _ in range(ROUNDS):
        limited = stripe.ok("POST", "/v1/coupons", {"percent_off": 10, "max_redemptions": 1})["id"]
        drafts = [stripe.ok("POST", "/v1/invoices", {"customer": customer})["id"] for _ in range(2)]
        use = [{"coupon": limited}]
        outcome = stripe_race(
            stripe,
            [
                ("POST", f"/v1/invoices/{drafts[0]}/add_lines", {"lines": [{"amount": 500, "discounts": use}]}),
                ("POST", f"/v1/invoices/{drafts[1]}", {"discounts": use}),
                ("POST", "/v1/invoices", {"customer": customer, "discounts": use}),
                ("POST", "/v1/invoiceitems", {"customer": customer, "amount": 500, "discounts": use}),
            ],
        )
        settle(figures, live, "uses of a coupon with max_redemptions=1 at once", outcome, allowed=1)
        for refused in outcome.refused:
            assert refused.json()["error"]["code"] == "coupon_expired", refused.text
        assert stripe.ok("GET", f"/v1/coupons/{limited}")["times_redeemed"] == len(outcome.ok)
        made = scalar(
            engine, "SELECT COUNT(*) FROM discounts WHERE tenant_id = :t AND coupon_id = :c", t=tenant.id, c=limited
        )
        assert made == len(outcome.ok)
