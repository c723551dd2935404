"""The parameters that describe a price, shared by /v1/prices and by products' default_price_data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import bulkbill.services.catalog.prices as service
from bulkbill.api.stripe.edge.params import (
    AMOUNT,
    AMOUNT_DECIMAL,
    MAX_INT32,
    Array,
    Bool,
    Currency,
    Enum,
    Int,
    Metadata,
    Obj,
    Spec,
    Str,
)
from bulkbill.core.catalog.pricing import MAX_TIERS, CustomUnitAmount, Rounding, Tier, Transform
from bulkbill.core.errors import ErrorCode, InputCollector, Path, dotted
from bulkbill.core.money import MAX_AMOUNT
from bulkbill.services.catalog.products import ProductFields


@dataclass(frozen=True)
class UpTo(Int):
    """A tier's up_to: a positive integer, or "inf" for the last tier (returned as None)."""

    minimum: int = 1
    maximum: int = MAX_AMOUNT

    def json_schema(self) -> dict[str, Any]:
        return {"anyOf": [super().json_schema(), {"type": "string", "enum": ["inf"]}]}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        if value == "inf":
            return None
        return super().check(value, path, errors)


@dataclass(frozen=True)
class CurrencyMap(Spec):
    """A hash keyed by three-letter currency codes (currency_options)."""

    inner: Spec

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": self.inner.json_schema()}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        if not isinstance(value, Mapping):
            errors.add(path, ErrorCode.PARAMETER_INVALID_TYPE, f"Invalid object: {dotted(path)}")
            return None
        out: dict[str, Any] = {}
        for key, item in value.items():
            currency = Currency().check(str(key), (*path, str(key)), errors)
            if currency is not None:
                out[currency] = self.inner.check(item, (*path, str(key)), errors)
        return out


TIER = Obj(
    {
        "up_to": UpTo(),
        "unit_amount": AMOUNT,
        "unit_amount_decimal": AMOUNT_DECIMAL,
        "flat_amount": AMOUNT,
        "flat_amount_decimal": AMOUNT_DECIMAL,
    },
    required=frozenset({"up_to"}),
)
TIERS = Array(TIER, max_items=MAX_TIERS)
CUSTOM = Obj(
    {"enabled": Bool(), "minimum": Int(0, MAX_AMOUNT), "maximum": Int(0, MAX_AMOUNT), "preset": Int(0, MAX_AMOUNT)},
    required=frozenset({"enabled"}),
)
CURRENCY_OPTION = Obj(
    {
        "custom_unit_amount": CUSTOM,
        "tax_behavior": Enum(service.TAX_BEHAVIORS),
        "tiers": TIERS,
        "unit_amount": AMOUNT,
        "unit_amount_decimal": AMOUNT_DECIMAL,
    }
)

RECURRING = Obj(
    {
        "interval": Enum(service.INTERVALS),
        "interval_count": Int(-MAX_INT32, MAX_INT32),
        "usage_type": Enum(("licensed", "metered")),
        "meter": Str(),
    },
    required=frozenset({"interval"}),
)


# A product's default_price_data: the price parameters that need no product (products.create gives it).
PRICE_DATA = Obj(
    {
        "currency": Currency(),
        "currency_options": CurrencyMap(CURRENCY_OPTION),
        "custom_unit_amount": CUSTOM,
        "metadata": Metadata(),
        "recurring": RECURRING,
        "tax_behavior": Enum(service.TAX_BEHAVIORS),
        "unit_amount": AMOUNT,
        "unit_amount_decimal": AMOUNT_DECIMAL,
    },
    required=frozenset({"currency"}),
)


def tiers_of(raw: list[dict[str, Any]] | None, path: Path, errors: InputCollector) -> tuple[Tier, ...] | None:
    """Wire tiers to core tiers: each amount given once, as an integer or as a decimal string."""
    if raw is None:
        return None
    tiers = []
    for i, t in enumerate(raw):
        amounts = []
        for name in ("unit_amount", "flat_amount"):
            whole, exact = t.get(name), t.get(f"{name}_decimal")
            if whole is not None and exact is not None:
                errors.add(
                    (*path, i, f"{name}_decimal"),
                    ErrorCode.PARAMETERS_EXCLUSIVE,
                    f"You may only specify one of these parameters: {name}, {name}_decimal.",
                )
            amounts.append(Decimal(whole) if whole is not None else exact if exact is not None else Decimal(0))
        tiers.append(Tier(t.get("up_to"), amounts[0], amounts[1]))
    return tuple(tiers)


def custom_of(raw: dict[str, Any] | None, path: Path, errors: InputCollector) -> CustomUnitAmount | None:
    if raw is None or raw.get("enabled") is not True:
        if raw is not None and any(raw.get(k) is not None for k in ("minimum", "maximum", "preset")):
            errors.add(
                (*path, "enabled"),
                ErrorCode.PARAMETER_INVALID,
                "custom_unit_amount[enabled] must be true to set minimum, maximum or preset.",
            )
        return None
    return CustomUnitAmount(raw.get("minimum"), raw.get("maximum"), raw.get("preset"))


def options_of(raw: dict[str, Any] | None, errors: InputCollector) -> dict[str, service.CurrencyOption] | None:
    if raw is None:
        return None
    return {
        cur: service.CurrencyOption(
            unit_amount=o.get("unit_amount"),
            unit_amount_decimal=o.get("unit_amount_decimal"),
            tiers=tiers_of(o.get("tiers"), ("currency_options", cur, "tiers"), errors),
            custom=custom_of(o.get("custom_unit_amount"), ("currency_options", cur, "custom_unit_amount"), errors),
        )
        for cur, o in raw.items()
    }


def price_fields(p: dict[str, Any]) -> service.PriceFields:
    data = p.get("product_data")
    recurring = p.get("recurring")
    transform = p.get("transform_quantity")
    errors = InputCollector()
    tiers = tiers_of(p.get("tiers"), ("tiers",), errors)
    custom = custom_of(p.get("custom_unit_amount"), ("custom_unit_amount",), errors)
    options = options_of(p.get("currency_options"), errors)
    errors.raise_if_any()
    return service.PriceFields(
        currency=p.get("currency"),
        product=p.get("product"),
        product_data=ProductFields(
            name=data.get("name"),
            active=data.get("active"),
            unit_label=data.get("unit_label"),
            metadata=data.get("metadata"),
        )
        if data is not None
        else None,
        unit_amount=p.get("unit_amount"),
        unit_amount_decimal=p.get("unit_amount_decimal"),
        recurring=service.Recurring(
            recurring["interval"], recurring.get("interval_count"), recurring.get("usage_type"), recurring.get("meter")
        )
        if recurring
        else None,
        tax_behavior=p.get("tax_behavior"),
        active=p.get("active"),
        nickname=p.get("nickname"),
        lookup_key=p.get("lookup_key"),
        transfer_lookup_key=bool(p.get("transfer_lookup_key")),
        metadata=p.get("metadata"),
        billing_scheme=p.get("billing_scheme"),
        tiers_mode=p.get("tiers_mode"),
        tiers=tiers,
        transform=Transform(transform["divide_by"], Rounding(transform["round"])) if transform else None,
        custom=custom,
        currency_options=options,
    )
