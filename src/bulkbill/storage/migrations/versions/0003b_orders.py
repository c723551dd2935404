"""Order billing: orders, order line items, fulfillments, fulfillment items, bill runs

Revision ID: 0003b
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bulkbill.storage.types

revision: str = "0003b"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = bulkbill.storage.types.IdString
DEC = bulkbill.storage.types.DecimalText


def _key() -> list[sa.Column[str]]:
    return [sa.Column("tenant_id", sa.String(length=40), nullable=False), sa.Column("id", ID, nullable=False)]


def _fk(table: str, column: str, target: str, name: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", column],
        [f"{target}.tenant_id", f"{target}.id"],
        name=op.f(name or f"fk_{table}_tenant_id_{column}_{target}"),
    )


def upgrade() -> None:
    op.create_table(
        "bill_runs",
        *_key(),
        sa.Column("bill_run_number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("target_date", sa.String(length=10), nullable=False),
        sa.Column("invoice_date", sa.String(length=10), nullable=False),
        sa.Column("auto_post", sa.Boolean(), nullable=False),
        sa.Column("include_order_line_items", sa.Boolean(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("number_of_accounts", sa.Integer(), nullable=False),
        sa.Column("number_of_invoices", sa.Integer(), nullable=False),
        sa.Column("number_of_credit_memos", sa.Integer(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_bill_runs_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bill_runs")),
        sa.UniqueConstraint("tenant_id", "bill_run_number", name=op.f("uq_bill_runs_tenant_id_bill_run_number")),
    )
    op.create_table(
        "bill_run_accounts",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("bill_run_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _fk("bill_run_accounts", "bill_run_id", "bill_runs"),
        _fk("bill_run_accounts", "customer_id", "customers"),
        sa.PrimaryKeyConstraint("tenant_id", "bill_run_id", "customer_id", name=op.f("pk_bill_run_accounts")),
    )
    op.create_table(
        "orders",
        *_key(),
        sa.Column("order_number", sa.String(length=100), nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("order_date", sa.String(length=10), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("reason_code", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("custom_fields", sa.JSON(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        _fk("orders", "account_id", "customers"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_orders")),
        sa.UniqueConstraint("tenant_id", "order_number", name=op.f("uq_orders_tenant_id_order_number")),
    )
    op.create_table(
        "order_line_items",
        *_key(),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("item_number", sa.String(length=100), nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("owner_account_id", ID, nullable=False),
        sa.Column("item_state", sa.String(length=16), nullable=False),
        sa.Column("item_category", sa.String(length=8), nullable=False),
        sa.Column("billing_rule", sa.String(length=32), nullable=False),
        sa.Column("item_type", sa.String(length=16), nullable=True),
        sa.Column("item_name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("quantity", DEC(length=64), nullable=False),
        sa.Column("list_price_per_unit", DEC(length=64), nullable=False),
        sa.Column("amount_per_unit", DEC(length=64), nullable=False),
        sa.Column("inline_discount_type", sa.String(length=16), nullable=True),
        sa.Column("inline_discount_per_unit", DEC(length=64), nullable=True),
        sa.Column("bill_target_date", sa.String(length=10), nullable=True),
        sa.Column("transaction_start_date", sa.String(length=10), nullable=False),
        sa.Column("transaction_end_date", sa.String(length=10), nullable=False),
        sa.Column("uom", sa.String(length=255), nullable=True),
        sa.Column("product_code", sa.String(length=100), nullable=True),
        sa.Column("original_line_item_id", ID, nullable=True),
        sa.Column("sent_to_billing_at", sa.BigInteger(), nullable=True),
        sa.Column("attrs", sa.JSON(), nullable=False),
        sa.Column("custom_fields", sa.JSON(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        _fk("order_line_items", "order_id", "orders"),
        _fk("order_line_items", "account_id", "customers"),
        _fk("order_line_items", "owner_account_id", "customers"),
        _fk("order_line_items", "original_line_item_id", "order_line_items", "fk_order_line_items_original"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_order_line_items")),
        sa.UniqueConstraint(
            "tenant_id", "order_id", "item_number", name=op.f("uq_order_line_items_tenant_id_order_id_item_number")
        ),
    )
    op.create_index("ix_order_line_items_billing", "order_line_items", ["tenant_id", "item_state", "bill_target_date"])
    op.create_index("ix_order_line_items_original", "order_line_items", ["tenant_id", "original_line_item_id"])
    op.create_table(
        "fulfillments",
        *_key(),
        sa.Column("fulfillment_number", sa.String(length=100), nullable=False),
        sa.Column("order_line_item_id", ID, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("fulfillment_type", sa.String(length=16), nullable=False),
        sa.Column("quantity", DEC(length=64), nullable=False),
        sa.Column("fulfillment_date", sa.String(length=10), nullable=False),
        sa.Column("bill_target_date", sa.String(length=10), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("external_id", sa.String(length=50), nullable=True),
        sa.Column("tracking_number", sa.String(length=50), nullable=True),
        sa.Column("carrier", sa.String(length=25), nullable=True),
        sa.Column("fulfillment_system", sa.String(length=25), nullable=True),
        sa.Column("fulfillment_location", sa.String(length=50), nullable=True),
        sa.Column("sent_to_billing_at", sa.BigInteger(), nullable=True),
        sa.Column("custom_fields", sa.JSON(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        _fk("fulfillments", "order_line_item_id", "order_line_items"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_fulfillments")),
        sa.UniqueConstraint(
            "tenant_id", "fulfillment_number", name=op.f("uq_fulfillments_tenant_id_fulfillment_number")
        ),
    )
    op.create_index("ix_fulfillments_billing", "fulfillments", ["tenant_id", "state", "bill_target_date"])
    op.create_index("ix_fulfillments_external", "fulfillments", ["tenant_id", "external_id"])
    op.create_index("ix_fulfillments_line", "fulfillments", ["tenant_id", "order_line_item_id"])
    op.create_table(
        "fulfillment_items",
        *_key(),
        sa.Column("fulfillment_id", ID, nullable=False),
        sa.Column("item_identifier", sa.String(length=36), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("custom_fields", sa.JSON(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        _fk("fulfillment_items", "fulfillment_id", "fulfillments"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_fulfillment_items")),
    )
    op.create_index("ix_fulfillment_items_fulfillment", "fulfillment_items", ["tenant_id", "fulfillment_id"])


def downgrade() -> None:
    op.drop_index("ix_fulfillment_items_fulfillment", table_name="fulfillment_items")
    op.drop_table("fulfillment_items")
    for name in ("ix_fulfillments_line", "ix_fulfillments_external", "ix_fulfillments_billing"):
        op.drop_index(name, table_name="fulfillments")
    op.drop_table("fulfillments")
    op.drop_index("ix_order_line_items_original", table_name="order_line_items")
    op.drop_index("ix_order_line_items_billing", table_name="order_line_items")
    op.drop_table("order_line_items")
    op.drop_table("orders")
    op.drop_table("bill_run_accounts")
    op.drop_table("bill_runs")
