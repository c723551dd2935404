"""core.billing's bill-run helpers: document figures, posting in order, chunking."""

from __future__ import annotations

import random
from decimal import Decimal
from itertools import pairwise

from bulkbill.core.billing.plan import (
    BillableSource,
    Chunk,
    DocumentPlan,
    DocumentType,
    PlannedLine,
    SourceType,
    document_figures,
    post_in_order,
    split_chunks,
)
from bulkbill.core.invoicing.lifecycle import InvoiceStatus, balance_after_finalize
from bulkbill.core.invoicing.totals import LineTerms, compute_invoice
from bulkbill.core.orders.line_items import ItemCategory


def _plan(amounts: list[int]) -> DocumentPlan:
    source = BillableSource(
        SourceType.ORDER_LINE_ITEM,
        "s",
        "a",
        "usd",
        ItemCategory.SALES,
        "SentToBilling",
        Decimal(1),
        Decimal(1),
        None,
        True,
        False,
    )
    return DocumentPlan("a", "usd", DocumentType.INVOICE, (), tuple(PlannedLine(source, a) for a in amounts))


def test_document_figures_are_compute_invoice_for_undiscountable_untaxed_lines() -> None:
    rng = random.Random(3)
    for _ in range(300):
        amounts = [rng.randint(-(10**12), 10**12) for _ in range(rng.randint(0, 30))]
        expected = compute_invoice([LineTerms(a, discountable=False) for a in amounts])
        assert document_figures(_plan(amounts)) == expected


def test_posting_in_order_carries_the_balance() -> None:
    postings, after = post_in_order(-1500, [1000, 800, 0])
    assert [(p.starting_balance, p.amount_due, p.ending_balance, p.status) for p in postings] == [
        (-1500, 0, -500, InvoiceStatus.PAID),
        (-500, 300, 0, InvoiceStatus.OPEN),
        (0, 0, 0, InvoiceStatus.PAID),
    ]
    assert after == 0
    rng = random.Random(5)
    for _ in range(200):
        balance = rng.randint(-5000, 5000)
        totals = [rng.randint(-3000, 3000) for _ in range(rng.randint(0, 5))]
        postings, after = post_in_order(balance, totals)
        for posting, total in zip(postings, totals, strict=True):
            assert (posting.amount_due, posting.ending_balance) == balance_after_finalize(total, balance)
            balance = posting.ending_balance
        assert after == balance


def test_a_credit_memo_posts_without_the_balance() -> None:
    """An invoice, a memo, an invoice: the memo neither uses the credit nor passes it on differently."""
    postings, after = post_in_order(-1500, [1000, 600, 800], applies=[True, False, True])
    assert [(p.starting_balance, p.amount_due, p.ending_balance, p.status) for p in postings] == [
        (-1500, 0, -500, InvoiceStatus.PAID),
        (-500, 600, -500, InvoiceStatus.OPEN),  # its credit stays on it (Zuora's unapplied amount)
        (-500, 300, 0, InvoiceStatus.OPEN),
    ]
    assert after == 0
    assert post_in_order(700, [600], applies=[False])[1] == 700  # nor does it take on a debit


def test_split_chunks_bounds_lines_and_accounts_and_never_splits_an_account() -> None:
    counts = [("a1", 3), ("a2", 3), ("a3", 10), ("a4", 1), ("a5", 1), ("a6", 1), ("a7", 2)]
    chunks = list(split_chunks(counts, max_lines=6, max_accounts=2))
    assert chunks == [
        Chunk("a1", "a2", 2, 6),
        Chunk("a3", "a3", 1, 10),  # larger than max_lines, alone
        Chunk("a4", "a5", 2, 2),
        Chunk("a6", "a7", 2, 3),
    ]
    assert list(split_chunks([], max_lines=5, max_accounts=5)) == []
    rng = random.Random(9)
    accounts = [(f"a{i:04d}", rng.randint(1, 20)) for i in range(500)]
    chunks = list(split_chunks(accounts, max_lines=50, max_accounts=7))
    assert sum(c.lines for c in chunks) == sum(n for _, n in accounts)
    assert sum(c.accounts for c in chunks) == len(accounts)
    assert all(c.accounts <= 7 and (c.lines <= 50 or c.accounts == 1) for c in chunks)
    assert all(a.last_account < b.first_account for a, b in pairwise(chunks))
