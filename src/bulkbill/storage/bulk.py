"""Writing many rows at once, inside the session's transaction: COPY on PostgreSQL, executemany on SQLite.

Rows are tuples in the order of `columns`, holding values as stored: exact decimals as text
(format(value, "f"), what DecimalText writes on SQLite and what NUMERIC parses on PostgreSQL),
JSON as its text (json.dumps, what SQLAlchemy's JSON type writes), booleans, ints, strings, None.
No ORM object is made, so the session's identity map does not grow with the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert `rows` into the table named `table` in the session's current transaction (one COPY or one executemany)."""
    connection = session.connection()
    raw: Any = connection.connection.driver_connection
    driver: Any = connection.dialect.loaded_dbapi
    names = ", ".join(f'"{name}"' for name in columns)
    if connection.dialect.name == "postgresql":
        statement = f"COPY {table} ({names}) FROM STDIN"
    else:
        marks = ", ".join("?" for _ in columns)
        statement = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    try:
        if connection.dialect.name == "postgresql":
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            raw.executemany(statement, rows)
    except driver.Error as exc:
        # The driver's own error, as SQLAlchemy would have raised it (IntegrityError for a duplicate
        # billed source, OperationalError for a lock timeout), so callers handle it like any other.
        raise DBAPIError.instance(statement, None, exc, driver.Error, hide_parameters=True) from exc


__all__ = ["insert_rows"]
