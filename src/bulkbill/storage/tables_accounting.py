"""accounting tables (see tables.py for the conventions: tenant_id in every key and foreign key)."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bulkbill.storage.tables import Base
from bulkbill.storage.types import IdString


class AccountingPeriod(Base):
    """A named date range of a tenant's books; an invoice date may not fall in a closed one."""

    __tablename__ = "accounting_periods"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # ISO dates (YYYY-MM-DD) compare correctly as text on both databases.
    start_date: Mapped[str] = mapped_column(String(10))
    end_date: Mapped[str] = mapped_column(String(10))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    fiscal_quarter: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    created: Mapped[int] = mapped_column(BigInteger)
    updated: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        UniqueConstraint("tenant_id", "name"),
        Index("ix_accounting_periods_tenant_dates", "tenant_id", "start_date", "end_date"),
    )
