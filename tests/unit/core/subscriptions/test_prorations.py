"""core.subscriptions.prorations: the share of a period left, and which credits and charges a change makes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bulkbill.core.invoicing.commands import ItemKind
from bulkbill.core.invoicing.items import ItemValues
from bulkbill.core.subscriptions.prorations import BilledItem, prorated_share, proration_lines


def at(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp())


APRIL = (at(2025, 4, 1), at(2025, 5, 1))


def billed(item_id: str, price: str, quantity: int, unit: int, name: str = "Seat") -> BilledItem:
    values = ItemValues(
        kind=ItemKind.SUBSCRIPTION,
        currency="usd",
        unit_amount_decimal=Decimal(unit),
        quantity=Decimal(quantity),
        amount=unit * quantity,
        description=None,
        discountable=True,
        discounts=(),
        tax_rates=("txr_1",),
        period=APRIL,
        metadata={},
        price_id=price,
        product_id="prod_1",
        amount_defined=False,
    )
    return BilledItem(item_id, values, name)


class TestShare:
    def test_the_share_is_counted_in_seconds_and_rounded_once_half_away_from_zero(self) -> None:
        assert prorated_share(1001, at(2025, 4, 16), APRIL) == 501  # 500.5
        assert prorated_share(-1001, at(2025, 4, 16), APRIL) == -501
        assert prorated_share(1000, at(2025, 4, 16, 12), APRIL) == 483  # 14.5 / 30 days: 483.33
        assert prorated_share(1000, APRIL[0], APRIL) == 1000
        # one second before the end: 1000 × 1/2592000 rounds to 0
        assert prorated_share(1000, APRIL[1] - 1, APRIL) == 0

    def test_no_float_creeps_in_for_large_amounts(self) -> None:
        # 99999999999 × 15/30 = 49999999999.5 → 50000000000 exactly (a float would lose the half)
        assert prorated_share(99_999_999_999, at(2025, 4, 16), APRIL) == 50_000_000_000


class TestLines:
    def test_a_changed_item_is_credited_at_its_old_state_and_charged_at_its_new_one(self) -> None:
        lines = proration_lines(
            [billed("si_1", "price_a", 1, 1001)], [billed("si_1", "price_a", 3, 1001)], at(2025, 4, 16), APRIL
        )
        assert [(p.item_id, p.credit, p.values.amount, p.values.quantity) for p in lines] == [
            ("si_1", True, -501, Decimal(1)),
            ("si_1", False, 1502, Decimal(3)),
        ]
        credit, charge = lines
        assert credit.values.description == "Unused time on 1 × Seat after 16 Apr 2025"
        assert charge.values.description == "Remaining time on 3 × Seat after 16 Apr 2025"
        for p in lines:
            assert p.values.period == (at(2025, 4, 16), APRIL[1])
            assert (p.values.kind, p.values.discountable, p.values.tax_rates) == (
                ItemKind.INVOICE_ITEM,
                False,
                ("txr_1",),
            )
            assert p.values.amount_defined

    def test_unchanged_items_make_nothing_deleted_ones_a_credit_new_ones_a_charge(self) -> None:
        before = [billed("si_1", "price_a", 1, 3000), billed("si_2", "price_b", 2, 600, "Support")]
        after = [billed("si_1", "price_a", 1, 3000), billed("si_3", "price_c", 1, 900, "Extra")]
        lines = proration_lines(before, after, at(2025, 4, 21), APRIL)  # 10 of 30 days left
        assert [(p.item_id, p.values.amount) for p in lines] == [("si_2", -400), ("si_3", 300)]

    def test_ending_the_period_credits_every_item_and_zero_lines_are_left_out(self) -> None:
        before = [billed("si_1", "price_a", 1, 3000), billed("si_2", "price_b", 0, 600)]
        assert [(p.item_id, p.values.amount) for p in proration_lines(before, [], at(2025, 4, 21), APRIL)] == [
            ("si_1", -1000)
        ]
        assert proration_lines(before, [], APRIL[1], APRIL) == []
