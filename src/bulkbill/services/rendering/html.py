"""A document as the hosted HTML page customers open (Jinja2, autoescaped: user text is never markup)."""

from __future__ import annotations

import base64

from jinja2 import Environment, PackageLoader, select_autoescape

from bulkbill.core.documents.model import Document
from bulkbill.core.documents.presentation import present

_env = Environment(
    loader=PackageLoader("bulkbill.services.rendering", "templates"),
    autoescape=select_autoescape(("html", "j2")),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(document: Document, *, pdf_url: str | None) -> str:
    """The hosted page: the same figures as the PDF, and a link to it."""
    logo_url = None
    if document.branding.logo and document.branding.logo_type:
        # A data: URL keeps the page one self-contained response (no second public route for logos).
        logo_url = f"data:{document.branding.logo_type};base64,{base64.b64encode(document.branding.logo).decode()}"
    return _env.get_template("document.html.j2").render(d=present(document), pdf_url=pdf_url, logo_url=logo_url)
