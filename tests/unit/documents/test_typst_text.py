"""User text reaches typst only as string literals: hostile strings come out of the PDF exactly as written."""

from __future__ import annotations

from decimal import Decimal

import pytest
import typst

from bulkbill.core.documents.typst_text import typst_string, typst_value
from tests.helpers.documents import pdf_text

HOSTILE = [
    "$x^2$ costs $5",
    '#panic("boom")',
    "#let a = 1",
    "[bracketed] ]unbalanced[",
    "back\\slash \\ and \\\\ two",
    "*strong* _emph_ `raw`",
    "@label <label> = heading",
    'quote " inside',
    "// not a comment",
    "/* nor this */",
    "tab\there",
    "line one\nline two",
]


def compiled_text(literal: str) -> str:
    return pdf_text(typst.compile(f"#({literal})".encode(), format="pdf"))


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_string_is_set_verbatim(text: str) -> None:
    extracted = compiled_text(typst_string(text))
    # Every character as written (whitespace aside: a tab or a line break is set as space or break).
    assert "".join(extracted.split()) == "".join(text.split())


def test_control_characters_are_escaped_not_passed_through() -> None:
    literal = typst_string("a\x00b\x1bc\x7f")
    assert "\x00" not in literal and "\x1b" not in literal and "\x7f" not in literal
    assert typst.compile(f"#{literal}".encode(), format="pdf")


def test_values_become_typst_literals() -> None:
    source = typst_value({"n": 3, "d": Decimal("1.50"), "ok": True, "none": None, "one": ["$"], "empty": {}})
    assert source == '("n": 3, "d": "1.50", "ok": true, "none": none, "one": ("$",), "empty": (:))'
    shown = compiled_text(f"{source}.one.at(0) + {source}.d")
    assert shown == "$1.50"


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(TypeError):
        typst_value(1.5)
