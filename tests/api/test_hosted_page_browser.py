"""The hosted invoice page in a real browser (headless Chromium): it shows the API's figures and its state.

Chromium prints the page to PDF as a customer's browser lays it out; its text must hold every line, every
total and the amount due. Without Chromium the test is skipped locally and fails under CI=true (like
PostgreSQL): scripts/ensure_chromium.sh installs Debian's package for the test suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

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
    return pdf_text(printed.read_bytes())


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
