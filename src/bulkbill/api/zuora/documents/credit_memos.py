"""Credit memos, read only (spec §4.6): /v1/credit-memos/{key} and the older /v1/creditmemos/{key}."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.documents.documents as documents
from bulkbill.api.zuora.documents.documents_render import render_credit_memo, render_credit_memo_item
from bulkbill.api.zuora.documents.invoices import PAGING, page_params, paged
from bulkbill.api.zuora.edge.call import ZuoraRequest, execute, zuora_request
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.documents.object_query import bill_run_numbers
from bulkbill.services.invoicing.invoice_totals import load_lines
from bulkbill.services.invoicing.invoice_views import load_related
from bulkbill.services.platform.uow import UnitOfWork

router = APIRouter()


def _get(key: str, call: ZuoraRequest) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        memo = documents.find_document(uow, key, c.org_ids, document_type="credit_memo")
        customer = get_customer(uow, memo.customer_id, include_deleted=True)
        number = bill_run_numbers(uow, [memo]).get(memo.bill_run_id or "")
        return {"success": True, **render_credit_memo(memo, customer, number)}

    return execute(call, run)


def _items(key: str, call: ZuoraRequest, spelling: str) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        page_params(c)
        memo = documents.find_document(uow, key, c.org_ids, document_type="credit_memo")
        entries = load_lines(uow, memo.id)
        rates = load_related(uow, [], [e.item for e in entries], with_customers=False).tax_rates
        items = [render_credit_memo_item(e, memo, rates) for e in entries]
        return paged(c, f"/v1/{spelling}/{key}/items", items, "items")

    return execute(call, run)


@router.get("/v1/credit-memos/{memo_key}")
def get_credit_memo(memo_key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    return _get(memo_key, call)


@router.get("/v1/creditmemos/{memo_key}")
def get_credit_memo_old_path(memo_key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    return _get(memo_key, call)


@router.get("/v1/credit-memos/{memo_key}/items", openapi_extra=PAGING)
def get_credit_memo_items(memo_key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    return _items(memo_key, call, "credit-memos")


@router.get("/v1/creditmemos/{memo_key}/items", openapi_extra=PAGING)
def get_credit_memo_items_old_path(memo_key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    return _items(memo_key, call, "creditmemos")
