"""Invoice lifecycle (spec §2.2): transitions, finalization, numbers, collection and balances."""

from __future__ import annotations

import itertools

import pytest

from bulkbill.core.errors import InputCollector, InvalidInput, InvalidStateError, InvalidTransition, InvoiceNotEditable
from bulkbill.core.invoicing.lifecycle import (
    InvoiceAction,
    InvoiceStatus,
    balance_after_finalize,
    check_collection,
    due_date_at_finalization,
    ensure_editable,
    ensure_transition,
    invoice_number,
    status_after_finalize,
)
from bulkbill.core.money import MAX_AMOUNT, MAX_TOTAL

A, S = InvoiceAction, InvoiceStatus
NOW = 1_700_000_000
DAY = 86_400

# The lifecycle as the spec draws it, written out independently of the code.
ALLOWED = {
    (A.FINALIZE, S.DRAFT),
    (A.DELETE, S.DRAFT),
    (A.PAY, S.OPEN),
    (A.PAY, S.UNCOLLECTIBLE),
    (A.VOID, S.OPEN),
    (A.VOID, S.UNCOLLECTIBLE),
    (A.MARK_UNCOLLECTIBLE, S.OPEN),
}
ALL_PAIRS = list(itertools.product(InvoiceAction, InvoiceStatus))


class TestTransitions:
    @pytest.mark.parametrize(("action", "status"), [p for p in ALL_PAIRS if p in ALLOWED])
    def test_allowed(self, action: InvoiceAction, status: InvoiceStatus) -> None:
        ensure_transition(action, status)
        ensure_transition(action, status.value)  # plain strings from storage work the same

    @pytest.mark.parametrize(("action", "status"), [p for p in ALL_PAIRS if p not in ALLOWED])
    def test_refused(self, action: InvoiceAction, status: InvoiceStatus) -> None:
        with pytest.raises(InvalidTransition) as exc:
            ensure_transition(action, status)
        assert isinstance(exc.value, InvalidStateError)
        assert exc.value.code == "invalid_transition"
        assert f"this invoice is {status.value}" in exc.value.message

    def test_table_covers_every_pair(self) -> None:
        assert len(ALL_PAIRS) == 25
        assert set(ALL_PAIRS) >= ALLOWED

    def test_message_names_the_allowed_statuses(self) -> None:
        with pytest.raises(InvalidTransition) as exc:
            ensure_transition(A.MARK_UNCOLLECTIBLE, S.PAID)
        assert exc.value.message == (
            "You can only mark uncollectible an invoice whose status is open; this invoice is paid."
        )
        with pytest.raises(InvalidTransition) as exc:
            ensure_transition(A.VOID, S.DRAFT)
        assert "open or uncollectible" in exc.value.message

    def test_paid_and_void_are_terminal(self) -> None:
        for action in InvoiceAction:
            for status in (S.PAID, S.VOID):
                with pytest.raises(InvalidTransition):
                    ensure_transition(action, status)


class TestEditable:
    def test_drafts_are_editable(self) -> None:
        ensure_editable("draft")

    @pytest.mark.parametrize("status", ["open", "paid", "uncollectible", "void"])
    def test_everything_else_is_not(self, status: str) -> None:
        with pytest.raises(InvoiceNotEditable) as exc:
            ensure_editable(status)
        assert exc.value.code == "invoice_not_editable"
        assert status in exc.value.message


class TestFinalize:
    @pytest.mark.parametrize(("amount_due", "status"), [(0, S.PAID), (-5, S.PAID), (1, S.OPEN), (9990, S.OPEN)])
    def test_status_after_finalize(self, amount_due: int, status: InvoiceStatus) -> None:
        assert status_after_finalize(amount_due) == status

    @pytest.mark.parametrize(
        ("prefix", "sequence", "number"),
        [("7FE1103", 1, "7FE1103-0001"), ("ABC123", 42, "ABC123-0042"), ("ABC123", 12345, "ABC123-12345")],
    )
    def test_invoice_number(self, prefix: str, sequence: int, number: str) -> None:
        assert invoice_number(prefix, sequence) == number


class TestBalance:
    def test_no_balance(self) -> None:
        assert balance_after_finalize(9990, 0) == (9990, 0)

    def test_debit_balance_is_added_to_what_is_due(self) -> None:
        assert balance_after_finalize(1000, 250) == (1250, 0)

    def test_credit_smaller_than_the_total_is_used_up(self) -> None:
        assert balance_after_finalize(1000, -250) == (750, 0)

    def test_credit_larger_than_the_total_stays_a_credit(self) -> None:
        assert balance_after_finalize(1000, -2500) == (0, -1500)

    def test_credit_equal_to_the_total(self) -> None:
        assert balance_after_finalize(1000, -1000) == (0, 0)

    def test_negative_total_becomes_a_credit(self) -> None:
        assert balance_after_finalize(-300, 0) == (0, -300)
        assert balance_after_finalize(-300, 100) == (0, -200)

    def test_a_balance_never_grows_past_the_limit(self) -> None:
        assert balance_after_finalize(-MAX_AMOUNT, -(MAX_TOTAL - MAX_AMOUNT)) == (0, -MAX_TOTAL)
        with pytest.raises(InvalidInput) as refused:
            balance_after_finalize(-MAX_AMOUNT, -MAX_TOTAL)
        assert refused.value.first.code == "amount_too_large"


class TestCollection:
    def check(self, method: str, days: int | None, due: int | None) -> list[tuple[tuple[str | int, ...], str]]:
        errors = InputCollector()
        check_collection(method, days, due, errors, now=NOW)
        return [(e.path, e.code) for e in errors.errors]

    @pytest.mark.parametrize(
        ("days", "due"), [(30, None), (0, None), (3650, None), (None, NOW + DAY), (None, NOW - DAY), (None, None)]
    )
    def test_send_invoice_accepts(self, days: int | None, due: int | None) -> None:
        assert self.check("send_invoice", days, due) == []

    def test_send_invoice_takes_one_of_days_and_date(self) -> None:
        assert self.check("send_invoice", 30, NOW + DAY) == [(("due_date",), "parameters_exclusive")]

    @pytest.mark.parametrize("days", [-1, 3651])
    def test_days_until_due_range(self, days: int) -> None:
        assert self.check("send_invoice", days, None) == [(("days_until_due",), "invalid_value")]

    def test_due_date_in_the_past(self) -> None:
        assert self.check("send_invoice", None, NOW - DAY - 1) == [(("due_date",), "invalid_value")]

    def test_charge_automatically_takes_neither(self) -> None:
        assert self.check("charge_automatically", None, None) == []
        assert self.check("charge_automatically", 30, None) == [(("days_until_due",), "invalid_value")]
        assert self.check("charge_automatically", None, NOW) == [(("due_date",), "invalid_value")]
        assert self.check("charge_automatically", 30, NOW) == [(("days_until_due",), "invalid_value")]

    def test_due_date_at_finalization(self) -> None:
        assert due_date_at_finalization("charge_automatically", None, None, finalized_at=NOW) is None
        assert due_date_at_finalization("send_invoice", 30, None, finalized_at=NOW) == NOW + 30 * DAY
        assert due_date_at_finalization("send_invoice", None, NOW + 5, finalized_at=NOW) == NOW + 5
        assert due_date_at_finalization("send_invoice", None, None, finalized_at=NOW) == NOW
