"""Writing many rows at once, inside the session's transaction: COPY on PostgreSQL, executemany on SQLite.

Updating many rows by key likewise: one UPDATE … FROM unnest(arrays) on PostgreSQL (one statement and
one round trip, whatever the count), an executemany on SQLite (in-process, no round trips to save).

Rows are tuples in the order of `columns`, holding values as stored: exact decimals as text
(format(value, "f"), what DecimalText writes on SQLite and what NUMERIC parses on PostgreSQL),
JSON as its text (json.dumps, what SQLAlchemy's JSON type writes), booleans, ints, strings, None.
No ORM object is made, so the session's identity map does not grow with the rows.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import ClauseElement, Dialect, Engine, Table, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

from bulkbill.storage.rows import stored_as


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
    if connection.dialect.name == "postgresql":
        _run(driver, statement, lambda: _copy(raw, statement, rows))
    else:
        _run(driver, statement, lambda: raw.executemany(statement, rows))


def update_rows(
    session: Session, table: Table, keys: Sequence[str], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Set `columns` of the rows of `table` whose `keys` match, each row holding its key values then its new ones."""
    if not rows:
        return
    connection = session.connection()
    raw: Any = connection.connection.driver_connection
    driver: Any = connection.dialect.loaded_dbapi
    if connection.dialect.name == "postgresql":
        names = [*keys, *columns]
        arrays = ", ".join(f"CAST(%s AS {_array_of(table.c[n].type, connection.dialect)})" for n in names)
        sets = ", ".join(f'"{n}" = given."{n}"' for n in columns)
        matches = " AND ".join(
            f'{table.name}."{n}" = given."{n}"{_collated(table.c[n].type, connection.dialect)}' for n in keys
        )
        aliases = ", ".join(f'"{n}"' for n in names)
        statement = f"UPDATE {table.name} SET {sets} FROM unnest({arrays}) AS given({aliases}) WHERE {matches}"
        arguments = [list(column) for column in zip(*rows, strict=True)]
        _run(driver, statement, lambda: raw.execute(statement, arguments))
    else:
        sets = ", ".join(f'"{n}" = ?' for n in columns)
        matches = " AND ".join(f'"{n}" = ?' for n in keys)
        statement = f"UPDATE {table.name} SET {sets} WHERE {matches}"
        width = len(keys)
        _run(driver, statement, lambda: raw.executemany(statement, [(*r[width:], *r[:width]) for r in rows]))


def write_changes(session: Session, model: Any, tenant_id: str, changes: Mapping[str, Mapping[str, Any]]) -> None:
    """Write each row's changed attributes (row id → attribute → value, as the ORM holds them) with
    update_rows: one statement per set of attribute names, whatever the number of rows."""
    table, stored = _attributes(model)
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row_id, changed in changes.items():
        if changed:
            names = tuple(sorted(changed))
            groups.setdefault(names, []).append((tenant_id, row_id, *(changed[n] for n in names)))
    for names, rows in groups.items():
        # Only the columns stored otherwise than held (JSON, decimals) are encoded: most changes need none.
        encoders = [(i, encode) for i, n in enumerate(names, start=2) if (encode := stored[n][1]) is not None]
        encoded: list[Sequence[Any]] = list(rows)
        if encoders:
            for k, row in enumerate(rows):
                values = list(row)
                for i, encode in encoders:
                    values[i] = encode(values[i])
                encoded[k] = values
        update_rows(session, table, ("tenant_id", "id"), [stored[n][0] for n in names], encoded)


# Per model: its table, and attribute name → (column name, how its value is stored).
_ATTRIBUTES: dict[Any, tuple[Table, dict[str, tuple[str, Callable[[Any], Any] | None]]]] = {}


def _attributes(model: Any) -> tuple[Table, dict[str, tuple[str, Callable[[Any], Any] | None]]]:
    held = _ATTRIBUTES.get(model)
    if held is None:
        props = inspect(model).column_attrs
        held = _ATTRIBUTES[model] = (
            cast(Table, model.__table__),
            {p.key: (p.columns[0].name, stored_as(p.columns[0])) for p in props},
        )
    return held


def driver_rows(session: Session, statement: ClauseElement, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """A prebuilt SELECT's rows as the driver returns them, in the session's transaction: no result
    processing, so only for columns the driver already returns as wanted (text, integers; SQLite
    returns booleans as 0 / 1; storage.rows.driver_decoder says how to read the others). Compiled once per
    dialect; `params` name its bound parameters (an expanding one takes a list)."""
    if session.autoflush:
        session.flush()  # what the session's own execute would do first: the rows include pending changes
    connection = session.connection()
    return _read(connection.connection.driver_connection, connection.dialect, statement, params)


def pooled_driver_rows(engine: Engine, statement: ClauseElement, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """driver_rows on a connection of the engine's pool, outside any transaction: the SELECT is its own
    (on SQLite a read, without the write lock or a BEGIN and COMMIT around it; on PostgreSQL in autocommit,
    without the BEGIN the driver would send first and the ROLLBACK the pool sends when it is returned). For
    one statement whose rows need no snapshot shared with another."""
    pooled = engine.raw_connection()
    raw: Any = pooled.driver_connection
    try:
        if engine.dialect.name != "postgresql":
            return _read(raw, engine.dialect, statement, params)
        raw.autocommit = True
        try:
            return _read(raw, engine.dialect, statement, params)
        finally:
            if not raw.closed:
                raw.autocommit = False
    finally:
        pooled.close()  # back to the pool


def _read(raw: Any, dialect: Dialect, statement: ClauseElement, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    held = _COMPILED.get((id(statement), dialect.name))
    if held is None:  # the statement is held with its compiled form: its id stays its own
        held = _COMPILED[(id(statement), dialect.name)] = (
            statement,
            cast(SQLCompiler, statement.compile(dialect=dialect)),
        )
    compiled = held[1]
    text = compiled.string
    processors: Mapping[str, Any] = compiled._bind_processors
    if compiled.post_compile_params:  # an expanding IN: its markers are rendered for this call's list
        expanded = compiled.construct_expanded_state(dict(params))
        text, values, names = expanded.statement, expanded.parameters, expanded.positiontup
        processors = expanded.processors
    else:
        values, names = compiled.construct_params(dict(params)), compiled.positiontup
    if processors:  # values the statement carries in a stored form (a JSON path on SQLite: '$."key"')
        values = {k: v if (p := processors.get(k)) is None or v is None else p(v) for k, v in values.items()}
    arguments: Any = values if names is None else [values[name] for name in names]
    driver: Any = dialect.loaded_dbapi
    rows: list[tuple[Any, ...]] = []

    def read() -> None:
        cursor = raw.cursor()
        try:
            cursor.execute(text, arguments)
            rows.extend(cursor.fetchall())
        finally:
            cursor.close()

    _run(driver, text, read)
    return rows


_COMPILED: dict[tuple[int, str], tuple[ClauseElement, SQLCompiler]] = {}


def _array_of(type_: TypeEngine[Any], dialect: Dialect) -> str:
    """The PostgreSQL array type of a column's values (a collation names no array: it goes on the comparison)."""
    impl = type_.dialect_impl(dialect)
    if getattr(impl, "collation", None):
        impl = copy.copy(impl)
        impl.collation = None  # type: ignore[attr-defined]
    return f"{impl.compile(dialect=dialect)}[]"


def _collated(type_: TypeEngine[Any], dialect: Dialect) -> str:
    collation = getattr(type_.dialect_impl(dialect), "collation", None)
    return f' COLLATE "{collation}"' if collation else ""


def _copy(raw: Any, statement: str, rows: Iterable[Sequence[Any]]) -> None:
    with raw.cursor() as cursor, cursor.copy(statement) as writer:
        for row in rows:
            writer.write_row(row)


def _run(driver: Any, statement: str, write: Callable[[], object]) -> None:
    try:
        write()
    except driver.Error as exc:
        # The driver's own error, as SQLAlchemy would have raised it (IntegrityError for a duplicate
        # billed source, OperationalError for a lock timeout), so callers handle it like any other.
        raise DBAPIError.instance(statement, None, exc, driver.Error, hide_parameters=True) from exc


__all__ = ["driver_rows", "insert_rows", "pooled_driver_rows", "update_rows", "write_changes"]
