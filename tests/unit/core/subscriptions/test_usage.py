"""core.subscriptions.usage: what a metered item bills and when a threshold invoices it."""

from __future__ import annotations

import pytest

from bulkbill.core.subscriptions.usage import billable_usage, threshold_reached, usage_start


@pytest.mark.parametrize(("usage", "billed"), [(-5, 0), (0, 0), (17, 17)])
def test_usage_below_zero_bills_nothing(usage: int, billed: int) -> None:
    assert billable_usage(usage) == billed


@pytest.mark.parametrize(
    ("usages", "amount", "amount_gte", "reached"),
    [
        ([(99, 100)], 0, None, False),
        ([(100, 100)], 0, None, True),  # reaching is enough (gte)
        ([(5, None), (150, 100)], 0, None, True),  # any item's own threshold
        ([(5, None)], 999, 1000, False),
        ([(5, None)], 1000, 1000, True),  # the amount the usage bills, against the subscription's threshold
        ([], 0, None, False),
    ],
)
def test_thresholds_are_reached_by_usage_or_by_amount(
    usages: list[tuple[int, int | None]], amount: int, amount_gte: int | None, reached: bool
) -> None:
    assert threshold_reached(usages, amount, amount_gte) is reached


def test_unbilled_usage_starts_where_a_threshold_invoice_left_off() -> None:
    assert usage_start(100, None) == 100
    assert usage_start(100, 250) == 250
    assert usage_start(300, 250) == 300  # a marker from an earlier period does not reach back
