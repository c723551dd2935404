"""Credit notes on finalized invoices, stored as the core's credit memos.

A Stripe credit note is a document of type "credit_memo" (what Zuora's GET /v1/credit-memos reads)
whose `credited_invoice_id` names the invoice it credits; its lines are ordinary items. Issuing one
locks the invoice row first (PostgreSQL: FOR UPDATE; SQLite serialises writers), then sums the
credit notes already issued on it, so two concurrent credit notes can never credit more than the
invoice's total. What Stripe says about a credit note and Zuora has no column for (reason, the
pre/post-payment split, credit and out-of-band amounts) is kept in the document attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import func, select

from bulkbill.core.customers.balance import BalanceTransactionType
from bulkbill.core.errors import ErrorCode, InputCollector, NotFound
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.invoicing.commands import ItemKind
from bulkbill.core.invoicing.credit_notes import (
    CreditLine,
    CreditLineInput,
    CreditLineType,
    CreditNoteAction,
    CreditSplit,
    InvoicedLine,
    TaxContext,
    credit_line,
    credit_note_status,
    credit_total,
    ensure_credit_note_transition,
    ensure_creditable,
    split_credit,
)
from bulkbill.core.invoicing.items import ItemValues
from bulkbill.core.invoicing.lifecycle import InvoiceStatus
from bulkbill.core.invoicing.totals import DiscountAmount
from bulkbill.core.metadata import MetadataUpdate, check_metadata, merge_metadata
from bulkbill.core.money import check_total
from bulkbill.services.customers.balance_transactions import record_move
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.documents.documents import DOC_KEY
from bulkbill.services.events.outbox import changing, emit
from bulkbill.services.invoicing.invoice_rows import discount_amounts_column, new_invoice_columns, taxes_column
from bulkbill.services.invoicing.invoice_totals import (
    load_lines,
    recalculate,
    stored_taxes,
    tax_exempt_of,
    tax_terms,
)
from bulkbill.services.invoicing.invoices import attach_item, get_invoice
from bulkbill.services.invoicing.item_rows import new_item_row
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.rows import new_object
from bulkbill.storage.tables import Invoice, InvoiceItem

T = TypeVar("T")
CREDIT_MEMO = "credit_memo"
_INFO = "creditNote"  # the document attribute holding the Stripe-only facts


@dataclass(frozen=True)
class CreditNoteFields:
    invoice: str
    lines: tuple[CreditLineInput, ...] | None = None
    amount: int | None = None
    credit_amount: int | None = None
    out_of_band_amount: int | None = None
    memo: str | None = None
    reason: str | None = None
    metadata: MetadataUpdate | None = None
    effective_at: int | None = None


@dataclass(frozen=True)
class CreditNoteInfo:
    """The Stripe-only facts of a credit note."""

    invoice_id: str
    reason: str | None
    pre_payment: int
    post_payment: int
    credit_amount: int | None
    out_of_band_amount: int | None
    type: str
    effective_at: int | None
    # The discounts its lines credit back, per discount ([{amount, discount}]), and the invoice-level part.
    discount_amounts: tuple[Mapping[str, Any], ...] = ()
    invoice_level_discount: int = 0


def info_of(memo: Invoice) -> CreditNoteInfo:
    doc = (memo.custom_fields or {}).get(DOC_KEY) or {}
    data: Mapping[str, Any] = doc.get(_INFO) or {}
    return CreditNoteInfo(
        invoice_id=memo.credited_invoice_id or doc.get("referredInvoiceId") or "",
        reason=data.get("reason"),
        pre_payment=int(data.get("pre_payment", 0)),
        post_payment=int(data.get("post_payment", memo.total)),
        credit_amount=data.get("credit_amount"),
        out_of_band_amount=data.get("out_of_band_amount"),
        type=data.get("type", "post_payment"),
        effective_at=data.get("effective_at", memo.finalized_at),
        discount_amounts=tuple(data.get("discount_amounts") or ()),
        invoice_level_discount=int(data.get("invoice_level_discount", 0)),
    )


# The invoice line a credit note line credits (written by issue_credit_note).
_CREDITS_LINE = InvoiceItem.extras["creditFromLineId"].as_string()
# The extras key of a credit note line holding the discounts it credits back ([{amount, discount}]): the
# item's own amount is what it credits net of them (so the memo adds up in either dialect), its gross
# amount (Stripe's line `amount`) is the item's plus these.
CREDITED_DISCOUNTS = "creditedDiscounts"


def credited_discounts_of(item: InvoiceItem) -> list[dict[str, Any]]:
    """The discounts a credit note line credits back, as stored ([] for a line crediting none)."""
    return list((item.extras or {}).get(CREDITED_DISCOUNTS) or [])


def gross_amount(item: InvoiceItem) -> int:
    """A credit note line's amount before the discounts it credits back (Stripe's line `amount`)."""
    return item.amount + sum(int(d["amount"]) for d in credited_discounts_of(item))


@dataclass
class _Credited:
    amount: int = 0
    taxes: dict[str, tuple[int, int]] = field(default_factory=dict)  # tax rate -> amount, taxable amount
    discounts: dict[str, int] = field(default_factory=dict)  # discount -> amount credited back


def _credited_by_line(uow: UnitOfWork, invoice_id: str) -> dict[str, _Credited]:
    """What issued (not void) credit notes on the invoice credited of each of its lines and their taxes."""
    memos = select(Invoice.id).where(
        Invoice.tenant_id == uow.tenant_id,
        Invoice.credited_invoice_id == invoice_id,
        Invoice.document_type == CREDIT_MEMO,
        Invoice.status != InvoiceStatus.VOID.value,
    )
    rows = uow.session.execute(
        select(_CREDITS_LINE, InvoiceItem.amount, InvoiceItem.taxes, InvoiceItem.extras).where(
            InvoiceItem.tenant_id == uow.tenant_id, InvoiceItem.invoice_id.in_(memos), _CREDITS_LINE.is_not(None)
        )
    )
    by_line: dict[str, _Credited] = {}
    for line_id, amount, taxes, extras in rows:
        seen = by_line.setdefault(line_id, _Credited())
        seen.amount += amount  # net of the discounts it credited back: their amounts make it gross again
        for d in (extras or {}).get(CREDITED_DISCOUNTS) or ():
            seen.amount += int(d["amount"])
            seen.discounts[d["discount"]] = seen.discounts.get(d["discount"], 0) + int(d["amount"])
        for t in taxes or ():
            amount_so_far, taxable_so_far = seen.taxes.get(t["tax_rate"], (0, 0))
            seen.taxes[t["tax_rate"]] = (amount_so_far + int(t["amount"]), taxable_so_far + int(t["taxable_amount"]))
    return by_line


def _invoiced_lines(uow: UnitOfWork, invoice: Invoice) -> dict[str, InvoicedLine]:
    credited = _credited_by_line(uow, invoice.id)
    return {
        e.line_id: InvoicedLine(
            e.line_id,
            e.item.amount,
            e.item.unit_amount_decimal,
            e.item.quantity_decimal,
            e.item.description,
            stored_taxes(e.taxes) or (),
            credited.get(e.line_id, _Credited()).amount,
            credited.get(e.line_id, _Credited()).taxes,
            tuple(DiscountAmount(d["discount"], int(d["amount"])) for d in e.discount_amounts),
            credited.get(e.line_id, _Credited()).discounts,
        )
        for e in load_lines(uow, invoice.id)
    }


def _already_credited(uow: UnitOfWork, invoice_id: str) -> int:
    total = uow.session.scalar(
        select(func.coalesce(func.sum(Invoice.total), 0)).where(
            Invoice.tenant_id == uow.tenant_id,
            Invoice.credited_invoice_id == invoice_id,
            Invoice.document_type == CREDIT_MEMO,
            Invoice.status != InvoiceStatus.VOID.value,
        )
    )
    return int(total or 0)


def _tax_context(uow: UnitOfWork, fields: CreditNoteFields, customer_id: str) -> TaxContext:
    """The tax rates the lines name (tax_rates, tax_amounts[][tax_rate]) and the customer's tax status."""
    named = {r for line in fields.lines or () for r in line.tax_rates or ()}
    named |= {t.tax_rate for line in fields.lines or () for t in line.tax_amounts or ()}
    return TaxContext(tax_terms(uow, named), tax_exempt_of(uow, customer_id))


def _lines(fields: CreditNoteFields, invoiced: dict[str, InvoicedLine], tax: TaxContext) -> list[CreditLine]:
    errors = InputCollector()
    lines: list[CreditLine] = []
    given = fields.lines
    if not given:
        if fields.amount is None:
            errors.missing(("lines",))
        else:
            # An amount alone credits that much as one custom line.
            given = (CreditLineInput(CreditLineType.CUSTOM_LINE_ITEM, unit_amount=Decimal(fields.amount)),)
    for i, entry in enumerate(given or ()):
        line = credit_line(entry, invoiced, ("lines", i), errors, tax)
        if line is not None:
            lines.append(line)
    total = credit_total(lines)
    if fields.lines and fields.amount is not None and fields.amount != total:
        errors.add(
            ("amount",),
            ErrorCode.PARAMETER_INVALID,
            f"amount ({fields.amount}) must equal the sum of the lines, tax included ({total}).",
        )
    check_metadata(fields.metadata, ("metadata",), errors)
    errors.raise_if_any()
    return lines


def _item_values(line: CreditLine, currency: str, now: int) -> ItemValues:
    return ItemValues(
        kind=ItemKind.INVOICE_ITEM,
        currency=currency,
        unit_amount_decimal=line.unit_amount,
        quantity=line.quantity,
        amount=line.amount - line.discount_total,  # what it credits; the discounts are in its extras
        description=line.description,
        discountable=False,
        discounts=(),
        # The rates of the taxes it credits, to show them; the taxes themselves are fixed (manual_taxes).
        tax_rates=tuple(dict.fromkeys(t.tax_rate_id for t in line.taxes)),
        period=(now, now),
        metadata={},
        amount_defined=True,
    )


def issue_credit_note(uow: UnitOfWork, fields: CreditNoteFields) -> Invoice:
    """Issue a credit note: checked against what is left to credit, under the invoice's row lock."""
    try:
        invoice = get_invoice(uow, fields.invoice, for_update=True, document_type="invoice")
    except NotFound:
        raise NotFound("invoice", fields.invoice, path=("invoice",)) from None
    ensure_creditable(invoice.status)
    lines = _lines(fields, _invoiced_lines(uow, invoice), _tax_context(uow, fields, invoice.customer_id))
    total = check_total(credit_total(lines), ("amount",))
    split = split_credit(
        total,
        invoice_total=invoice.total,
        already_credited=_already_credited(uow, invoice.id),
        amount_remaining=invoice.amount_due - invoice.amount_paid if invoice.status == InvoiceStatus.OPEN else 0,
        credit_amount=fields.credit_amount,
        out_of_band_amount=fields.out_of_band_amount,
    )
    errors = InputCollector()
    metadata = merge_metadata({}, fields.metadata, ("metadata",), errors)
    errors.raise_if_any()
    memo = _memo_row(uow, invoice, fields, split, metadata, lines)
    for line in lines:
        item = new_item_row(
            uow,
            customer_id=invoice.customer_id,
            invoice_id=None,
            values=_item_values(line, invoice.currency, uow.now),
            extras={
                "creditNoteLineType": line.type.value,
                "creditFromLineId": line.invoice_line_item,
                CREDITED_DISCOUNTS: _credited_discounts(invoice, line.discounts),
            },
        )
        item.manual_taxes = taxes_column(line.taxes)  # the core's credited taxes, as they are (no recomputing)
        attach_item(uow, memo, item)
    uow.session.flush()
    recalculate(uow, memo, load_lines(uow, memo.id))
    emit(uow, EventType.CREDIT_NOTE_CREATED, memo.id)
    _apply(uow, invoice, memo.id, fields.credit_amount, split.pre_payment, sign=1)
    return memo


def _credited_discounts(invoice: Invoice, discounts: Sequence[DiscountAmount]) -> list[dict[str, Any]]:
    """What a credit note's line credits back of its invoice line's discounts, as a line stores it; an
    invoice-level discount (the invoice's own, a subscription's) is marked: Stripe's `subtotal` keeps it."""
    return [{**d, "invoice_level": d["discount"] in invoice.discounts} for d in discount_amounts_column(discounts)]


def _memo_row(
    uow: UnitOfWork,
    invoice: Invoice,
    fields: CreditNoteFields,
    split: CreditSplit,
    metadata: dict[str, str],
    lines: Sequence[CreditLine],
) -> Invoice:
    count = uow.session.scalar(
        select(func.count()).where(Invoice.tenant_id == uow.tenant_id, Invoice.credited_invoice_id == invoice.id)
    )
    info: dict[str, Any] = {
        "reason": fields.reason,
        "pre_payment": split.pre_payment,
        "post_payment": split.post_payment,
        "credit_amount": fields.credit_amount,
        "out_of_band_amount": fields.out_of_band_amount,
        "type": split.type,
        "effective_at": fields.effective_at if fields.effective_at is not None else uow.now,
    }
    credited = _credited_discounts(invoice, [d for line in lines for d in line.discounts])
    sums: dict[str, int] = {}
    for d in credited:
        sums[d["discount"]] = sums.get(d["discount"], 0) + d["amount"]
    info["discount_amounts"] = [{"amount": amount, "discount": discount} for discount, amount in sums.items()]
    info["invoice_level_discount"] = sum(d["amount"] for d in credited if d["invoice_level"])
    doc = {"referredInvoiceId": invoice.id, "reasonCode": fields.reason or "Credit Note", _INFO: info}
    memo = new_object(
        Invoice,
        new_invoice_columns(
            uow.tenant_id,
            invoice_id=new_id("cn_"),
            customer_id=invoice.customer_id,
            currency=invoice.currency,
            created=uow.now,
            status=InvoiceStatus.OPEN.value,
            document_type=CREDIT_MEMO,
            number=f"{invoice.number or invoice.id}-CN-{(count or 0) + 1:02d}",
            finalized_at=uow.now,
            comments=fields.memo,
            metadata_=metadata,
            custom_fields={DOC_KEY: doc},
            credited_invoice_id=invoice.id,
        ),
    )
    uow.session.add(memo)
    uow.session.flush()
    return memo


def _apply(
    uow: UnitOfWork, invoice: Invoice, note_id: str, credit_amount: int | None, pre_payment: int, *, sign: int
) -> None:
    """Take the pre-payment part off what the invoice asks (sign=1), or give it back on void (sign=-1);
    the credit_amount goes to (or leaves) the customer's balance, where a credit is negative. Each change
    is told as Stripe tells it: `invoice.updated` (and `invoice.paid` when nothing is left to pay),
    `customer.updated` for the balance, recorded as a `credit_note` balance transaction."""
    if pre_payment:
        changing(uow, EventObject.INVOICE, [invoice.id])
        invoice.amount_due -= sign * pre_payment
        remaining = invoice.amount_due - invoice.amount_paid
        if sign > 0 and remaining <= 0 and invoice.status == InvoiceStatus.OPEN:
            invoice.status, invoice.paid_at = InvoiceStatus.PAID.value, uow.now
            emit(uow, EventType.INVOICE_PAID, invoice.id)
        elif sign < 0 and remaining > 0 and invoice.status == InvoiceStatus.PAID:
            invoice.status, invoice.paid_at = InvoiceStatus.OPEN.value, None
        emit(uow, EventType.INVOICE_UPDATED, invoice.id)
    if credit_amount:
        changing(uow, EventObject.CUSTOMER, [invoice.customer_id])
        customer = get_customer(uow, invoice.customer_id, include_deleted=True, lock="update")
        before = customer.balance
        customer.balance = check_total(before - sign * credit_amount, ("credit_amount",))
        record_move(uow, customer, BalanceTransactionType.CREDIT_NOTE, before, invoice.currency, credit_note_id=note_id)
        emit(uow, EventType.CUSTOMER_UPDATED, customer.id)
    uow.session.flush()


def preview_credit_note(uow: UnitOfWork, fields: CreditNoteFields, render: Callable[[Invoice], T]) -> T:
    """What issue_credit_note would make, rendered, then rolled back: nothing is written."""
    savepoint = uow.session.begin_nested()
    try:
        return render(issue_credit_note(uow, fields))
    finally:
        savepoint.rollback()


def get_credit_note(uow: UnitOfWork, credit_note_id: str, *, for_update: bool = False) -> Invoice:
    query = select(Invoice).where(
        Invoice.tenant_id == uow.tenant_id,
        Invoice.id == credit_note_id,
        Invoice.document_type == CREDIT_MEMO,
        Invoice.credited_invoice_id.is_not(None),
    )
    if for_update and uow.is_postgres:
        query = query.with_for_update()
    memo = uow.session.scalar(query)
    if memo is None:
        raise NotFound("credit note", credit_note_id)
    return memo


def list_credit_notes(
    uow: UnitOfWork, cursor: Cursor, *, invoice: str | None = None, customer: str | None = None
) -> Page[Invoice]:
    query = select(Invoice).where(
        Invoice.tenant_id == uow.tenant_id,
        Invoice.document_type == CREDIT_MEMO,
        Invoice.credited_invoice_id.is_not(None),
    )
    if invoice is not None:
        query = query.where(Invoice.credited_invoice_id == invoice)
    if customer is not None:
        query = query.where(Invoice.customer_id == customer)
    return paginate(uow, query, Invoice, cursor)


def update_credit_note(
    uow: UnitOfWork, credit_note_id: str, *, memo: str | None, metadata: MetadataUpdate | None
) -> Invoice:
    """Only the memo and metadata of an issued credit note change."""
    note = get_credit_note(uow, credit_note_id, for_update=True)
    errors = InputCollector()
    check_metadata(metadata, ("metadata",), errors)
    merged = merge_metadata(note.metadata_, metadata, ("metadata",), errors)
    errors.raise_if_any()
    changing(uow, EventObject.CREDIT_NOTE, [note.id])
    note.metadata_ = merged
    if memo is not None:
        note.comments = memo
    uow.session.flush()
    emit(uow, EventType.CREDIT_NOTE_UPDATED, note.id)
    return note


def void_credit_note(uow: UnitOfWork, credit_note_id: str) -> Invoice:
    """Voiding gives the credit back: the invoice asks its pre-payment part again, the balance loses the credit."""
    note = get_credit_note(uow, credit_note_id)
    invoice = get_invoice(uow, note.credited_invoice_id or "", for_update=True)  # invoice first, as issuing does
    note = get_credit_note(uow, credit_note_id, for_update=True)
    ensure_credit_note_transition(CreditNoteAction.VOID, credit_note_status(note.status) or note.status)
    info = info_of(note)
    note.status, note.voided_at = InvoiceStatus.VOID.value, uow.now
    uow.session.flush()
    emit(uow, EventType.CREDIT_NOTE_VOIDED, note.id)
    _apply(uow, invoice, note.id, info.credit_amount, info.pre_payment, sign=-1)
    return note


def credit_note_lines(uow: UnitOfWork, note: Invoice) -> Sequence[Any]:
    return load_lines(uow, note.id)
