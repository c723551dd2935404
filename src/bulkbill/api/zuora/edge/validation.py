"""Zuora JSON bodies checked with pydantic; every problem becomes a FieldError with Zuora's path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput

M = TypeVar("M", bound=BaseModel)

NS_FIELDS = frozenset(
    {
        "IntegrationId__NS",
        "IntegrationStatus__NS",
        "SyncDate__NS",
        "Origin__NS",
        "Transaction__NS",
        "Class__NS",
        "CustomerType__NS",
        "Department__NS",
        "Location__NS",
        "Subsidiary__NS",
        "SynctoNetSuite__NS",
    }
)


class ZuoraModel(BaseModel):
    """Request models: camelCase names as on the wire; custom fields (__c, __NS) kept as extras."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, str_strip_whitespace=False)

    def custom_fields(self) -> dict[str, Any]:
        """Custom fields sent flat on this object (Decision 6)."""
        extra = self.model_extra or {}
        return {k: v for k, v in extra.items() if is_custom_field(k)}

    def unknown_fields(self) -> list[str]:
        extra = self.model_extra or {}
        return [k for k in extra if not is_custom_field(k)]


def is_custom_field(name: str) -> bool:
    return name.endswith("__c") or name in NS_FIELDS


# Amounts, prices and quantities never come near these; a number past them (1E+999999999) would
# make int() or quantize() run for minutes, so it is refused as it is read.
MAX_NUMBER_TEXT = 100
MAX_EXPONENT = 60


def bounded_decimal(text: str) -> Decimal:
    """A JSON number or numeric string as an exact Decimal, refused when absurdly long or large."""
    try:
        value = Decimal(text.strip())
    except ArithmeticError:
        raise ValueError(f"not a number: {text[:40]}") from None
    if len(text) > MAX_NUMBER_TEXT or (value.is_finite() and not -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT):
        raise ValueError(f"number out of range: {text[:40]}")
    return value


def _decimal(value: Any) -> Any:
    # The SDK sends Decimal as a JSON string ("10.50"); plain clients send numbers. Never floats.
    if isinstance(value, bool):
        raise ValueError("expected a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        return bounded_decimal(value)
    if isinstance(value, int) and abs(value) >= 10**MAX_EXPONENT:
        raise ValueError("number out of range")
    return value


def _date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10]) if len(value.strip()) >= 8 else value
        except ValueError:
            parts = value.split("-")
            if len(parts) == 3 and all(p.isascii() and p.isdigit() for p in parts):
                try:
                    return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
                except OverflowError:  # pydantic reports ValueErrors only
                    raise ValueError(f"date out of range: {value[:40]}") from None
            raise
    return value


ZDecimal = Annotated[Decimal, BeforeValidator(_decimal)]
ZDate = Annotated[dt.date, BeforeValidator(_date)]


def _path(loc: tuple[int | str, ...]) -> tuple[str | int, ...]:
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))


def parse_model(model: type[M], data: Any, path: tuple[str | int, ...] = ()) -> M:
    """Validate `data` against `model`; refuse with one InvalidInput listing every problem."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise InvalidInput([FieldError(path, ErrorCode.INVALID_VALUE, "The request body must be a JSON object.")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors(include_url=False):
            where = (*path, *_path(err["loc"]))
            kind = err["type"]
            if kind == "missing":
                errors.append(FieldError(where, ErrorCode.PARAMETER_MISSING, "is required"))
            elif kind == "extra_forbidden":
                errors.append(FieldError(where, ErrorCode.PARAMETER_UNKNOWN, "is not a known field"))
            else:
                errors.append(FieldError(where, ErrorCode.INVALID_VALUE, str(err["msg"])))
        raise InvalidInput(errors) from None
