"""A document as the text a customer reads: every figure formatted, every label in the document's language.

The HTML page and the PDF both show exactly this, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bulkbill.core.documents.formatting import Formatter
from bulkbill.core.documents.model import Document, DocumentKind, DocumentState

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "Invoice",
        "credit_memo": "Credit memo",
        "number": "Number",
        "issued": "Date of issue",
        "due": "Due date",
        "period": "Period",
        "bill_to": "Bill to",
        "from": "From",
        "tax_id": "Tax ID",
        "description": "Description",
        "quantity": "Qty",
        "unit_price": "Unit price",
        "amount": "Amount",
        "subtotal": "Subtotal",
        "total": "Total",
        "balance_applied": "Applied balance",
        "amount_paid": "Amount paid",
        "amount_due": "Amount due",
        "amount_remaining": "Amount remaining",
        "amount_credited": "Amount credited",
        "payment_terms": "Payment terms",
        "open": "",
        "paid": "Paid",
        "void": "Void",
        "uncollectible": "Uncollectible",
        "page": "Page",
    },
    "de": {
        "invoice": "Rechnung",
        "credit_memo": "Gutschrift",
        "number": "Nummer",
        "issued": "Rechnungsdatum",
        "due": "Fällig am",
        "period": "Zeitraum",
        "bill_to": "Rechnungsempfänger",
        "from": "Von",
        "tax_id": "USt-IdNr.",
        "description": "Beschreibung",
        "quantity": "Menge",
        "unit_price": "Einzelpreis",
        "amount": "Betrag",
        "subtotal": "Zwischensumme",
        "total": "Gesamt",
        "balance_applied": "Verrechnetes Guthaben",
        "amount_paid": "Bezahlt",
        "amount_due": "Fälliger Betrag",
        "amount_remaining": "Offener Betrag",
        "amount_credited": "Gutgeschriebener Betrag",
        "payment_terms": "Zahlungsbedingungen",
        "open": "",
        "paid": "Bezahlt",
        "void": "Storniert",
        "uncollectible": "Uneinbringlich",
        "page": "Seite",
    },
}


def labels_for(locale: str) -> dict[str, str]:
    """The labels in the locale's language; English for a language without its own."""
    return _LABELS.get(locale.split("_")[0], _LABELS["en"])


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    value: str
    strong: bool = False


def _period(fmt: Formatter, start: int | None, end: int | None) -> str:
    if start is None or end is None or start == end:
        return ""
    return f"{fmt.date(start)} – {fmt.date(end)}"


def present(document: Document) -> dict[str, Any]:
    """Every string the document shows, formatted in its currency and locale, ready for any template."""
    fmt = Formatter(document.currency, document.locale)
    labels = labels_for(document.locale)
    credit = document.kind is DocumentKind.CREDIT_MEMO
    totals = [Row(labels["subtotal"], fmt.money(document.subtotal))]
    totals += [Row(d.label, fmt.money(-d.amount)) for d in document.discounts]
    totals += [Row(t.label, fmt.money(t.amount)) for t in document.taxes]
    totals.append(Row(labels["total"], fmt.money(document.total), strong=True))
    if document.balance_applied:
        totals.append(Row(labels["balance_applied"], fmt.money(document.balance_applied)))
    due_label = labels["amount_credited"] if credit else labels["amount_due"]
    totals.append(Row(due_label, fmt.money(document.amount_due), strong=True))
    # Then what was paid against it and what is left (as Stripe's page: due, paid, remaining).
    if document.amount_paid and not credit:
        totals.append(Row(labels["amount_paid"], fmt.money(-document.amount_paid)))
        totals.append(Row(labels["amount_remaining"], fmt.money(document.amount_remaining), strong=True))
    facts = [Row(labels["number"], document.number), Row(labels["issued"], fmt.date(document.issued))]
    if document.due is not None and not credit:
        facts.append(Row(labels["due"], fmt.date(document.due)))
    period = _period(fmt, document.period_start, document.period_end)
    if period:
        facts.append(Row(labels["period"], period))
    if document.payment_terms:
        facts.append(Row(labels["payment_terms"], document.payment_terms))
    facts += [Row(name, value) for name, value in document.custom_fields]
    return {
        "lang": document.locale.split("_")[0],
        "title": labels[document.kind.value],
        "state": document.state.value,
        "stamp": "" if document.state is DocumentState.OPEN else labels[document.state.value],
        "number": document.number,
        "accent": document.branding.accent,
        "footer": document.branding.footer or "",
        "memo": document.memo or "",
        "labels": labels,
        "issuer": _party(document.issuer, labels),
        "customer": _party(document.customer, labels),
        "facts": [_row(r) for r in facts],
        "lines": [
            {
                "description": line.description,
                "period": _period(fmt, line.period_start, line.period_end),
                "quantity": fmt.quantity(line.quantity),
                "unit_price": fmt.unit_price(line.unit_amount),
                "amount": fmt.money(line.amount),
            }
            for line in document.lines
        ],
        "totals": [_row(r) for r in totals],
        "amount_due": fmt.money(document.amount_due),
    }


def _row(row: Row) -> dict[str, Any]:
    return {"label": row.label, "value": row.value, "strong": row.strong}


def _party(party: Any, labels: dict[str, str]) -> dict[str, str]:
    return {
        "name": party.name or "",
        "address": party.address or "",
        "email": party.email or "",
        "tax_id": f"{labels['tax_id']}: {party.tax_id}" if party.tax_id else "",
    }
