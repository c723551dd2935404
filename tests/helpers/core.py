"""Core test helpers: plain factories of the core's values (no I/O, no database), for the unit tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from bulkbill.core.invoicing.commands import ItemKind, LineChanges
from bulkbill.core.invoicing.items import CouponInfo, DiscountInfo, ItemValues, PriceInfo, References, TaxRateInfo
from bulkbill.core.invoicing.lines import InvoiceContext, LineLimits, LineState, PendingItem

NOW = 1_700_000_000
CUSTOMER = "cus_A"
LIMITS = LineLimits(per_call=50, per_invoice=250)

PRICE = PriceInfo("price_1", "usd", Decimal(1500), "prod_1")


def make_refs(
    *,
    prices: Iterable[PriceInfo] = (PRICE,),
    coupons: Iterable[CouponInfo] = (),
    discounts: Iterable[DiscountInfo] = (),
    tax_rates: Iterable[TaxRateInfo] = (),
    products: Iterable[str] = ("prod_1",),
) -> References:
    return References(
        prices={p.id: p for p in prices},
        coupons={c.id: c for c in coupons},
        discounts={d.id: d for d in discounts},
        tax_rates={t.id: t for t in tax_rates},
        products=set(products),
    )


def make_invoice(**overrides: Any) -> InvoiceContext:
    fields: dict[str, Any] = {
        "id": "in_1",
        "customer_id": CUSTOMER,
        "currency": "usd",
        "status": "draft",
        "line_count": 0,
    }
    fields.update(overrides)
    return InvoiceContext(**fields)


def make_values(**overrides: Any) -> ItemValues:
    """An invoice-item line of 2 × 1500 = 3000 USD priced by price_1."""
    fields: dict[str, Any] = {
        "kind": ItemKind.INVOICE_ITEM,
        "currency": "usd",
        "unit_amount_decimal": Decimal(1500),
        "quantity": Decimal(2),
        "amount": 3000,
        "description": "Widgets",
        "discountable": True,
        "discounts": (),
        "tax_rates": None,
        "period": (NOW, NOW),
        "metadata": {},
        "price_id": "price_1",
        "product_id": "prod_1",
        "amount_defined": False,
    }
    fields.update(overrides)
    return ItemValues(**fields)


def make_line(line_id: str, **overrides: Any) -> LineState:
    return LineState(line_id, "ii_" + line_id.removeprefix("il_"), make_values(**overrides))


def lines_by_id(*lines: LineState) -> dict[str, LineState]:
    return {line.id: line for line in lines}


def make_pending(
    item_id: str, *, customer_id: str = CUSTOMER, invoice_id: str | None = None, **values: Any
) -> PendingItem:
    return PendingItem(item_id, customer_id, invoice_id, make_values(**values))


def pending_by_id(*items: PendingItem) -> Mapping[str, PendingItem]:
    return {item.id: item for item in items}


# Wire names each LineChanges field is reported under in `given` (the Stripe dialect's convention).
_WIRE_NAME = {"price": "pricing"}
_NOT_FIELDS = {"price_path", "quantity_field"}


def changes(**fields: Any) -> LineChanges:
    """LineChanges as the dialect builds them: `given` lists the wire names of the fields sent."""
    given = set()
    for name in fields:
        if name in _NOT_FIELDS:
            continue
        if name == "quantity":
            given.add(fields.get("quantity_field", "quantity"))
        else:
            given.add(_WIRE_NAME.get(name, name))
    return LineChanges(given=frozenset(given), **fields)
