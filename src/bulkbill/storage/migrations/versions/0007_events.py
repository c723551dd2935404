"""Events and signed webhooks (issue 13): the outbox, webhook endpoints, one delivery row per event and endpoint

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | tuple[str, ...] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_events_tenant_id_tenants"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_events"),
    )
    op.create_index("ix_events_tenant_created", "events", ["tenant_id", "created", "id"])
    op.create_index("ix_events_created", "events", ["created"])
    op.create_table(
        "webhook_endpoints",
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("enabled_events", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("secret", sa.String(80), nullable=False),
        sa.Column("api_version", sa.String(32), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("failure_streak", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_webhook_endpoints_tenant_id_tenants"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_webhook_endpoints"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("endpoint_id", ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False),
        sa.Column("first_attempt_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_attempt_ms", sa.BigInteger(), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "event_id"],
            ["events.tenant_id", "events.id"],
            name="fk_webhook_deliveries_tenant_id_event_id_events",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "endpoint_id"],
            ["webhook_endpoints.tenant_id", "webhook_endpoints.id"],
            name="fk_webhook_deliveries_tenant_id_endpoint_id_webhook_endpoints",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_webhook_deliveries"),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_ms"])
    op.create_index("ix_webhook_deliveries_event", "webhook_deliveries", ["tenant_id", "event_id"])


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
    op.drop_table("events")
