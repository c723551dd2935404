"""Stripe invoice fields: chosen effective date and finalization time, statement descriptor, shipping, account tax ids, revisions; manual tax amounts of invoice items

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bulkbill.storage.types

ID = bulkbill.storage.types.IdString

revision: str = "0015"
down_revision: str | tuple[str, ...] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("statement_descriptor", sa.String(length=22), nullable=True))
        batch.add_column(sa.Column("effective_at", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("chosen_finalizes_at", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("shipping_cost", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("amount_shipping", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("shipping_details", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("account_tax_ids", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("from_invoice_id", ID, nullable=True))
        batch.add_column(sa.Column("latest_revision_id", ID, nullable=True))
    with op.batch_alter_table("invoice_items") as batch:
        batch.add_column(sa.Column("manual_taxes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invoice_items") as batch:
        batch.drop_column("manual_taxes")
    with op.batch_alter_table("invoices") as batch:
        for name in (
            "latest_revision_id",
            "from_invoice_id",
            "account_tax_ids",
            "shipping_details",
            "amount_shipping",
            "shipping_cost",
            "chosen_finalizes_at",
            "effective_at",
            "statement_descriptor",
        ):
            batch.drop_column(name)
