"""Concurrent SDK calls on one invoice: no lost lines, no double-applied idempotent retries."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import stripe

from tests.helpers.sdk import SdkTenant, assert_totals_match_lines

pytestmark = pytest.mark.sdk


def test_parallel_add_lines_lose_nothing(sdk: SdkTenant) -> None:
    invoice = sdk.invoice()

    def add(batch: int) -> stripe.Invoice:
        lines: Any = [{"amount": batch * 100 + i, "description": f"b{batch}-{i}"} for i in range(10)]
        return sdk.client.v1.invoices.add_lines(invoice.id, {"lines": lines})

    with ThreadPoolExecutor(max_workers=5) as pool:
        list(pool.map(add, range(1, 6)))
    lines = sdk.lines(invoice.id)
    assert len(lines) == 50 and len({ln.id for ln in lines}) == 50
    assert sorted(ln.amount for ln in lines) == sorted(b * 100 + i for b in range(1, 6) for i in range(10))
    # each call's lines stay together and in request order
    descriptions = [ln.description for ln in lines]
    for batch in range(1, 6):
        start = descriptions.index(f"b{batch}-0")
        assert descriptions[start : start + 10] == [f"b{batch}-{i}" for i in range(10)]
    final = sdk.client.v1.invoices.retrieve(invoice.id)
    assert final.total == sum(b * 100 + i for b in range(1, 6) for i in range(10))
    assert_totals_match_lines(sdk, final)


def test_parallel_retries_with_one_key_apply_once(sdk: SdkTenant) -> None:
    invoice = sdk.invoice()
    key = "race-" + uuid.uuid4().hex
    params: Any = {"lines": [{"amount": 777}]}

    def retry(_: int) -> dict[str, Any] | stripe.StripeError:
        try:
            return sdk.client.v1.invoices.add_lines(invoice.id, params, {"idempotency_key": key}).to_dict()
        except stripe.StripeError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(retry, range(6)))
    bodies = [r for r in results if isinstance(r, dict)]
    errors = [r for r in results if isinstance(r, stripe.StripeError)]
    # a retry racing the first request may be told to try again (409), never anything else
    assert all(e.http_status == 409 for e in errors), [str(e) for e in errors]
    assert bodies and all(b == bodies[0] for b in bodies)
    assert [ln.amount for ln in sdk.lines(invoice.id)] == [777]
    again = sdk.client.v1.invoices.add_lines(invoice.id, params, {"idempotency_key": key})
    assert again.to_dict() == bodies[0]
    assert again.last_response is not None and again.last_response.headers.get("Idempotent-Replayed") == "true"
