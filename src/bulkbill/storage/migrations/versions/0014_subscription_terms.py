"""Subscription terms: trials, a configured billing cycle anchor, cancel_at, paused collection, stored settings

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | tuple[str, ...] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("trial_start", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("trial_end", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("trial_end_behavior", sa.String(length=16), nullable=False, server_default="create_invoice")
        )
        batch.add_column(sa.Column("anchor_config", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("cancel_at", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("pause_collection", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("terms", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        for name in ("terms", "pause_collection", "cancel_at", "anchor_config", "trial_end_behavior", "trial_end"):
            batch.drop_column(name)
        batch.drop_column("trial_start")
