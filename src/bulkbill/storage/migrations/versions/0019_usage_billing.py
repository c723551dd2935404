"""Usage-based billing: billing meters, meter events, metered prices, subscription items' usage settings

Revision ID: 0019_usage_billing
Revises: 0018_customer_balance_txns
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bulkbill.storage.types

ID = bulkbill.storage.types.IdString

revision: str = "0019_usage_billing"
down_revision: str | tuple[str, ...] | None = "0018_customer_balance_txns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "billing_meters",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("display_name", sa.String(length=250), nullable=False),
        sa.Column("event_name", sa.String(length=100), nullable=False),
        sa.Column("formula", sa.String(length=8), nullable=False),
        sa.Column("customer_key", sa.String(length=100), nullable=False),
        sa.Column("value_key", sa.String(length=100), nullable=False),
        sa.Column("event_time_window", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("deactivated_at", sa.BigInteger(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_billing_meters_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_billing_meters")),
    )
    op.create_index("ix_billing_meters_tenant_event", "billing_meters", ["tenant_id", "event_name"])
    op.create_table(
        "billing_meter_events",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("identifier", sa.String(length=100), nullable=False),
        sa.Column("event_name", sa.String(length=100), nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("value", bulkbill.storage.types.DecimalText(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_billing_meter_events_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "identifier", name=op.f("pk_billing_meter_events")),
    )
    op.create_index(
        "ix_billing_meter_events_usage",
        "billing_meter_events",
        ["tenant_id", "event_name", "customer_id", "timestamp"],
    )
    with op.batch_alter_table("prices") as batch:
        batch.add_column(sa.Column("usage_type", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("meter_id", ID, nullable=True))
    with op.batch_alter_table("subscription_items") as batch:
        batch.add_column(sa.Column("usage", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscription_items") as batch:
        batch.drop_column("usage")
    with op.batch_alter_table("prices") as batch:
        batch.drop_column("meter_id")
        batch.drop_column("usage_type")
    op.drop_index("ix_billing_meter_events_usage", table_name="billing_meter_events")
    op.drop_table("billing_meter_events")
    op.drop_index("ix_billing_meters_tenant_event", table_name="billing_meters")
    op.drop_table("billing_meters")
