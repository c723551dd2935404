"""Invoice search (Stripe's /v1/invoices/search): the fields a query may name, over the tenant's invoices.

Credit memos share the invoices table and are not invoices here. receipt_number and the last
finalization error are never set by bulkbill (it takes no payments, finalizing cannot fail on one):
they read as absent.
"""

from __future__ import annotations

from sqlalchemy import select

from bulkbill.core.search.query import Kind
from bulkbill.services.platform.search import SearchPage, SearchRequest, search
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.search import SearchField
from bulkbill.storage.tables import Invoice

FIELDS = {
    "created": SearchField(Kind.NUMBER, Invoice.created),
    "currency": SearchField(Kind.TOKEN, Invoice.currency),
    "customer": SearchField(Kind.STRING, Invoice.customer_id),
    "last_finalization_error_code": SearchField(Kind.TOKEN, None),
    "last_finalization_error_type": SearchField(Kind.TOKEN, None),
    "metadata": SearchField(Kind.METADATA, Invoice.metadata_),
    "number": SearchField(Kind.STRING, Invoice.number),
    "receipt_number": SearchField(Kind.STRING, None),
    "status": SearchField(Kind.STRING, Invoice.status),
    "subscription": SearchField(Kind.STRING, Invoice.subscription_id),
    "total": SearchField(Kind.NUMBER, Invoice.total),
}


def search_invoices(uow: UnitOfWork, request: SearchRequest) -> SearchPage[Invoice]:
    base = select(Invoice).where(Invoice.tenant_id == uow.tenant_id, Invoice.document_type == "invoice")
    return search(uow, base, Invoice, FIELDS, "invoices", request)
