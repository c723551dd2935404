"""Request bodies read under the size cap (settings.max_body_bytes), and the headers' size cap
(settings.max_header_bytes), shared by both dialects.

A declared Content-Length over the cap is refused before anything is read; otherwise the body is
read chunk by chunk and refused as soon as it passes the cap, so a client cannot make the server
hold more than the cap in memory. The refusal is an InvalidInput with code `body_too_large`, which
each dialect answers with HTTP 413 in its own envelope; headers over their cap are
`headers_too_large`, answered with HTTP 431.
"""

from __future__ import annotations

from starlette.requests import Request

from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput


def check_headers(request: Request, limit: int) -> None:
    size = sum(len(name) + len(value) + 4 for name, value in request.scope.get("headers", ()))
    if size > limit:
        message = f"The request headers are too large: at most {limit} bytes in all."
        raise InvalidInput([FieldError((), ErrorCode.HEADERS_TOO_LARGE, message)])


def too_large(limit: int, what: str = "request body") -> InvalidInput:
    return InvalidInput([FieldError((), ErrorCode.BODY_TOO_LARGE, f"The {what} is too large: at most {limit} bytes.")])


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
