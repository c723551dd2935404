"""Fulfillment rules: states, parent line, quantities, items."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bulkbill.core.orders.fulfillments import (
    FulfillmentState,
    FulfillmentType,
    creation_state_error,
    default_type,
    delete_error,
    edit_error,
    items_error,
    items_state_error,
    parent_error,
    parse_state,
    quantity_error,
    remaining_quantity,
    transition_error,
    type_error,
)
from bulkbill.core.orders.line_items import BillingRule, ItemCategory, ItemState

F = FulfillmentState
D = Decimal
ALLOWED = {
    (F.EXECUTING, F.BOOKED),
    (F.EXECUTING, F.SENT_TO_BILLING),
    (F.EXECUTING, F.CANCELLED),
    (F.BOOKED, F.SENT_TO_BILLING),
    (F.SENT_TO_BILLING, F.COMPLETE),
}


class TestStates:
    @pytest.mark.parametrize("current", list(F))
    @pytest.mark.parametrize("target", list(F))
    def test_transitions_follow_the_table(self, current: FulfillmentState, target: FulfillmentState) -> None:
        error = transition_error(current, target)
        assert (error is None) == (current == target or (current, target) in ALLOWED)

    def test_messages(self) -> None:
        assert "cannot be cancelled" in (transition_error(F.SENT_TO_BILLING, F.CANCELLED) or "")
        assert "skip" in (transition_error(F.EXECUTING, F.COMPLETE) or "")
        assert "locked" in (transition_error(F.COMPLETE, F.EXECUTING) or "")

    @pytest.mark.parametrize("state", list(F))
    def test_creation_states(self, state: FulfillmentState) -> None:
        ok = state in (F.EXECUTING, F.BOOKED, F.SENT_TO_BILLING)
        assert (creation_state_error(state) is None) == ok

    def test_both_cancel_spellings_are_read(self) -> None:
        assert parse_state("Canceled") == parse_state("Cancelled") == F.CANCELLED
        assert parse_state("Shipped") is None

    @pytest.mark.parametrize("state", list(F))
    def test_edits_and_deletes_only_while_executing(self, state: FulfillmentState) -> None:
        assert (edit_error(state) is None) == (state == F.EXECUTING)
        assert (delete_error(state) is None) == (state == F.EXECUTING)


class TestParent:
    def test_needs_a_booked_rule_b_line(self) -> None:
        assert parent_error(BillingRule.AS_FULFILLMENT_OCCURS, ItemState.BOOKED) is None
        assert parent_error(BillingRule.WITHOUT_FULFILLMENT, ItemState.BOOKED)
        assert parent_error(BillingRule.AS_FULFILLMENT_OCCURS, ItemState.EXECUTING)

    def test_type_follows_the_line_category(self) -> None:
        assert default_type(ItemCategory.SALES) == FulfillmentType.DELIVERY
        assert default_type(ItemCategory.RETURN) == FulfillmentType.RETURN
        assert type_error(ItemCategory.SALES, FulfillmentType.DELIVERY) is None
        assert type_error(ItemCategory.SALES, FulfillmentType.RETURN)


class TestQuantities:
    def test_remaining_counts_every_fulfillment_but_cancelled_ones(self) -> None:
        others = [("Executing", D(2)), ("Booked", D(3)), ("Cancelled", D(4)), ("SentToBilling", D(1))]
        assert remaining_quantity(D(10), others) == D(4)

    def test_quantity_must_fit(self) -> None:
        assert quantity_error(D(4), D(4)) is None
        assert quantity_error(D(5), D(4))
        assert quantity_error(D(0), D(4))
        assert quantity_error(D(-1), D(4))

    def test_items(self) -> None:
        assert items_error(2, D(2)) is None
        assert items_error(3, D(2))
        assert items_error(101, D(1000))
        assert items_state_error(F.BOOKED) is None
        assert items_state_error(F.EXECUTING)
        assert items_state_error(F.CANCELLED)
