"""The order-line update planner: what an update changes, and every problem it has, from typed values alone."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from bulkbill.core.errors import FieldError, InputCollector
from bulkbill.core.orders.line_items import BillingRule, DiscountType, ItemCategory, ItemState
from bulkbill.core.orders.line_updates import (
    LineField,
    LineFields,
    LinePlan,
    LineValues,
    OwnerLookup,
    StoredLine,
    plan_line_update,
)

F = LineField
S = ItemState
D = Decimal
PATH = ("orderLineItems", 3)
DAY = dt.date(2021, 1, 1)


def to_minor(amount: Decimal, currency: str) -> Decimal:
    """The test dialect's unit: major units with two places (10.50 → 1050)."""
    assert currency == "usd"
    return amount * 100


def stored(*, category: ItemCategory = ItemCategory.SALES, state: ItemState = S.EXECUTING, **values: Any) -> StoredLine:
    base = LineValues(
        item_state=state,
        billing_rule=BillingRule.WITHOUT_FULFILLMENT,
        item_type="Product",
        item_name="Widget",
        description=None,
        quantity=D(10),
        list_price_per_unit=D(1000),
        amount_per_unit=D(1000),
        inline_discount_type=None,
        inline_discount_per_unit=None,
        bill_target_date=None,
        transaction_start_date=DAY,
        transaction_end_date=DAY,
        uom=None,
        product_code=None,
        custom_fields={},
        attrs={},
    )
    return StoredLine("oli_1", category, "usd", replace(base, **values))


def sent(**fields: Any) -> LineFields:
    """What a dialect makes of a body: the fields named, typed, and `given` naming them."""
    attrs = fields.pop("attrs", {})
    given = frozenset(F[name.upper()] for name in fields)
    return LineFields(given=given, attrs=attrs, **fields)


def plan(line: StoredLine, update: LineFields, owner: OwnerLookup | None = None) -> tuple[LinePlan, list[FieldError]]:
    errors = InputCollector()
    result = plan_line_update(line, update, to_minor=to_minor, owner=owner, path=PATH, errors=errors)
    return result, errors.errors


def problems(errors: list[FieldError]) -> list[tuple[tuple[str | int, ...], str]]:
    return [(e.path, e.code) for e in errors]


class TestChanges:
    def test_values_equal_to_the_stored_ones_are_not_edits(self) -> None:
        line = stored(state=S.BOOKED)  # a Booked line refuses most fields: none of these counts as an edit
        result, errors = plan(line, sent(quantity=D("10.000"), item_name="Widget", amount_per_unit=D(10)))
        assert errors == []
        assert result.changed == frozenset()
        assert result.after == line.values

    def test_sent_values_replace_stored_ones_and_null_clears(self) -> None:
        line = stored(description="old", uom="kg")
        result, errors = plan(line, sent(description=None, uom="Each", item_name="New"))
        assert errors == []
        assert (result.after.description, result.after.uom, result.after.item_name) == (None, "Each", "New")
        assert result.changed == {F.DESCRIPTION, F.UOM, F.ITEM_NAME}

    def test_attributes_are_merged_and_a_null_removes_one(self) -> None:
        line = stored(attrs={"billTo": "a" * 32, "taxCode": "T1"})
        result, errors = plan(line, sent(attrs={"billTo": None, "accountingCode": "4000", "taxCode": "T1"}))
        assert errors == []
        assert result.after.attrs == {"taxCode": "T1", "accountingCode": "4000"}
        assert result.changed == frozenset()  # attributes are not typed fields

    def test_custom_fields_are_merged(self) -> None:
        line = stored(custom_fields={"A__c": 1, "B__c": 2})
        result, _ = plan(line, sent(custom_fields={"B__c": None, "C__c": 3}))
        assert result.after.custom_fields == {"A__c": 1, "C__c": 3}
        assert F.CUSTOM_FIELDS in result.changed


class TestRefusals:
    def test_quantity_state_and_rule_cannot_be_cleared_and_stay(self) -> None:
        line = stored()
        result, errors = plan(line, sent(quantity=None, item_state=None, billing_rule=None))
        assert problems(errors) == [
            ((*PATH, "quantity"), "invalid_value"),
            ((*PATH, "itemState"), "invalid_value"),
            ((*PATH, "billingRule"), "invalid_value"),
        ]
        assert errors[0].message == "Order line item oli_1: quantity cannot be null."
        assert result.after == line.values

    def test_a_booked_line_refuses_what_only_executing_lines_take_and_reports_each(self) -> None:
        line = stored(state=S.BOOKED)
        _, errors = plan(line, sent(quantity=D(3), uom="kg", attrs={"billTo": "b" * 32, "paymentTerm": "Net 45"}))
        # Sorted by name as clients spell them; paymentTerm may change until the line is billed.
        assert problems(errors) == [
            ((*PATH, "UOM"), "rule_violation"),
            ((*PATH, "billTo"), "rule_violation"),
            ((*PATH, "quantity"), "rule_violation"),
        ]
        assert "quantity can be updated only while the order line item is Executing" in errors[2].message

    def test_a_return_line_takes_no_sales_only_field(self) -> None:
        _, errors = plan(stored(category=ItemCategory.RETURN), sent(amount_per_unit=D(5)))
        assert problems(errors) == [((*PATH, "amountPerUnit"), "rule_violation")]

    def test_negative_quantity(self) -> None:
        _, errors = plan(stored(), sent(quantity=D(-1)))
        assert problems(errors) == [((*PATH, "quantity"), "invalid_value")]

    def test_the_transaction_period_must_not_end_before_it_starts(self) -> None:
        _, errors = plan(stored(), sent(transaction_end_date=dt.date(2020, 12, 31)))
        assert problems(errors) == [((*PATH, "transactionEndDate"), "invalid_value")]
        _, errors = plan(stored(), sent(transaction_start_date=DAY, transaction_end_date=dt.date(2021, 2, 1)))
        assert errors == []


class TestItemState:
    def test_moving_along_the_machine(self) -> None:
        result, errors = plan(stored(), sent(item_state=S.BOOKED))
        assert errors == [] and result.after.item_state == S.BOOKED and not result.sends_to_billing

    def test_a_locked_line_stays(self) -> None:
        _, errors = plan(stored(state=S.COMPLETE), sent(item_state=S.EXECUTING))
        assert problems(errors) == [((*PATH, "itemState"), "rule_violation")]

    def test_sent_to_billing_needs_a_bill_target_date_stored_or_sent_with_it(self) -> None:
        _, errors = plan(stored(), sent(item_state=S.SENT_TO_BILLING))
        assert problems(errors) == [((*PATH, "billTargetDate"), "rule_violation")]
        result, errors = plan(stored(), sent(item_state=S.SENT_TO_BILLING, bill_target_date=DAY))
        assert errors == [] and result.sends_to_billing
        result, errors = plan(stored(bill_target_date=DAY), sent(item_state=S.SENT_TO_BILLING))
        assert errors == [] and result.sends_to_billing

    def test_the_rule_sent_with_the_state_decides_the_move(self) -> None:
        rule_b = sent(
            item_state=S.SENT_TO_BILLING, bill_target_date=DAY, billing_rule=BillingRule.AS_FULFILLMENT_OCCURS
        )
        _, errors = plan(stored(), rule_b)
        assert problems(errors) == [((*PATH, "itemState"), "rule_violation")]


class TestPricing:
    def test_a_sales_line_is_repriced_in_minor_units(self) -> None:
        result, errors = plan(stored(), sent(amount_per_unit=D("12.50")))
        assert errors == []
        assert (result.after.list_price_per_unit, result.after.amount_per_unit) == (D(1000), D(1250))
        assert {F.LIST_PRICE_PER_UNIT, F.AMOUNT_PER_UNIT} <= result.changed

    def test_a_percentage_discount_computes_the_amount_per_unit(self) -> None:
        update = sent(
            list_price_per_unit=D(20), inline_discount_type=DiscountType.PERCENTAGE, inline_discount_per_unit=D(10)
        )
        result, errors = plan(stored(), update)
        assert errors == []
        assert result.after.inline_discount_per_unit == D(10)  # a percentage, not converted
        assert (result.after.list_price_per_unit, result.after.amount_per_unit) == (D(2000), D(1800))

    def test_a_fixed_discount_is_converted_and_checked_against_the_list_price(self) -> None:
        line = stored(inline_discount_type=DiscountType.FIXED_AMOUNT, inline_discount_per_unit=D(100))
        result, errors = plan(line, sent(inline_discount_per_unit=D(2)))
        assert errors == [] and result.after.amount_per_unit == D(800)
        _, errors = plan(line, sent(inline_discount_per_unit=D(200)))
        assert problems(errors) == [((*PATH, "inlineDiscountPerUnit"), "invalid_value")]

    def test_a_quantity_change_keeps_the_unit_price(self) -> None:
        result, errors = plan(stored(), sent(quantity=D(3)))
        assert errors == [] and (result.after.quantity, result.after.amount_per_unit) == (D(3), D(1000))

    def test_return_lines_are_not_repriced(self) -> None:
        line = stored(category=ItemCategory.RETURN, amount_per_unit=D(300))
        result, errors = plan(line, sent(quantity=D(2)))
        assert errors == [] and result.after.amount_per_unit == D(300)
        assert F.AMOUNT_PER_UNIT not in result.changed


class TestOwner:
    def test_a_new_owner_is_taken(self) -> None:
        result, errors = plan(stored(), sent(owner_account_number="A2"), OwnerLookup("A1", "cus_2"))
        assert errors == [] and result.owner_account_id == "cus_2"

    def test_an_unknown_owner_is_not_found(self) -> None:
        result, errors = plan(stored(), sent(owner_account_number="nope"), OwnerLookup("A1", None))
        assert problems(errors) == [((*PATH, "ownerAccountNumber"), "resource_missing")]
        assert result.owner_account_id is None

    @pytest.mark.parametrize("state", [S.EXECUTING, S.BOOKED])
    def test_the_same_owner_is_no_edit(self, state: ItemState) -> None:
        result, errors = plan(stored(state=state), sent(owner_account_number="A1"), OwnerLookup("A1", "cus_1"))
        assert errors == [] and result.owner_account_id is None

    def test_a_booked_line_keeps_its_owner(self) -> None:
        _, errors = plan(stored(state=S.BOOKED), sent(owner_account_number="A2"), OwnerLookup("A1", "cus_2"))
        assert problems(errors) == [((*PATH, "ownerAccountNumber"), "rule_violation")]


def test_every_problem_of_an_update_is_reported_at_once() -> None:
    line = stored(state=S.SENT_TO_BILLING, bill_target_date=DAY)
    update = sent(quantity=None, item_name="x", item_state=S.CANCELED, bill_target_date=None)
    _, errors = plan(line, update)
    assert sorted(problems(errors)) == sorted(
        [
            ((*PATH, "billTargetDate"), "rule_violation"),
            ((*PATH, "itemName"), "rule_violation"),
            ((*PATH, "itemState"), "rule_violation"),
            ((*PATH, "quantity"), "invalid_value"),
        ]
    )
