"""Subscriptions, subscription items and test clocks; customers.test_clock_id, invoices.subscription_id

Revision ID: 0003c
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bulkbill.storage.types

revision: str = "0003c"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = bulkbill.storage.types.IdString


def upgrade() -> None:
    op.create_table(
        "test_clocks",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("frozen_time", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("deletes_after", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_test_clocks_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_test_clocks")),
    )
    op.create_index("ix_test_clocks_tenant_created", "test_clocks", ["tenant_id", "created"])
    op.create_table(
        "subscriptions",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("collection_method", sa.String(length=24), nullable=False),
        sa.Column("days_until_due", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("default_tax_rates", sa.JSON(), nullable=False),
        sa.Column("discounts", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("interval", sa.String(length=8), nullable=False),
        sa.Column("interval_count", sa.Integer(), nullable=False),
        sa.Column("billing_cycle_anchor", sa.BigInteger(), nullable=False),
        sa.Column("period_index", sa.Integer(), nullable=False),
        sa.Column("current_period_start", sa.BigInteger(), nullable=False),
        sa.Column("current_period_end", sa.BigInteger(), nullable=False),
        sa.Column("start_date", sa.BigInteger(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("canceled_at", sa.BigInteger(), nullable=True),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.Column("cancellation_details", sa.JSON(), nullable=False),
        sa.Column("latest_invoice_id", ID, nullable=True),
        sa.Column("test_clock_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_subscriptions_tenant_id_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_subscriptions")),
    )
    op.create_index("ix_subscriptions_tenant_created", "subscriptions", ["tenant_id", "created"])
    op.create_index("ix_subscriptions_tenant_customer", "subscriptions", ["tenant_id", "customer_id"])
    op.create_index("ix_subscriptions_tenant_clock", "subscriptions", ["tenant_id", "test_clock_id"])
    op.create_table(
        "subscription_items",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("subscription_id", ID, nullable=False),
        sa.Column("price_id", ID, nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("tax_rates", sa.JSON(), nullable=True),
        sa.Column("discounts", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "subscription_id"],
            ["subscriptions.tenant_id", "subscriptions.id"],
            name=op.f("fk_subscription_items_tenant_id_subscription_id_subscriptions"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "price_id"],
            ["prices.tenant_id", "prices.id"],
            name=op.f("fk_subscription_items_tenant_id_price_id_prices"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_subscription_items")),
    )
    op.create_index("ix_subscription_items_tenant_subscription", "subscription_items", ["tenant_id", "subscription_id"])
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("test_clock_id", ID, nullable=True))
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("subscription_id", ID, nullable=True))
        batch.add_column(sa.Column("subscription_metadata", sa.JSON(), nullable=True))
    op.create_index("ix_invoices_tenant_subscription", "invoices", ["tenant_id", "subscription_id"])


def downgrade() -> None:
    op.drop_index("ix_invoices_tenant_subscription", table_name="invoices")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("subscription_metadata")
        batch.drop_column("subscription_id")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("test_clock_id")
    op.drop_index("ix_subscription_items_tenant_subscription", table_name="subscription_items")
    op.drop_table("subscription_items")
    op.drop_index("ix_subscriptions_tenant_clock", table_name="subscriptions")
    op.drop_index("ix_subscriptions_tenant_customer", table_name="subscriptions")
    op.drop_index("ix_subscriptions_tenant_created", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_index("ix_test_clocks_tenant_created", table_name="test_clocks")
    op.drop_table("test_clocks")
