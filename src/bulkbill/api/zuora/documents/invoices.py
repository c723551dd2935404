"""Zuora invoices (spec §4): read, items, post, bulk-post, edit one or many, create standalone."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.documents.document_edits as document_edits
import bulkbill.services.documents.documents as documents
from bulkbill.api.zuora.documents.documents_render import (
    render_invoice,
    render_invoice_update,
    render_item,
)
from bulkbill.api.zuora.documents.invoice_models import (
    BulkPostIn,
    BulkUpdateIn,
    InvoiceChangesIn,
    PostIn,
    StandaloneIn,
    custom_values,
    document_edit,
    item_edit,
)
from bulkbill.api.zuora.edge.call import ZuoraRequest, execute, zuora_request
from bulkbill.api.zuora.edge.errors import Refused, process_id, reasons_for, refusal
from bulkbill.api.zuora.edge.openapi import json_body, query
from bulkbill.api.zuora.edge.validation import PAGE_NUMBER, parse_model, query_integer
from bulkbill.core.errors import (
    BillingError,
    ErrorCode,
    FieldError,
    InputCollector,
    InvalidInput,
    InvalidStateError,
    NotFound,
)
from bulkbill.services.customers.accounts import find_account
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.customers.org_scope import resolve_orgs
from bulkbill.services.documents.object_query import bill_run_numbers
from bulkbill.services.invoicing.invoice_totals import load_lines
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer, Invoice

router = APIRouter()
NOT_DRAFT = (59210020, "Only invoices with Draft status can be posted.")
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 40
PAGING = query(
    ("page", PAGE_NUMBER, "1-based page number"),
    (
        "pageSize",
        PAGE_NUMBER,
        f"items per page (default {DEFAULT_PAGE_SIZE}; more than {MAX_PAGE_SIZE} counts as {MAX_PAGE_SIZE})",
    ),
)


def invoice_body(uow: UnitOfWork, invoice: Invoice) -> dict[str, Any]:
    customer = get_customer(uow, invoice.customer_id, include_deleted=True)
    number = bill_run_numbers(uow, [invoice]).get(invoice.bill_run_id or "")
    return {"success": True, **render_invoice(invoice, customer, number)}


def _check_errors(errors: list[FieldError], exc: InvalidInput | None, owners: dict[int, str] | None) -> None:
    """Report the dialect's own problems together with the service's, all at once."""
    if exc is None and not errors:
        return
    collected = InputCollector()
    collected.errors.extend(errors + (exc.errors if exc is not None else []))
    try:
        collected.raise_if_any()
    except InvalidInput as merged:
        raise refusal(merged, owners) from exc


@router.get("/v1/invoices/{invoice_key}")
def get_invoice(invoice_key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        invoice = documents.find_document(uow, invoice_key, c.org_ids, document_type="invoice")
        return invoice_body(uow, invoice)

    return execute(call, run)


def page_params(c: ZuoraRequest) -> tuple[int, int]:
    """page (≥ 1, default 1) and pageSize (≥ 1, default 20; larger than 40 is treated as 40)."""
    page = query_integer(c.query_value("page"), "page", default=1)
    size = query_integer(c.query_value("pageSize"), "pageSize", default=DEFAULT_PAGE_SIZE)
    return page, min(size, MAX_PAGE_SIZE)


def paged(c: ZuoraRequest, path: str, rows: list[Any], key: str) -> dict[str, Any]:
    page, size = page_params(c)
    start = (page - 1) * size
    body: dict[str, Any] = {"success": True, key: rows[start : start + size]}
    if start + size < len(rows):
        body["nextPage"] = f"{c.base_url}{path}?page={page + 1}&pageSize={size}"
    return body


@router.get("/v1/invoices/{invoice_key}/items", openapi_extra=PAGING)
def get_invoice_items(invoice_key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        page_params(c)
        invoice = documents.find_document(uow, invoice_key, c.org_ids, document_type="invoice")
        items = [render_item(e, invoice) for e in load_lines(uow, invoice.id)]
        return paged(c, f"/v1/invoices/{invoice_key}/items", items, "invoiceItems")

    return execute(call, run)


@router.put("/v1/invoices/{invoice_key}/post", openapi_extra=json_body(PostIn))
def post_invoice(invoice_key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        body = parse_model(PostIn, c.body)
        try:
            invoice = documents.post_document(uow, invoice_key, c.org_ids, invoice_date=body.invoice_date)
        except InvalidStateError as exc:
            raise Refused([NOT_DRAFT]) from exc
        return {"id": invoice.id, "success": True}

    return execute(call, run)


def _post_failure(entry_id: str, exc: BillingError) -> dict[str, Any]:
    if isinstance(exc, InvalidStateError):
        reasons = [{"code": NOT_DRAFT[0], "message": NOT_DRAFT[1]}]
    else:
        reasons = reasons_for(exc)[1]
    return {"id": entry_id, "success": False, "processId": process_id(), "reasons": reasons}


@router.post("/v1/invoices/bulk-post", openapi_extra=json_body(BulkPostIn))
def bulk_post_invoices(call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        body = parse_model(BulkPostIn, c.body)
        resolve_orgs(uow, c.org_ids)  # an org the caller cannot access fails the whole call (403)
        requests = []
        for i, entry in enumerate(body.invoices):
            errors: list[FieldError] = []
            custom = custom_values(entry, ("invoices", i), errors)
            _check_errors(errors, None, {i: entry.id})
            requests.append(documents.PostRequest(entry.id, entry.invoice_date, custom))
        results = documents.post_many(uow, requests, c.org_ids)
        out = []
        for entry, result in zip(body.invoices, results, strict=True):
            if isinstance(result, BillingError):
                out.append(_post_failure(entry.id, result))
            else:
                out.append({"id": result.id, "success": True})
        return {"invoices": out, "success": True}

    return execute(call, run)


@router.put("/v1/invoices", openapi_extra=json_body(BulkUpdateIn))
def bulk_update_invoices(call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        raw = c.body.get("invoices") if isinstance(c.body, dict) else None
        owners = {i: str(e.get("id")) for i, e in enumerate(raw or []) if isinstance(e, dict) and e.get("id")}
        try:
            body = parse_model(BulkUpdateIn, c.body)
        except InvalidInput as exc:
            raise refusal(exc, owners) from exc
        currencies = documents.document_currencies(uow, [e.id for e in body.invoices])
        errors: list[FieldError] = []
        edits = [
            document_edit(e, e.id, currencies.get(e.id, "usd"), ("invoices", i), errors)
            for i, e in enumerate(body.invoices)
        ]
        try:
            document_edits.update_documents(uow, edits, c.org_ids)
        except InvalidInput as exc:
            _check_errors(errors, exc, owners)
        _check_errors(errors, None, owners)
        return {"success": True}

    return execute(call, run)


@router.put("/v1/invoices/{invoice_key}", openapi_extra=json_body(InvoiceChangesIn))
def update_invoice(invoice_key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        invoice = documents.find_document(uow, invoice_key, c.org_ids, document_type="invoice")
        try:
            body = parse_model(InvoiceChangesIn, c.body)
        except InvalidInput as exc:
            raise refusal(exc) from exc
        errors: list[FieldError] = []
        edit = document_edit(body, invoice.id, invoice.currency, (), errors)
        try:
            document_edits.update_documents(uow, [edit], c.org_ids)
        except InvalidInput as exc:
            _check_errors(errors, exc, None)
        _check_errors(errors, None, None)
        return {"success": True, **render_invoice_update(invoice)}

    return execute(call, run)


def _account(uow: UnitOfWork, body: StandaloneIn, org_ids: list[str] | None) -> Customer:
    """The invoice's account: accountId or accountNumber (both: the same account)."""
    if body.account_id is None and body.account_number is None:
        raise InvalidInput(
            [FieldError(("accountId",), ErrorCode.PARAMETER_MISSING, "accountId or accountNumber is required")]
        )
    found = []
    for name, key in (("accountId", body.account_id), ("accountNumber", body.account_number)):
        if key is None:
            continue
        try:
            found.append(find_account(uow, key, org_ids))
        except NotFound as exc:
            raise Refused([(58490020, f"No account is found with {name} {key}.")]) from exc
    if len({a.id for a in found}) > 1:
        raise InvalidInput(
            [
                FieldError(
                    ("accountNumber",), ErrorCode.INVALID_VALUE, "accountId and accountNumber name different accounts."
                )
            ]
        )
    return found[0]


@router.post("/v1/invoices", openapi_extra=json_body(StandaloneIn))
def create_standalone_invoice(call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        try:
            body = parse_model(StandaloneIn, c.body)
        except InvalidInput as exc:
            raise refusal(exc) from exc
        account = _account(uow, body, c.org_ids)
        currency = (account.currency or "usd").lower()
        errors: list[FieldError] = []
        if body.currency is not None and body.currency.lower() != currency:
            errors.append(
                FieldError(("currency",), ErrorCode.INVALID_VALUE, f"The account's currency is {currency.upper()}.")
            )
        items = []
        for i, item in enumerate(body.invoice_items):
            edit = item_edit(item, currency, ("invoiceItems", i), errors)
            items.append(replace(edit.as_new(), discounts=tuple(d.as_new() for d in edit.discounts)))
        custom = custom_values(body, (), errors)
        new_invoice = documents.NewStandalone(
            account=account,
            invoice_date=body.invoice_date,
            items=tuple(items),
            due_date=body.due_date,
            invoice_number=body.invoice_number,
            post=body.status == "Posted",
            auto_pay=body.auto_pay,
            comments=body.comments,
            payment_term=body.payment_term,
            template_id=body.template_id,
            transferred_to_accounting=body.transferred_to_accounting,
            attributes={
                "billToContactId": body.bill_to_contact_id,
                "soldToContactId": body.sold_to_contact_id,
                "shipToContactId": body.ship_to_contact_id,
            },
            custom_fields=custom,
        )
        invoice = None
        try:
            invoice = documents.create_standalone(uow, new_invoice)
        except InvalidInput as exc:
            _check_errors(errors, exc, None)
        _check_errors(errors, None, None)
        assert invoice is not None
        return invoice_body(uow, invoice)

    return execute(call, run)
