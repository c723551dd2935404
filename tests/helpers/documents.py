"""Reading rendered documents in tests: a PDF's text (pypdf), a public URL's path."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlsplit

import pypdf

from tests.helpers import StripeClient
from tests.helpers.stripe import coupon, setup_invoice, tax_rate


def pdf_text(body: bytes) -> str:
    """Every page's extracted text, joined; whitespace runs collapse to one space (a wrapped line is one line)."""
    reader = pypdf.PdfReader(io.BytesIO(body))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def path_of(url: str) -> str:
    return urlsplit(url).path


def finalized_invoice(stripe: StripeClient) -> dict[str, Any]:
    """A finalized USD invoice: three lines (one with hostile text), a 10 % coupon and a 20 % VAT on one line."""
    ten = coupon(stripe, percent_off="10", name="WELCOME")
    invoice = setup_invoice(stripe, **{"discounts[0][coupon]": ten})
    vat = tax_rate(stripe)
    lines = [
        {"amount": 7500, "description": "Setup fee"},
        {"amount": 1234, "description": "Support $5 #hours [extra] *bold* _x_ `y` @z <w>"},
        {"amount": 99, "description": "Storage", "tax_rates": [vat]},
    ]
    stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": lines})
    return stripe.ok("POST", f"/v1/invoices/{invoice['id']}/finalize")
