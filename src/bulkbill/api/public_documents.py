"""Public document pages: /documents/{token} (the hosted HTML page) and /documents/{token}/pdf.

No API key: the 192-bit token in the URL is the credential, as Stripe's hosted invoice URLs. A token
names exactly one finalized document of one tenant; anything else (a draft, an unknown or malformed
token) answers the same plain 404, so a URL reveals nothing about other documents or tenants.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlalchemy.exc import IntegrityError

from bulkbill.api.public_links import DOCUMENTS_PATH, pdf_url, remember_public_base
from bulkbill.api.state import AppState
from bulkbill.core.errors import NotFound
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.rendering.build import build_document
from bulkbill.services.rendering.files import current_file, invoice_for_token
from bulkbill.services.rendering.html import render_html

router = APIRouter()
T = TypeVar("T")
# The token travels in the URL: keep it out of Referer headers, search engines and shared caches.
_PRIVATE = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
_TOKEN_MAX = 64
# What a token is made of (secrets.token_urlsafe): anything else is not one, whatever the database says.
_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{1,{_TOKEN_MAX}}}")


def _in_transaction(request: Request, work: Callable[[UnitOfWork], T]) -> T:
    """Run once; a concurrent first render of the same version loses the race and reads the winner's."""
    state: AppState = request.app.state.bulkbill
    for attempt in range(2):
        with state.sessions() as session:
            try:
                result = work(UnitOfWork(session, state.settings))
                session.commit()
                return result
            except IntegrityError:
                session.rollback()
                if attempt:
                    raise
    raise AssertionError("unreachable")


def _not_found() -> Response:
    return PlainTextResponse("Not found", status_code=404, headers=_PRIVATE)


@router.get(DOCUMENTS_PATH + "/{token}", response_class=HTMLResponse, include_in_schema=False)
def hosted_page(token: str, request: Request) -> Response:
    if not _TOKEN.fullmatch(token):
        return _not_found()
    state: AppState = request.app.state.bulkbill
    remember_public_base(request, state.settings)

    def page(uow: UnitOfWork) -> str:
        invoice = invoice_for_token(uow, token)
        return render_html(build_document(uow, invoice), pdf_url=pdf_url(token))

    try:
        return HTMLResponse(_in_transaction(request, page), headers=_PRIVATE)
    except NotFound:
        return _not_found()


@router.get(DOCUMENTS_PATH + "/{token}/pdf", include_in_schema=False)
def hosted_pdf(token: str, request: Request) -> Response:
    if not _TOKEN.fullmatch(token):
        return _not_found()

    def pdf(uow: UnitOfWork) -> tuple[bytes, str]:
        invoice = invoice_for_token(uow, token)
        row = current_file(uow, invoice)
        return row.body, invoice.number or invoice.id

    try:
        body, number = _in_transaction(request, pdf)
    except NotFound:
        return _not_found()
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in number)
    headers = {**_PRIVATE, "Content-Disposition": f'inline; filename="{safe}.pdf"'}
    return Response(body, media_type="application/pdf", headers=headers)
