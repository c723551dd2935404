"""Stripe parameters for lines and invoice items, and their translation into core LineChanges.

Spellings are normalised here: `lines[i][pricing][price]` and the seeds' older `lines[i][price]`
become the same field (spec Decision 2); `quantity` and `quantity_decimal` the same quantity.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bulkbill.api.stripe.catalog.products import PRODUCT_DATA_DETAILS
from bulkbill.api.stripe.edge.params import (
    AMOUNT,
    AMOUNT_DECIMAL,
    QUANTITY,
    QUANTITY_DECIMAL,
    Array,
    Bool,
    Currency,
    Enum,
    Metadata,
    Obj,
    Spec,
    Str,
    Time,
    Unsettable,
)
from bulkbill.core.errors import ErrorCode, FieldError, InputCollector, InvalidInput, Path
from bulkbill.core.invoicing.commands import DiscountRef, LineChanges, NewProduct, PriceData
from bulkbill.core.metadata import CLEAR, Clear, check_metadata, merge_metadata


@dataclass(frozen=True)
class NewMetadata(Metadata):
    """The metadata of an object created inline: Stripe's limits checked here, "" values dropped."""

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        update = super().check(value, path, errors)
        if update is None:
            return None
        check_metadata(update, path, errors)
        return merge_metadata({}, update, path, errors)


DISCOUNTS = Unsettable(Array(Obj({"coupon": Str(), "discount": Str(), "promotion_code": Str()}), max_items=20))
TAX_RATES = Unsettable(Array(Str(), max_items=10))
PERIOD = Obj({"start": Time(), "end": Time()}, required=frozenset({"start", "end"}))
# images, tax_code and tax_details (Stripe Tax's inputs) are checked as a product's and not carried: the
# line's new product bills nothing by them (tax comes from tax rates).
PRODUCT_DATA = Obj(
    {
        "name": Str(256),
        "description": Str(40000),
        "metadata": NewMetadata(),
        "tax_code": Str(),
        "tax_details": PRODUCT_DATA_DETAILS["tax_details"],
        "unit_label": Str(12),
        "images": Array(Str(), max_items=8),
    },
    required=frozenset({"name"}),
)
PRICE_DATA = Obj(
    {
        "currency": Currency(),
        "product": Str(),
        "product_data": PRODUCT_DATA,
        "tax_behavior": Enum(("exclusive", "inclusive", "unspecified")),
        "unit_amount": AMOUNT,
        "unit_amount_decimal": AMOUNT_DECIMAL,
    },
    required=frozenset({"currency"}),
)

LINE_FIELDS: dict[str, Spec] = {
    "amount": AMOUNT,
    "currency": Currency(),
    "description": Str(),
    "discountable": Bool(),
    "discounts": DISCOUNTS,
    "metadata": Metadata(),
    "period": PERIOD,
    "price": Str(),
    "pricing": Obj({"price": Str()}),
    "price_data": PRICE_DATA,
    "quantity": QUANTITY,
    "quantity_decimal": QUANTITY_DECIMAL,
    "tax_rates": TAX_RATES,
}
ADD_LINE = Obj({**LINE_FIELDS, "invoice_item": Str()})
UPDATE_LINE = Obj({**LINE_FIELDS, "id": Str()}, required=frozenset({"id"}))
REMOVE_LINE = Obj({"id": Str(), "behavior": Enum(("delete", "unassign"))}, required=frozenset({"id", "behavior"}))


def _exclusive(path: tuple[str | int, ...], names: list[str]) -> InvalidInput:
    return InvalidInput(
        [
            FieldError(
                path,
                ErrorCode.PARAMETERS_EXCLUSIVE,
                f"You may only specify one of these parameters: {', '.join(names)}.",
            )
        ]
    )


def to_changes(p: dict[str, Any], path: tuple[str | int, ...] = ()) -> LineChanges:
    """Translate one checked line (or invoice item) into the core's LineChanges."""
    given = {k for k in p if k not in ("id", "invoice_item", "expand")}
    price = None
    price_path: tuple[str, ...] = ("pricing", "price")
    pricing = p.get("pricing")
    if isinstance(pricing, dict) and pricing.get("price") is not None:
        price = pricing["price"]
    if p.get("price") is not None:
        if price is not None:
            raise _exclusive((*path, "price"), ["pricing[price]", "price"])
        price, price_path = p["price"], ("price",)
        given.discard("price")
        given.add("pricing")
    quantity, quantity_field = p.get("quantity"), "quantity"
    if p.get("quantity_decimal") is not None:
        if quantity is not None:
            raise _exclusive((*path, "quantity_decimal"), ["quantity", "quantity_decimal"])
        quantity, quantity_field = p["quantity_decimal"], "quantity_decimal"
    discounts = p.get("discounts")
    if isinstance(discounts, list):
        discounts = tuple(DiscountRef(d.get("coupon"), d.get("discount"), d.get("promotion_code")) for d in discounts)
    tax_rates = p.get("tax_rates")
    if isinstance(tax_rates, list):
        tax_rates = tuple(tax_rates)
    period = p.get("period")
    return LineChanges(
        given=frozenset(given),
        amount=p.get("amount"),
        currency=p.get("currency"),
        description=p.get("description"),
        discountable=p.get("discountable"),
        discounts=discounts if discounts is None or isinstance(discounts, tuple | Clear) else None,
        metadata=p.get("metadata"),
        period=(period["start"], period["end"]) if period else None,
        price=price,
        price_path=price_path,
        price_data=_price_data(p.get("price_data")),
        quantity=Decimal(quantity) if quantity is not None else None,
        quantity_field=quantity_field,
        tax_rates=tax_rates if tax_rates is None or isinstance(tax_rates, tuple | Clear) else None,
    )


def _price_data(data: dict[str, Any] | None) -> PriceData | None:
    if data is None:
        return None
    given = frozenset(k for k in ("unit_amount", "unit_amount_decimal") if data.get(k) is not None)
    unit = data.get("unit_amount_decimal")
    if unit is None and data.get("unit_amount") is not None:
        unit = Decimal(data["unit_amount"])
    product_data = data.get("product_data")
    return PriceData(
        currency=data.get("currency"),
        product=data.get("product"),
        new_product=NewProduct(
            product_data["name"],
            description=product_data.get("description"),
            metadata=product_data.get("metadata") or {},
            unit_label=product_data.get("unit_label"),
        )
        if product_data
        else None,
        tax_behavior=data.get("tax_behavior"),
        unit_amount_decimal=unit,
        given=given,
    )


__all__ = ["ADD_LINE", "CLEAR", "LINE_FIELDS", "REMOVE_LINE", "UPDATE_LINE", "to_changes"]
