"""Stripe customer details (address, shipping, invoice settings, ...), tax exemption and tax IDs; product type; invoices' document custom fields

Revision ID: 0012
Revises: 0011_promotion_codes
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bulkbill.storage.types

ID = bulkbill.storage.types.IdString

revision: str = "0012"
down_revision: str | tuple[str, ...] | None = "0011_promotion_codes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("tax_exempt", sa.String(length=8), nullable=False, server_default="none"))
        batch.add_column(sa.Column("details", sa.JSON(), nullable=True))
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("type", sa.String(length=8), nullable=False, server_default="service"))
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("document_custom_fields", sa.JSON(), nullable=True))
    op.create_table(
        "customer_tax_ids",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_customer_tax_ids_tenant_id_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_customer_tax_ids")),
    )
    op.create_index("ix_customer_tax_ids_customer", "customer_tax_ids", ["tenant_id", "customer_id", "created"])


def downgrade() -> None:
    op.drop_index("ix_customer_tax_ids_customer", table_name="customer_tax_ids")
    op.drop_table("customer_tax_ids")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("document_custom_fields")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("type")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("details")
        batch.drop_column("tax_exempt")
