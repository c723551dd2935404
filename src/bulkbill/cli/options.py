"""Options and failure handling shared by the `bulkbill` commands.

Every command that needs the database opens it through `open_database`, so a bad or unreachable
database URL is one line on stderr and exit code 2, the same for every command.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bulkbill.config import Settings
from bulkbill.services.platform.tenants import tenant_id_named
from bulkbill.storage.migrate import DatabaseUnavailable, open_migrated

# Exit codes: 1 the operation was refused (a bill run in the wrong state); 2 what was asked for cannot
# be used (a bad option value, an unreachable database, an unknown tenant), as click does for usage errors.
REFUSED = 1
UNUSABLE = 2

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL; default $BULKBILL_DATABASE_URL or sqlite:///bulkbill.db"),
]


def fail(message: str, code: int = UNUSABLE) -> NoReturn:
    """One line on stderr, no traceback, and the exit code."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings_for(database_url: str | None) -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:  # a BULKBILL_* variable that is not of its type
        problem = exc.errors()[0]
        name = "BULKBILL_" + str(problem["loc"][0]).upper() if problem["loc"] else "a BULKBILL_* setting"
        fail(f"{name}: {problem['msg']} (see docs/configuration.md)")
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


def open_database(settings: Settings) -> Engine:
    """An engine on the settings' database, migrated to the newest schema; else one line and exit code 2."""
    try:
        return open_migrated(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    except DatabaseUnavailable as exc:
        fail(str(exc))


def tenant_id_for(session: Session, tenant: str) -> str:
    """The id of the tenant an operator named (by id or name); else one line and exit code 2."""
    found = tenant_id_named(session, tenant)
    if found is None:
        fail(f"no tenant with id or name {tenant!r} (`bulkbill tenants list` shows them)")
    return found
