"""Column types: exact decimals on both databases, never float."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class DecimalText(TypeDecorator[Decimal]):
    """TEXT on SQLite (which has no decimal type: Numeric round-trips through float there), NUMERIC on PostgreSQL."""

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(38, 12, asdecimal=True))
        return dialect.type_descriptor(String(64))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"DecimalText takes a Decimal, got {type(value).__name__}")
        return value if dialect.name == "postgresql" else format(value, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        # Exact as stored (PostgreSQL pads to the column's scale); renderers drop trailing zeros.
        return value if isinstance(value, Decimal) else Decimal(value)


# Ids compare byte-wise on both databases so time-ordered ids sort in creation order
# (PostgreSQL's default collation would otherwise fold case).
IdString = String(64).with_variant(String(64, collation="C"), "postgresql")
