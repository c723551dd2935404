"""Invoices' Stripe `rendering` (tax display, PDF page size); tenants' default document locale

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | tuple[str, ...] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("rendering", sa.JSON(), nullable=True))
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("default_locale", sa.String(length=35), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("default_locale")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("rendering")
