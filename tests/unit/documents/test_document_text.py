"""A document's text: the locale a customer gets, labels in its language, the figures in order."""

from __future__ import annotations

import dataclasses
import io
from types import SimpleNamespace

import pypdf
import pytest
import typst

from bulkbill.core.documents.labels import ENGLISH, LABELS, labels_for, language_of
from bulkbill.core.documents.model import Branding, DocumentKind, DocumentState, content_hash
from bulkbill.core.documents.presentation import present
from bulkbill.devtools.sample_documents import invoice
from bulkbill.services.rendering.build import customer_locale, format_address
from bulkbill.services.rendering.html import render_html
from bulkbill.services.rendering.pdf import cjk_font_dirs, render_pdf
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
        # A Zuora account: its Locale__c custom field (Zuora accounts carry no language of their own).
        (SimpleNamespace(details=None, profile={"customFields": {"Locale__c": "ja-JP"}}), "ja_JP"),
        (SimpleNamespace(details=None, profile={"customFields": {"Locale__c": "zz"}}), "en"),
    ],
)
def test_the_customer_s_first_known_locale_is_used_else_english(customer: object, locale: str) -> None:
    assert customer_locale(customer) == locale  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("customer", "locale"),
    [
        (None, "nl"),
        (SimpleNamespace(details={"preferred_locales": ["it"]}), "it"),
        (SimpleNamespace(details=None, profile={"customFields": {"Locale__c": "pt-BR"}}), "pt_BR"),
    ],
)
def test_the_tenant_s_default_locale_is_used_when_the_customer_names_none(customer: object, locale: str) -> None:
    assert customer_locale(customer, "nl") == locale  # type: ignore[arg-type]


@pytest.mark.parametrize("language", sorted(LABELS))
def test_every_language_has_every_label(language: str) -> None:
    assert set(LABELS[language]) == set(LABELS[ENGLISH])
    assert all(text for key, text in LABELS[language].items() if key != "open")


@pytest.mark.parametrize(
    ("locale", "language"), [("fr_CA", "fr"), ("pt_BR", "pt"), ("ja_JP", "ja"), ("nl", "nl"), ("sv_SE", "en")]
)
def test_labels_fall_back_to_the_language_then_to_english(locale: str, language: str) -> None:
    assert language_of(locale) == language
    assert labels_for(locale) is LABELS[language]


@pytest.mark.parametrize(
    ("locale", "currency", "words", "money"),
    [
        ("fr", "eur", ("Facture", "Montant dû", "Sous-total"), "\xa0€"),
        ("fr_CA", "cad", ("Facture", "Montant dû"), "\xa0$"),
        ("es", "eur", ("Factura", "Importe adeudado"), "\xa0€"),
        ("it", "eur", ("Fattura", "Importo dovuto"), "\xa0€"),
        ("nl", "eur", ("Factuur", "Te betalen"), "€\xa0"),
        ("pt", "eur", ("Fatura", "Valor devido"), "€\xa0"),
        ("ja", "jpy", ("請求書", "ご請求金額", "小計"), "￥"),
    ],
)
def test_each_language_s_pdf_reads_in_it_with_its_money(
    locale: str, currency: str, words: tuple[str, ...], money: str
) -> None:
    document = invoice(3, currency=currency, locale=locale)
    shown = present(document)
    assert money in shown["amount_due"]
    if locale.startswith("ja") and not cjk_font_dirs():
        pytest.skip("no CJK font: scripts/ensure_document_fonts.sh installs Debian's fonts-ipaexfont-gothic")
    text = pdf_text(render_pdf(document))
    for word in words:
        assert word in text
    assert " ".join(shown["amount_due"].split()) in text
    for line in shown["lines"]:
        assert " ".join(line["amount"].split()) in text


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
