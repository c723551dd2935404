"""The schema can be distributed on Citus by tenant_id as docs/scaling.md says (storage/citus.py)."""

from __future__ import annotations

from bulkbill.storage.citus import REFERENCE_TABLES, distribution_statements, schema_problems
from bulkbill.storage.tables import Base


def test_every_key_and_foreign_key_carries_the_tenant() -> None:
    assert schema_problems(Base.metadata) == []


def test_every_table_is_distributed_or_a_reference_table_in_a_valid_order() -> None:
    statements = distribution_statements(Base.metadata)
    named = [s.split("'")[1] for s in statements]
    assert sorted(named) == sorted(Base.metadata.tables) and len(named) == len(set(named))
    assert named[: len(REFERENCE_TABLES)] == list(REFERENCE_TABLES) and named[len(REFERENCE_TABLES)] == "customers"
    position = {name: i for i, name in enumerate(named)}
    for table in Base.metadata.tables.values():
        for fk in table.foreign_key_constraints:
            if fk.referred_table is not table:
                assert position[fk.referred_table.name] < position[table.name], (table.name, fk.referred_table.name)


def test_a_key_without_the_tenant_is_caught() -> None:
    from sqlalchemy import Column, ForeignKeyConstraint, MetaData, String, Table, UniqueConstraint

    metadata = MetaData()
    Table("tenants", metadata, Column("id", String, primary_key=True))
    Table("parents", metadata, Column("tenant_id", String, primary_key=True), Column("id", String, primary_key=True))
    Table(
        "children",
        metadata,
        Column("tenant_id", String, primary_key=True),
        Column("id", String, primary_key=True),
        Column("parent_id", String),
        Column("code", String),
        UniqueConstraint("code"),
        ForeignKeyConstraint(["parent_id"], ["parents.id"]),
    )
    Table("loose", metadata, Column("id", String, primary_key=True))
    problems = schema_problems(metadata)
    assert any("children: unique ['code']" in p for p in problems)
    assert any("children: foreign key" in p for p in problems)
    assert any("loose has no tenant_id" in p for p in problems)
