"""Set-based bill runs: chunks claimed by workers, frozen plans, per-account summaries, progress

Merges the three 0003 heads. Every new key and foreign key carries tenant_id (docs/scaling.md:
the schema is ready to be distributed on Citus by tenant_id).

Revision ID: 0004
Revises: 0003a, 0003b, 0003c
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bulkbill.storage.types

revision: str = "0004"
down_revision: str | tuple[str, ...] | None = ("0003a", "0003b", "0003c")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = bulkbill.storage.types.IdString


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "bill_run_id"],
        ["bill_runs.tenant_id", "bill_runs.id"],
        name=op.f(f"fk_{table}_tenant_id_bill_run_id_bill_runs"),
    )


def upgrade() -> None:
    with op.batch_alter_table("bill_runs") as batch:
        batch.add_column(sa.Column("scope", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch.add_column(sa.Column("frozen", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("total_chunks", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("chunks_done", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("planned_lines", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("billed_lines", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("plan_summary", sa.JSON(), nullable=True))
    op.create_index("ix_bill_runs_status", "bill_runs", ["status", "created"])
    with op.batch_alter_table("bill_run_accounts") as batch:
        batch.add_column(sa.Column("items", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("invoices", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("credit_memos", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("totals", sa.JSON(), nullable=True))
    op.create_table(
        "bill_run_chunks",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("bill_run_id", ID, nullable=False),
        sa.Column("chunk_no", sa.Integer(), nullable=False),
        sa.Column("first_account_id", ID, nullable=False),
        sa.Column("last_account_id", ID, nullable=False),
        sa.Column("planned_accounts", sa.Integer(), nullable=False),
        sa.Column("planned_lines", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("billed_lines", sa.Integer(), nullable=False),
        sa.Column("invoices", sa.Integer(), nullable=False),
        sa.Column("credit_memos", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=True),
        sa.Column("finished", sa.BigInteger(), nullable=True),
        _run_fk("bill_run_chunks"),
        sa.PrimaryKeyConstraint("tenant_id", "bill_run_id", "chunk_no", name=op.f("pk_bill_run_chunks")),
    )
    op.create_index("ix_bill_run_chunks_status", "bill_run_chunks", ["tenant_id", "bill_run_id", "status"])
    op.create_table(
        "bill_run_items",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("bill_run_id", ID, nullable=False),
        sa.Column("source_type", sa.String(length=24), nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        _run_fk("bill_run_items"),
        sa.PrimaryKeyConstraint("tenant_id", "bill_run_id", "source_type", "source_id", name=op.f("pk_bill_run_items")),
    )
    op.create_index("ix_bill_run_items_account", "bill_run_items", ["tenant_id", "bill_run_id", "account_id"])
    op.create_index("ix_order_line_items_account", "order_line_items", ["tenant_id", "account_id"])


def downgrade() -> None:
    op.drop_index("ix_order_line_items_account", table_name="order_line_items")
    op.drop_index("ix_bill_run_items_account", table_name="bill_run_items")
    op.drop_table("bill_run_items")
    op.drop_index("ix_bill_run_chunks_status", table_name="bill_run_chunks")
    op.drop_table("bill_run_chunks")
    with op.batch_alter_table("bill_run_accounts") as batch:
        for name in ("totals", "credit_memos", "invoices", "items"):
            batch.drop_column(name)
    op.drop_index("ix_bill_runs_status", table_name="bill_runs")
    with op.batch_alter_table("bill_runs") as batch:
        for name in ("plan_summary", "billed_lines", "planned_lines", "chunks_done", "total_chunks", "frozen", "scope"):
            batch.drop_column(name)
