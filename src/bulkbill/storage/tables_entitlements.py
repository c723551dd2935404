"""Entitlement features and the products that grant them (conventions as in tables.py: tenant_id in every key).

A customer's active entitlements are not stored: they are read from the features attached to the products of
its active subscriptions' prices (services/catalog/entitlements.py), so they follow every subscription change.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bulkbill.storage.tables import Base, Json, tenant_fk
from bulkbill.storage.types import IdString


class EntitlementFeature(Base):
    """A feature (feat_): something a customer may be entitled to, named by a lookup key unique per tenant."""

    __tablename__ = "entitlement_features"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    lookup_key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", Json, default=dict)
    created: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        UniqueConstraint("tenant_id", "lookup_key"),
        Index("ix_entitlement_features_tenant_created", "tenant_id", "created"),
    )


class ProductFeature(Base):
    """A feature attached to a product (prodft_): customers subscribed to the product are entitled to it."""

    __tablename__ = "product_features"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    product_id: Mapped[str] = mapped_column(IdString)
    feature_id: Mapped[str] = mapped_column(IdString)
    created: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        tenant_fk(["product_id"], "products"),
        tenant_fk(["feature_id"], "entitlement_features"),
        UniqueConstraint("tenant_id", "product_id", "feature_id"),
        Index("ix_product_features_tenant_product", "tenant_id", "product_id", "created"),
    )
