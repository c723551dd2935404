"""Top-level tax IDs (owner self/account beside customer, in the customers' table) and entitlement features

Revision ID: 0022_tax_ids_features (alembic_version holds 32 characters)
Revises: 0021_invoice_items_fillfactor
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bulkbill.storage.types

ID = bulkbill.storage.types.IdString

revision: str = "0022_tax_ids_features"
down_revision: str | tuple[str, ...] | None = "0021_invoice_items_fillfactor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer_tax_ids") as batch:
        batch.add_column(sa.Column("owner_type", sa.String(length=16), nullable=False, server_default="customer"))
        batch.add_column(sa.Column("owner_account", ID, nullable=True))
        batch.alter_column("customer_id", existing_type=ID, nullable=True)
    op.create_index("ix_customer_tax_ids_owner", "customer_tax_ids", ["tenant_id", "owner_type", "created"])
    op.create_table(
        "entitlement_features",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("lookup_key", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_entitlement_features_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_entitlement_features")),
        sa.UniqueConstraint("tenant_id", "lookup_key", name=op.f("uq_entitlement_features_tenant_id_lookup_key")),
    )
    op.create_index("ix_entitlement_features_tenant_created", "entitlement_features", ["tenant_id", "created"])
    op.create_table(
        "product_features",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("product_id", ID, nullable=False),
        sa.Column("feature_id", ID, nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["products.tenant_id", "products.id"],
            name=op.f("fk_product_features_tenant_id_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "feature_id"],
            ["entitlement_features.tenant_id", "entitlement_features.id"],
            name=op.f("fk_product_features_tenant_id_feature_id_entitlement_features"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_product_features")),
        sa.UniqueConstraint(
            "tenant_id", "product_id", "feature_id", name=op.f("uq_product_features_tenant_id_product_id_feature_id")
        ),
    )
    op.create_index("ix_product_features_tenant_product", "product_features", ["tenant_id", "product_id", "created"])


def downgrade() -> None:
    op.drop_index("ix_product_features_tenant_product", table_name="product_features")
    op.drop_table("product_features")
    op.drop_index("ix_entitlement_features_tenant_created", table_name="entitlement_features")
    op.drop_table("entitlement_features")
    op.drop_index("ix_customer_tax_ids_owner", table_name="customer_tax_ids")
    op.execute("DELETE FROM customer_tax_ids WHERE customer_id IS NULL")
    with op.batch_alter_table("customer_tax_ids") as batch:
        batch.alter_column("customer_id", existing_type=ID, nullable=False)
        batch.drop_column("owner_account")
        batch.drop_column("owner_type")
