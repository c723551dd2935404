"""Accounting periods: named date ranges that close the books for invoice dates

Revision ID: 0003a
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bulkbill.storage.types

revision: str = "0003a"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = bulkbill.storage.types.IdString


def upgrade() -> None:
    op.create_table(
        "accounting_periods",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("start_date", sa.String(length=10), nullable=False),
        sa.Column("end_date", sa.String(length=10), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("fiscal_quarter", sa.Integer(), nullable=True),
        sa.Column("notes", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_accounting_periods_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_accounting_periods")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_accounting_periods_tenant_id_name")),
    )
    op.create_index("ix_accounting_periods_tenant_dates", "accounting_periods", ["tenant_id", "start_date", "end_date"])


def downgrade() -> None:
    op.drop_index("ix_accounting_periods_tenant_dates", table_name="accounting_periods")
    op.drop_table("accounting_periods")
