"""Subscription search (Stripe's /v1/subscriptions/search): the fields a query may name."""

from __future__ import annotations

from sqlalchemy import select

from bulkbill.core.search.query import Kind
from bulkbill.services.platform.search import SearchPage, SearchRequest, search
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.search import SearchField
from bulkbill.storage.tables_subscriptions import Subscription

FIELDS = {
    "created": SearchField(Kind.NUMBER, Subscription.created),
    "metadata": SearchField(Kind.METADATA, Subscription.metadata_),
    "status": SearchField(Kind.STRING, Subscription.status),
}


def search_subscriptions(uow: UnitOfWork, request: SearchRequest) -> SearchPage[Subscription]:
    base = select(Subscription).where(Subscription.tenant_id == uow.tenant_id)
    return search(uow, base, Subscription, FIELDS, "subscriptions", request)
