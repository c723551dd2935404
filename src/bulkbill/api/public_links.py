"""The public URLs of documents (hosted page, PDF): absolute, from BULKBILL_PUBLIC_URL or the request's host."""

from __future__ import annotations

from contextvars import ContextVar

from fastapi import Request

from bulkbill.config import Settings

_base: ContextVar[str] = ContextVar("bulkbill_public_base", default="")
DOCUMENTS_PATH = "/documents"


def remember_public_base(request: Request, settings: Settings) -> None:
    """Note where this request's links point: the configured public URL, else the host it was sent to."""
    _base.set(settings.public_url.rstrip("/") or f"{request.url.scheme}://{request.url.netloc}")


def hosted_page_url(token: str) -> str:
    return f"{_base.get()}{DOCUMENTS_PATH}/{token}"


def pdf_url(token: str) -> str:
    return f"{_base.get()}{DOCUMENTS_PATH}/{token}/pdf"
