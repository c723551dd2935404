"""Rows built once, written either way: as ORM objects, or in bulk (storage.bulk.insert_rows).

Services build a new row as a mapping of the model's attribute names to Python values, with one
factory per table (services.invoicing.invoice_rows, services.invoicing.item_rows). `new_object` makes the ORM object
of such a row; a RowLayout encodes it as the stored values a bulk insert writes, in column order:
exact decimals as text (format(value, "f"), what DecimalText writes on SQLite and what NUMERIC
parses on PostgreSQL) and JSON as its text (json.dumps, what SQLAlchemy's JSON type writes).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import JSON, Boolean, Text, cast, inspect

from bulkbill.storage import json_codec
from bulkbill.storage.types import DecimalText

T = TypeVar("T")


class JsonText(str):
    """A JSON value already written as text (json.dumps's output, made by hand on a hot path): stored as it is."""

    __slots__ = ()


def json_text(value: Any) -> str | None:
    """A JSON column's stored text (None stays SQL NULL)."""
    if value is None:
        return None
    kind = value.__class__
    if kind is JsonText:
        return str(value)
    if not value and (kind is dict or kind is list or isinstance(value, list | tuple | dict)):
        return "{}" if isinstance(value, dict) else "[]"  # the common case, without the encoder
    return json.dumps(value)


def decimal_text(value: Decimal | None) -> str | None:
    """An exact decimal as stored: its plain notation, never an exponent."""
    return None if value is None else format(value, "f")


def stored_json(value: str | None) -> Any:
    """A JSON column's value from its stored text (read with cast(…, Text)); None for SQL NULL."""
    # Most rows carry "[]", "{}" or null here: skip the JSON parser for them.
    if value is None or value == "null":
        return None
    if value == "[]":
        return []
    return {} if value == "{}" else json_codec.loads(value)


def stored_decimal(value: Any) -> Decimal | None:
    """An exact decimal as the driver returns it (text on SQLite, a Decimal on PostgreSQL), as DecimalText reads it."""
    if value is None:
        return None
    return value if value.__class__ is Decimal else Decimal(value)


def as_read(column: Any) -> Any:
    """A column as a driver-level SELECT reads it (storage.bulk.driver_rows): JSON as its stored text."""
    return cast(column, Text) if isinstance(column.type, JSON) else column


def driver_decoder(column: Any) -> Callable[[Any], Any] | None:
    """How the driver's value of a column selected with as_read becomes what the ORM would read (None: as is)."""
    column_type = column.type
    if isinstance(column_type, JSON):
        return stored_json
    if isinstance(column_type, DecimalText):
        return stored_decimal
    if isinstance(column_type, Boolean):
        return _stored_bool
    return None


def _stored_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


Decoders = tuple[tuple[int, Callable[[Any], Any]], ...]


def row_decoders(columns: Iterable[Any]) -> Decoders:
    """Where a driver-level row of `columns` (selected with as_read) needs decoding, and how (driver_decoder)."""
    return tuple((i, decode) for i, column in enumerate(columns) if (decode := driver_decoder(column)) is not None)


def decoded(row: Iterable[Any], decoders: Decoders) -> list[Any]:
    """A driver-level row's values as the ORM would read them: each place row_decoders names, decoded."""
    values = list(row)
    for i, decode in decoders:
        values[i] = decode(values[i])
    return values


def _encoder(column_type: Any) -> Callable[[Any], Any] | None:
    if isinstance(column_type, JSON):
        return json_text
    if isinstance(column_type, DecimalText):
        return decimal_text
    return None


def stored_as(column: Any) -> Callable[[Any], Any] | None:
    """How a bulk write stores a column's value as the ORM would write it (None: as it is).

    Unlike a new row's encoder, None in a JSON column is JSON null unless the type says
    none_as_null, as the ORM writes it.
    """
    type_ = column.type
    if isinstance(type_, JSON):
        null = None if type_.none_as_null else "null"
        return lambda value: null if value is None else json_text(value)
    return _encoder(type_)


class RowLayout:
    """One table's rows in bulk: its columns in table order, and the attribute each is read from."""

    def __init__(self, model: Any) -> None:
        table = model.__table__
        mapper = inspect(model)
        self.table: str = table.name
        self.columns: tuple[str, ...] = tuple(c.name for c in table.columns)
        self.keys: tuple[str, ...] = tuple(mapper.get_property_by_column(c).key for c in table.columns)
        encoders = [_encoder(c.type) for c in table.columns]
        # Every value read in one C call; only the JSON and decimal columns then pass through an encoder.
        get = operator.itemgetter(*self.keys)
        self._values: Callable[[Mapping[str, Any]], tuple[Any, ...]] = (
            get if len(self.keys) > 1 else lambda row: (get(row),)
        )
        self._encoders = tuple((i, encode) for i, encode in enumerate(encoders) if encode is not None)

    def index(self, key: str) -> int:
        """Where an attribute's value sits in an encoded row."""
        return self.keys.index(key)

    def encode(self, row: Mapping[str, Any]) -> list[Any]:
        """The stored values of a row that names every attribute (a KeyError names one it lacks)."""
        values = list(self._values(row))
        for i, encode in self._encoders:
            values[i] = encode(values[i])
        return values


def new_object(model: Callable[..., T], row: Mapping[str, Any]) -> T:
    """The ORM object of a row. None values are left unset: they are NULL either way, except that
    SQLAlchemy would store a JSON column set to None as JSON null, where a bulk row stores NULL."""
    return model(**{key: value for key, value in row.items() if value is not None})


__all__ = [
    "Decoders",
    "JsonText",
    "RowLayout",
    "as_read",
    "decimal_text",
    "decoded",
    "driver_decoder",
    "json_text",
    "new_object",
    "row_decoders",
    "stored_as",
    "stored_decimal",
    "stored_json",
]
