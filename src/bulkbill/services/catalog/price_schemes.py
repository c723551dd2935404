"""A price's pricing definition (core.catalog.pricing.PriceScheme) to and from its JSON column.

The column holds what a plain per-unit price does not need: billing_scheme, tiers_mode, tiers,
transform_quantity, custom_unit_amount and currency_options; decimals are strings (exact).
NULL is a plain per-unit price at the row's unit_amount_decimal.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bulkbill.core.catalog.pricing import (
    BillingScheme,
    CurrencyPricing,
    CustomUnitAmount,
    PriceScheme,
    Rounding,
    Tier,
    TiersMode,
    Transform,
)
from bulkbill.storage.tables import Price


def _tier_json(t: Tier) -> dict[str, Any]:
    return {"up_to": t.up_to, "unit_amount": str(t.unit_amount), "flat_amount": str(t.flat_amount)}


def _custom_json(c: CustomUnitAmount | None) -> dict[str, Any] | None:
    return None if c is None else {"minimum": c.minimum, "maximum": c.maximum, "preset": c.preset}


def _pricing_json(p: CurrencyPricing) -> dict[str, Any]:
    return {
        "unit_amount": None if p.unit_amount is None else str(p.unit_amount),
        "tiers": [_tier_json(t) for t in p.tiers],
        "custom_unit_amount": _custom_json(p.custom),
    }


def scheme_json(scheme: PriceScheme) -> dict[str, Any] | None:
    """What the column stores (None for a plain per-unit price); the base unit amount stays in its own column."""
    if scheme.is_plain:
        return None
    transform = scheme.transform
    return {
        "billing_scheme": scheme.billing_scheme.value,
        "tiers_mode": scheme.tiers_mode.value if scheme.tiers_mode else None,
        "tiers": [_tier_json(t) for t in scheme.base.tiers],
        "custom_unit_amount": _custom_json(scheme.base.custom),
        "transform_quantity": None
        if transform is None
        else {"divide_by": transform.divide_by, "round": transform.round.value},
        "currency_options": {cur: _pricing_json(p) for cur, p in scheme.options.items()},
    }


def _tier(data: dict[str, Any]) -> Tier:
    return Tier(data["up_to"], Decimal(data["unit_amount"]), Decimal(data["flat_amount"]))


def _custom(data: dict[str, Any] | None) -> CustomUnitAmount | None:
    return None if data is None else CustomUnitAmount(data["minimum"], data["maximum"], data["preset"])


def _pricing(data: dict[str, Any]) -> CurrencyPricing:
    unit = data.get("unit_amount")
    return CurrencyPricing(
        None if unit is None else Decimal(unit),
        tuple(_tier(t) for t in data.get("tiers") or ()),
        _custom(data.get("custom_unit_amount")),
    )


def scheme_of(price: Price) -> PriceScheme:
    """The price's full pricing definition, read from its row."""
    return scheme_from(price.currency, price.unit_amount_decimal, price.pricing)


def scheme_from(currency: str, unit_amount_decimal: Decimal | None, data: dict[str, Any] | None) -> PriceScheme:
    """A price's full pricing definition from its currency, base unit amount and pricing column (a plain row's)."""
    if not data:
        return PriceScheme(currency, base=CurrencyPricing(unit_amount_decimal))
    transform = data.get("transform_quantity")
    return PriceScheme(
        currency=currency,
        billing_scheme=BillingScheme(data["billing_scheme"]),
        base=CurrencyPricing(
            unit_amount_decimal,
            tuple(_tier(t) for t in data.get("tiers") or ()),
            _custom(data.get("custom_unit_amount")),
        ),
        tiers_mode=TiersMode(data["tiers_mode"]) if data.get("tiers_mode") else None,
        transform=None if transform is None else Transform(transform["divide_by"], Rounding(transform["round"])),
        options={cur: _pricing(p) for cur, p in (data.get("currency_options") or {}).items()},
    )
