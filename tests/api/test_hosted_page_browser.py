"""The hosted invoice page in a real browser (headless Chromium): it shows the API's figures and its state.

Chromium prints the page to PDF as a customer's browser lays it out; its text must hold every line, every
total and the amount due. Without Chromium the test is skipped locally and fails under CI=true (like
PostgreSQL): scripts/ensure_chromium.sh installs Debian's package for the test suite.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest
from fastapi.testclient import TestClient

from bulkbill.core.documents.formatting import Formatter
from tests.helpers import StripeClient
from tests.helpers.documents import finalized_invoice, path_of, pdf_text
from tests.helpers.stripe import all_lines


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required in CI (scripts/ensure_chromium.sh installs it)")
        pytest.skip("Chromium is not installed")
    return found


def printed_by_chromium(html: str, tmp_path: Path) -> str:
    return pdf_text(chromium_pdf(html, tmp_path))


def chromium_pdf(html: str, tmp_path: Path) -> bytes:
    page, printed = tmp_path / "page.html", tmp_path / "page.pdf"
    page.write_text(html, encoding="utf-8")
    subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--print-to-pdf={printed}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return printed.read_bytes()


def test_the_hosted_page_shows_the_api_s_figures_in_chromium(
    stripe: StripeClient, client: TestClient, tmp_path: Path
) -> None:
    invoice = finalized_invoice(stripe)
    stripe.ok("POST", f"/v1/invoices/{invoice['id']}/pay", {"paid_out_of_band": True})
    html = client.get(path_of(invoice["hosted_invoice_url"])).text
    text = printed_by_chromium(html, tmp_path)
    money = Formatter("usd").money
    for line in all_lines(stripe, invoice["id"]):
        assert line["description"] in text
        assert money(line["amount"]) in text
    for figure in (invoice["subtotal"], invoice["total"], invoice["amount_due"]):
        assert money(figure) in text
    assert invoice["number"] in text
    assert "PAID" in text.upper()


def test_a_french_letter_size_invoice_prints_in_french_on_letter_in_chromium(
    stripe: StripeClient, client: TestClient, tmp_path: Path
) -> None:
    customer = stripe.ok("POST", "/v1/customers", {"name": "Élise", "preferred_locales": ["fr-FR"]})
    invoice = stripe.ok(
        "POST",
        "/v1/invoices",
        {"customer": customer["id"], "currency": "eur", "rendering": {"pdf": {"page_size": "letter"}}},
    )
    stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 123456, "description": "x"}]})
    invoice = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/finalize")
    printed = chromium_pdf(client.get(path_of(invoice["hosted_invoice_url"])).text, tmp_path)
    box = pypdf.PdfReader(io.BytesIO(printed)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # US Letter, in points
    text = pdf_text(printed)
    assert "Facture" in text and "Montant dû" in text
    assert " ".join(Formatter("eur", "fr_FR").money(invoice["amount_due"]).split()) in text
