"""Invoice items leave room in each page (PostgreSQL fillfactor 70): a draft's item edits update in place

Editing a draft's items (Zuora PUT /v1/invoices, Stripe update_lines) rewrites rows whose indexed
columns do not change. With full pages every new row version went to another page and wrote an
entry in each of the table's indexes again; with room left on the page PostgreSQL writes a
heap-only tuple (HOT) instead: no index entry, and the old version is pruned on the page.
SQLite has no such setting: nothing to do there.

Revision ID: 0021_invoice_items_fillfactor (alembic_version holds 32 characters)
Revises: 0020_subscription_schedules
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021_invoice_items_fillfactor"
down_revision: str | tuple[str, ...] | None = "0020_subscription_schedules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILLFACTOR = 70


def upgrade() -> None:
    # Pages written from now on keep the room; existing ones get it as they are rewritten (VACUUM FULL).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE invoice_items SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE invoice_items RESET (fillfactor)")
