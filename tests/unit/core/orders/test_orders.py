"""Order line item rules: the itemState machine, editability, pricing and quantity bookkeeping."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bulkbill.core.orders.line_items import (
    BillingRule,
    DiscountType,
    ItemCategory,
    ItemState,
    creation_state_error,
    field_edit_error,
    line_quantities,
    order_state,
    original_line_error,
    price_line,
    return_quantity_error,
    sent_to_billing_error,
    should_auto_complete,
    transition_error,
)

A, B = BillingRule.WITHOUT_FULFILLMENT, BillingRule.AS_FULFILLMENT_OCCURS
S = ItemState
SALES, RETURN = ItemCategory.SALES, ItemCategory.RETURN
D = Decimal

# §2.7 tables, written out: (rule, from, to) pairs that are allowed; every other pair is refused.
ALLOWED = {
    (A, S.EXECUTING, S.BOOKED),
    (A, S.EXECUTING, S.SENT_TO_BILLING),
    (A, S.EXECUTING, S.COMPLETE),
    (A, S.EXECUTING, S.CANCELED),
    (A, S.BOOKED, S.SENT_TO_BILLING),
    (A, S.BOOKED, S.COMPLETE),
    (A, S.SENT_TO_BILLING, S.COMPLETE),
    (B, S.EXECUTING, S.BOOKED),
    (B, S.EXECUTING, S.CANCELED),
}


class TestTransitions:
    @pytest.mark.parametrize("rule", [A, B])
    @pytest.mark.parametrize("current", list(S))
    @pytest.mark.parametrize("target", list(S))
    def test_every_pair_follows_the_table(self, rule: BillingRule, current: ItemState, target: ItemState) -> None:
        error = transition_error(rule, current, target)
        if current == target or (rule, current, target) in ALLOWED:
            assert error is None
        else:
            assert error

    def test_messages_explain_the_refusal(self) -> None:
        assert "locked" in (transition_error(A, S.COMPLETE, S.BOOKED) or "")
        assert "cannot be canceled" in (transition_error(A, S.SENT_TO_BILLING, S.CANCELED) or "")
        assert "automatically" in (transition_error(B, S.BOOKED, S.COMPLETE) or "")
        assert "TriggerWithoutFulfillment" in (transition_error(B, S.EXECUTING, S.SENT_TO_BILLING) or "")
        assert "from Booked to Executing" in (transition_error(A, S.BOOKED, S.EXECUTING) or "")

    @pytest.mark.parametrize("state", list(S))
    def test_creation_states(self, state: ItemState) -> None:
        assert creation_state_error(A, state) is None
        allowed_b = state in (S.EXECUTING, S.BOOKED, S.CANCELED)
        assert (creation_state_error(B, state) is None) == allowed_b

    def test_sent_to_billing_needs_a_bill_target_date(self) -> None:
        assert sent_to_billing_error(None)
        assert sent_to_billing_error("2021-02-01") is None


class TestEditability:
    @pytest.mark.parametrize("field", ["amountPerUnit", "listPricePerUnit", "UOM", "productCode", "billTo", "taxCode"])
    def test_sales_fields_only_while_executing(self, field: str) -> None:
        assert field_edit_error(field, SALES, S.EXECUTING) is None
        assert field_edit_error(field, SALES, S.BOOKED)
        assert field_edit_error(field, RETURN, S.EXECUTING)

    @pytest.mark.parametrize("field", ["quantity", "itemName", "description", "billingRule", "transactionStartDate"])
    def test_any_category_while_executing(self, field: str) -> None:
        assert field_edit_error(field, SALES, S.EXECUTING) is None
        assert field_edit_error(field, RETURN, S.EXECUTING) is None
        assert field_edit_error(field, SALES, S.BOOKED)

    def test_bill_target_date_in_executing_or_booked(self) -> None:
        assert field_edit_error("billTargetDate", SALES, S.EXECUTING) is None
        assert field_edit_error("billTargetDate", RETURN, S.BOOKED) is None
        assert field_edit_error("billTargetDate", SALES, S.SENT_TO_BILLING)

    @pytest.mark.parametrize("field", ["paymentTerm", "invoiceTemplateId", "sequenceSetId", "invoiceGroupNumber"])
    def test_billing_attributes_until_billed_for_sales(self, field: str) -> None:
        for state in (S.EXECUTING, S.BOOKED, S.SENT_TO_BILLING):
            assert field_edit_error(field, SALES, state) is None
        assert field_edit_error(field, RETURN, S.EXECUTING)

    @pytest.mark.parametrize("state", [S.COMPLETE, S.CANCELED])
    def test_locked_states_take_nothing(self, state: ItemState) -> None:
        for field in ("customFields", "paymentTerm", "billTargetDate", "description"):
            assert "locked" in (field_edit_error(field, SALES, state) or "")

    def test_custom_fields_until_locked(self) -> None:
        assert field_edit_error("customFields", RETURN, S.SENT_TO_BILLING) is None


class TestPricing:
    def test_amount_per_unit_as_given(self) -> None:
        p, err = price_line(
            list_price_per_unit=None,
            amount_per_unit=D(5950),
            discount_type=None,
            discount_per_unit=None,
            quantity=D(2),
        )
        assert err is None and p.list_price_per_unit == D(5950) and p.amount == 11900 and p.discount == 0

    def test_percentage_discount(self) -> None:
        p, err = price_line(
            list_price_per_unit=D(1000),
            amount_per_unit=None,
            discount_type=DiscountType.PERCENTAGE,
            discount_per_unit=D(15),
            quantity=D(3),
        )
        assert err is None and p.amount_per_unit == D(850) and p.list_price == 3000 and p.amount == 2550
        assert p.discount == 450

    def test_fixed_amount_discount(self) -> None:
        p, _ = price_line(
            list_price_per_unit=D(1000),
            amount_per_unit=D(1),
            discount_type=DiscountType.FIXED_AMOUNT,
            discount_per_unit=D(250),
            quantity=D(2),
        )
        assert p.amount_per_unit == D(750) and p.amount == 1500 and p.discount == 500

    def test_amounts_round_once_half_up(self) -> None:
        p, _ = price_line(
            list_price_per_unit=D("33.335"),
            amount_per_unit=None,
            discount_type=None,
            discount_per_unit=None,
            quantity=D(1),
        )
        assert p.amount == 33 and p.amount_per_unit == D("33.335")

    @pytest.mark.parametrize(
        ("kind", "value"), [(DiscountType.PERCENTAGE, D(101)), (DiscountType.FIXED_AMOUNT, D(2000))]
    )
    def test_discount_out_of_range(self, kind: DiscountType, value: Decimal) -> None:
        _, err = price_line(
            list_price_per_unit=D(1000),
            amount_per_unit=None,
            discount_type=kind,
            discount_per_unit=value,
            quantity=D(1),
        )
        assert err

    def test_no_price_is_zero(self) -> None:
        p, err = price_line(
            list_price_per_unit=None, amount_per_unit=None, discount_type=None, discount_per_unit=None, quantity=D(3)
        )
        assert err is None and (p.list_price_per_unit, p.amount_per_unit, p.amount) == (0, 0, 0)

    def test_negative_prices_refused(self) -> None:
        _, err = price_line(
            list_price_per_unit=D(-1), amount_per_unit=None, discount_type=None, discount_per_unit=None, quantity=D(1)
        )
        assert err


class TestQuantities:
    def test_rule_a_by_state(self) -> None:
        def q(state: ItemState, returned: Decimal = D(0)) -> tuple[Decimal, Decimal, Decimal]:
            r = line_quantities(category=SALES, rule=A, state=state, quantity=D(10), returned=returned)
            return r.fulfilled, r.pending, r.available_for_return

        assert q(S.EXECUTING) == (0, 0, 0)
        assert q(S.BOOKED) == (10, 0, 0)
        assert q(S.SENT_TO_BILLING) == (10, 0, 10)
        assert q(S.COMPLETE, D(4)) == (10, 0, 6)
        assert q(S.CANCELED) == (0, 0, 0)

    def test_the_documented_rule_b_example(self) -> None:
        def q(fulfillments: list[tuple[str, Decimal]]) -> tuple[Decimal, Decimal, Decimal]:
            r = line_quantities(category=SALES, rule=B, state=S.BOOKED, quantity=D(100), fulfillments=fulfillments)
            return r.fulfilled, r.pending, r.available_for_return

        assert q([("Booked", D(10))]) == (10, 90, 0)
        assert q([("SentToBilling", D(10))]) == (10, 90, 10)
        assert q([("SentToBilling", D(10)), ("SentToBilling", D(90))]) == (100, 0, 100)
        assert q([("Executing", D(10)), ("Cancelled", D(5))]) == (0, 100, 0)

    def test_returns_have_nothing_available_for_return(self) -> None:
        r = line_quantities(category=RETURN, rule=A, state=S.BOOKED, quantity=D(2))
        assert (r.fulfilled, r.pending, r.available_for_return) == (2, 0, 0)

    def test_auto_complete(self) -> None:
        done = [("SentToBilling", D(6)), ("Complete", D(4))]
        assert should_auto_complete(B, S.BOOKED, D(10), done)
        assert not should_auto_complete(B, S.BOOKED, D(10), [("SentToBilling", D(6))])
        assert not should_auto_complete(B, S.BOOKED, D(10), [*done, ("Executing", D(0))])
        assert should_auto_complete(B, S.BOOKED, D(10), [*done, ("Cancelled", D(3))])
        assert not should_auto_complete(A, S.BOOKED, D(10), done)
        assert not should_auto_complete(B, S.EXECUTING, D(10), done)
        assert not should_auto_complete(B, S.BOOKED, D(0), [])

    def test_return_quantity_limits(self) -> None:
        assert return_quantity_error(D(2), D(2)) is None
        assert return_quantity_error(D(3), D(2))
        assert return_quantity_error(D(0), D(2))

    def test_original_must_be_a_live_sales_line(self) -> None:
        assert original_line_error(SALES, S.SENT_TO_BILLING) is None
        assert original_line_error(RETURN, S.SENT_TO_BILLING)
        assert original_line_error(SALES, S.CANCELED)


class TestOrderState:
    def test_follows_its_lines(self) -> None:
        assert order_state([S.EXECUTING, S.COMPLETE]) == "Executing"
        assert order_state([S.SENT_TO_BILLING]) == "Executing"
        assert order_state([S.COMPLETE, S.CANCELED]) == "Complete"
        assert order_state([S.CANCELED, S.CANCELED]) == "Canceled"
        assert order_state([]) == "Complete"
