"""What the database refuses, as the core errors both dialects already answer in their envelopes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from bulkbill.core.errors import Conflict, ErrorCode, FieldError, InvalidInput, Unavailable

log = logging.getLogger("bulkbill")
# PostgreSQL's answers to contention: serialization_failure, deadlock_detected, lock_not_available.
_BUSY_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
# SQLite's: SQLITE_BUSY ("database is locked") and SQLITE_LOCKED ("database table is locked").
_BUSY_SQLITE = ("SQLITE_BUSY", "SQLITE_LOCKED")


@contextmanager
def database_refusals() -> Iterator[None]:
    """A unique-key clash is a concurrent request (Conflict); a value the column cannot hold is bad input.

    A database that is busy (a lock held too long, a serialization failure, a deadlock) is a Conflict
    too, which a retry can cure at once; one that cannot answer at all (connection refused or
    closed, failing I/O) is Unavailable (503): nothing was done, retry later.
    """
    try:
        yield
    except IntegrityError:
        raise Conflict("The request conflicted with a concurrent request; please retry.") from None
    except OperationalError as exc:
        if is_busy(exc):
            log.warning("database busy: %s", exc.orig)
            raise Conflict("The request conflicted with another request; please retry.") from exc
        log.error("database unavailable: %s", exc.orig)
        raise Unavailable("The service is unavailable; the request was not applied. Please retry later.") from exc
    except DBAPIError as exc:
        raise InvalidInput(
            [FieldError((), ErrorCode.INVALID_VALUE, "A value in the request is out of range.")]
        ) from exc


def is_busy(exc: OperationalError) -> bool:
    """Whether the database refused for contention (retry now) rather than being unreachable or failing."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _BUSY_SQLSTATES
    name = getattr(exc.orig, "sqlite_errorname", None) or ""
    return name.startswith(_BUSY_SQLITE) or str(exc.orig).startswith(("database is locked", "database table is locked"))
