"""Object Query (spec §6.3): GET /object-query/invoices, /object-query/credit-memos, /object-query/invoices/{key}.

Responses carry no `success` key; a bad query parameter is category 27 (HTTP 400).
"""

from __future__ import annotations

import base64
import re
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.documents.documents as documents
from bulkbill.api.zuora.documents.documents_render import (
    render_expanded_credit_memo,
    render_expanded_item,
    render_invoice,
)
from bulkbill.api.zuora.edge.call import ZuoraRequest, execute, zuora_request
from bulkbill.api.zuora.edge.errors import Category, Refused, zuora_code
from bulkbill.api.zuora.edge.openapi import BOOLEAN_FLAG, query
from bulkbill.api.zuora.edge.validation import parse_date
from bulkbill.core.invoicing.document_edits import DocumentStatus
from bulkbill.core.money import parse_integer
from bulkbill.services.customers.customers import get_customers
from bulkbill.services.documents.object_query import Filter, Sort, bill_run_numbers, query_documents
from bulkbill.services.invoicing.invoice_totals import load_lines
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Invoice

router = APIRouter()

_COMMON = {"id": "id", "accountId": "account_id", "status": "status", "dueDate": "due_date", "sourceId": "source_id"}
FIELDS = {
    "invoice": {**_COMMON, "invoiceNumber": "number", "invoiceDate": "document_date"},
    "credit_memo": {**_COMMON, "memoNumber": "number", "memoDate": "document_date"},
}
EXPANSIONS = {"invoice": "invoiceitems", "credit_memo": "creditmemoitems"}
STATUSES = {
    DocumentStatus.DRAFT: ("draft",),
    DocumentStatus.POSTED: ("open", "paid", "uncollectible"),
    DocumentStatus.CANCELED: ("void",),
}
_FILTER = re.compile(r"^([A-Za-z]+)\.(EQ|NE|LT|LE|GT|GE|IN):(.*)$", re.DOTALL)
_EQUALITY_ONLY = frozenset({"status", "source_id"})
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 10, 50
# One query's size, so no request builds a statement the database refuses (SQLite's expression
# tree stops at depth 1,000) or holds it long: filters are ANDed, IN lists become bound parameters.
MAX_FILTERS, MAX_IN_VALUES, MAX_SORTS = 50, 200, 10
_STRINGS = {"type": "array", "items": {"type": "string"}}
_SHAPE = (
    ("expand[]", _STRINGS, "invoiceitems (invoices) or creditmemoitems (credit memos); also accepted as expand"),
    ("fields[]", _STRINGS, "comma-separated field names to keep (id always kept); also accepted as fields"),
    ("includeNullFields", BOOLEAN_FLAG, "false: drop null fields"),
)
LIST_QUERY = query(
    ("filter[]", _STRINGS, "field.OP:value, OP one of EQ NE LT LE GT GE IN; also accepted as filter"),
    ("sort[]", _STRINGS, "field.ASC or field.DESC; also accepted as sort"),
    ("pageSize", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}, f"default {DEFAULT_PAGE_SIZE}"),
    ("cursor", {"type": "string"}, "the nextPage value of the previous page"),
    *_SHAPE,
)
ONE_QUERY = query(*_SHAPE)


def _bad(message: str) -> Refused:
    return Refused([(zuora_code(Category.INVALID_QUERY_PARAMETER), message)])


def _values(c: ZuoraRequest, name: str) -> list[str]:
    return [v for key in (f"{name}[]", name) for v in c.query.get(key, [])]


def _at_most(values: list[str], limit: int, name: str) -> list[str]:
    if len(values) > limit:
        raise _bad(f"At most {limit} {name}[] parameters per query, not {len(values)}.")
    return values


def _filter(document_type: str, text: str) -> Filter:
    match = _FILTER.match(text)
    if match is None:
        raise _bad(f"Invalid filter {text!r}: use field.OP:value with OP one of EQ, NE, LT, LE, GT, GE, IN.")
    name, op, raw = match.groups()
    field = FIELDS[document_type].get(name)
    if field is None:
        raise _bad(f"Invalid filter field {name!r}: use one of {', '.join(FIELDS[document_type])}.")
    if field in _EQUALITY_ONLY and op not in ("EQ", "NE", "IN"):
        raise _bad(f"The filter field {name!r} takes EQ, NE or IN only.")
    texts = [v.strip() for v in raw.strip().removeprefix("[").removesuffix("]").split(",")] if op == "IN" else [raw]
    if len(texts) > MAX_IN_VALUES:
        raise _bad(f"An IN filter takes at most {MAX_IN_VALUES} values, not {len(texts)} (filter on {name!r}).")
    values: list[Any] = []
    for value in texts:
        if field in ("document_date", "due_date"):
            try:
                values.append(parse_date(value))
            except ValueError as exc:
                raise _bad(f"{exc} (in filter {text[:100]!r})") from None
        elif field == "status":
            try:
                values.append(STATUSES[DocumentStatus(value)])
            except ValueError:
                raise _bad(f"Invalid status {value!r}: use Draft, Posted or Canceled.") from None
        else:
            values.append(value)
    return Filter(field, op, tuple(values))


def _sort(document_type: str, text: str) -> Sort:
    name, _, direction = text.rpartition(".")
    field = FIELDS[document_type].get(name)
    if field is None or direction.upper() not in ("ASC", "DESC"):
        raise _bad(f"Invalid sort {text!r}: use field.ASC or field.DESC on {', '.join(FIELDS[document_type])}.")
    return Sort(field, direction.upper() == "DESC")


def _page_size(c: ZuoraRequest) -> int:
    raw = c.query_value("pageSize")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    size = parse_integer(raw)
    if size is None or not 1 <= size <= MAX_PAGE_SIZE:
        raise _bad(f"pageSize must be between 1 and {MAX_PAGE_SIZE}.")
    return size


def _offset(c: ZuoraRequest) -> int:
    cursor = c.query_value("cursor")
    if not cursor:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode() + b"==").decode().partition(":")
        if kind != "o" or not (value.isascii() and value.isdigit()) or len(value) > 12:
            raise ValueError(cursor)
    except ValueError:
        raise _bad("Invalid cursor: pass the nextPage value of the previous page.") from None
    return int(value)


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _expand(c: ZuoraRequest, document_type: str) -> bool:
    wanted = {e.strip().lower() for e in _values(c, "expand") if e.strip()}
    unknown = wanted - {EXPANSIONS[document_type]}
    if unknown:
        raise _bad(f"Unsupported expand: {', '.join(sorted(unknown))}; use {EXPANSIONS[document_type]}.")
    return bool(wanted)


def _shape(c: ZuoraRequest, body: dict[str, Any]) -> dict[str, Any]:
    """fields[] keeps only the named keys (and id); includeNullFields=false drops nulls."""
    fields = {f.strip().lower() for v in _values(c, "fields") for f in v.split(",") if f.strip()}
    if fields:
        body = {k: v for k, v in body.items() if k.lower() in fields or k == "id" or isinstance(v, list)}
    if (c.query_value("includeNullFields") or "").lower() == "false":
        body = {k: v for k, v in body.items() if v is not None}
    return body


def _render(uow: UnitOfWork, c: ZuoraRequest, docs: list[Invoice], expand: bool) -> list[dict[str, Any]]:
    customers = get_customers(uow, {d.customer_id for d in docs})
    numbers = bill_run_numbers(uow, docs)
    out = []
    for doc in docs:
        customer, number = customers.get(doc.customer_id), numbers.get(doc.bill_run_id or "")
        if doc.document_type == "credit_memo":
            body = render_expanded_credit_memo(doc, customer, number)
            key = "creditMemoItems"
        else:
            body = render_invoice(doc, customer, number)
            key = "invoiceItems"
        if expand:
            body[key] = [render_expanded_item(e, doc) for e in load_lines(uow, doc.id)]
        out.append(_shape(c, body))
    return out


def _list(call: ZuoraRequest, document_type: str) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        filters = [_filter(document_type, f) for f in _at_most(_values(c, "filter"), MAX_FILTERS, "filter")]
        sorts = [_sort(document_type, s) for s in _at_most(_values(c, "sort"), MAX_SORTS, "sort")]
        size, offset, expand = _page_size(c), _offset(c), _expand(c, document_type)
        page = query_documents(
            uow,
            document_type=document_type,
            filters=filters,
            sorts=sorts,
            limit=size,
            offset=offset,
            org_ids=c.org_ids,
        )
        return {
            "data": _render(uow, c, page.documents, expand),
            "nextPage": _cursor(offset + size) if page.has_more else None,
        }

    return execute(call, run)


@router.get("/object-query/invoices", openapi_extra=LIST_QUERY)
def query_invoices(call: ZuoraRequest = Depends(zuora_request)) -> Response:
    return _list(call, "invoice")


@router.get("/object-query/credit-memos", openapi_extra=LIST_QUERY)
def query_credit_memos(call: ZuoraRequest = Depends(zuora_request)) -> Response:
    return _list(call, "credit_memo")


@router.get("/object-query/invoices/{invoice_key}", openapi_extra=ONE_QUERY)
def query_invoice_by_key(invoice_key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        expand = _expand(c, "invoice")
        invoice = documents.find_document(uow, invoice_key, c.org_ids, document_type="invoice")
        return _render(uow, c, [invoice], expand)[0]

    return execute(call, run)
