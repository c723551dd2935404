"""Reading rendered documents in tests: a PDF's text (pypdf), a public URL's path."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pypdf


def pdf_text(body: bytes) -> str:
    """Every page's extracted text, joined; whitespace runs collapse to one space (a wrapped line is one line)."""
    reader = pypdf.PdfReader(io.BytesIO(body))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def path_of(url: str) -> str:
    return urlsplit(url).path
