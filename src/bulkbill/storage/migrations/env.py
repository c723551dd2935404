"""Alembic environment: runs against the connection or URL bulkbill hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bulkbill.storage.db import create_db_engine
from bulkbill.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_db_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///bulkbill.db")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
