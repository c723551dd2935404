"""Part 1 (issue 12, defect 1): numbers chosen by hand racing the sequences that generate the same shape.

Zuora standalone invoices with a chosen `invoiceNumber` (INV0000000k, or PREFIX-000k of a Stripe
customer) are created at the same moment as invoices numbered by the sequences (Zuora standalone
invoices, Stripe finalizations). Every call must succeed or, for a chosen number already taken,
be refused as a duplicate (400, category 30): never a 409, which a retry could not cure before
the fix. Afterwards each sequence's numbers, generated and chosen together, are gapless.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from tests.reliability.conftest import Figures, Live
from tests.reliability.flows import WRITERS, zuora_world

PART = "1 concurrency"
ROUNDS = 3
GENERATED = 8  # per round, and as many chosen numbers among the ones the sequence will reach
DUPLICATE = 50000030


def _invoice_body(account_id: str, number: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "accountId": account_id,
        "invoiceDate": "2024-07-11",
        "invoiceItems": [{"chargeName": "Race", "amount": "10", "serviceStartDate": "2024-07-01"}],
    }
    if number is not None:
        body["invoiceNumber"] = number
    return body


def _chosen_outcome(response: requests.Response, number: str) -> str | None:
    """The number a chosen-number call got, or None when it was refused as taken; anything else fails."""
    body = response.json()
    if response.status_code == 200:
        assert body["invoiceNumber"] == number, response.text
        return number
    assert response.status_code == 400 and [r["code"] for r in body["reasons"]] == [DUPLICATE], response.text
    return None


def race_inv_numbers(live: Live, figures: Figures) -> None:
    _, zuora, account_id = zuora_world(live)
    numbers: list[str] = []
    for round_ in range(ROUNDS):
        first = round_ * 2 * GENERATED + 1
        chosen = [f"INV{n:08d}" for n in random.sample(range(first, first + GENERATED), GENERATED // 2)]
        calls: list[str | None] = [None] * GENERATED + list(chosen)
        random.shuffle(calls)

        def create(number: str | None) -> str | None:
            response = zuora.request("POST", "/v1/invoices", _invoice_body(account_id, number))
            if number is None:
                assert response.status_code == 200, response.text
                return str(response.json()["invoiceNumber"])
            return _chosen_outcome(response, number)

        with ThreadPoolExecutor(WRITERS) as pool:
            got = list(pool.map(create, calls))
        numbers += [n for n in got if n is not None]
        figures.add(PART, live.database, "Zuora invoices with a chosen INV number racing generated ones", len(chosen))
        figures.add(PART, live.database, "  of which refused as taken (400, never 409)", got.count(None))
        # Top the sequence up to the next round's start, so that every round races the same way.
        while len(numbers) < first + 2 * GENERATED - 1:
            numbers.append(zuora.ok("POST", "/v1/invoices", _invoice_body(account_id, None))["invoiceNumber"])
    assert sorted(numbers) == [f"INV{n:08d}" for n in range(1, len(numbers) + 1)]
    figures.add(PART, live.database, "INV numbers missing or doubled (chosen and generated)", 0)


def race_customer_prefix(live: Live, figures: Figures) -> None:
    stripe, zuora, account_id = zuora_world(live)
    prefix = "R" + random.choice("ABCDEFGH") + format(random.randrange(16**6), "06X")
    customer = stripe.ok("POST", "/v1/customers", {"invoice_prefix": prefix})["id"]
    drafts = []
    for _ in range(GENERATED):
        draft = stripe.ok("POST", "/v1/invoices", {"customer": customer, "currency": "usd"})
        stripe.ok("POST", f"/v1/invoices/{draft['id']}/add_lines", {"lines": [{"amount": 100}]})
        drafts.append(draft["id"])
    chosen = [f"{prefix}-{n:04d}" for n in random.sample(range(1, GENERATED + 1), GENERATED // 2)]
    calls: list[tuple[str, str]] = [("finalize", d) for d in drafts] + [("choose", n) for n in chosen]
    random.shuffle(calls)

    def act(call: tuple[str, str]) -> str | None:
        what, target = call
        if what == "finalize":
            response = stripe.post(f"/v1/invoices/{target}/finalize")
            assert response.status_code == 200, response.text
            return str(response.json()["number"])
        return _chosen_outcome(zuora.request("POST", "/v1/invoices", _invoice_body(account_id, target)), target)

    with ThreadPoolExecutor(WRITERS) as pool:
        got = [n for n in pool.map(act, calls) if n is not None]
    assert sorted(got) == [f"{prefix}-{n:04d}" for n in range(1, len(got) + 1)]
    figures.add(PART, live.database, "Zuora invoices numbered in a Stripe prefix racing its finalizations", len(calls))
    figures.add(PART, live.database, "prefix numbers missing or doubled (chosen and generated)", 0)


def test_chosen_numbers_racing_the_sequences_never_conflict(live: Live, figures: Figures) -> None:
    race_inv_numbers(live, figures)
    race_customer_prefix(live, figures)
