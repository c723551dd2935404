"""Options shared by the `bulkbill` commands."""

from __future__ import annotations

from typing import Annotated

import typer

from bulkbill.config import Settings

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL; default $BULKBILL_DATABASE_URL or sqlite:///bulkbill.db"),
]


def settings_for(database_url: str | None) -> Settings:
    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings
