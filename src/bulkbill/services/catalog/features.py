"""Entitlement features (Stripe feat_) and the products they are attached to (prodft_)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from bulkbill.core.catalog.features import check_attachable
from bulkbill.core.errors import ErrorCode, FieldError, InputCollector, InvalidInput, NotFound
from bulkbill.core.metadata import MetadataUpdate, check_metadata, merge_metadata
from bulkbill.services.catalog.products import get_product
from bulkbill.services.platform.locks import get_row
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables_entitlements import EntitlementFeature, ProductFeature


@dataclass(frozen=True)
class FeatureFields:
    """None leaves a field as it is."""

    lookup_key: str | None = None
    name: str | None = None
    active: bool | None = None
    metadata: MetadataUpdate | None = None


def _taken(uow: UnitOfWork, lookup_key: str) -> bool:
    query = select(EntitlementFeature.id).where(
        EntitlementFeature.tenant_id == uow.tenant_id, EntitlementFeature.lookup_key == lookup_key
    )
    return uow.session.scalar(query) is not None


def create_feature(uow: UnitOfWork, fields: FeatureFields) -> EntitlementFeature:
    """A new active feature; its lookup key is unique in the tenant (the database holds it to that too)."""
    assert fields.lookup_key is not None and fields.name is not None  # required by the dialect
    errors = InputCollector()
    check_metadata(fields.metadata, ("metadata",), errors)
    metadata = merge_metadata({}, fields.metadata, ("metadata",), errors)
    errors.raise_if_any()
    if _taken(uow, fields.lookup_key):
        message = f"A feature with lookup_key {fields.lookup_key!r} already exists."
        raise InvalidInput([FieldError(("lookup_key",), ErrorCode.RESOURCE_ALREADY_EXISTS, message)])
    feature = EntitlementFeature(
        tenant_id=uow.tenant_id,
        id=new_id("feat_", 24),
        lookup_key=fields.lookup_key,
        name=fields.name,
        active=True,
        metadata_=metadata,
        created=uow.now,
    )
    uow.session.add(feature)
    uow.session.flush()
    return feature


def get_feature(
    uow: UnitOfWork, feature_id: str, *, lock: Literal["update", "share"] | None = None
) -> EntitlementFeature:
    feature = get_row(uow, EntitlementFeature, feature_id, lock=lock)
    if feature is None:
        raise NotFound("feature", feature_id)
    return feature


def update_feature(uow: UnitOfWork, feature_id: str, fields: FeatureFields) -> EntitlementFeature:
    """Name, active and metadata change; the lookup key never does (Stripe's rule)."""
    feature = get_feature(uow, feature_id, lock="update")
    errors = InputCollector()
    check_metadata(fields.metadata, ("metadata",), errors)
    feature.metadata_ = merge_metadata(feature.metadata_, fields.metadata, ("metadata",), errors)
    errors.raise_if_any()
    if fields.name is not None:
        feature.name = fields.name
    if fields.active is not None:
        feature.active = fields.active
    uow.session.flush()
    return feature


def list_features(
    uow: UnitOfWork, cursor: Cursor, *, archived: bool | None = None, lookup_key: str | None = None
) -> Page[EntitlementFeature]:
    """Active features unless `archived=true` asks for the archived ones (Stripe hides those by default)."""
    query = select(EntitlementFeature).where(
        EntitlementFeature.tenant_id == uow.tenant_id, EntitlementFeature.active.is_(not archived)
    )
    if lookup_key is not None:
        query = query.where(EntitlementFeature.lookup_key == lookup_key)
    return paginate(uow, query, EntitlementFeature, cursor)


# --- a product's features ------------------------------------------------------------------


def attach_feature(uow: UnitOfWork, product_id: str, feature_id: str) -> ProductFeature:
    """The product grants the feature to its subscribers; once per product, active features only."""
    get_product(uow, product_id, lock="share")
    try:
        feature = get_feature(uow, feature_id, lock="share")
    except NotFound as exc:
        raise NotFound("feature", feature_id, path=("entitlement_feature",)) from exc
    check_attachable(feature.id, feature.active)
    if _attachment(uow, product_id, feature_id) is not None:
        message = "This feature is already attached to the product."
        raise InvalidInput([FieldError(("entitlement_feature",), ErrorCode.RESOURCE_ALREADY_EXISTS, message)])
    row = ProductFeature(
        tenant_id=uow.tenant_id,
        id=new_id("prodft_", 24),
        product_id=product_id,
        feature_id=feature_id,
        created=uow.now,
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def _attachment(uow: UnitOfWork, product_id: str, feature_id: str) -> ProductFeature | None:
    query = select(ProductFeature).where(
        ProductFeature.tenant_id == uow.tenant_id,
        ProductFeature.product_id == product_id,
        ProductFeature.feature_id == feature_id,
    )
    return uow.session.scalar(query)


def get_product_feature(uow: UnitOfWork, product_id: str, attachment_id: str) -> ProductFeature:
    get_product(uow, product_id)
    row = uow.session.get(ProductFeature, (uow.tenant_id, attachment_id))
    if row is None or row.product_id != product_id:
        raise NotFound("product_feature", attachment_id)
    return row


def detach_feature(uow: UnitOfWork, product_id: str, attachment_id: str) -> ProductFeature:
    row = get_product_feature(uow, product_id, attachment_id)
    uow.session.delete(row)
    uow.session.flush()
    return row


def list_product_features(uow: UnitOfWork, product_id: str, cursor: Cursor) -> Page[ProductFeature]:
    get_product(uow, product_id)
    query = select(ProductFeature).where(
        ProductFeature.tenant_id == uow.tenant_id, ProductFeature.product_id == product_id
    )
    return paginate(uow, query, ProductFeature, cursor)


def features_by_id(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, EntitlementFeature]:
    if not ids:
        return {}
    query = select(EntitlementFeature).where(
        EntitlementFeature.tenant_id == uow.tenant_id, EntitlementFeature.id.in_(set(ids))
    )
    return {f.id: f for f in uow.session.scalars(query)}


def features_of_products(uow: UnitOfWork, product_ids: Sequence[str]) -> dict[str, list[str]]:
    """Product id → the ids of the features attached to it."""
    if not product_ids:
        return {}
    query = select(ProductFeature.product_id, ProductFeature.feature_id).where(
        ProductFeature.tenant_id == uow.tenant_id, ProductFeature.product_id.in_(set(product_ids))
    )
    attached: dict[str, list[str]] = {}
    for product_id, feature_id in uow.session.execute(query):
        attached.setdefault(product_id, []).append(feature_id)
    return attached
