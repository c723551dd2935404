"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bulkbill.config import Settings
from bulkbill.storage.db import create_db_engine
from bulkbill.storage.migrate import upgrade
from bulkbill.storage.tables import Base


def test_models_match_migrations(settings: Settings, client: object) -> None:
    engine = create_db_engine(settings.database_url)
    upgrade(engine)  # idempotent: a second run changes nothing
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    # server defaults and JSON-vs-TEXT reflection aside, no table, column, index or constraint is missing
    assert [d for d in diff if d[0] in ("add_table", "remove_table", "add_column", "remove_column")] == []
