"""Zuora JSON bodies checked with pydantic; every problem becomes a FieldError with Zuora's path."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput
from bulkbill.core.money import MAX_AMOUNT, MAX_QUANTITY, parse_decimal, parse_integer
from bulkbill.core.time_range import date_problem

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

    def sent(self) -> dict[str, Any]:
        """The declared fields the client sent, by wire name (nulls included)."""
        names = wire_names(type(self))
        values = self.__dict__
        return {names[n]: values[n] for n in self.model_fields_set if n in names}

    def custom_fields(self) -> dict[str, Any]:
        """Custom fields sent flat on this object (Decision 6)."""
        extra = self.model_extra or {}
        return {k: v for k, v in extra.items() if is_custom_field(k)}

    def unknown_fields(self) -> list[str]:
        extra = self.model_extra or {}
        return [k for k in extra if not is_custom_field(k)]


@functools.cache
def wire_names(model: type[BaseModel]) -> dict[str, str]:
    """Each declared field's wire name, read once per model (bulk calls ask for thousands of entries)."""
    return {name: info.alias or name for name, info in model.model_fields.items()}


def is_custom_field(name: str) -> bool:
    return name.endswith("__c") or name in NS_FIELDS


# Amounts, prices and quantities never come near this; a number past it (1E+999999999) would make
# int() or quantize() run for minutes, so it is refused as it is read.
MAX_EXPONENT = 60


def bounded_decimal(text: str) -> Decimal:
    """A JSON number or numeric string as an exact Decimal: ASCII digits only, refused when absurdly large."""
    value = parse_decimal(text)
    if value is None:
        raise ValueError(f"not a number: {text[:40]}")
    if not -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        raise ValueError(f"number out of range: {text[:40]}")
    return value


def decimal_input(value: Any) -> Any:
    """The value of a decimal field: a number or a numeric string (never a float's binary digits)."""
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


def integer_input(value: Any) -> Any:
    """The value of an integer field: a JSON integer or a string of ASCII digits."""
    # A JSON integer (12, or 12.0: JSON does not tell them apart), or a string of ASCII digits ("12").
    if isinstance(value, bool):
        raise ValueError("expected an integer")
    if isinstance(value, str):
        number = parse_integer(value)
        if number is None:
            raise ValueError(f"not an integer: {value[:40]}")
        return number
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


# A Zuora date is YYYY-MM-DD (the SDK's own pattern also lets months and days have one digit);
# date.fromisoformat would also take 20240711 and 2024-W28-4, which no Zuora client sends.
_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
# Date-times (chargeDate) are YYYY-MM-DD, optionally followed by HH:MM:SS.
_DATE_TIME = re.compile(r"([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})(?: ([0-9]{1,2}):([0-9]{2}):([0-9]{2}))?")


def parse_date(text: str) -> dt.date:
    """A Zuora date (YYYY-MM-DD, a day that exists, in core.time_range); ValueError saying why not."""
    match = _DATE.fullmatch(text)
    if match is None:
        raise ValueError(f"Invalid date {text[:40]!r}: use YYYY-MM-DD.")
    year, month, day = (int(part) for part in match.groups())
    try:
        return _in_range(dt.date(year, month, day))
    except ValueError as exc:
        raise ValueError(f"Invalid date {text[:40]!r}: {exc}.") from None


def _in_range(value: dt.date) -> dt.date:
    problem = date_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _date(value: Any) -> Any:
    if isinstance(value, str):
        return parse_date(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return _in_range(value)
    raise ValueError("Invalid date: use a string YYYY-MM-DD.")


def _date_time_text(value: Any) -> Any:
    """A date-time as Zuora writes it (YYYY-MM-DD HH:MM:SS or a date), checked, and kept as sent."""
    if not isinstance(value, str):
        raise ValueError("Invalid date-time: use a string YYYY-MM-DD HH:MM:SS.")
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        raise ValueError(f"Invalid date-time {value[:40]!r}: use YYYY-MM-DD HH:MM:SS.")
    parse_date(match.group(1))
    if match.group(2) is not None:
        hour, minute, second = (int(match.group(i)) for i in (2, 3, 4))
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError(f"Invalid date-time {value[:40]!r}: no such time of day.")
    return value


# Every number field declares its bounds: Field(...) before the validator, so that the bounds are
# checked on the parsed value and the OpenAPI document shows them as minimum/maximum.
# Amounts and prices in major units: at most MAX_AMOUNT in absolute value whatever the currency (the
# core then refuses more than MAX_AMOUNT minor units once the currency's exponent is applied).
ZAmount = Annotated[Decimal, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT), BeforeValidator(decimal_input)]
ZQuantity = Annotated[Decimal, Field(ge=0, le=MAX_QUANTITY), BeforeValidator(decimal_input)]
# Counts and other integers with no limit of their own are 32-bit.
MAX_INT32 = 2**31 - 1
ZCount = Annotated[int, Field(ge=0, le=MAX_INT32), BeforeValidator(integer_input)]
ZDate = Annotated[dt.date, BeforeValidator(_date)]
ZDateTimeText = Annotated[str, BeforeValidator(_date_time_text)]


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


# Page numbers past this would only page past the end (and an SQL OFFSET must fit a BIGINT).
MAX_PAGE = 10**9
# How the OpenAPI document declares a query integer read by query_integer.
PAGE_NUMBER: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}


def query_integer(raw: str | None, name: str, *, default: int, maximum: int = MAX_PAGE) -> int:
    """A positive query-string integer in ASCII digits (page, pageSize), at most `maximum`; `default` when absent."""
    if raw is None:
        return default
    number = parse_integer(raw)
    if number is None or not 1 <= number <= maximum:
        raise InvalidInput(
            [FieldError((name,), ErrorCode.INVALID_VALUE, f"must be an integer between 1 and {maximum}")]
        )
    return number


# Zuora's text custom fields hold at most 255 characters (as its __NS connector fields do).
MAX_CUSTOM_FIELD_LENGTH = 255


def custom_value_problem(value: Any) -> str | None:
    """Why a custom field's value is refused, or None: a string of ≤ 255 characters, a number, a boolean or null."""
    if isinstance(value, dict | list):
        return "A custom field takes a single value."
    if isinstance(value, str) and len(value) > MAX_CUSTOM_FIELD_LENGTH:
        return f"must be at most {MAX_CUSTOM_FIELD_LENGTH} characters"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**MAX_EXPONENT:
        return "number out of range"
    return None
