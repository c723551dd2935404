"""core.applied_items: a discount item lives and dies with the item it applies to (issue 12, defect 6)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bulkbill.core.errors import InputCollector
from bulkbill.core.invoicing.applied_items import (
    check_applied_amount,
    check_discount_target,
    check_removal,
    discount_items_of,
    removed_with,
)

# Two discount items on the charge "c", none on "p".
APPLIED = {"d1": "c", "d2": "c"}


def removal(item_id: str, removed: set[str], *, unassign: bool = False) -> list[str]:
    errors = InputCollector()
    ok = check_removal(APPLIED, item_id, removed, unassign=unassign, path=("x",), errors=errors)
    assert ok == (not errors.errors)
    return [e.code for e in errors.errors]


class TestRemoval:
    def test_a_charge_is_deleted_with_its_discount_items(self) -> None:
        assert removal("c", {"c"}) == []
        assert removed_with(APPLIED, {"c"}) == {"c", "d1", "d2"}
        assert removed_with(APPLIED, {"p"}) == {"p"}

    def test_a_discount_item_goes_only_with_its_charge(self) -> None:
        assert removal("d1", {"d1"}) == ["line_not_removable"]
        assert removal("d1", {"d1", "p"}) == ["line_not_removable"]
        assert removal("d1", {"d1", "c"}) == []

    def test_nothing_with_discount_items_is_unassigned(self) -> None:
        assert removal("c", {"c"}, unassign=True) == ["line_not_removable"]
        assert removal("d1", {"d1", "c"}, unassign=True) == ["line_not_removable"]
        assert removal("p", {"p"}, unassign=True) == []

    def test_discount_items_of(self) -> None:
        assert discount_items_of(APPLIED, "c") == ["d1", "d2"]
        assert discount_items_of(APPLIED, "p") == []


@pytest.mark.parametrize(("amount", "refused"), [(-1, False), (0, False), (1, True), (Decimal("0.01"), True)])
def test_a_discount_item_never_charges(amount: int | Decimal, refused: bool) -> None:
    errors = InputCollector()
    check_applied_amount(amount, ("amount",), errors)
    assert bool(errors.errors) == refused


@pytest.mark.parametrize(
    ("target", "removed", "ok"), [("c", set(), True), (None, set(), True), ("c", {"c"}, False), ("d1", set(), False)]
)
def test_discount_items_apply_to_a_charge_that_stays(target: str | None, removed: set[str], ok: bool) -> None:
    errors = InputCollector()
    assert check_discount_target(APPLIED, target, removed, ("discountItems",), errors) == ok
    assert bool(errors.errors) != ok
