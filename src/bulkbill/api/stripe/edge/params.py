"""Declarative checks for Stripe request parameters.

Stripe's wire rules are specific enough that a general validator would fight them: an empty
string means "unset", every error names the parameter in bracket form (lines[2][quantity]),
unknown parameters are refused with their full name. Each spec below validates a decoded form
value and returns plain Python values (Decimal for decimals, CLEAR for an accepted "").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bulkbill.api.stripe.edge.errors import stripe_param
from bulkbill.api.stripe.edge.no_money import money_refusal
from bulkbill.core.errors import ErrorCode, InputCollector, InvalidInput, Path, dotted
from bulkbill.core.metadata import CLEAR
from bulkbill.core.money import MAX_AMOUNT, MAX_QUANTITY, MAX_UNIT_PRICE_PLACES, parse_decimal, parse_integer, places
from bulkbill.core.time_range import MAX_ANCHOR_TIMESTAMP, MAX_TIMESTAMP, MIN_TIMESTAMP, iso_time, timestamp_problem

# Stripe's counts (max_redemptions, interval_count) are 32-bit integers.
MAX_INT32 = 2**31 - 1


class Spec:
    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        """What the spec accepts, as the JSON Schema of the decoded form value (for the OpenAPI document)."""
        raise NotImplementedError


def _scalar(value: Any, path: Path, errors: InputCollector) -> str | None:
    if isinstance(value, str):
        return value
    errors.add(path, ErrorCode.PARAMETER_INVALID_TYPE, f"Invalid value for {dotted(path)}: expected a single value.")
    return None


def _empty(path: Path, errors: InputCollector) -> None:
    name = dotted(path)
    errors.add(
        path,
        ErrorCode.PARAMETER_INVALID_EMPTY,
        f"You passed an empty string for '{name}'. We assume empty values are an attempt to unset a "
        f"parameter; however '{name}' cannot be unset. You should remove '{name}' from your request "
        "or supply a non-empty value.",
    )


@dataclass(frozen=True)
class Str(Spec):
    max_length: int = 5000

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "maxLength": self.max_length}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        text = _scalar(value, path, errors)
        if text is None:
            return None
        if text == "":
            _empty(path, errors)
        elif len(text) > self.max_length:
            errors.add(
                path,
                ErrorCode.PARAMETER_INVALID_STRING,
                f"Invalid {dotted(path)}: must be at most {self.max_length} characters",
            )
        return text


@dataclass(frozen=True)
class Int(Spec):
    """An integer within [minimum, maximum]: every integer parameter declares its bounds."""

    minimum: int
    maximum: int

    def json_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        text = _scalar(value, path, errors)
        if text is None:
            return None
        if text == "":
            _empty(path, errors)
            return None
        number = parse_integer(text)
        if number is None:
            errors.add(path, ErrorCode.PARAMETER_INVALID_INTEGER, f"Invalid integer: {text[:40]}")
            return None
        problem = self.range_problem(number)
        if problem is not None:
            errors.add(path, ErrorCode.PARAMETER_INVALID_INTEGER, f"Invalid {dotted(path)}: {problem}")
            return None
        return number

    def range_problem(self, number: int) -> str | None:
        if self.minimum <= number <= self.maximum:
            return None
        return f"must be between {self.minimum} and {self.maximum}"


@dataclass(frozen=True)
class Time(Int):
    """A Unix time in the one range of core.time_range; an anchor of later times takes its lower maximum."""

    minimum: int = MIN_TIMESTAMP
    maximum: int = MAX_TIMESTAMP

    def json_schema(self) -> dict[str, Any]:
        low, high = iso_time(self.minimum), iso_time(self.maximum)
        return {**super().json_schema(), "description": f"A Unix time (seconds), {low} to {high}."}

    def range_problem(self, number: int) -> str | None:
        return timestamp_problem(number, maximum=self.maximum)


# A time later ones are counted from (a test clock's frozen time, so a subscription's start).
ANCHOR_TIME = Time(maximum=MAX_ANCHOR_TIMESTAMP)


@dataclass(frozen=True)
class Dec(Spec):
    """A decimal string within [minimum, maximum] with at most `max_places` places: bounds are declared."""

    minimum: Decimal
    maximum: Decimal
    max_places: int = 12

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"}
        schema["description"] = (
            f"A decimal number from {self.minimum} to {self.maximum}, with at most {self.max_places} decimal places."
        )
        return schema

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        text = _scalar(value, path, errors)
        if text is None:
            return None
        if text == "":
            _empty(path, errors)
            return None
        number = parse_decimal(text, exponent=False)  # Stripe's decimal strings have no exponent
        if number is None:
            errors.add(path, ErrorCode.PARAMETER_INVALID_DECIMAL, f"Invalid decimal: {text[:40]}")
            return None
        if places(number) > self.max_places:
            errors.add(
                path,
                ErrorCode.PARAMETER_INVALID_DECIMAL,
                f"Invalid {dotted(path)}: at most {self.max_places} decimal places",
            )
        if not self.minimum <= number <= self.maximum:
            errors.add(
                path,
                ErrorCode.PARAMETER_INVALID_DECIMAL,
                f"Invalid {dotted(path)}: must be between {self.minimum} and {self.maximum}",
            )
        return number


@dataclass(frozen=True)
class Bool(Spec):
    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        text = _scalar(value, path, errors)
        if text in ("true", "false"):
            return text == "true"
        if text == "":
            _empty(path, errors)
        elif text is not None:
            errors.add(path, ErrorCode.PARAMETER_INVALID_BOOLEAN, f"Invalid boolean: {text[:40]}")
        return None


@dataclass(frozen=True)
class Enum(Spec):
    values: tuple[str, ...]

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.values)}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        text = _scalar(value, path, errors)
        if text is None:
            return None
        if text not in self.values:
            choices = ", ".join(self.values[:-1]) + f" or {self.values[-1]}" if len(self.values) > 1 else self.values[0]
            errors.add(path, ErrorCode.PARAMETER_INVALID_ENUM, f"Invalid {dotted(path)}: must be one of {choices}")
            return None
        return text


@dataclass(frozen=True)
class Currency(Spec):
    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": "^[A-Za-z]{3}$", "description": "Three-letter ISO currency code."}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        text = _scalar(value, path, errors)
        if text is None:
            return None
        if len(text) != 3 or not text.isascii() or not text.isalpha():
            errors.add(path, ErrorCode.PARAMETER_INVALID_CURRENCY, f"Invalid currency: {text[:40]}")
            return None
        return text.lower()


@dataclass(frozen=True)
class Metadata(Spec):
    """A string map; "" clears all of it, a key with "" deletes that key."""

    def json_schema(self) -> dict[str, Any]:
        return {
            "anyOf": [
                {"type": "object", "additionalProperties": {"type": "string"}},
                {"type": "string", "enum": [""]},
            ],
            "description": 'Keys with string values; "" for a key deletes it, "" for the whole clears it.',
        }

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        if value == "":
            return CLEAR
        if not isinstance(value, Mapping):
            errors.add(path, ErrorCode.PARAMETER_INVALID_TYPE, f"Invalid {dotted(path)}: expected a hash of strings.")
            return None
        out: dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(item, str):
                errors.add((*path, key), ErrorCode.PARAMETER_INVALID_TYPE, "Metadata values must be strings.")
            else:
                out[str(key)] = item
        return out


@dataclass(frozen=True)
class StrMap(Spec):
    """A hash of strings (a meter event's payload): every value a string."""

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": {"type": "string"}}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        if not isinstance(value, Mapping):
            errors.add(path, ErrorCode.PARAMETER_INVALID_TYPE, f"Invalid {dotted(path)}: expected a hash of strings.")
            return None
        out: dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(item, str):
                errors.add(
                    (*path, str(key)), ErrorCode.PARAMETER_INVALID_TYPE, f"{dotted((*path, key))} must be a string."
                )
            else:
                out[str(key)] = item
        return out


@dataclass(frozen=True)
class Unsettable(Spec):
    """The inner spec, or "" to unset the field (returned as CLEAR)."""

    inner: Spec

    def json_schema(self) -> dict[str, Any]:
        return {"anyOf": [self.inner.json_schema(), {"type": "string", "enum": [""]}]}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        if value == "":
            return CLEAR
        return self.inner.check(value, path, errors)


@dataclass(frozen=True)
class OrWord(Spec):
    """One of a few words (returned as is: "now", "max_period_end", ...), or what the inner spec accepts."""

    words: tuple[str, ...]
    inner: Spec

    def json_schema(self) -> dict[str, Any]:
        return {"anyOf": [self.inner.json_schema(), {"type": "string", "enum": list(self.words)}]}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        if isinstance(value, str) and value in self.words:
            return value
        return self.inner.check(value, path, errors)


@dataclass(frozen=True)
class Array(Spec):
    item: Spec
    max_items: int = 1000

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": self.item.json_schema(), "maxItems": self.max_items}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        if isinstance(value, Mapping) and all(str(k).isascii() and str(k).isdigit() for k in value):
            value = [value[k] for k in sorted(value, key=int)]
        if not isinstance(value, list):
            errors.add(path, ErrorCode.PARAMETER_INVALID_TYPE, f"Invalid array: {dotted(path)}")
            return None
        if len(value) > self.max_items:
            errors.add(
                path, ErrorCode.PARAMETER_INVALID_ARRAY, f"Invalid {dotted(path)}: at most {self.max_items} items"
            )
            return None
        return [self.item.check(v, (*path, i), errors) for i, v in enumerate(value)]


@dataclass(frozen=True)
class Obj(Spec):
    fields: Mapping[str, Spec]
    required: frozenset[str] = field(default_factory=frozenset)

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {name: spec.json_schema() for name, spec in self.fields.items()},
            "additionalProperties": False,
        }
        if self.required:
            schema["required"] = sorted(self.required)
        return schema

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        if not isinstance(value, Mapping):
            errors.add(path, ErrorCode.PARAMETER_INVALID_TYPE, f"Invalid object: {dotted(path)}")
            return None
        out: dict[str, Any] = {}
        for key, item in value.items():
            spec = self.fields.get(str(key))
            if spec is None:
                refusal = money_refusal((*path, str(key)))  # bulkbill moves no money: one 400 on every route
                if refusal is not None:
                    errors.add(refusal.path, refusal.code, refusal.message)
                    continue
                name = dotted((*path, str(key))) if path else str(key)
                errors.add((*path, str(key)), ErrorCode.PARAMETER_UNKNOWN, f"Received unknown parameter: {name}")
                continue
            out[str(key)] = spec.check(item, (*path, str(key)), errors)
        for name in sorted(self.required - set(value)):
            errors.missing((*path, name))
        return out


def parse(spec: Obj, params: Mapping[str, Any]) -> dict[str, Any]:
    """Check decoded params against a spec; raise one InvalidInput listing every problem."""
    errors = InputCollector()
    result = spec.check(params, (), errors)
    refused = [e for e in errors.errors if e.code is ErrorCode.PARAMETER_UNSUPPORTED]
    if refused:  # refused by design (no_money.py): that is the answer, whatever else is wrong with the call
        raise InvalidInput(refused)
    errors.raise_if_any()
    assert isinstance(result, dict)
    return result


# Amounts and quantities (core.money's limits): one spec each, used by every route that reads them.
AMOUNT = Int(-MAX_AMOUNT, MAX_AMOUNT)
AMOUNT_DECIMAL = Dec(Decimal(-MAX_AMOUNT), Decimal(MAX_AMOUNT), MAX_UNIT_PRICE_PLACES)
QUANTITY = Int(0, MAX_QUANTITY)
QUANTITY_DECIMAL = Dec(Decimal(0), Decimal(MAX_QUANTITY), MAX_UNIT_PRICE_PLACES)
PERCENTAGE = Dec(Decimal(0), Decimal(100))

# Parameters every endpoint accepts.
EXPAND = Array(Str(), max_items=50)
LIST_PARAMS = {
    "limit": Int(1, 100),
    "starting_after": Str(),
    "ending_before": Str(),
    "expand": EXPAND,
}


@dataclass(frozen=True)
class Off(Bool):
    """A boolean that may only be false: the feature it switches on is refused by design."""

    feature: str

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean", "enum": [False], "description": f"false only: {self.feature} is not supported."}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        on = Bool().check(value, path, errors)
        if on:
            errors.add(
                path,
                ErrorCode.PARAMETER_UNSUPPORTED,
                f"{self.feature} is not supported (`{stripe_param(path)}=true`): bulkbill moves no money; "
                "taxes come from the tax rates you attach.",
            )
        return on


@dataclass(frozen=True)
class Zero(Int):
    """An amount that may only be 0: a larger one moves money, refused by design (no_money.py says why)."""

    minimum: int = 0
    maximum: int = MAX_AMOUNT
    what: str = "refunds"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "integer", "enum": [0], "description": f"0 only: bulkbill makes no {self.what}."}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        amount = super().check(value, path, errors)
        if amount:
            refusal = money_refusal(path)
            if refusal is not None:
                errors.add(refusal.path, refusal.code, refusal.message)
        return amount


# Stripe Tax computes and remits tax on payments: accepted switched off only (no_money.py says why).
AUTOMATIC_TAX = Obj({"enabled": Off("Stripe Tax")}, required=frozenset({"enabled"}))


@dataclass(frozen=True)
class Refused(Spec):
    """A parameter bulkbill knows and refuses by design, whatever its value: the message says why."""

    reason: str
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})

    def json_schema(self) -> dict[str, Any]:
        return {**self.schema, "description": f"Refused: {self.reason}"}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        errors.add(path, ErrorCode.PARAMETER_UNSUPPORTED, f"`{stripe_param(path)}` is not supported: {self.reason}")
        return None
