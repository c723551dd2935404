"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bulkbill.config import Settings
from bulkbill.storage.db import create_db_engine
from bulkbill.storage.migrate import upgrade
from bulkbill.storage.tables import Base
from tests.conftest import BACKENDS, new_database_url


def test_models_match_migrations(settings: Settings, client: object) -> None:
    engine = create_db_engine(settings.database_url)
    upgrade(engine)  # idempotent: a second run changes nothing
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    # server defaults and JSON-vs-TEXT reflection aside, no table, column, index or constraint is missing
    assert [d for d in diff if d[0] in ("add_table", "remove_table", "add_column", "remove_column")] == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_duplicate_tenant_names_are_suffixed_when_names_become_unique(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Revision 0006: the oldest tenant keeps a shared name; later ones get the first free "-N" suffix."""
    engine = create_db_engine(new_database_url(backend, request, tmp_path))
    upgrade(engine, to="0005")
    named = {"t1": "acme", "t2": "acme-2", "t3": "acme", "t4": "acme", "t5": "solo"}  # in order of creation
    columns = ("id", "name", "created", "stripe_key_hash", "zuora_client_id", "zuora_secret_hash")
    tenants = sa.table("tenants", *(sa.column(c) for c in columns))
    with engine.begin() as connection:
        for created, (key, name) in enumerate(named.items()):
            row = (key, name, created, f"hash-{key}", f"client-{key}", "x")
            connection.execute(tenants.insert().values(dict(zip(columns, row, strict=True))))
    upgrade(engine)
    with engine.connect() as connection:
        renamed = {key: name for key, name in connection.execute(sa.select(tenants.c.id, tenants.c.name))}
    engine.dispose()
    assert renamed == {"t1": "acme", "t2": "acme-2", "t3": "acme-3", "t4": "acme-4", "t5": "solo"}
