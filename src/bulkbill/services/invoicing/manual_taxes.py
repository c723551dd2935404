"""A line's tax amounts given by hand (Stripe's `tax_amounts` on POST /v1/invoices/{id}/lines/{line}, and
`lines[i][tax_amounts]` on update_lines).

Each amount names its tax rate by `tax_rate_data`: the tenant's tax rate with exactly those terms,
or a new one (as Stripe makes one). The line then shows these amounts as its taxes, exactly, and the
invoice totals add them up like computed taxes (invoice_totals, core.invoicing.totals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from bulkbill.core.errors import InputCollector, NotFound, Path
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.invoicing.invoice_fields import check_manual_taxes
from bulkbill.core.invoicing.lifecycle import ensure_editable
from bulkbill.services.catalog.tax_rates import TaxRateFields, create_tax_rate
from bulkbill.services.events.outbox import changing, emit
from bulkbill.services.invoicing.invoice_totals import LoadedLine, load_lines, recalculate
from bulkbill.services.invoicing.invoices import get_invoice
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import TaxRate


@dataclass(frozen=True)
class ManualTax:
    amount: int
    taxable_amount: int
    rate: TaxRateFields  # display_name, percentage, inclusive and the optional texts
    taxability_reason: str | None = None


def set_manual_taxes(uow: UnitOfWork, invoice_id: str, line_id: str, taxes: Sequence[ManualTax] | None) -> LoadedLine:
    """The line's taxes become `taxes` (None: computed from tax rates again)."""
    return set_lines_manual_taxes(uow, invoice_id, {line_id: (("tax_amounts",), taxes)})[line_id]


def set_lines_manual_taxes(
    uow: UnitOfWork, invoice_id: str, taxes_by_line: Mapping[str, tuple[Path, Sequence[ManualTax] | None]]
) -> dict[str, LoadedLine]:
    """Each named line's taxes become its `taxes` (None: computed from tax rates again), all or none: every
    line is checked (errors name the path given with it) before any changes; the invoice is summed once."""
    invoice = get_invoice(uow, invoice_id, for_update=True, document_type="invoice")
    ensure_editable(invoice.status)
    lines = load_lines(uow, invoice.id)
    by_id = {e.line_id: e for e in lines}
    missing = next((line_id for line_id in taxes_by_line if line_id not in by_id), None)
    if missing is not None:
        raise NotFound("invoice line item", missing)
    errors = InputCollector()
    for line_id, (path, taxes) in taxes_by_line.items():
        if taxes is not None:
            check_manual_taxes(by_id[line_id].item.tax_rates, invoice.default_tax_rates, errors, path)
    errors.raise_if_any()
    changing(uow, EventObject.INVOICE, [invoice.id])
    for line_id, (_, taxes) in taxes_by_line.items():
        by_id[line_id].item.manual_taxes = (
            None
            if taxes is None
            else [
                {
                    "tax_rate": _rate_for(uow, t.rate).id,
                    "inclusive": bool(t.rate.inclusive),
                    "amount": t.amount,
                    "taxable_amount": t.taxable_amount,
                    **({"taxability_reason": t.taxability_reason} if t.taxability_reason else {}),
                }
                for t in taxes
            ]
        )
    recalculate(uow, invoice, lines)
    uow.session.flush()
    emit(uow, EventType.INVOICE_UPDATED, invoice.id)
    return {line_id: by_id[line_id] for line_id in taxes_by_line}


def _rate_for(uow: UnitOfWork, fields: TaxRateFields) -> TaxRate:
    """The tenant's active tax rate with exactly these terms, else a new one."""
    assert fields.display_name is not None and fields.percentage is not None and fields.inclusive is not None
    query = select(TaxRate).where(
        TaxRate.tenant_id == uow.tenant_id,
        TaxRate.display_name == fields.display_name,
        TaxRate.inclusive.is_(fields.inclusive),
        TaxRate.active.is_(True),
    )
    for name in ("country", "state", "jurisdiction", "description", "tax_type"):
        value = getattr(fields, name)
        value = value.upper() if isinstance(value, str) and name in ("country", "state") else value
        column = getattr(TaxRate, name)
        query = query.where(column == value if isinstance(value, str) else column.is_(None))
    wanted = Decimal(fields.percentage)
    for rate in uow.session.scalars(query.order_by(TaxRate.created, TaxRate.id)):
        if Decimal(rate.percentage) == wanted:  # decimals compare as numbers (20 == 20.0), not as text
            return rate
    return create_tax_rate(uow, fields)
