"""What the database refuses, as the core errors both dialects already answer in their envelopes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from bulkbill.core.errors import Conflict, ErrorCode, FieldError, InvalidInput


@contextmanager
def database_refusals() -> Iterator[None]:
    """A unique-key clash is a concurrent request (Conflict); a value the column cannot hold is bad input.

    OperationalError (a busy or locked database) passes through: each dialect answers it as a retryable 409.
    """
    try:
        yield
    except IntegrityError:
        raise Conflict("The request conflicted with a concurrent request; please retry.") from None
    except DBAPIError as exc:
        if isinstance(exc, OperationalError):
            raise
        raise InvalidInput(
            [FieldError((), ErrorCode.INVALID_VALUE, "A value in the request is out of range.")]
        ) from exc
