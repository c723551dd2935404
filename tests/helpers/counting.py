"""Counting what a call costs the database: statements sent, and invoice item ORM objects (lines too) made or loaded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from bulkbill.storage.tables import InvoiceItem


@contextmanager
def counted(client: TestClient) -> Iterator[dict[str, int]]:
    """The SQL statements the server runs meanwhile, and the item ORM objects (lines too) it makes or loads."""
    engine = client.app.state.bulkbill.engine  # type: ignore[attr-defined]
    counts = {"statements": 0, "objects": 0}

    def statement(*args: Any) -> None:
        counts["statements"] += 1

    def made(*args: Any) -> None:
        counts["objects"] += 1

    hooks = [(engine, "before_cursor_execute", statement)]
    hooks += [(InvoiceItem, name, made) for name in ("init", "load")]
    for target, name, fn in hooks:
        event.listen(target, name, fn)
    try:
        yield counts
    finally:
        for target, name, fn in hooks:
            event.remove(target, name, fn)
