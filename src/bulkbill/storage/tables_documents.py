"""Rendered document files (see tables.py for the conventions: tenant_id in every key and foreign key)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bulkbill.storage.tables import Base, tenant_fk
from bulkbill.storage.types import IdString


class DocumentFile(Base):
    """One rendered PDF of an invoice or credit memo. A document whose content changed gets a new
    version (its content hash differs); the same content is never rendered twice."""

    __tablename__ = "document_files"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Zuora's file ids are 32 hexadecimal characters.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(IdString)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32), default="application/pdf")
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        tenant_fk(["invoice_id"], "invoices"),
        UniqueConstraint("tenant_id", "invoice_id", "version"),
        UniqueConstraint("tenant_id", "invoice_id", "content_hash"),
    )
