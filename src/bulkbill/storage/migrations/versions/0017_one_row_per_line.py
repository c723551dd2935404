"""One row per billed line: an invoice item carries its line (id, position, figures); invoice_lines goes

Revision ID: 0017_one_row_per_line
Revises: 0016

Measured in docs/performance.md ("Bill run schema"): the second row, its primary key, its two
unique keys and its two foreign keys cost a third of a bill run's writes. Every guarantee stays a
database constraint: one item is at most one line (same row), a line's id is unique per tenant, a
position is unique on its invoice, and a CHECK says an item is either pending (no invoice, no line
columns) or on an invoice with all of them.

On SQLite, batch mode rebuilds invoice_items (to add the keys and the CHECK). A rebuild drops the
old table, which SQLite refuses while rows of another table point at it: so invoice_lines goes
before the rebuild on the way up, and comes back after it on the way down (its rows kept meanwhile
in a temporary table).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bulkbill.storage.types

ID = bulkbill.storage.types.IdString

revision: str = "0017_one_row_per_line"
down_revision: str | tuple[str, ...] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINE_COLUMNS_RULE = (
    '(invoice_id IS NULL AND line_id IS NULL AND "position" IS NULL AND discount_amounts IS NULL AND taxes IS NULL)'
    ' OR (invoice_id IS NOT NULL AND line_id IS NOT NULL AND "position" IS NOT NULL'
    " AND discount_amounts IS NOT NULL AND taxes IS NOT NULL)"
)
# A line's columns, as invoice_lines names them and as invoice_items does.
MOVED = (("id", "line_id"), ("position", "position"), ("discount_amounts", "discount_amounts"), ("taxes", "taxes"))


def upgrade() -> None:
    with op.batch_alter_table("invoice_items") as batch:  # added columns: no rebuild yet
        batch.add_column(sa.Column("line_id", ID, nullable=True))
        batch.add_column(sa.Column("position", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("discount_amounts", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("taxes", sa.JSON(), nullable=True))
    # One statement on both databases (SQLite has UPDATE ... FROM since 3.33).
    op.execute(
        "UPDATE invoice_items SET "
        + ", ".join(f'"{item}" = l."{line}"' for line, item in MOVED)
        + " FROM invoice_lines AS l WHERE l.tenant_id = invoice_items.tenant_id AND l.item_id = invoice_items.id"
    )
    op.drop_table("invoice_lines")
    with op.batch_alter_table("invoice_items") as batch:
        batch.drop_index("ix_invoice_items_invoice")  # the (tenant_id, invoice_id, position) key serves it
        batch.create_unique_constraint(op.f("uq_invoice_items_tenant_id_line_id"), ["tenant_id", "line_id"])
        batch.create_unique_constraint(
            op.f("uq_invoice_items_tenant_id_invoice_id_position"), ["tenant_id", "invoice_id", "position"]
        )
        batch.create_check_constraint(op.f("ck_invoice_items_line_columns"), sa.text(LINE_COLUMNS_RULE))


def downgrade() -> None:
    op.execute(
        "CREATE TEMPORARY TABLE moved_lines AS SELECT tenant_id, id AS item_id, invoice_id, "
        + ", ".join(f'"{item}" AS "{line}"' for line, item in MOVED)
        + " FROM invoice_items WHERE line_id IS NOT NULL"
    )
    with op.batch_alter_table("invoice_items") as batch:
        batch.drop_constraint(op.f("ck_invoice_items_line_columns"), type_="check")
        batch.drop_constraint(op.f("uq_invoice_items_tenant_id_invoice_id_position"), type_="unique")
        batch.drop_constraint(op.f("uq_invoice_items_tenant_id_line_id"), type_="unique")
        for _, column in reversed(MOVED):
            batch.drop_column(column)
        batch.create_index("ix_invoice_items_invoice", ["tenant_id", "invoice_id"], unique=False)
    op.create_table(
        "invoice_lines",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("invoice_id", ID, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("discount_amounts", sa.JSON(), nullable=False),
        sa.Column("taxes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name=op.f("fk_invoice_lines_tenant_id_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "item_id"],
            ["invoice_items.tenant_id", "invoice_items.id"],
            name=op.f("fk_invoice_lines_tenant_id_item_id_invoice_items"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_invoice_lines")),
        sa.UniqueConstraint(
            "tenant_id", "invoice_id", "position", name=op.f("uq_invoice_lines_tenant_id_invoice_id_position")
        ),
        sa.UniqueConstraint("tenant_id", "item_id", name=op.f("uq_invoice_lines_tenant_id_item_id")),
    )
    columns = ", ".join(["tenant_id", "item_id", "invoice_id", *(f'"{line}"' for line, _ in MOVED)])
    op.execute(f"INSERT INTO invoice_lines ({columns}) SELECT {columns} FROM moved_lines")
    op.execute("DROP TABLE moved_lines")
