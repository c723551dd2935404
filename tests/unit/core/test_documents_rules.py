"""Core rules of the Zuora documents side: accounting periods, Decision 8, item pricing, org scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bulkbill.core.accounting.periods import (
    PeriodAction,
    PeriodSpan,
    PeriodStatus,
    check_date_open,
    check_new_period,
    ensure_date_open,
    ensure_period_transition,
)
from bulkbill.core.customers.org_scope import AccessDenied, check_requested_orgs, in_scope
from bulkbill.core.customers.terms import due_date_for
from bulkbill.core.errors import InputCollector, InvalidStateError, RuleViolation
from bulkbill.core.invoicing.document_edits import (
    HEADER_EDITABLE,
    DocumentState,
    DocumentStatus,
    ItemPricing,
    check_header_edit,
    check_item_entry,
    day_of,
    day_start,
    document_status,
    price_item,
)
from bulkbill.core.invoicing.items import ItemOwner

D = dt.date
JULY = PeriodSpan("Jul", D(2024, 7, 1), D(2024, 7, 31), PeriodStatus.CLOSED)
OWNER = ItemOwner("cus_1", "usd")


class TestAccounting:
    @pytest.mark.parametrize(
        ("day", "closed"),
        [(D(2024, 6, 30), False), (D(2024, 7, 1), True), (D(2024, 7, 31), True), (D(2024, 8, 1), False)],
    )
    def test_closed_period_bounds_are_inclusive(self, day: dt.date, closed: bool) -> None:
        errors = InputCollector()
        check_date_open(day, [JULY], ("invoiceDate",), errors)
        assert bool(errors.errors) is closed
        if closed:
            with pytest.raises(RuleViolation):
                ensure_date_open(day, [JULY])
        else:
            ensure_date_open(day, [JULY])

    def test_open_periods_forbid_nothing(self) -> None:
        ensure_date_open(D(2024, 7, 15), [PeriodSpan("Jul", D(2024, 7, 1), D(2024, 7, 31))])

    def test_transitions(self) -> None:
        assert ensure_period_transition(PeriodAction.CLOSE, "Open") == PeriodStatus.CLOSED
        assert ensure_period_transition(PeriodAction.REOPEN, "Closed") == PeriodStatus.OPEN
        for action, status in ((PeriodAction.CLOSE, "Closed"), (PeriodAction.REOPEN, "Open")):
            with pytest.raises(InvalidStateError):
                ensure_period_transition(action, status)

    def test_new_periods(self) -> None:
        errors = InputCollector()
        check_new_period("Jul", D(2024, 8, 1), D(2024, 8, 31), [JULY], errors)
        check_new_period("Q3", D(2024, 7, 31), D(2024, 9, 30), [JULY], errors)
        check_new_period("bad", D(2024, 9, 2), D(2024, 9, 1), [JULY], errors)
        assert [e.code for e in errors.errors] == ["duplicate", "overlap", "invalid_value"]

    def test_due_dates(self) -> None:
        assert due_date_for(D(2024, 7, 11), "Net 30") == D(2024, 8, 10)
        assert due_date_for(D(2024, 7, 11), None) == D(2024, 7, 11)


class TestDecision8:
    @pytest.mark.parametrize(
        ("core", "zuora"),
        [("draft", "Draft"), ("open", "Posted"), ("paid", "Posted"), ("uncollectible", "Posted"), ("void", "Canceled")],
    )
    def test_status_map(self, core: str, zuora: str) -> None:
        assert document_status(core) == zuora

    @pytest.mark.parametrize("status", list(DocumentStatus))
    @pytest.mark.parametrize("name", sorted(HEADER_EDITABLE))
    def test_header_fields(self, status: DocumentStatus, name: str) -> None:
        errors = InputCollector()
        check_header_edit(DocumentState(status, standalone=True), {name}, (), errors)
        allowed = {
            "autoPay": {"Draft", "Posted"},
            "customFields": {"Draft", "Posted"},
            "transferredToAccounting": {"Posted"},
        }.get(name, {"Draft"})
        assert (not errors.errors) is (status.value in allowed)

    def test_items(self) -> None:
        draft = DocumentState(DocumentStatus.DRAFT, standalone=False, item_ids=frozenset({"ii_1"}))
        standalone = DocumentState(DocumentStatus.DRAFT, standalone=True, item_ids=frozenset({"ii_1"}))

        def ok(state: DocumentState, item_id: str | None, **kw: object) -> bool:
            return check_item_entry(
                state, item_id, delete=bool(kw.get("delete")), add_only=(), path=(), errors=InputCollector()
            )

        assert ok(draft, "ii_1") and not ok(draft, None) and not ok(draft, "ii_1", delete=True)
        assert ok(standalone, None) and ok(standalone, "ii_1", delete=True) and not ok(standalone, None, delete=True)
        assert not ok(standalone, "ii_2")
        assert not ok(DocumentState(DocumentStatus.POSTED, standalone=True, item_ids=frozenset({"ii_1"})), "ii_1")


class TestPricing:
    def price(self, pricing: ItemPricing) -> tuple[Decimal, Decimal, int, list[str]]:
        errors = InputCollector()
        values = price_item(None, OWNER, pricing, description=None, period=(0, 0), path=(), errors=errors, now=0)
        return values.unit_amount_decimal, values.quantity, values.amount, [e.code for e in errors.errors]

    def test_unit_price_times_quantity_rounds_once(self) -> None:
        assert self.price(ItemPricing(unit_price=Decimal("999.5"), quantity=Decimal(3))) == (
            Decimal("999.5"),
            3,
            2999,
            [],
        )

    def test_amount_alone_sets_the_unit_price(self) -> None:
        unit, quantity, amount, problems = self.price(ItemPricing(amount=Decimal(10000), quantity=Decimal(3)))
        assert (quantity, amount, problems) == (3, 10000, []) and unit == Decimal("3333.333333333333")

    def test_disagreeing_or_fractional_amounts_are_refused(self) -> None:
        assert self.price(ItemPricing(unit_price=Decimal(30), quantity=Decimal(3), amount=Decimal(100)))[3] == [
            "invalid_value"
        ]
        assert self.price(ItemPricing(amount=Decimal("1000.5")))[3] == ["invalid_value"]
        assert self.price(ItemPricing(amount=Decimal(5), quantity=Decimal(0)))[3] == ["invalid_value"]

    def test_days(self) -> None:
        assert day_of(day_start(D(2030, 1, 31))) == D(2030, 1, 31) and day_start(D(1970, 1, 2)) == 86400


class TestScope:
    def test_requested_orgs_must_be_accessible(self) -> None:
        assert check_requested_orgs(["EU"], {"EU", "US"}) == {"EU"}
        with pytest.raises(AccessDenied):
            check_requested_orgs(["EU", "APAC"], {"EU"})

    def test_in_scope(self) -> None:
        assert in_scope(None, None) and in_scope("EU", None) and in_scope("EU", frozenset({"EU"}))
        assert not in_scope(None, frozenset({"EU"})) and not in_scope("US", frozenset({"EU"}))
