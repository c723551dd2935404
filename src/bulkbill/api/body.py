"""Request bodies read under the size cap (settings.max_body_bytes), shared by both dialects.

A declared Content-Length over the cap is refused before anything is read; otherwise the body is
read chunk by chunk and refused as soon as it passes the cap, so a client cannot make the server
hold more than the cap in memory. The refusal is an InvalidInput with code `body_too_large`, which
each dialect answers with HTTP 413 in its own envelope.
"""

from __future__ import annotations

from starlette.requests import Request

from bulkbill.core.errors import FieldError, InvalidInput

BODY_TOO_LARGE = "body_too_large"


def too_large(limit: int, what: str = "request body") -> InvalidInput:
    return InvalidInput([FieldError((), BODY_TOO_LARGE, f"The {what} is too large: at most {limit} bytes.")])


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)
