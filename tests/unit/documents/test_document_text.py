"""A document's text: the locale a customer gets, labels in its language, the figures in order."""

from __future__ import annotations

import dataclasses
import io
from types import SimpleNamespace

import pypdf
import pytest
import typst

from bulkbill.core.documents.model import Branding, DocumentKind, DocumentState, content_hash
from bulkbill.core.documents.presentation import present
from bulkbill.devtools.sample_documents import invoice
from bulkbill.services.rendering.build import customer_locale, format_address
from bulkbill.services.rendering.html import render_html
from bulkbill.services.rendering.pdf import render_pdf
from tests.helpers.documents import pdf_text


@pytest.mark.parametrize(
    ("customer", "locale"),
    [
        (None, "en"),
        (SimpleNamespace(details=None), "en"),
        (SimpleNamespace(details={"preferred_locales": None}), "en"),
        (SimpleNamespace(details={"preferred_locales": "de"}), "en"),  # not a list: ignored
        (SimpleNamespace(details={"preferred_locales": ["de-DE", "en"]}), "de_DE"),
        (SimpleNamespace(details={"preferred_locales": ["zz", "fr-CA"]}), "fr_CA"),
    ],
)
def test_the_customer_s_first_known_locale_is_used_else_english(customer: object, locale: str) -> None:
    assert customer_locale(customer) == locale  # type: ignore[arg-type]


def test_a_german_euro_invoice_reads_in_german_with_german_numbers() -> None:
    document = invoice(3, currency="eur", locale="de")
    text = pdf_text(render_pdf(document))
    assert "Rechnung" in text and "Fälliger Betrag" in text
    shown = present(document)
    assert shown["amount_due"].endswith("\xa0€") and "," in shown["amount_due"]
    assert " ".join(shown["amount_due"].split()) in text


def test_a_jpy_credit_memo_has_no_minor_unit_and_no_due_date() -> None:
    document = invoice(2, currency="jpy", minor=1, kind=DocumentKind.CREDIT_MEMO, number="CM1")
    shown = present(document)
    assert shown["title"] == "Credit memo"
    assert shown["amount_due"].startswith("¥") and "." not in shown["amount_due"]
    assert "Due date" not in [f["label"] for f in shown["facts"]]


def test_totals_read_due_then_paid_then_remaining() -> None:
    rows = [r["label"] for r in present(invoice(2, state=DocumentState.PAID))["totals"]]
    assert rows[-3:] == ["Amount due", "Amount paid", "Amount remaining"]


def test_the_content_hash_changes_with_what_the_document_shows() -> None:
    assert content_hash(invoice(3)) == content_hash(invoice(3))
    assert content_hash(invoice(3)) != content_hash(invoice(3, state=DocumentState.PAID))


def test_addresses_of_both_dialects_become_lines() -> None:
    stripe = {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}
    zuora = {"address1": "Hauptstr. 1", "zipCode": "10115", "city": "Berlin", "country": "Germany"}
    assert format_address(stripe) == "1 Main St\n12345 Springfield\nUS"
    assert format_address(zuora) == "Hauptstr. 1\n10115 Berlin\nGermany"
    assert format_address(None) is None and format_address({}) is None


def test_a_logo_is_drawn_on_the_pdf_and_embedded_in_the_page() -> None:
    png = typst.compile(b"#set page(width: 2cm, height: 1cm)\n#rect(fill: red)", format="png", ppi=30)
    document = dataclasses.replace(invoice(2), branding=Branding(logo=png, logo_type="image/png", accent="#00aa77"))
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(document)))
    assert reader.pages[0].images, "the logo is an image on the first page"
    assert 'src="data:image/png;base64,' in render_html(document, pdf_url=None)
