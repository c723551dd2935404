"""Writers on their own drafts all succeed: on SQLite they take turns at the one write lock in arrival
order (storage/writer_queue.py), so none is refused for waiting too long behind luckier ones; on
PostgreSQL their rows do not meet. No call may end in a 409 or any other refusal."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.reliability.conftest import Live, StripeHTTP

WRITERS = 16
ROUNDS = 3
LINES = 10


def edit_own_draft(stripe: StripeHTTP, price: str, writer: int) -> Counter[int]:
    """One writer: a draft of its own, then rounds of add + update, each call under an Idempotency-Key."""
    statuses: Counter[int] = Counter()

    def post(path: str, params: dict[str, Any]) -> dict[str, Any]:
        response = stripe.post(path, params, key=str(uuid.uuid4()))
        statuses[response.status_code] += 1
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    customer = post("/v1/customers", {"name": f"writer {writer}"})
    invoice = post("/v1/invoices", {"customer": customer["id"], "currency": "usd"})
    path = f"/v1/invoices/{invoice['id']}"
    for n in range(ROUNDS):
        tag = f"w{writer} r{n}"
        lines = [{"pricing": {"price": price}, "quantity": 1, "description": f"{tag} {i}"} for i in range(LINES)]
        post(path + "/add_lines", {"lines": lines})
        listed = stripe.ok("GET", path + "/lines", {"limit": 100})["data"]
        ids = [line["id"] for line in listed if line["description"].startswith(tag + " ")]
        assert len(ids) == LINES
        post(path + "/update_lines", {"lines": [{"id": line_id, "quantity": n + 2} for line_id in ids]})
    final = stripe.ok("GET", path + "/lines", {"limit": 100})
    assert len(final["data"]) == ROUNDS * LINES
    return statuses


def test_concurrent_writers_on_their_own_drafts_all_succeed(live: Live) -> None:
    stripe = live.stripe(live.tenant("fair"))
    product = stripe.ok("POST", "/v1/products", {"name": "Widget"})
    price = stripe.ok("POST", "/v1/prices", {"product": product["id"], "currency": "usd", "unit_amount": 100})
    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(lambda writer: edit_own_draft(stripe, price["id"], writer), range(WRITERS)))
    statuses = sum(results, Counter[int]())
    assert statuses == Counter({200: WRITERS * (2 + 2 * ROUNDS)})
