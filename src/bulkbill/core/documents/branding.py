"""The rules for a tenant's document branding: accent colours, logos and the default locale."""

from __future__ import annotations

import re

from bulkbill.core.documents.formatting import known_locale

MAX_LOGO_BYTES = 512 * 1024
MAX_TEXT = 2000
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


class BrandingRefused(ValueError):
    """A branding value the documents cannot show (the message says why)."""


def check_accent(value: str) -> str:
    """An accent colour is #rgb or #rrggbb; it is kept as lower-case #rrggbb."""
    if not _HEX.match(value):
        raise BrandingRefused(f"accent must be a colour as #rgb or #rrggbb, not {value!r}")
    digits = value[1:].lower()
    return "#" + ("".join(c * 2 for c in digits) if len(digits) == 3 else digits)


def logo_type(data: bytes) -> str:
    """A logo is a PNG, JPEG or SVG image of at most 512 KiB, recognized by its content (not its name)."""
    if not data:
        raise BrandingRefused("the logo file is empty")
    if len(data) > MAX_LOGO_BYTES:
        raise BrandingRefused(f"the logo is {len(data)} bytes; at most {MAX_LOGO_BYTES} are allowed")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    head = data[:1024].lstrip().lower()
    if (head.startswith(b"<?xml") or head.startswith(b"<svg")) and b"<svg" in head:
        return "image/svg+xml"
    raise BrandingRefused("the logo must be a PNG, JPEG or SVG image")


def check_text(value: str, what: str) -> str:
    """Business name, address and footer: plain text of bounded length (shown verbatim, never as markup)."""
    if len(value) > MAX_TEXT:
        raise BrandingRefused(f"{what} is {len(value)} characters long; at most {MAX_TEXT} are allowed")
    return value


def check_locale(value: str) -> str:
    """A tenant's default locale is a tag babel knows (`fr`, `fr-CA`, `ja_JP`); kept as babel writes it."""
    locale = known_locale(value)
    if locale is None:
        raise BrandingRefused(f"locale must be a language tag such as fr, fr-CA or ja, not {value!r}")
    return locale
