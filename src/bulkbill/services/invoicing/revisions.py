"""Invoice revisions (Stripe `from_invoice[action]=revision`): a new draft copying a finalized invoice.

The revision copies the original's fields and lines (each line's item, with its discounts carried
over as new discount objects on the same coupons, counting no new redemption) and takes no pending
items. The original keeps its state until the revision is finalized: then it is voided and names
the revision as its `latest_revision` (invoices.finalize_invoice).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

from bulkbill.core.errors import InputCollector, NotFound
from bulkbill.core.events.types import EventType
from bulkbill.core.invoicing.invoice_fields import ensure_revisable
from bulkbill.core.metadata import MetadataUpdate, check_metadata, merge_metadata
from bulkbill.services.events.outbox import emit
from bulkbill.services.invoicing.invoice_rows import NO_LINE
from bulkbill.services.invoicing.invoice_totals import load_lines, recalculate
from bulkbill.services.invoicing.invoices import attach_item, get_invoice, new_invoice_row
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Discount, Invoice, InvoiceItem

# What a revision copies from the invoice it revises; the rest starts afresh (a draft's columns).
_COPIED = (
    "collection_method",
    "days_until_due",
    "due_date",
    "description",
    "footer",
    "document_custom_fields",
    "default_tax_rates",
    "statement_descriptor",
    "shipping_cost",
    "amount_shipping",
    "shipping_details",
    "account_tax_ids",
    "effective_at",
)


def revise_invoice(uow: UnitOfWork, original_id: str, *, metadata: MetadataUpdate | None) -> Invoice:
    """A new draft revising an open or uncollectible invoice; the original is not changed yet."""
    try:
        original = get_invoice(uow, original_id, for_update=True, document_type="invoice")
    except NotFound as exc:
        raise NotFound("invoice", original_id, path=("from_invoice", "invoice")) from exc
    ensure_revisable(original.status, original.subscription_id)
    errors = InputCollector()
    check_metadata(metadata, ("metadata",), errors)
    merged = merge_metadata(dict(original.metadata_), metadata, ("metadata",), errors)
    errors.raise_if_any()
    copied: dict[str, Any] = {name: getattr(original, name) for name in _COPIED}
    if original.effective_at == original.finalized_at:
        copied["effective_at"] = None  # the finalization date, not one chosen: the revision gets its own
    revision = new_invoice_row(
        uow,
        customer_id=original.customer_id,
        currency=original.currency,
        metadata_=merged,
        from_invoice_id=original.id,
        **copied,
    )
    uow.session.flush()
    revision.discounts = [_copy_discount(uow, d, invoice_id=revision.id) for d in original.discounts]
    for entry in load_lines(uow, original.id):
        item = _copy_item(uow, entry.item, revision)
        uow.session.add(item)
        uow.session.flush()
        item.discounts = [_copy_discount(uow, d, invoice_item_id=item.id) for d in entry.item.discounts]
        attach_item(uow, revision, item)
    recalculate(uow, revision, load_lines(uow, revision.id))
    uow.session.flush()
    emit(uow, EventType.INVOICE_CREATED, revision.id)
    return revision


def _copy_item(uow: UnitOfWork, item: InvoiceItem, revision: Invoice) -> InvoiceItem:
    columns = {attr.key: getattr(item, attr.key) for attr in inspect(InvoiceItem).column_attrs}
    columns.update(id=new_id("ii_"), invoice_id=None, created=uow.now, source_type=None, source_id=None, discounts=[])
    columns.update(NO_LINE)  # pending until attach_item makes it the revision's line
    return InvoiceItem(**columns)


def _copy_discount(uow: UnitOfWork, discount_id: str, **owner: str) -> str:
    found = uow.session.get(Discount, (uow.tenant_id, discount_id))
    if found is None:
        return discount_id
    copy = Discount(
        tenant_id=uow.tenant_id,
        id=new_id("di_"),
        coupon_id=found.coupon_id,
        customer_id=found.customer_id,
        invoice_id=owner.get("invoice_id"),
        invoice_item_id=owner.get("invoice_item_id"),
        start=found.start,
        promotion_code_id=found.promotion_code_id,
    )
    uow.session.add(copy)
    return copy.id
