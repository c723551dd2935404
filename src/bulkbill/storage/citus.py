"""bulkbill on Citus (distributed PostgreSQL), distributed by tenant_id: which table goes where (docs/scaling.md).

Every table but two is distributed by tenant_id and co-located with customers: a tenant's rows of
every table live on the same node, so each request's statements (which all name the tenant) run
on one node, joins and foreign keys between a tenant's rows stay node-local, and uniqueness holds
per node. Citus requires it, and `schema_problems` checks it: every primary key, unique constraint
and foreign key of a distributed table includes tenant_id, and a foreign key between distributed
tables matches tenant_id with tenant_id.

The two reference tables (a full copy on every node) are the ones looked up before the tenant is
known: `tenants` (by API key hash or OAuth client id) and `oauth_tokens` (by token hash). Both are
small and written rarely (a tenant, a token an hour per client).

    python -m bulkbill.storage.citus        # prints the statements that distribute a migrated schema
"""

from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint, MetaData, Table, UniqueConstraint

DISTRIBUTION_COLUMN = "tenant_id"
REFERENCE_TABLES = ("tenants", "oauth_tokens")
COLOCATION_ANCHOR = "customers"


def distributed_tables(metadata: MetaData) -> list[Table]:
    """Every table but the reference ones, referenced tables first (the order Citus needs)."""
    return [t for t in metadata.sorted_tables if t.name not in REFERENCE_TABLES]


def _has_tenant(columns: list[str]) -> bool:
    return DISTRIBUTION_COLUMN in columns


def schema_problems(metadata: MetaData) -> list[str]:
    """What would stop the schema from being distributed by tenant_id (nothing, today)."""
    problems: list[str] = []
    reference = set(REFERENCE_TABLES)
    for table in metadata.sorted_tables:
        if table.name in reference:
            for fk in table.foreign_key_constraints:
                if fk.referred_table.name not in reference:
                    problems.append(f"reference table {table.name} refers to distributed {fk.referred_table.name}")
            continue
        if DISTRIBUTION_COLUMN not in table.columns:
            problems.append(f"{table.name} has no {DISTRIBUTION_COLUMN}")
            continue
        if not _has_tenant([c.name for c in table.primary_key.columns]):
            problems.append(f"{table.name}: primary key without {DISTRIBUTION_COLUMN}")
        for constraint in table.constraints:
            columns = [c.name for c in constraint.columns] if hasattr(constraint, "columns") else []
            if isinstance(constraint, UniqueConstraint) and not _has_tenant(columns):
                problems.append(f"{table.name}: unique {columns} without {DISTRIBUTION_COLUMN}")
            if isinstance(constraint, ForeignKeyConstraint) and constraint.referred_table.name not in reference:
                pairs = {e.parent.name: e.column.name for e in constraint.elements}
                if pairs.get(DISTRIBUTION_COLUMN) != DISTRIBUTION_COLUMN:
                    problems.append(f"{table.name}: foreign key {list(pairs)} does not match {DISTRIBUTION_COLUMN}")
        for index in table.indexes:
            if index.unique and not _has_tenant([c.name for c in index.columns]):
                problems.append(f"{table.name}: unique index {index.name} without {DISTRIBUTION_COLUMN}")
    return problems


def distribution_statements(metadata: MetaData) -> list[str]:
    """SQL that turns a migrated bulkbill database on a Citus coordinator into a distributed one."""
    statements = [f"SELECT create_reference_table('{name}');" for name in REFERENCE_TABLES]
    for table in distributed_tables(metadata):
        colocate = "default" if table.name == COLOCATION_ANCHOR else COLOCATION_ANCHOR
        statements.append(
            f"SELECT create_distributed_table('{table.name}', '{DISTRIBUTION_COLUMN}', colocate_with => '{colocate}');"
        )
    # customers must be distributed before the tables co-located with it.
    anchor = next(s for s in statements if f"'{COLOCATION_ANCHOR}'," in s)
    statements.remove(anchor)
    statements.insert(len(REFERENCE_TABLES), anchor)
    return statements


def main() -> None:
    from bulkbill.storage.tables import Base

    problems = schema_problems(Base.metadata)
    if problems:
        raise SystemExit("the schema cannot be distributed:\n" + "\n".join(problems))
    print("\n".join(distribution_statements(Base.metadata)))


if __name__ == "__main__":
    main()
