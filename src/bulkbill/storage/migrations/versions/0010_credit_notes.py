"""Credit notes: a credit memo made through Stripe's /v1/credit_notes names the invoice it credits

Revision ID: 0010_credit_notes
Revises: 0009_price_pricing
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_credit_notes"
down_revision: str | tuple[str, ...] | None = "0009_price_pricing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "invoices",
        sa.Column(
            "credited_invoice_id",
            sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql"),
            nullable=True,
        ),
    )
    op.create_index("ix_invoices_tenant_credited", "invoices", ["tenant_id", "credited_invoice_id"])


def downgrade() -> None:
    op.drop_index("ix_invoices_tenant_credited", table_name="invoices")
    op.drop_column("invoices", "credited_invoice_id")
