"""A customer's active entitlements (core.subscriptions.entitlements): read from its subscriptions' products."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bulkbill.core.errors import NotFound
from bulkbill.core.subscriptions.entitlements import entitled_features, entitlement_id, parse_entitlement_id
from bulkbill.services.catalog.features import features_by_id, features_of_products
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.subscriptions import catch_up
from bulkbill.storage.tables import Price
from bulkbill.storage.tables_entitlements import EntitlementFeature
from bulkbill.storage.tables_subscriptions import Subscription, SubscriptionItem


@dataclass(frozen=True)
class ActiveEntitlement:
    id: str
    customer_id: str
    feature: EntitlementFeature


def active_entitlements(uow: UnitOfWork, customer_id: str) -> list[ActiveEntitlement]:
    """The customer's entitlements, newest feature first (ties by id), as lists are ordered."""
    get_customer(uow, customer_id)
    subs = list(
        uow.session.scalars(
            select(Subscription).where(Subscription.tenant_id == uow.tenant_id, Subscription.customer_id == customer_id)
        )
    )
    catch_up(uow, subs)  # a real-time subscription's due work (an end, a trial's end) is done before it counts
    rows = uow.session.execute(
        select(SubscriptionItem.subscription_id, Price.product_id)
        .join(Price, (Price.tenant_id == SubscriptionItem.tenant_id) & (Price.id == SubscriptionItem.price_id))
        .where(SubscriptionItem.tenant_id == uow.tenant_id, SubscriptionItem.subscription_id.in_([s.id for s in subs]))
    ).all()
    products: dict[str, list[str]] = {}
    for sub_id, product_id in rows:
        products.setdefault(sub_id, []).append(product_id)
    live = [(s.status, products.get(s.id, [])) for s in subs]
    attached = features_of_products(uow, sorted({p for _, p in rows}))
    features = features_by_id(uow, sorted(entitled_features(live, attached)))
    ordered = sorted(features.values(), key=lambda f: (f.created, f.id), reverse=True)
    return [ActiveEntitlement(entitlement_id(f.id, customer_id), customer_id, f) for f in ordered]


def get_active_entitlement(uow: UnitOfWork, entitlement: str) -> ActiveEntitlement:
    """An entitlement by id: found while the customer it names is still entitled to the feature it names."""
    named = parse_entitlement_id(entitlement)
    if named is not None:
        feature_id, customer_id = named
        try:
            held = active_entitlements(uow, customer_id)
        except NotFound:
            held = []
        for e in held:
            if e.feature.id == feature_id:
                return e
    raise NotFound("active_entitlement", entitlement)
