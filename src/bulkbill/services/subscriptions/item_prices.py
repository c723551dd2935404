"""The prices and product names subscription items bill through, loaded in one query each."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from bulkbill.core.subscriptions.rules import Cadence, Interval, RecurringPrice
from bulkbill.services.catalog.price_schemes import scheme_of
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Price, Product


def recurring(p: Price) -> RecurringPrice:
    cadence = None
    if p.type == "recurring" and p.recurring_interval is not None:
        cadence = Cadence(Interval(p.recurring_interval), p.recurring_interval_count or 1)
    scheme = scheme_of(p) if p.pricing else None
    metered = p.usage_type == "metered"
    return RecurringPrice(p.id, p.currency, p.unit_amount_decimal, p.product_id, cadence, p.active, scheme, metered)


def prices_by_id(uow: UnitOfWork, ids: Iterable[str]) -> dict[str, Price]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = uow.session.scalars(select(Price).where(Price.tenant_id == uow.tenant_id, Price.id.in_(wanted)))
    return {p.id: p for p in rows}


def product_names(uow: UnitOfWork, product_ids: set[str]) -> dict[str, str]:
    if not product_ids:
        return {}
    return {
        product_id: name
        for product_id, name in uow.session.execute(
            select(Product.id, Product.name).where(Product.tenant_id == uow.tenant_id, Product.id.in_(product_ids))
        )
    }
