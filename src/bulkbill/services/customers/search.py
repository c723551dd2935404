"""Customer search (Stripe's /v1/customers/search): the fields a query may name, over the visible customers."""

from __future__ import annotations

from sqlalchemy import select

from bulkbill.core.search.query import Kind
from bulkbill.services.platform.search import SearchPage, SearchRequest, search
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.search import SearchField
from bulkbill.storage.tables import Customer

FIELDS = {
    "created": SearchField(Kind.NUMBER, Customer.created),
    "email": SearchField(Kind.STRING, Customer.email),
    "metadata": SearchField(Kind.METADATA, Customer.metadata_),
    "name": SearchField(Kind.STRING, Customer.name),
    "phone": SearchField(Kind.STRING, Customer.phone),
}


def search_customers(uow: UnitOfWork, request: SearchRequest) -> SearchPage[Customer]:
    base = select(Customer).where(Customer.tenant_id == uow.tenant_id, Customer.deleted.is_(False))
    return search(uow, base, Customer, FIELDS, "customers", request)
