"""What every request handler shares: settings, the engine and the session factory."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bulkbill.api.ratelimit import RateLimiter
from bulkbill.config import Settings
from bulkbill.storage.db import create_db_engine, make_sessionmaker


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    limiter: RateLimiter | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> AppState:
        engine = create_db_engine(
            settings.database_url,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            writer_queue=settings.sqlite_writer_queue,
        )
        return cls(settings, engine, make_sessionmaker(engine), RateLimiter.from_settings(settings))
