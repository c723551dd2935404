"""Document files (issue 14): GET /v1/invoices/{key}/files, /v1/credit-memos/{key}/files, /v1/files/{file-id}.

Zuora's reference lists a credit memo's files at /v1/credit-memos/{key}/files (zuora-sdk 3.21.0 has no
call for it: only the upload, POST on the same path); its older reference spells the credit memo paths
/v1/creditmemos/..., which bulkbill serves for every credit memo read (spec §4.6), so here too.

A posted document has a PDF, rendered on the first request for it and kept by content hash; an edit
that changes what it shows makes the next request render a new version (versionNumber + 1). A draft
has no file (an empty list). `pdfFileUrl` is relative, as Zuora's: /v1/files/{file-id}.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.documents.documents as documents
from bulkbill.api.zuora.documents.invoices import PAGING, page_params, paged
from bulkbill.api.zuora.edge.call import ZuoraRequest, execute, zuora_request
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.rendering.files import document_files, get_file
from bulkbill.storage.tables import Invoice

router = APIRouter()


def _list(key: str, call: ZuoraRequest, *, document_type: str, spelling: str, field: str) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        page_params(c)
        document = documents.find_document(uow, key, c.org_ids, document_type=document_type)
        files = [
            {"id": f.id, "versionNumber": f.version, "pdfFileUrl": f"/v1/files/{f.id}"}
            for f in document_files(uow, document)
        ]
        return paged(c, f"/v1/{spelling}/{key}/files", files, field)

    return execute(call, run)


@router.get("/v1/invoices/{invoice_key}/files", openapi_extra=PAGING)
def invoice_files(invoice_key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    return _list(invoice_key, call, document_type="invoice", spelling="invoices", field="invoiceFiles")


@router.get("/v1/credit-memos/{credit_memo_key}/files", openapi_extra=PAGING)
def credit_memo_files(credit_memo_key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    return _list(credit_memo_key, call, document_type="credit_memo", spelling="credit-memos", field="creditMemoFiles")


@router.get("/v1/creditmemos/{credit_memo_key}/files", openapi_extra=PAGING)
def credit_memo_files_older_spelling(credit_memo_key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    return _list(credit_memo_key, call, document_type="credit_memo", spelling="creditmemos", field="creditMemoFiles")


@router.get("/v1/files/{file_id}")
def get_document_file(file_id: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    found: dict[str, bytes] = {}

    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        row = get_file(uow, file_id)
        invoice = uow.session.get(Invoice, (uow.tenant_id, row.invoice_id))
        assert invoice is not None  # a foreign key holds it
        # Within the caller's orgs only: a file of another org's document is not found, like the document.
        documents.find_document(uow, invoice.id, c.org_ids, document_type=invoice.document_type)
        found["body"] = row.body
        return {"success": True}

    answer = execute(call, run)
    if "body" not in found:
        return answer
    return Response(found["body"], media_type="application/pdf", headers={"Content-Disposition": "inline"})
