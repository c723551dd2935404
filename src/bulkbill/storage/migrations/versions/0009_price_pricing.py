"""Prices carry tiers, transform_quantity, custom_unit_amount and currency_options (one JSON column)

Existing prices keep NULL: a plain per-unit price at its unit_amount_decimal, as before.

Revision ID: 0009_price_pricing
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_price_pricing"
down_revision: str | tuple[str, ...] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("prices", sa.Column("pricing", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("prices", "pricing")
