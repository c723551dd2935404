"""The unit of work: one session and transaction, opened and closed by the edge."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bulkbill.config import Settings


@dataclass
class UnitOfWork:
    """What a service works in: a session it may flush but never commit, and the settings."""

    session: Session
    settings: Settings
    tenant_id: str = ""
    now: int = field(default_factory=lambda: int(time.time()))
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    @property
    def is_postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"
