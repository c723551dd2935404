"""Pre-rendering a bill run's documents (`bulkbill documents render --bill-run BR`), shared by processes.

Work is taken in small batches of documents that have no file yet; on PostgreSQL a batch is claimed
with FOR UPDATE SKIP LOCKED, so several processes pre-rendering one run never render the same document.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, func, select

from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.rendering.files import current_file
from bulkbill.storage.tables import Invoice
from bulkbill.storage.tables_documents import DocumentFile

FINAL = ("open", "paid", "void", "uncollectible")


def _unrendered(uow: UnitOfWork, bill_run_id: str) -> ColumnElement[bool]:
    has_file = exists().where(DocumentFile.tenant_id == Invoice.tenant_id, DocumentFile.invoice_id == Invoice.id)
    return (
        (Invoice.tenant_id == uow.tenant_id)
        & (Invoice.bill_run_id == bill_run_id)
        & Invoice.status.in_(FINAL)
        & ~has_file
    )


def documents_of_run(uow: UnitOfWork, bill_run_id: str) -> tuple[int, int]:
    """(documents of the run that have one, how many of them are rendered already)."""
    total = uow.session.scalar(
        select(func.count()).where(
            Invoice.tenant_id == uow.tenant_id, Invoice.bill_run_id == bill_run_id, Invoice.status.in_(FINAL)
        )
    )
    left = uow.session.scalar(select(func.count()).select_from(Invoice).where(_unrendered(uow, bill_run_id)))
    return int(total or 0), int(total or 0) - int(left or 0)


def render_batch(uow: UnitOfWork, bill_run_id: str, size: int = 20) -> int:
    """Render up to `size` of the run's documents that have no file yet; how many it rendered (0: done)."""
    query = select(Invoice).where(_unrendered(uow, bill_run_id)).order_by(Invoice.id).limit(size)
    if uow.is_postgres:
        query = query.with_for_update(skip_locked=True, of=Invoice)
    invoices = list(uow.session.scalars(query))
    for invoice in invoices:
        current_file(uow, invoice)
    return len(invoices)
