"""Bulk line planners: every line checked, every problem reported in request order, nothing planned on error."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from bulkbill.core.errors import InputCollector, InvalidInput, InvoiceNotEditable, Path
from bulkbill.core.invoicing.commands import AddLine, ItemKind, RemoveBehavior, RemoveLine, UpdateLine
from bulkbill.core.invoicing.items import ItemOwner, References
from bulkbill.core.invoicing.lines import (
    LineLimits,
    LineState,
    PendingItem,
    PlannedAdd,
    check_line_count,
    plan_add_lines,
    plan_remove_lines,
    plan_update_lines,
    with_kind,
)
from bulkbill.core.metadata import CLEAR
from tests.helpers.core import (
    CUSTOMER,
    LIMITS,
    NOW,
    changes,
    lines_by_id,
    make_invoice,
    make_line,
    make_pending,
    make_refs,
    make_values,
    pending_by_id,
)

NOT_DRAFT = ["open", "paid", "uncollectible", "void"]

LINE_A = make_line("il_A", metadata={"keep": "1", "drop": "2"})
LINE_B = make_line("il_B", amount=500, unit_amount_decimal=Decimal(500), quantity=Decimal(1), amount_defined=True)
LINE_SUB = make_line("il_S", kind=ItemKind.SUBSCRIPTION, metadata={"plan": "pro", "seats": "3"})
LINES = lines_by_id(LINE_A, LINE_B, LINE_SUB)


def add(**fields: Any) -> AddLine:
    invoice_item = fields.pop("invoice_item", None)
    return AddLine(changes(**fields), invoice_item=invoice_item)


def update(line_id: str, **fields: Any) -> UpdateLine:
    return UpdateLine(line_id, changes(**fields))


def remove(line_id: str, behavior: RemoveBehavior = RemoveBehavior.DELETE) -> RemoveLine:
    return RemoveLine(line_id, behavior)


def plan_adds(
    adds: list[AddLine],
    *,
    items: Mapping[str, PendingItem] | None = None,
    refs: References | None = None,
    limits: LineLimits = LIMITS,
    **invoice: Any,
) -> list[PlannedAdd]:
    return plan_add_lines(make_invoice(**invoice), adds, refs or make_refs(), items or {}, limits=limits, now=NOW)


def reported(exc: pytest.ExceptionInfo[InvalidInput]) -> list[tuple[Path, str]]:
    return [(e.path, e.code) for e in exc.value.errors]


class TestLineCount:
    def test_at_least_one_line(self) -> None:
        errors = InputCollector()
        check_line_count(0, LIMITS, errors)
        assert [(e.path, e.code, e.message) for e in errors.errors] == [
            (("lines",), "parameter_missing", "Missing required param: lines.")
        ]

    def test_at_most_per_call(self) -> None:
        errors = InputCollector()
        check_line_count(50, LIMITS, errors)
        assert errors.errors == []
        check_line_count(51, LIMITS, errors)
        assert [(e.path, e.code, e.message) for e in errors.errors] == [
            (("lines",), "too_many_lines", "You can pass at most 50 lines per request.")
        ]


class TestPlanAddLines:
    def test_new_lines_are_planned_in_order(self) -> None:
        planned = plan_adds([add(amount=7500), add(price="price_1", quantity=Decimal(2))])
        assert [p.values.amount for p in planned] == [7500, 3000]
        assert [p.existing_item_id for p in planned] == [None, None]

    @pytest.mark.parametrize("status", NOT_DRAFT)
    def test_only_drafts(self, status: str) -> None:
        with pytest.raises(InvoiceNotEditable):
            plan_adds([add(amount=1)], status=status)

    def test_no_lines(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            plan_adds([])
        assert reported(exc) == [(("lines",), "parameter_missing")]

    def test_more_lines_than_the_per_call_limit(self) -> None:
        limits = LineLimits(per_call=3, per_invoice=250)
        assert len(plan_adds([add(amount=1)] * 3, limits=limits)) == 3
        with pytest.raises(InvalidInput) as exc:
            # the count is checked before any line: the bad line is not even looked at
            plan_adds([add(amount=1)] * 3 + [add()], limits=limits)
        assert reported(exc) == [(("lines",), "too_many_lines")]

    def test_default_per_call_limit_is_fifty(self) -> None:
        assert len(plan_adds([add(amount=1)] * 50)) == 50
        with pytest.raises(InvalidInput) as exc:
            plan_adds([add(amount=1)] * 51)
        assert reported(exc) == [(("lines",), "too_many_lines")]

    def test_per_invoice_cap(self) -> None:
        assert len(plan_adds([add(amount=1)] * 2, line_count=248)) == 2
        with pytest.raises(InvalidInput) as exc:
            plan_adds([add(amount=1)] * 2, line_count=249)
        assert reported(exc) == [(("lines",), "too_many_lines")]
        assert exc.value.first.message == "An invoice can hold at most 250 line items."

    def test_per_invoice_cap_is_reported_with_the_line_errors(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            plan_adds([add(amount=1), add(currency="eur", amount=1)], line_count=249)
        assert reported(exc) == [(("lines",), "too_many_lines"), (("lines", 1, "currency"), "currency_mismatch")]

    def test_line_rules_apply_with_their_index(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            plan_adds([add(amount=1), add(amount=1, price="price_1"), add(price="price_nope", price_path=("price",))])
        assert reported(exc) == [
            (("lines", 1, "pricing"), "parameters_exclusive"),
            (("lines", 2, "price"), "resource_missing"),
        ]

    def test_errors_at_lines_3_and_17_are_both_reported_in_request_order(self) -> None:
        adds = [add(amount=100)] * 20
        adds[3] = add(price="price_nope")
        adds[17] = add(amount=100, quantity=Decimal(2))
        with pytest.raises(InvalidInput) as exc:
            plan_adds(adds)
        assert reported(exc) == [
            (("lines", 3, "pricing", "price"), "resource_missing"),
            (("lines", 17, "quantity"), "parameters_exclusive"),
        ]
        assert exc.value.first.path[:2] == ("lines", 3)
        assert exc.value.message == "No such price: 'price_nope'"

    def test_indexes_sort_as_numbers(self) -> None:
        adds = [add(amount=100)] * 20
        for i in (2, 10, 17):
            adds[i] = add(currency="eur", amount=1)
        with pytest.raises(InvalidInput) as exc:
            plan_adds(adds)
        assert [e.path[1] for e in exc.value.errors] == [2, 10, 17]


class TestAssigningInvoiceItems:
    ITEMS = pending_by_id(
        make_pending("ii_pending", description="Pending"),
        make_pending("ii_assigned", invoice_id="in_other"),
        make_pending("ii_theirs", customer_id="cus_B"),
        make_pending("ii_eur", currency="eur"),
    )

    def test_a_pending_item_is_assigned_with_the_lines_changes(self) -> None:
        planned = plan_adds([add(invoice_item="ii_pending", description="Renamed")], items=self.ITEMS)
        assert planned[0].existing_item_id == "ii_pending"
        assert planned[0].values.description == "Renamed"
        assert planned[0].values.amount == 3000

    @pytest.mark.parametrize("item_id", ["il_A", "ii_nope", "ii_theirs"])
    def test_unknown_items_line_ids_and_other_customers_items_are_not_found(self, item_id: str) -> None:
        with pytest.raises(InvalidInput) as exc:
            plan_adds([add(amount=1), add(invoice_item=item_id)], items=self.ITEMS)
        assert reported(exc) == [(("lines", 1, "invoice_item"), "resource_missing")]
        assert exc.value.first.message == f"No such invoiceitem: '{item_id}'"

    def test_an_item_already_on_an_invoice(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            plan_adds([add(invoice_item="ii_assigned")], items=self.ITEMS)
        assert reported(exc) == [(("lines", 0, "invoice_item"), "invoice_item_not_pending")]

    def test_an_item_assigned_twice_in_one_call(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            plan_adds([add(invoice_item="ii_pending"), add(invoice_item="ii_pending")], items=self.ITEMS)
        assert reported(exc) == [(("lines", 1, "invoice_item"), "invoice_item_not_pending")]

    def test_an_item_in_another_currency(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            plan_adds([add(invoice_item="ii_eur")], items=self.ITEMS)
        assert reported(exc) == [(("lines", 0, "invoice_item"), "currency_mismatch")]

    def test_the_assigned_items_changes_are_checked(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            plan_adds([add(invoice_item="ii_pending", tax_rates=("txr_nope",))], items=self.ITEMS)
        assert reported(exc) == [(("lines", 0, "tax_rates", 0), "resource_missing")]


class TestPlanUpdateLines:
    def plan(self, updates: list[UpdateLine], **invoice: Any) -> dict[str, Any]:
        return dict(plan_update_lines(make_invoice(**invoice), updates, LINES, make_refs(), limits=LIMITS))

    def test_only_the_touched_lines_are_planned(self) -> None:
        planned = self.plan([update("il_A", quantity=Decimal(3))])
        assert list(planned) == ["il_A"]
        assert planned["il_A"].amount == 4500

    @pytest.mark.parametrize("status", NOT_DRAFT)
    def test_only_drafts(self, status: str) -> None:
        with pytest.raises(InvoiceNotEditable):
            self.plan([update("il_A", description="x")], status=status)

    def test_no_lines(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            self.plan([])
        assert reported(exc) == [(("lines",), "parameter_missing")]

    def test_too_many_lines(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            self.plan([update("il_A", description="x")] * 51)
        assert reported(exc) == [(("lines",), "too_many_lines")]

    def test_unknown_line(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            self.plan([update("il_A", description="x"), update("il_nope", description="x")])
        assert reported(exc) == [(("lines", 1, "id"), "resource_missing")]
        assert exc.value.first.message == "No such invoice line item: 'il_nope'"

    @pytest.mark.parametrize("old_id", ["ii_A", "sli_123"])
    def test_old_style_ids(self, old_id: str) -> None:
        with pytest.raises(InvalidInput) as exc:
            self.plan([update(old_id, description="x")])
        assert reported(exc) == [(("lines", 0, "id"), "old_line_id")]
        assert exc.value.first.message.startswith("Old `id` values cannot be used")

    def test_a_repeated_id_applies_in_order(self) -> None:
        planned = self.plan(
            [
                update("il_A", quantity=Decimal(5), metadata={"first": "1"}),
                update("il_A", description="second", metadata={"second": "2", "first": ""}),
            ]
        )
        values = planned["il_A"]
        assert (values.quantity, values.amount, values.description) == (Decimal(5), 7500, "second")
        assert values.metadata == {"keep": "1", "drop": "2", "second": "2"}

    def test_a_later_change_sees_the_earlier_one(self) -> None:
        planned = self.plan([update("il_A", amount=999), update("il_A", quantity=Decimal(2))])
        # il_A was 2 × 1500; the first update makes it a 999 amount line, the second doubles that
        assert (planned["il_A"].amount, planned["il_A"].price_id) == (1998, None)

    def test_metadata_merges_on_invoice_item_lines(self) -> None:
        planned = self.plan([update("il_A", metadata={"drop": "", "new": "3"})])
        assert planned["il_A"].metadata == {"keep": "1", "new": "3"}
        planned = self.plan([update("il_A", metadata=CLEAR)])
        assert planned["il_A"].metadata == {}

    def test_metadata_replaces_on_subscription_lines(self) -> None:
        planned = self.plan([update("il_S", metadata={"new": "3"})])
        assert planned["il_S"].metadata == {"new": "3"}

    def test_subscription_lines_take_only_three_fields(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            self.plan([update("il_S", tax_rates=(), quantity=Decimal(2), description="x")])
        assert reported(exc) == [
            (("lines", 0, "description"), "field_not_editable"),
            (("lines", 0, "quantity"), "field_not_editable"),
        ]

    def test_every_problem_is_reported_in_request_order(self) -> None:
        updates = [update("il_A", description=f"line {i}") for i in range(20)]
        updates[17] = update("il_nope", description="x")
        updates[3] = update("il_S", amount=1)
        with pytest.raises(InvalidInput) as exc:
            self.plan(updates)
        assert reported(exc) == [
            (("lines", 3, "amount"), "field_not_editable"),
            (("lines", 17, "id"), "resource_missing"),
        ]
        assert exc.value.first.path == ("lines", 3, "amount")


class TestPlanRemoveLines:
    def plan(self, removes: list[RemoveLine], **invoice: Any) -> list[tuple[LineState, RemoveLine]]:
        return plan_remove_lines(make_invoice(**invoice), removes, LINES, limits=LIMITS)

    def test_invoice_item_lines_are_removed(self) -> None:
        removes = [remove("il_A"), remove("il_B", RemoveBehavior.UNASSIGN)]
        assert self.plan(removes) == [(LINE_A, removes[0]), (LINE_B, removes[1])]

    @pytest.mark.parametrize("status", NOT_DRAFT)
    def test_only_drafts(self, status: str) -> None:
        with pytest.raises(InvoiceNotEditable):
            self.plan([remove("il_A")], status=status)

    def test_no_lines(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            self.plan([])
        assert reported(exc) == [(("lines",), "parameter_missing")]

    def test_too_many_lines(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            self.plan([remove("il_A")] * 51)
        assert reported(exc) == [(("lines",), "too_many_lines")]

    def test_subscription_lines_are_not_removable(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            self.plan([remove("il_A"), remove("il_S")])
        assert reported(exc) == [(("lines", 1, "id"), "line_not_removable")]

    def test_removing_the_same_line_twice(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            self.plan([remove("il_A"), remove("il_A", RemoveBehavior.UNASSIGN)])
        assert reported(exc) == [(("lines", 1, "id"), "resource_missing")]

    def test_unknown_and_old_style_ids(self) -> None:
        with pytest.raises(InvalidInput) as exc:
            self.plan([remove("il_nope"), remove("ii_A")])
        assert reported(exc) == [(("lines", 0, "id"), "resource_missing"), (("lines", 1, "id"), "old_line_id")]


def test_with_kind() -> None:
    values = with_kind(make_values(), ItemKind.SUBSCRIPTION)
    assert values.kind == ItemKind.SUBSCRIPTION
    assert values.amount == make_values().amount


def test_invoice_context_owner() -> None:
    assert make_invoice(customer_id=CUSTOMER, currency="usd").owner == ItemOwner(CUSTOMER, "usd")
