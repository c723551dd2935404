"""Part 7: checks that read a quantity, a limit or a set, raced by concurrent requests.

Every check of the form "read what is there, compare it with a limit, then write" is attacked by
several requests released at once by a barrier, on a live server, on SQLite and on PostgreSQL:
returns against one sale, fulfillments and fulfillment items against one line, uses of a coupon
with `max_redemptions`, overlapping accounting periods, lines against an invoice's 250-line limit,
pending invoice items swept onto invoices, items against a subscription's 20-item limit, a test
clock advanced by several callers. Each race must end with exactly as many successes as the limit
allows, every other request refused for good in its dialect's envelope (a 400-level refusal, not
a 409 "please retry": a request that waited for another one sees what it wrote), and the stored
figures within the limit.
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
            # A refusal for good: 400-level, category 30 (rule violation) or 20 (invalid value).
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
        if method == "DELETE":
            auth = {"Authorization": f"Bearer {stripe.key}"}
            return stripe.session.delete(stripe.base + path, headers=auth, timeout=60)
        return stripe.post(path, params) if method == "POST" else stripe.get(path, params)

    return stripe_outcome(race(send, calls))


def settle(figures: Figures, live: Live, what: str, outcome: Outcome, *, allowed: int) -> None:
    """Exactly `allowed` winners, every other request refused for good (never a "please retry":
    a request that waited for another sees what that one wrote). Counted for docs/reliability.md."""
    attempts = len(outcome.ok) + len(outcome.refused) + len(outcome.conflicts)
    assert not outcome.conflicts, [a.text for a in outcome.conflicts]
    assert len(outcome.ok) == allowed, [a.text for a in outcome.ok + outcome.refused]
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


def booked_line(zuora: ZuoraHTTP, account: str, quantity: int) -> str:
    """A Booked sales line billed as fulfillments occur; returns its id."""
    line = sales_line(1, quantity=quantity, billingRule=RULE_B, itemState="Booked")
    return str(zuora.ok("POST", "/v1/orders", order_body(account, [line]))["orderLineItems"][0]["id"])


def fulfillments(line_id: str, quantity: int, **fields: Any) -> dict[str, Any]:
    """A fulfillments request: one Booked fulfillment of `quantity`."""
    one = {"orderLineItemId": line_id, "fulfillmentDate": "2021-01-05", "quantity": quantity, "state": "Booked"}
    return {"fulfillments": [{**one, **fields}]}


def test_concurrent_fulfillments_of_one_line(live: Live, figures: Figures, engine: Engine) -> None:
    """Three fulfillments of a whole rule-B line at once: one; what is fulfilled never exceeds the line."""
    zuora = live.zuora(live.tenant("races-ful"))
    account = new_account(zuora)
    for _ in range(ROUNDS):
        line_id = booked_line(zuora, account, 4)
        body = fulfillments(line_id, 4)
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
        made = zuora.ok("POST", "/v1/fulfillments", fulfillments(booked_line(zuora, account, 5), 2))
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


def test_credit_notes_never_exceed_the_invoice_total(live: Live, figures: Figures, engine: Engine) -> None:
    """A finalized 1,000 invoice: four credit notes of 400 at once, by create and by a line; two may win."""
    tenant = live.tenant("races-cn")
    stripe = live.stripe(tenant)
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
    for _ in range(ROUNDS):
        invoice = stripe.ok("POST", "/v1/invoices", {"customer": customer, "currency": "usd"})["id"]
        stripe.ok("POST", f"/v1/invoices/{invoice}/add_lines", {"lines": [{"amount": 1000}]})
        stripe.ok("POST", f"/v1/invoices/{invoice}/finalize", {})
        by_amount = {"invoice": invoice, "amount": 400}
        by_line = {"invoice": invoice, "lines": [{"type": "custom_line_item", "unit_amount": 400}]}
        outcome = stripe_race(
            stripe, [("POST", "/v1/credit_notes", by_amount)] * 2 + [("POST", "/v1/credit_notes", by_line)] * 2
        )
        settle(figures, live, "credit notes of 400 on a 1,000 invoice at once", outcome, allowed=2)
        credited = scalar(
            engine,
            "SELECT COALESCE(SUM(total), 0) FROM invoices WHERE tenant_id = :t AND credited_invoice_id = :i",
            t=tenant.id,
            i=invoice,
        )
        assert credited == 800
        assert stripe.ok("GET", f"/v1/invoices/{invoice}")["amount_remaining"] == 200


def test_invoice_line_limit_under_concurrent_adds(live: Live, figures: Figures, engine: Engine) -> None:
    """An invoice two lines short of 250: four single-line adds at once (add_lines, invoice items)."""
    tenant = live.tenant("races-250")
    stripe = live.stripe(tenant)
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
    invoice = stripe.ok("POST", "/v1/invoices", {"customer": customer, "currency": "usd"})["id"]
    for size in (50, 50, 50, 50, 48):
        stripe.ok("POST", f"/v1/invoices/{invoice}/add_lines", {"lines": [{"amount": 100}] * size})
    one_line = {"lines": [{"amount": 100}]}
    item = {"customer": customer, "invoice": invoice, "amount": 100, "currency": "usd"}
    outcome = stripe_race(
        stripe,
        [("POST", f"/v1/invoices/{invoice}/add_lines", one_line)] * 2 + [("POST", "/v1/invoiceitems", item)] * 2,
    )
    settle(figures, live, "single-line adds to an invoice 2 short of 250 at once", outcome, allowed=2)
    for refused in outcome.refused:
        assert "at most 250" in refused.json()["error"]["message"], refused.text
    lines = scalar(engine, "SELECT COUNT(line_id) FROM invoice_items WHERE invoice_id = :i", i=invoice)
    counted = scalar(engine, "SELECT line_count FROM invoices WHERE id = :i", i=invoice)
    assert lines == counted == 248 + len(outcome.ok) == 250


def pending_items(stripe: StripeHTTP, customer: str, n: int) -> list[str]:
    return [
        stripe.ok("POST", "/v1/invoiceitems", {"customer": customer, "amount": 100 + i, "currency": "usd"})["id"]
        for i in range(n)
    ]


def item_placements(engine: Engine, tenant_id: str, items: list[str]) -> dict[str, int]:
    """Per item: how many invoice lines show it."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, COUNT(line_id) FROM invoice_items WHERE tenant_id = :t GROUP BY id"), {"t": tenant_id}
        ).all()
    counts = {str(item): int(n) for item, n in rows}
    return {item: counts.get(item, 0) for item in items}


def test_pending_items_swept_by_concurrent_invoices(live: Live, figures: Figures, engine: Engine) -> None:
    """Four invoices created at once with pending_invoice_items_behavior=include: each pending item
    lands on exactly one of them, and every creation succeeds (there is no limit to refuse)."""
    tenant = live.tenant("races-pend")
    stripe = live.stripe(tenant)
    for _ in range(ROUNDS):
        customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
        # A first invoice gives the customer its currency (the first one writes it on the customer row).
        stripe.ok("POST", "/v1/invoices", {"customer": customer, "currency": "usd"})
        items = pending_items(stripe, customer, 3)
        body = {"customer": customer, "currency": "usd", "pending_invoice_items_behavior": "include"}
        outcome = stripe_race(stripe, [("POST", "/v1/invoices", body)] * 4)
        settle(figures, live, "invoices sweeping one customer's pending items at once", outcome, allowed=4)
        assert set(item_placements(engine, tenant.id, items).values()) == {1}


def test_one_pending_item_assigned_to_two_invoices_at_once(live: Live, figures: Figures, engine: Engine) -> None:
    """add_lines[i][invoice_item] of the same pending item on two drafts at once: one wins."""
    tenant = live.tenant("races-assign")
    stripe = live.stripe(tenant)
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
    for _ in range(ROUNDS):
        (item,) = pending_items(stripe, customer, 1)
        drafts = [stripe.ok("POST", "/v1/invoices", {"customer": customer, "currency": "usd"})["id"] for _ in range(3)]
        lines = {"lines": [{"invoice_item": item}]}
        outcome = stripe_race(stripe, [("POST", f"/v1/invoices/{d}/add_lines", lines) for d in drafts])
        settle(figures, live, "one pending item assigned to three drafts at once", outcome, allowed=1)
        assert item_placements(engine, tenant.id, [item]) == {item: 1}


def test_pending_item_edited_while_assigned(live: Live, figures: Figures, engine: Engine) -> None:
    """A pending item updated (or deleted) while add_lines assigns it: the invoice's totals always
    equal the sum of the lines it ends with, whichever request goes first."""
    tenant = live.tenant("races-edit")
    stripe = live.stripe(tenant)
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
    for round_no in range(2 * ROUNDS):
        (item,) = pending_items(stripe, customer, 1)
        draft = stripe.ok("POST", "/v1/invoices", {"customer": customer, "currency": "usd"})["id"]
        path = f"/v1/invoiceitems/{item}"
        edit: Call = ("POST", path, {"amount": 999}) if round_no % 2 else ("DELETE", path, None)
        assign: Call = ("POST", f"/v1/invoices/{draft}/add_lines", {"lines": [{"invoice_item": item}]})
        outcome = stripe_race(stripe, [assign, edit])
        assert not outcome.conflicts, [a.text for a in outcome.conflicts]
        figures.add(PART, live.database, "pending item edited or deleted while assigned: requests", 2)
        figures.add(PART, live.database, "pending item edited or deleted while assigned: refused", len(outcome.refused))
        total, subtotal, line_sum, line_count, lines = (
            scalar(engine, sql, i=draft)
            for sql in (
                "SELECT total FROM invoices WHERE id = :i",
                "SELECT subtotal FROM invoices WHERE id = :i",
                "SELECT COALESCE(SUM(amount), 0) FROM invoice_items WHERE invoice_id = :i AND line_id IS NOT NULL",
                "SELECT line_count FROM invoices WHERE id = :i",
                "SELECT COUNT(line_id) FROM invoice_items WHERE invoice_id = :i",
            )
        )
        assert total == subtotal == line_sum and line_count == lines, (total, subtotal, line_sum, line_count, lines)


def test_one_lookup_key_claimed_at_once(live: Live, figures: Figures, engine: Engine) -> None:
    """Four prices created with one lookup key at once: one gets it. With transfer_lookup_key all
    four succeed, and in the end exactly one price holds the key."""
    tenant = live.tenant("races-lk")
    stripe = live.stripe(tenant)
    product = stripe.ok("POST", "/v1/products", {"name": "Widget"})["id"]
    for round_no in range(ROUNDS):
        key = f"standard-{round_no}"
        body = {"product": product, "currency": "usd", "unit_amount": 100, "lookup_key": key}
        outcome = stripe_race(stripe, [("POST", "/v1/prices", body)] * 4)
        settle(figures, live, "prices claiming one lookup key at once", outcome, allowed=1)
        moved = stripe_race(stripe, [("POST", "/v1/prices", {**body, "transfer_lookup_key": True})] * 4)
        settle(figures, live, "prices taking one lookup key over at once", moved, allowed=4)
        holders = scalar(
            engine, "SELECT COUNT(*) FROM prices WHERE tenant_id = :t AND lookup_key = :k", t=tenant.id, k=key
        )
        assert holders == 1


def test_chosen_unique_values_claimed_at_once(live: Live, figures: Figures, engine: Engine) -> None:
    """Four requests choosing one unique value at once (an invoice prefix, an account number, an order
    number, a product id): one gets it, the others are refused for good with the field named, never
    a 409 "please retry" (a retry could not cure it)."""
    tenant = live.tenant("races-uq")
    stripe, zuora = live.stripe(tenant), live.zuora(tenant)
    account = new_account(zuora)
    for round_no in range(ROUNDS):
        prefix = stripe_race(stripe, [("POST", "/v1/customers", {"invoice_prefix": f"UQ{round_no}X"})] * 4)
        settle(figures, live, "customers choosing one invoice prefix at once", prefix, allowed=1)
        assert all(a.json()["error"]["param"] == "invoice_prefix" for a in prefix.refused)
        product = stripe_race(stripe, [("POST", "/v1/products", {"id": f"prod_uq{round_no}", "name": "W"})] * 4)
        settle(figures, live, "products choosing one id at once", product, allowed=1)
        number = f"UQ-A-{round_no}"
        accounts = zuora_race(zuora, [("POST", "/v1/accounts", {**account_body(), "accountNumber": number})] * 4)
        settle(figures, live, "accounts choosing one account number at once", accounts, allowed=1)
        order = {**order_body(account, [sales_line(1)]), "orderNumber": f"UQ-O-{round_no}"}
        orders = zuora_race(zuora, [("POST", "/v1/orders", order)] * 4)
        settle(figures, live, "orders choosing one order number at once", orders, allowed=1)
    prefixes = scalar(
        engine, "SELECT COUNT(*) FROM customers WHERE tenant_id = :t AND invoice_prefix LIKE 'UQ%'", t=tenant.id
    )
    assert prefixes == ROUNDS


def test_subscription_item_limit_under_concurrent_updates(live: Live, figures: Figures, engine: Engine) -> None:
    """A subscription two items short of 20: four updates adding one item each, at once."""
    tenant = live.tenant("races-si")
    stripe = live.stripe(tenant)
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
    monthly = {"interval": "month"}
    prices = [
        stripe.ok(
            "POST",
            "/v1/prices",
            {"currency": "usd", "unit_amount": 100 + i, "recurring": monthly, "product_data": {"name": f"P{i}"}},
        )["id"]
        for i in range(22)
    ]
    sub = stripe.ok("POST", "/v1/subscriptions", {"customer": customer, "items": [{"price": p} for p in prices[:18]]})
    outcome = stripe_race(
        stripe, [("POST", f"/v1/subscriptions/{sub['id']}", {"items": [{"price": p}]}) for p in prices[18:]]
    )
    settle(figures, live, "items added to a subscription 2 short of 20 at once", outcome, allowed=2)
    items = scalar(
        engine,
        "SELECT COUNT(*) FROM subscription_items WHERE tenant_id = :t AND subscription_id = :s",
        t=tenant.id,
        s=sub["id"],
    )
    assert items == 20


def test_test_clock_advanced_by_several_callers(live: Live, figures: Figures, engine: Engine) -> None:
    """Four advances of one clock to the same month end at once: the renewal is billed once."""
    tenant = live.tenant("races-clk")
    stripe = live.stripe(tenant)
    jan1, feb1 = 1735689600, 1738368000  # 2025-01-01, 2025-02-01
    clock = stripe.ok("POST", "/v1/test_helpers/test_clocks", {"frozen_time": jan1})["id"]
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada", "test_clock": clock})["id"]
    seat = stripe.ok(
        "POST",
        "/v1/prices",
        {"currency": "usd", "unit_amount": 1200, "recurring": {"interval": "month"}, "product_data": {"name": "Seat"}},
    )["id"]
    stripe.ok("POST", "/v1/subscriptions", {"customer": customer, "items": [{"price": seat}]})
    path = f"/v1/test_helpers/test_clocks/{clock}/advance"
    outcome = stripe_race(stripe, [("POST", path, {"frozen_time": feb1})] * 4)
    # Advancing to the clock's own time again is a no-op, so every caller succeeds.
    settle(figures, live, "advances of one test clock at once", outcome, allowed=4)
    invoices = scalar(
        engine, "SELECT COUNT(*) FROM invoices WHERE tenant_id = :t AND customer_id = :c", t=tenant.id, c=customer
    )
    assert invoices == 2  # the first period's, and one renewal


def stripe_objects(stripe: StripeHTTP) -> dict[str, str]:
    """One object of every Stripe kind whose metadata an update merges into: kind → id."""
    product = stripe.ok("POST", "/v1/products", {"name": "Widget"})["id"]
    return {
        "customers": stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"],
        "products": product,
        "prices": stripe.ok("POST", "/v1/prices", {"product": product, "currency": "usd", "unit_amount": 5})["id"],
        "coupons": stripe.ok("POST", "/v1/coupons", {"percent_off": 5})["id"],
        "tax_rates": stripe.ok("POST", "/v1/tax_rates", {"display_name": "VAT", "percentage": 20, "inclusive": False})[
            "id"
        ],
    }


def test_concurrent_metadata_merges(live: Live, figures: Figures) -> None:
    """Four updates of one object at once, each adding its own metadata key: every key is kept.
    Then, 48 keys in: four updates adding one key each, and Stripe's 50-key limit holds."""
    stripe = live.stripe(live.tenant("races-md"))
    for kind, object_id in stripe_objects(stripe).items():
        path = f"/v1/{kind}/{object_id}"
        for round_no in range(ROUNDS):
            keys = [f"r{round_no}k{i}" for i in range(4)]
            outcome = stripe_race(stripe, [("POST", path, {"metadata": {key: "v"}}) for key in keys])
            settle(figures, live, "metadata merges into one object at once", outcome, allowed=4)
            assert set(keys) <= set(stripe.ok("GET", path)["metadata"]), kind
        stripe.ok("POST", path, {"metadata": {f"f{i}": "v" for i in range(48 - 4 * ROUNDS)}})
        outcome = stripe_race(stripe, [("POST", path, {"metadata": {f"last{i}": "v"}}) for i in range(4)])
        settle(figures, live, "keys added to metadata 2 short of 50 at once", outcome, allowed=2)
        assert len(stripe.ok("GET", path)["metadata"]) == 50, kind


def test_product_deleted_while_priced(live: Live, figures: Figures, engine: Engine) -> None:
    """A product without prices deleted while prices are created for it: never a deleted product with prices."""
    tenant = live.tenant("races-prod")
    stripe = live.stripe(tenant)
    for _ in range(2 * ROUNDS):
        product = stripe.ok("POST", "/v1/products", {"name": "Widget"})["id"]
        price = {"product": product, "currency": "usd", "unit_amount": 5}
        outcome = stripe_race(
            stripe, [("POST", "/v1/prices", price)] * 3 + [("DELETE", f"/v1/products/{product}", None)]
        )
        assert not outcome.conflicts, [a.text for a in outcome.conflicts]
        figures.add(PART, live.database, "product deleted while 3 prices are created: requests", 4)
        figures.add(PART, live.database, "product deleted while 3 prices are created: refused", len(outcome.refused))
        deleted = scalar(
            engine, "SELECT deleted FROM products WHERE tenant_id = :t AND id = :p", t=tenant.id, p=product
        )
        prices = scalar(
            engine, "SELECT COUNT(*) FROM prices WHERE tenant_id = :t AND product_id = :p", t=tenant.id, p=product
        )
        assert not (deleted and prices), (deleted, prices)
        assert len(outcome.ok) == (1 if deleted else 3)


def test_fulfillment_item_edits_at_once(live: Live, figures: Figures) -> None:
    """Four edits of one fulfillment item's custom fields at once: every field is kept."""
    zuora = live.zuora(live.tenant("races-fie"))
    account = new_account(zuora)
    body = fulfillments(booked_line(zuora, account, 5), 2, fulfillmentItems=[{"itemIdentifier": "SN-1"}])
    made = zuora.ok("POST", "/v1/fulfillments", body)
    item = made["fulfillments"][0]["fulfillmentItems"][0]["id"]
    for round_no in range(ROUNDS):
        fields = [f"r{round_no}f{i}__c" for i in range(4)]
        calls: list[Call] = [("PUT", f"/v1/fulfillment-items/{item}", {"customFields": {f: 1}}) for f in fields]
        settle(figures, live, "fulfillment item edits at once", zuora_race(zuora, calls), allowed=4)
        shown = zuora.ok("GET", f"/v1/fulfillment-items/{item}")["fulfillmentItem"]["customFields"]
        assert set(fields) <= set(shown)
