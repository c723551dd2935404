"""Documents customers read: tenant branding, each invoice's public document token, rendered files

Invoices made before this revision get their token here (one random value each), so every finalized
invoice has a hosted page.

Revision ID: 0008
Revises: 0007
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bulkbill.storage.types

revision: str = "0008"
down_revision: str | tuple[str, ...] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

invoices = sa.table(
    "invoices", sa.column("tenant_id", sa.String), sa.column("id", sa.String), sa.column("document_token", sa.String)
)
BATCH = 1000
ID = bulkbill.storage.types.IdString


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("business_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("business_address", sa.Text(), nullable=True))
        batch.add_column(sa.Column("tax_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("accent", sa.String(length=7), nullable=True))
        batch.add_column(sa.Column("invoice_footer", sa.Text(), nullable=True))
        batch.add_column(sa.Column("logo", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("logo_type", sa.String(length=32), nullable=True))
    op.add_column("invoices", sa.Column("document_token", sa.String(length=48), nullable=True))
    _give_tokens()
    op.create_index("ix_invoices_document_token", "invoices", ["document_token"])
    op.create_table(
        "document_files",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("invoice_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name="fk_document_files_tenant_id_invoice_id_invoices",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_document_files"),
        sa.UniqueConstraint(
            "tenant_id", "invoice_id", "version", name="uq_document_files_tenant_id_invoice_id_version"
        ),
        sa.UniqueConstraint(
            "tenant_id", "invoice_id", "content_hash", name="uq_document_files_tenant_id_invoice_id_content_hash"
        ),
    )


def downgrade() -> None:
    op.drop_table("document_files")
    op.drop_index("ix_invoices_document_token", table_name="invoices")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("document_token")
    with op.batch_alter_table("tenants") as batch:
        for name in ("logo_type", "logo", "invoice_footer", "accent", "tax_id", "business_address", "business_name"):
            batch.drop_column(name)


def _give_tokens() -> None:
    connection = op.get_bind()
    while True:
        rows = connection.execute(
            sa.select(invoices.c.tenant_id, invoices.c.id).where(invoices.c.document_token.is_(None)).limit(BATCH)
        ).all()
        if not rows:
            return
        for tenant_id, invoice_id in rows:
            connection.execute(
                sa.update(invoices)
                .where(invoices.c.tenant_id == tenant_id, invoices.c.id == invoice_id)
                .values(document_token=secrets.token_urlsafe(24))
            )
