"""Subscription schedules: phases that drive a subscription; subscriptions name their schedule

Revision ID: 0020_subscription_schedules (alembic_version holds 32 characters)
Revises: 0019_usage_billing
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bulkbill.storage.types

ID = bulkbill.storage.types.IdString

revision: str = "0020_subscription_schedules"
down_revision: str | tuple[str, ...] | None = "0019_usage_billing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subscription_schedules",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subscription_id", ID, nullable=True),
        sa.Column("released_subscription_id", ID, nullable=True),
        sa.Column("test_clock_id", ID, nullable=True),
        sa.Column("end_behavior", sa.String(length=16), nullable=False),
        sa.Column("phases", sa.JSON(), nullable=False),
        sa.Column("current_phase", sa.Integer(), nullable=False),
        sa.Column("default_settings", sa.JSON(), nullable=False),
        sa.Column("billing_mode", sa.JSON(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("canceled_at", sa.BigInteger(), nullable=True),
        sa.Column("completed_at", sa.BigInteger(), nullable=True),
        sa.Column("released_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_subscription_schedules_tenant_id_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_subscription_schedules")),
    )
    op.create_index("ix_subscription_schedules_tenant_created", "subscription_schedules", ["tenant_id", "created"])
    op.create_index("ix_subscription_schedules_tenant_customer", "subscription_schedules", ["tenant_id", "customer_id"])
    op.create_index("ix_subscription_schedules_tenant_clock", "subscription_schedules", ["tenant_id", "test_clock_id"])
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("schedule_id", ID, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("schedule_id")
    op.drop_index("ix_subscription_schedules_tenant_clock", table_name="subscription_schedules")
    op.drop_index("ix_subscription_schedules_tenant_customer", table_name="subscription_schedules")
    op.drop_index("ix_subscription_schedules_tenant_created", table_name="subscription_schedules")
    op.drop_table("subscription_schedules")
