"""A document as a PDF, set by typst (the `typst` package bundles the compiler: no system dependency).

One compiler is kept per process with the bundled fonts only, so a render costs milliseconds and looks
the same on every machine. Logos are written once, named by their hash, under the compiler's root.

typst's bundled fonts have no Japanese (or other CJK) glyphs: a Japanese document's words fall back to
IPAex Gothic (Debian's `fonts-ipaexfont-gothic`, 3 MB) or Noto Sans CJK (`fonts-noto-cjk`), read from
their Debian directories only (still no other system font). Without either, Japanese labels print empty.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from importlib.resources import files
from pathlib import Path
from typing import Any

import typst

from bulkbill.core.documents.model import Document
from bulkbill.core.documents.presentation import present
from bulkbill.core.documents.typst_text import typst_value

_TEMPLATE = files("bulkbill.services.rendering").joinpath("templates/document.typ").read_text(encoding="utf-8")
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/svg+xml": "svg"}
# Where Debian puts the CJK fonts the template falls back to (document.typ names them).
CJK_FONT_DIRS = ("/usr/share/fonts/opentype/ipaexfont-gothic", "/usr/share/fonts/opentype/noto")


def cjk_font_dirs() -> list[str]:
    """The CJK font directories this machine has."""
    return [d for d in CJK_FONT_DIRS if Path(d).is_dir()]


class _Typst:
    """The process's typst compiler, its root directory (for logos) and a lock (it is not re-entrant)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bulkbill-typst-"))
        self.compiler = typst.Compiler(root=str(self.root), ignore_system_fonts=True, font_paths=cjk_font_dirs())
        self.lock = threading.Lock()

    def logo_path(self, logo: bytes, content_type: str | None) -> str:
        name = f"{hashlib.sha256(logo).hexdigest()}.{_EXTENSIONS.get(content_type or '', 'png')}"
        path = self.root / name
        if not path.exists():
            path.write_bytes(logo)
        return "/" + name

    def compile(self, source: str, **options: Any) -> Any:
        with self.lock:
            return self.compiler.compile(input=source.encode(), **options)


_typst: _Typst | None = None
_init = threading.Lock()


def _engine() -> _Typst:
    global _typst
    with _init:
        if _typst is None:
            _typst = _Typst()
        return _typst


def typst_source(document: Document) -> str:
    """The complete typst source of a document: its data as literals, then the fixed template."""
    engine = _engine()
    logo = None
    if document.branding.logo:
        logo = engine.logo_path(document.branding.logo, document.branding.logo_type)
    return f"#let d = {typst_value(present(document))}\n#let logo = {typst_value(logo)}\n{_TEMPLATE}"


def render_pdf(document: Document) -> bytes:
    """The document's PDF."""
    pdf = _engine().compile(typst_source(document), format="pdf")
    assert isinstance(pdf, bytes)
    return pdf


def render_png(document: Document, *, ppi: float = 110) -> list[bytes]:
    """The document's pages as PNG images (for the README's pictures and for looking at a layout)."""
    result = _engine().compile(typst_source(document), format="png", ppi=ppi)
    return list(result) if isinstance(result, list) else [result]


def logo_renders(logo: bytes, content_type: str) -> bool:
    """Whether typst can draw this logo (a file that only looks like a PNG must not break every document)."""
    engine = _engine()
    source = f"#image({typst_value(engine.logo_path(logo, content_type))}, width: 1cm)"
    try:
        engine.compile(source, format="pdf")
    except typst.TypstError:
        return False
    return True
