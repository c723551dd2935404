"""Customer balance transactions: what moved a customer's balance (manual adjustments, invoices applying it)

Revision ID: 0018_customer_balance_txns (alembic_version holds 32 characters)
Revises: 0017_one_row_per_line
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bulkbill.storage.types

ID = bulkbill.storage.types.IdString

revision: str = "0018_customer_balance_txns"
down_revision: str | tuple[str, ...] | None = "0017_one_row_per_line"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_balance_transactions",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("ending_balance", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("invoice_id", ID, nullable=True),
        sa.Column("credit_note_id", ID, nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_customer_balance_transactions_tenant_id_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_customer_balance_transactions")),
    )
    op.create_index(
        "ix_customer_balance_transactions_customer",
        "customer_balance_transactions",
        ["tenant_id", "customer_id", "created"],
    )


def downgrade() -> None:
    op.drop_index("ix_customer_balance_transactions_customer", table_name="customer_balance_transactions")
    op.drop_table("customer_balance_transactions")
