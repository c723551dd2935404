"""The outbox follows savepoints: a rolled-back savepoint drops only the events emitted within it."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

import bulkbill.services.events.outbox as outbox
from bulkbill.config import Settings
from bulkbill.core.events.types import EventType
from bulkbill.services.platform.uow import UnitOfWork


def pending_ids(session: Session) -> list[str]:
    box = session.info.get(outbox._INFO_KEY)
    return [] if box is None else [p.object_id for p in box.pending]


def test_a_savepoint_rollback_drops_only_its_own_events() -> None:
    with Session(create_engine("sqlite://")) as session:
        session.begin()
        uow = UnitOfWork(session, Settings(), tenant_id="t")
        outbox.emit(uow, EventType.CUSTOMER_CREATED, "before")
        try:
            with session.begin_nested():
                outbox.emit(uow, EventType.CUSTOMER_CREATED, "failed")
                session.execute(text("select 1"))
                raise ValueError
        except ValueError:
            pass
        with session.begin_nested():  # released, not committed: nothing is written yet
            outbox.emit(uow, EventType.CUSTOMER_CREATED, "kept")
        assert pending_ids(session) == ["before", "kept"]
        session.rollback()
        assert pending_ids(session) == []
