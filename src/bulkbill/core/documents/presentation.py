"""A document as the text a customer reads: every figure formatted, every label in the document's language.

The HTML page and the PDF both show exactly this, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bulkbill.core.documents.display import shows_inclusive_tax, unit_amount_shown
from bulkbill.core.documents.formatting import Formatter
from bulkbill.core.documents.labels import labels_for, language_of
from bulkbill.core.documents.model import Adjustment, Document, DocumentKind, DocumentLine, DocumentState


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
    with_inclusive = shows_inclusive_tax(document.tax_display)
    # Without inclusive tax in the lines, the subtotal leaves it out too and it is added below like any tax.
    subtotal = document.subtotal - (0 if with_inclusive else sum(t.amount for t in document.taxes if t.inclusive))
    totals = [Row(labels["subtotal"], fmt.money(subtotal))]
    totals += [Row(d.label or labels["discount"], fmt.money(-d.amount)) for d in document.discounts]
    totals += [Row(_tax_label(t, labels, with_inclusive), fmt.money(t.amount)) for t in document.taxes]
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
        "lang": language_of(document.locale),
        "paper": document.paper.value,
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
        "lines": [_line(fmt, line, with_inclusive) for line in document.lines],
        "totals": [_row(r) for r in totals],
        "amount_due": fmt.money(document.amount_due),
    }


def _line(fmt: Formatter, line: DocumentLine, with_inclusive: bool) -> dict[str, str]:
    amount = line.amount if with_inclusive else line.amount - line.inclusive_tax
    return {
        "description": line.description,
        "period": _period(fmt, line.period_start, line.period_end),
        "quantity": fmt.quantity(line.quantity),
        "unit_price": fmt.unit_price(unit_amount_shown(line.amount, line.quantity, line.unit_amount, amount)),
        "amount": fmt.money(amount),
    }


def _tax_label(tax: Adjustment, labels: dict[str, str], with_inclusive: bool) -> str:
    """A tax's name, marked as included when the lines carry it (exclude_tax adds it like any other)."""
    label = tax.label or labels["tax"]
    return f"{label} {labels['inclusive']}" if tax.inclusive and with_inclusive else label


def _row(row: Row) -> dict[str, Any]:
    return {"label": row.label, "value": row.value, "strong": row.strong}


def _party(party: Any, labels: dict[str, str]) -> dict[str, str]:
    return {
        "name": party.name or "",
        "address": party.address or "",
        "email": party.email or "",
        "tax_id": f"{labels['tax_id']}: {party.tax_id}" if party.tax_id else "",
    }
