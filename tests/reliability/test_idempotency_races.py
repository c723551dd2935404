"""Part 3: Idempotency-Key retries, sequential and concurrent, in both dialects, on both databases.

Every retry of a request with one key (three in a row, then eight at once from eight threads) must
leave exactly one invoice, line, order, fulfillment or bill run behind: answers are the first
response (replayed, identical) or, while the first request is still running, a conflict in the
dialect's envelope (Stripe 409 idempotency_error / idempotency_key_in_use; Zuora 409 category
50, HTTP 200 for a legacy Zuora-Version). A key left in flight by a crashed request is taken over
once it is older than the in-flight timeout; a request that fails without a stored response frees
its key.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, text

import bulkbill.services.invoicing.invoices as invoices_service
import bulkbill.services.platform.idempotency as idempotency
from tests.reliability.conftest import Figures, Live, stripe_conflict, zuora_conflict
from tests.reliability.flows import (
    FUL,
    OLI,
    RULE_B,
    account_body,
    bill_run_body,
    billed_counts,
    bulk_body,
    count,
    fulfillment_body,
    order_body,
    plain_engine,
    sales_line,
)

PART = "3 idempotency"
THREADS = 8
ROUNDS = 3
LONG_ROUNDS = 40
THREE_LINES = [{"amount": 100 + i, "description": f"l{i}"} for i in range(3)]


@pytest.fixture
def engine(live: Live) -> Iterator[Engine]:
    engine = plain_engine(live.database_url)
    yield engine
    engine.dispose()


def tenant_of(engine: Engine, table: str, column: str, value: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text(f"SELECT tenant_id FROM {table} WHERE {column} = :v"), {"v": value}).scalar_one())


class Retries:
    """Sends one keyed request again and again; checks every answer and counts them."""

    def __init__(self, send: Callable[[str], requests.Response], conflict: Callable[[requests.Response], bool]) -> None:
        self.send = send
        self.conflict = conflict
        self.outcomes: Counter[str] = Counter()

    def sequential(self, key: str, times: int = 3) -> dict[str, Any]:
        first = self.send(key)
        assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers, first.text
        for _ in range(times - 1):
            again = self.send(key)
            assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true", again.text
            assert again.json() == first.json()
        self.outcomes["sequential retries"] += times
        body: dict[str, Any] = first.json()
        return body

    def concurrent(self, key: str, threads: int = THREADS) -> dict[str, Any]:
        barrier = threading.Barrier(threads)

        def one(_: int) -> requests.Response:
            barrier.wait()
            return self.send(key)

        with ThreadPoolExecutor(threads) as pool:
            answers = list(pool.map(one, range(threads)))
        bodies = [a.json() for a in answers if a.status_code == 200]
        others = [a for a in answers if a.status_code != 200]
        assert all(self.conflict(a) for a in others), [a.text for a in others]
        assert bodies and all(b == bodies[0] for b in bodies), "two different answers to one key"
        self.outcomes["concurrent retries"] += threads
        self.outcomes["  answered 409 while the first was in flight"] += len(others)
        self.outcomes["  answered with the first response"] += len(bodies)
        # and after the race, the stored response
        again = self.send(key)
        assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true", again.text
        assert again.json() == bodies[0]
        return bodies[0]


def stripe_races(live: Live, figures: Figures, engine: Engine, rounds: int) -> None:
    stripe = live.stripe(live.tenant("idem-s"))
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
    tenant_id = tenant_of(engine, "customers", "id", customer)
    created: list[str] = []
    for r in range(rounds):
        for mode in ("sequential", "concurrent"):
            # create an invoice
            make = Retries(
                lambda k: stripe.post("/v1/invoices", {"customer": customer, "currency": "usd"}, key=k), stripe_conflict
            )
            invoice = getattr(make, mode)(f"inv-{r}-{mode}-{uuid.uuid4().hex}")
            created.append(invoice["id"])
            # add lines to it
            path = f"/v1/invoices/{invoice['id']}/add_lines"
            add = Retries(lambda k, p=path: stripe.post(p, {"lines": THREE_LINES}, key=k), stripe_conflict)
            getattr(add, mode)(f"add-{r}-{mode}-{uuid.uuid4().hex}")
            # a pending invoice item
            item = Retries(
                lambda k: stripe.post(
                    "/v1/invoiceitems", {"customer": customer, "amount": 5, "currency": "usd"}, key=k
                ),
                stripe_conflict,
            )
            getattr(item, mode)(f"ii-{r}-{mode}-{uuid.uuid4().hex}")
            # finalize it
            final = Retries(
                lambda k, i=invoice["id"]: stripe.post(f"/v1/invoices/{i}/finalize", key=k), stripe_conflict
            )
            getattr(final, mode)(f"fin-{r}-{mode}-{uuid.uuid4().hex}")
            for retries in (make, add, item, final):
                for what, n in retries.outcomes.items():
                    figures.add(PART, live.database, f"Stripe {what}", n)
    with engine.connect() as conn:
        invoices = conn.execute(text("SELECT id FROM invoices WHERE tenant_id = :t"), {"t": tenant_id}).scalars().all()
        per_invoice = dict(
            conn.execute(
                text(
                    "SELECT invoice_id, COUNT(line_id) FROM invoice_items"
                    " WHERE tenant_id = :t AND invoice_id IS NOT NULL GROUP BY invoice_id"
                ),
                {"t": tenant_id},
            ).all()
        )
        pending = conn.execute(
            text("SELECT COUNT(*) FROM invoice_items WHERE tenant_id = :t AND invoice_id IS NULL"), {"t": tenant_id}
        ).scalar_one()
        numbers = (
            conn.execute(
                text("SELECT number FROM invoices WHERE tenant_id = :t AND number IS NOT NULL"), {"t": tenant_id}
            )
            .scalars()
            .all()
        )
    assert sorted(invoices) == sorted(created)  # one invoice per key
    assert set(per_invoice.values()) == {3}  # three lines per add_lines key
    assert pending == 2 * rounds  # one invoice item per key
    assert len(numbers) == len(created) == len(set(numbers))  # each finalized once
    figures.add(PART, live.database, "Stripe invoices, lines, items or finalizations duplicated", 0)


def zuora_races(live: Live, figures: Figures, engine: Engine, rounds: int) -> None:
    zuora = live.zuora(live.tenant("idem-z"))
    account = zuora.ok("POST", "/v1/accounts", account_body())
    tenant_id = tenant_of(engine, "customers", "id", account["accountId"])
    orders, fulfillments, runs = 0, 0, 0
    for r in range(rounds):
        for mode in ("sequential", "concurrent"):
            target = f"2021-{1 + r % 12:02d}-{10 + (mode == 'concurrent'):02d}"
            lines = [sales_line(i) for i in range(3)] + [sales_line(9, itemState="Booked", billingRule=RULE_B)]
            body = order_body(account["accountNumber"], lines)
            place = Retries(lambda k, b=body: zuora.request("POST", "/v1/orders", b, key=k), zuora_conflict)
            order = getattr(place, mode)(f"ord-{r}-{mode}-{uuid.uuid4().hex}")
            orders += 1
            ids = [line["id"] for line in order["orderLineItems"]]
            bill = Retries(
                lambda k, b=bulk_body(ids[:3], target): zuora.request("POST", "/v1/order-line-items/bulk", b, key=k),
                zuora_conflict,
            )
            billed = getattr(bill, mode)(f"bulk-{r}-{mode}-{uuid.uuid4().hex}")
            assert len(billed["invoices"]) == 1
            ful = Retries(
                lambda k, b=fulfillment_body([(ids[3], 4)], target, run_billing=True): zuora.request(
                    "POST", "/v1/fulfillments", b, key=k
                ),
                zuora_conflict,
            )
            getattr(ful, mode)(f"ful-{r}-{mode}-{uuid.uuid4().hex}")
            fulfillments += 1
            later = fulfillment_body([(ids[3], 2)], target, run_billing=False)
            zuora.ok("POST", "/v1/fulfillments", later)  # left for the bill run
            fulfillments += 1
            run = Retries(
                lambda k, b=bill_run_body(target): zuora.request("POST", "/v1/bill-runs", b, key=k), zuora_conflict
            )
            getattr(run, mode)(f"br-{r}-{mode}-{uuid.uuid4().hex}")
            runs += 1
            for retries in (place, bill, ful, run):
                for what, n in retries.outcomes.items():
                    figures.add(PART, live.database, f"Zuora {what}", n)
    assert count(engine, "orders", tenant_id) == orders
    assert count(engine, "fulfillments", tenant_id) == fulfillments
    assert count(engine, "bill_runs", tenant_id) == runs
    billed = billed_counts(engine, tenant_id)
    assert set(billed.values()) == {1}
    assert sum(1 for kind, _ in billed if kind == OLI) == 3 * orders
    assert sum(1 for kind, _ in billed if kind == FUL) == fulfillments
    figures.add(PART, live.database, "Zuora orders, fulfillments, bill runs or billed lines duplicated", 0)


def test_retries_never_duplicate_anything(live: Live, figures: Figures, engine: Engine) -> None:
    stripe_races(live, figures, engine, ROUNDS)
    zuora_races(live, figures, engine, ROUNDS)


@pytest.mark.slow
def test_retries_never_duplicate_anything_long(live: Live, figures: Figures, engine: Engine) -> None:
    stripe_races(live, figures, engine, LONG_ROUNDS)
    zuora_races(live, figures, engine, LONG_ROUNDS)


# --- a key in flight, a crashed request's key, a failed request's key -----------------------------


class SlowFinish:
    """Responses are stored only once `release` is set (5 s at most): the key stays in flight till then."""

    def __init__(self) -> None:
        self.entered = threading.Event()  # a request finished its work and waits to store its response
        self.release = threading.Event()

    def wait_in_flight(self) -> None:
        assert self.entered.wait(timeout=10), "no request reached the storing of its response"

    def end(self) -> None:
        self.release.set()

    def reset(self) -> None:
        self.entered.clear()
        self.release.clear()


@pytest.fixture
def slow_finish(monkeypatch: pytest.MonkeyPatch) -> SlowFinish:
    original = idempotency.finish
    slow = SlowFinish()

    def held(*args: Any, **kw: Any) -> None:
        slow.entered.set()
        slow.release.wait(timeout=5)
        original(*args, **kw)

    monkeypatch.setattr(idempotency, "finish", held)
    return slow


def key_state(engine: Engine, key: str) -> str | None:
    with engine.connect() as conn:
        state = conn.execute(text("SELECT state FROM idempotency_keys WHERE key = :k"), {"k": key}).scalar()
    return None if state is None else str(state)


def in_background(send: Callable[[], requests.Response]) -> tuple[threading.Thread, list[requests.Response]]:
    out: list[requests.Response] = []
    thread = threading.Thread(target=lambda: out.append(send()))
    thread.start()
    return thread, out


def test_a_key_in_flight_answers_a_conflict_in_each_dialect(
    live: Live, figures: Figures, engine: Engine, slow_finish: SlowFinish
) -> None:
    tenant = live.tenant("inflight")
    stripe, zuora = live.stripe(tenant), live.zuora(tenant)
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]

    # Stripe
    key = "s-" + uuid.uuid4().hex
    params = {"customer": customer, "currency": "usd"}
    thread, first = in_background(lambda: stripe.post("/v1/invoices", params, key=key))
    slow_finish.wait_in_flight()
    busy = stripe.post("/v1/invoices", params, key=key)
    assert busy.status_code == 409 and stripe_conflict(busy)
    error = busy.json()["error"]
    assert (error["type"], error["code"]) == ("idempotency_error", "idempotency_key_in_use")
    assert (
        "using this Idempotent Key (that probably means you submitted twice" in error["message"]
        and key in error["message"]
    )
    other = stripe.post("/v1/invoices", {**params, "description": "other"}, key=key)
    assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error"  # other params
    slow_finish.end()
    thread.join()
    assert first[0].status_code == 200
    replay = stripe.post("/v1/invoices", params, key=key)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json() == first[0].json()
    slow_finish.reset()

    # Zuora, current and legacy versions
    account = zuora.ok("POST", "/v1/accounts", account_body())
    body = order_body(account["accountNumber"], [sales_line(1)])
    key = "z-" + uuid.uuid4().hex
    thread, first = in_background(lambda: zuora.request("POST", "/v1/orders", body, key=key))
    slow_finish.wait_in_flight()
    busy = zuora.request("POST", "/v1/orders", body, key=key)
    assert zuora_conflict(busy), busy.text
    legacy = zuora.request("POST", "/v1/orders", body, key=key, version="211.0")
    assert legacy.status_code == 200 and legacy.json()["success"] is False
    assert [r["code"] for r in legacy.json()["reasons"]] == [50000050]
    slow_finish.end()
    thread.join()
    assert first[0].status_code == 200 and first[0].json()["success"] is True
    replay = zuora.request("POST", "/v1/orders", body, key=key)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json() == first[0].json()
    tenant_id = tenant_of(engine, "customers", "id", customer)
    assert count(engine, "orders", tenant_id) == 1
    figures.add(PART, live.database, "requests meeting their key in flight (answered 409 / legacy 200)", 3)


def test_a_crashed_requests_key_is_taken_over_after_the_timeout(live: Live, figures: Figures, engine: Engine) -> None:
    tenant = live.tenant("abandoned")
    stripe = live.stripe(tenant)
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
    tenant_id = tenant_of(engine, "customers", "id", customer)
    params = {"customer": customer, "currency": "usd"}
    key = "crashed-" + uuid.uuid4().hex
    fingerprint = idempotency.request_fingerprint("POST", "/v1/invoices", {**params})
    now = int(time.time())
    # What a request killed after its claim leaves behind: the key in flight, no work.
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO idempotency_keys (tenant_id, dialect, key, request_hash, state, request_id, created)"
                " VALUES (:t, 'stripe', :k, :h, 'in_flight', 'req_dead', :c)"
            ),
            {"t": tenant_id, "k": key, "h": fingerprint, "c": now},
        )
    assert stripe_conflict(stripe.post("/v1/invoices", params, key=key))
    timeout = live.app.state.bulkbill.settings.idempotency_in_flight_timeout_seconds
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE idempotency_keys SET created = :c WHERE key = :k"), {"c": now - timeout - 1, "k": key}
        )
    taken = stripe.post("/v1/invoices", params, key=key)
    assert taken.status_code == 200 and "Idempotent-Replayed" not in taken.headers, taken.text
    assert key_state(engine, key) == idempotency.DONE
    replay = stripe.post("/v1/invoices", params, key=key)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json() == taken.json()
    assert count(engine, "invoices", tenant_id) == 1
    figures.add(PART, live.database, "abandoned in-flight keys taken over after the timeout", 1)


def test_a_failed_request_frees_its_key(live: Live, monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    tenant = live.tenant("freed")
    stripe, zuora = live.stripe(tenant), live.zuora(tenant)
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
    params = {"customer": customer, "currency": "usd"}
    original = invoices_service.create_invoice
    monkeypatch.setattr(invoices_service, "create_invoice", lambda *a, **k: 1 / 0)
    key = "boom-" + uuid.uuid4().hex
    assert stripe.post("/v1/invoices", params, key=key).status_code == 500
    assert key_state(engine, key) is None  # released: nothing was stored
    monkeypatch.setattr(invoices_service, "create_invoice", original)
    retried = stripe.post("/v1/invoices", params, key=key)
    assert retried.status_code == 200 and "Idempotent-Replayed" not in retried.headers
    # Zuora stores a refused call's answer and replays it; a lock conflict is not stored.
    key = "refused-" + uuid.uuid4().hex
    refused = zuora.request("POST", "/v1/orders", {"orderDate": "2021-01-01"}, key=key)
    assert refused.status_code == 400 and key_state(engine, key) == idempotency.DONE
    again = zuora.request("POST", "/v1/orders", {"orderDate": "2021-01-01"}, key=key)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == refused.json()
