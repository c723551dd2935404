"""Shared columns for the Zuora dialect: account numbers, document types, item sources, sequences, tokens

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bulkbill.storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = bulkbill.storage.types.IdString


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("account_number", sa.String(length=70), nullable=True))
        batch.add_column(sa.Column("org_label", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("profile", sa.JSON(), nullable=False, server_default="{}"))
        batch.create_unique_constraint("uq_customers_tenant_id_account_number", ["tenant_id", "account_number"])
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("document_type", sa.String(length=16), nullable=False, server_default="invoice"))
        batch.add_column(sa.Column("origin", sa.String(length=24), nullable=False, server_default="stripe"))
        batch.add_column(sa.Column("invoice_date", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("target_date", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("comments", sa.Text(), nullable=True))
        batch.add_column(sa.Column("transferred_to_accounting", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("auto_pay", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("custom_fields", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("bill_run_id", ID, nullable=True))
        batch.add_column(sa.Column("template_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("invoice_items") as batch:
        batch.add_column(sa.Column("source_type", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("source_id", ID, nullable=True))
        batch.add_column(sa.Column("custom_fields", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("extras", sa.JSON(), nullable=False, server_default="{}"))
        batch.create_unique_constraint(
            "uq_invoice_items_tenant_id_source_type_source_id", ["tenant_id", "source_type", "source_id"]
        )
    op.create_table(
        "sequences",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_sequences_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "name", name=op.f("pk_sequences")),
    )
    op.create_table(
        "oauth_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_oauth_tokens_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oauth_tokens")),
    )
    op.create_index("ix_oauth_expires", "oauth_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_oauth_expires", table_name="oauth_tokens")
    op.drop_table("oauth_tokens")
    op.drop_table("sequences")
    with op.batch_alter_table("invoice_items") as batch:
        batch.drop_constraint("uq_invoice_items_tenant_id_source_type_source_id", type_="unique")
        for name in ("extras", "custom_fields", "source_id", "source_type"):
            batch.drop_column(name)
    with op.batch_alter_table("invoices") as batch:
        for name in (
            "template_id",
            "bill_run_id",
            "custom_fields",
            "auto_pay",
            "transferred_to_accounting",
            "comments",
            "target_date",
            "invoice_date",
            "origin",
            "document_type",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("customers") as batch:
        batch.drop_constraint("uq_customers_tenant_id_account_number", type_="unique")
        for name in ("profile", "org_label", "account_number"):
            batch.drop_column(name)
