"""Tenant names are unique (operators name tenants on the command line: one name, one tenant)

Databases made before this revision may hold several tenants with one name (`tenants create acme`
twice). The oldest keeps the name; each later one is renamed "<name>-2", "<name>-3", ... (the first
suffix no other tenant uses), so every tenant stays reachable by its id and by a name.

Revision ID: 0006
Revises: 0005
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | tuple[str, ...] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_MAX = 200  # the column's width

tenants = sa.table(
    "tenants", sa.column("id", sa.String), sa.column("name", sa.String), sa.column("created", sa.BigInteger)
)


def upgrade() -> None:
    _rename_duplicates()
    op.create_index("uq_tenants_name", "tenants", ["name"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_tenants_name", table_name="tenants")


def _rename_duplicates() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(tenants.c.id, tenants.c.name).order_by(tenants.c.created, tenants.c.id)).all()
    taken = {name for _id, name in rows}
    kept: set[str] = set()
    for tenant_id, name in rows:
        if name not in kept:
            kept.add(name)
            continue
        suffix = 2
        while (renamed := f"{name[: NAME_MAX - len(str(suffix)) - 1]}-{suffix}") in taken:
            suffix += 1
        taken.add(renamed)
        connection.execute(sa.update(tenants).where(tenants.c.id == tenant_id).values(name=renamed))
        # Operators must learn of it: a script naming the tenant by its old name now reaches the oldest one.
        logging.getLogger("bulkbill.migrations").warning(
            "tenant %s renamed from %r to %r: tenant names are unique now", tenant_id, name, renamed
        )
