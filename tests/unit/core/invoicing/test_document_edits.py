"""Core rules of editing documents (the Zuora documents side): Decision 8 and item pricing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bulkbill.core.errors import InputCollector
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
OWNER = ItemOwner("cus_1", "usd")


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
