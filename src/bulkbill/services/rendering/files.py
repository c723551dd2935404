"""Rendered files of documents: made on first request, kept by content hash, versioned per document.

A bill run of 100k invoices renders nothing until someone asks; the first request renders and stores
the PDF; later ones read it. When a document's content changes (an edit, a payment, a void, new
branding), its hash changes and the next request renders version n+1; the old versions stay listed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from bulkbill.core.documents.model import Document, content_hash
from bulkbill.core.errors import NotFound
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.rendering.build import build_document, has_document
from bulkbill.services.rendering.pdf import render_pdf
from bulkbill.storage.tables import Invoice
from bulkbill.storage.tables_documents import DocumentFile


@dataclass(frozen=True, slots=True)
class FileInfo:
    id: str
    version: int
    created: int


def new_file_id() -> str:
    """A Zuora-style file id: 32 hexadecimal characters, random."""
    return secrets.token_hex(16)


def current_file(uow: UnitOfWork, invoice: Invoice, document: Document | None = None) -> DocumentFile:
    """The PDF of the document as it is now: the stored one when its content is unchanged, else a new version."""
    document = document or build_document(uow, invoice)
    digest = content_hash(document)
    t = uow.tenant_id
    found = uow.session.scalars(
        select(DocumentFile).where(
            DocumentFile.tenant_id == t, DocumentFile.invoice_id == invoice.id, DocumentFile.content_hash == digest
        )
    ).first()
    if found is not None:
        return found
    latest = uow.session.scalar(
        select(func.max(DocumentFile.version)).where(DocumentFile.tenant_id == t, DocumentFile.invoice_id == invoice.id)
    )
    row = DocumentFile(
        tenant_id=t,
        id=new_file_id(),
        invoice_id=invoice.id,
        version=(latest or 0) + 1,
        content_hash=digest,
        content_type="application/pdf",
        body=render_pdf(document),
        created=uow.now,
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def document_files(uow: UnitOfWork, invoice: Invoice) -> list[FileInfo]:
    """Every version of a posted document's PDF, newest first (the current one rendered if it was not yet)."""
    if not has_document(invoice):
        return []
    current_file(uow, invoice)
    rows = uow.session.execute(
        select(DocumentFile.id, DocumentFile.version, DocumentFile.created)
        .where(DocumentFile.tenant_id == uow.tenant_id, DocumentFile.invoice_id == invoice.id)
        .order_by(DocumentFile.version.desc())
    )
    return [FileInfo(i, v, c) for i, v, c in rows]


def get_file(uow: UnitOfWork, file_id: str) -> DocumentFile:
    """One of the tenant's files by id; another tenant's file is not found."""
    row = uow.session.get(DocumentFile, (uow.tenant_id, file_id))
    if row is None:
        raise NotFound("file", file_id)
    return row


def invoice_for_token(uow: UnitOfWork, token: str) -> Invoice:
    """The finalized document a public token names (its tenant becomes the unit of work's); else not found."""
    invoice = uow.session.scalars(select(Invoice).where(Invoice.document_token == token)).first()
    if invoice is None or not has_document(invoice):
        raise NotFound("document", token)
    uow.tenant_id = invoice.tenant_id
    return invoice
