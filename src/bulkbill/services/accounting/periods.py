"""Accounting periods: create, close, reopen; and the check every document date goes through.

ensure_open_period(uow, date)   # RuleViolation when the date falls in a closed period
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from bulkbill.core.accounting.periods import (
    PeriodAction,
    PeriodSpan,
    PeriodStatus,
    check_date_open,
    check_new_period,
    ensure_date_open,
    ensure_period_transition,
)
from bulkbill.core.errors import InputCollector, NotFound, Path
from bulkbill.services.platform.locks import lock_tenant
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables_accounting import AccountingPeriod


@dataclass(frozen=True)
class NewPeriod:
    name: str
    start: dt.date
    end: dt.date
    fiscal_year: int
    fiscal_quarter: int | None = None
    notes: str | None = None


def _span(row: AccountingPeriod) -> PeriodSpan:
    return PeriodSpan(
        row.name, dt.date.fromisoformat(row.start_date), dt.date.fromisoformat(row.end_date), PeriodStatus(row.status)
    )


def _periods(uow: UnitOfWork, *, closed_only: bool = False) -> list[PeriodSpan]:
    query = select(AccountingPeriod).where(AccountingPeriod.tenant_id == uow.tenant_id)
    if closed_only:
        query = query.where(AccountingPeriod.status == PeriodStatus.CLOSED.value)
    return [_span(r) for r in uow.session.scalars(query)]


def create_period(uow: UnitOfWork, new: NewPeriod) -> AccountingPeriod:
    """A new Open period; names are unique and periods never overlap (checked under the tenant's lock)."""
    lock_tenant(uow)
    errors = InputCollector()
    check_new_period(new.name, new.start, new.end, _periods(uow), errors)
    errors.raise_if_any()
    row = AccountingPeriod(
        tenant_id=uow.tenant_id,
        id=secrets.token_hex(16),
        name=new.name,
        start_date=new.start.isoformat(),
        end_date=new.end.isoformat(),
        fiscal_year=new.fiscal_year,
        fiscal_quarter=new.fiscal_quarter,
        notes=new.notes,
        status=PeriodStatus.OPEN.value,
        created=uow.now,
        updated=uow.now,
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def get_period(uow: UnitOfWork, period_id: str, *, for_update: bool = False) -> AccountingPeriod:
    query = select(AccountingPeriod).where(
        AccountingPeriod.tenant_id == uow.tenant_id, AccountingPeriod.id == period_id
    )
    if for_update and uow.is_postgres:
        query = query.with_for_update()
    row = uow.session.scalar(query)
    if row is None:
        raise NotFound("accounting period", period_id)
    return row


def change_period(uow: UnitOfWork, period_id: str, action: PeriodAction) -> AccountingPeriod:
    """Close an Open period or reopen a Closed one."""
    row = get_period(uow, period_id, for_update=True)
    row.status = ensure_period_transition(action, row.status).value
    row.updated = uow.now
    uow.session.flush()
    return row


def closed_periods(uow: UnitOfWork) -> Sequence[PeriodSpan]:
    """The tenant's closed periods, for checking many dates with one query."""
    return _periods(uow, closed_only=True)


def ensure_open_period(uow: UnitOfWork, day: dt.date) -> None:
    """Refuse (RuleViolation, Zuora category 30) a document date inside a closed accounting period."""
    ensure_date_open(day, closed_periods(uow))


def check_open_period(
    uow: UnitOfWork, day: dt.date, path: Path, errors: InputCollector, periods: Sequence[PeriodSpan] | None = None
) -> None:
    """The collected form of ensure_open_period (code "closed_period")."""
    check_date_open(day, closed_periods(uow) if periods is None else periods, path, errors)
