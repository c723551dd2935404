"""runBilling: turn the order line items and fulfillments a call leaves SentToBilling into documents.

A call's sources are read and written exactly as a bill run's chunk is (services.billing_sets):
the same query, restricted to the call's sources (select_records with Selection.sources), the
same planner and arithmetic in the core, the same writer (one COPY or executemany per table,
numbers in one block). Each item names its source; invoice_items' unique (source_type,
source_id) makes the database refuse to bill anything twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select

from bulkbill.core.billing.plan import SourceType
from bulkbill.services.billing.billing_sets import (
    DocumentRun,
    Selection,
    SourceRecord,
    load_accounts,
    select_records,
    write_documents,
)
from bulkbill.services.orders.order_fields import BillingRequest, today
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Invoice

__all__ = ["DocumentRun", "generate_documents", "run_billing"]


def run_billing(uow: UnitOfWork, sources: Iterable[tuple[SourceType, str]], billing: BillingRequest) -> list[Invoice]:
    """runBilling (Decision 3): bill the call's sources that end it SentToBilling and are not yet billed.

    Documents group and number their lines in the order the call lists its sources.
    """
    wanted = tuple(sources)
    if not wanted:
        return []
    uow.session.flush()  # what the call changed so far is what the query below reads
    records = select_records(uow, Selection(sources=wanted))
    if not records:
        return []
    run = DocumentRun(
        target_date=billing.target_date or today(uow),
        document_date=billing.document_date or today(uow),
        origin="run_billing",
        post=not billing.draft,
        credit_memo_reason_code=billing.credit_memo_reason_code,
    )
    return generate_documents(uow, records, run)


def generate_documents(uow: UnitOfWork, records: Sequence[SourceRecord], run: DocumentRun) -> list[Invoice]:
    """One document per planned group, each source one line; posted unless a draft is wanted.

    Written set-based (billing_sets.write_documents); the documents come back loaded, in plan order.
    """
    accounts = load_accounts(uow, ids={r.source.account_id for r in records}, lock=run.post)
    written = write_documents(uow, records, run, accounts)
    if not written.documents:
        return []
    ids = [doc_id for doc_id, _, _ in written.documents]
    loaded = {
        inv.id: inv
        for inv in uow.session.scalars(select(Invoice).where(Invoice.tenant_id == uow.tenant_id, Invoice.id.in_(ids)))
    }
    return [loaded[i] for i in ids]
