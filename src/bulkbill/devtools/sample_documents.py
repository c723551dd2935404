"""Sample documents: the README's pictures and the renderer's benchmark draw the same ones.

`python -m bulkbill.devtools.sample_documents docs/images` writes PNG pages of a 3-line USD invoice
with a tax and a discount, a 250-line EUR invoice in German, a JPY credit memo, a void invoice, a JPY
invoice in Japanese and a CAD invoice in Canadian French on US Letter.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from bulkbill.core.documents.display import DEFAULT_PAPER, Paper
from bulkbill.core.documents.model import (
    Adjustment,
    Branding,
    Document,
    DocumentKind,
    DocumentLine,
    DocumentState,
    Party,
)
from bulkbill.core.money import line_amount

ISSUED = 1_783_036_800  # 2026-07-03
MONTH = 30 * 86_400
ISSUER = Party("Northwind Cloud GmbH", "Friedrichstraße 12\n10117 Berlin\nGermany", None, "DE 812 345 678")
CUSTOMER = Party("Contoso Ltd.", "1 Harbour Way\nDublin D02 X285\nIreland", "billing@contoso.example")
FOOTER = "Northwind Cloud GmbH · IBAN DE89 3704 0044 0532 0130 00 · Questions? billing@northwind.example"
_PRODUCTS = [
    ("Compute instance c5.large", "0.0850"),
    ("Block storage, GB-month", "0.1000"),
    ("Managed PostgreSQL, db.m5.xlarge, high-availability pair with automated failover and backups", "1.0240"),
    ("Egress traffic, GB", "0.0900"),
    ("Support plan, business tier", "149.00"),
]


def _lines(count: int, currency_minor: int = 100) -> tuple[DocumentLine, ...]:
    out = []
    for k in range(count):
        name, price = _PRODUCTS[k % len(_PRODUCTS)]
        unit = Decimal(price) * currency_minor
        quantity = Decimal(1 + (k * 37) % 720)
        out.append(
            DocumentLine(f"{name} #{k + 1}", quantity, unit, line_amount(unit, quantity), ISSUED - MONTH, ISSUED)
        )
    return tuple(out)


def invoice(
    lines: int,
    *,
    currency: str = "usd",
    locale: str = "en",
    state: DocumentState = DocumentState.OPEN,
    minor: int = 100,
    kind: DocumentKind = DocumentKind.INVOICE,
    number: str = "NW-2026-000123",
    paper: Paper = DEFAULT_PAPER,
) -> Document:
    """An invoice of `lines` lines with a 10 % discount and 19 % VAT, figures computed as the core does."""
    body = _lines(lines, minor)
    subtotal = sum(line.amount for line in body)
    discount = subtotal // 10
    tax = line_amount(Decimal(subtotal - discount), Decimal("0.19"))
    total = subtotal - discount + tax
    paid = total if state is DocumentState.PAID else 0
    return Document(
        kind=kind,
        state=state,
        number=number,
        currency=currency,
        locale=locale,
        issued=ISSUED,
        due=ISSUED + MONTH if kind is DocumentKind.INVOICE else None,
        period_start=ISSUED - MONTH,
        period_end=ISSUED,
        issuer=ISSUER,
        customer=CUSTOMER,
        branding=Branding(accent="#0a7d5a", footer=FOOTER),
        lines=body,
        subtotal=subtotal,
        discounts=(Adjustment("LOYALTY10 (10 %)", discount),),
        taxes=(Adjustment("VAT 19 %", tax),),
        total=total,
        balance_applied=0,
        amount_paid=paid,
        amount_due=0 if state is DocumentState.VOID else total,
        payment_terms="Net 30" if kind is DocumentKind.INVOICE else None,
        paper=paper,
    )


SAMPLES: dict[str, Callable[[], Document]] = {
    "invoice-usd-3-lines": lambda: invoice(3),
    "invoice-eur-250-lines-de": lambda: invoice(250, currency="eur", locale="de"),
    "credit-memo-jpy": lambda: invoice(
        4, currency="jpy", minor=150, kind=DocumentKind.CREDIT_MEMO, number="CM00000042"
    ),
    "invoice-void": lambda: invoice(3, state=DocumentState.VOID, number="NW-2026-000124"),
    "invoice-jpy-ja": lambda: invoice(5, currency="jpy", minor=150, locale="ja", number="NW-2026-000125"),
    "invoice-cad-fr-ca-letter": lambda: invoice(
        4, currency="cad", locale="fr_CA", number="NW-2026-000126", paper=Paper.US_LETTER
    ),
}


def write_pngs(folder: Path) -> list[Path]:
    """Each sample's pages as PNGs (of a long document: its first and last page)."""
    from bulkbill.services.rendering.pdf import render_png

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in SAMPLES.items():
        pages = render_png(make(), ppi=80)
        chosen = [(1, pages[0])] if len(pages) == 1 else [(1, pages[0]), (len(pages), pages[-1])]
        for number, png in chosen:
            path = folder / (f"{name}.png" if len(pages) == 1 else f"{name}-page-{number}-of-{len(pages)}.png")
            path.write_bytes(png)
            written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_pngs(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")):
        print(written_path)
