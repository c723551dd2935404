"""Bill runs: POST /v1/bill-runs, GET /v1/bill-runs/{id}, PUT /v1/bill-runs/{id}/post, and bulkbill's plan/commit.

A run executes inside the request (the response shows it Completed, or Posted with autoPost)
unless workers serve the database and the run is large: then the response shows it Pending and
GET follows it (README "Bill runs and workers"). bulkbill extensions, none of which Zuora has:

* `"bulkbillOptions": {"planOnly": true}` on POST freezes the exact items the run will bill and
  answers status "Planned" with a `plan` (per-account counts and totals); nothing is billed yet;
* PUT /v1/bill-runs/{id}/commit bills exactly the frozen items (those still unbilled);
* GET /v1/bill-runs/{id}/accounts pages through the run's accounts, planned or billed;
* every bill-run response carries `progress` (chunks and lines, planned and done).

Org scope (Decision 10): a run bills only accounts of the call's Zuora-Org-Ids and, when the body
has `organizationLabels`, of those orgs (a label the caller cannot access: 403, category 10). A
call naming orgs reads, posts and commits only runs inside them; others are not found
(services.bill_runs.in_call_scope).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BeforeValidator, Field

import bulkbill.services.billing.bill_runs as service
from bulkbill.api.zuora.edge.call import ZuoraRequest, execute, zuora_request
from bulkbill.api.zuora.edge.money import to_major
from bulkbill.api.zuora.edge.openapi import json_body, no_body, query
from bulkbill.api.zuora.edge.validation import PAGE_NUMBER, ZDate, integer_input, parse_model, query_integer
from bulkbill.api.zuora.orders.order_common import CamelModel, orgs_of, zuora_reasons
from bulkbill.api.zuora.orders.order_render import render_bill_run
from bulkbill.core.billing.bill_runs import BillRunStatus
from bulkbill.core.errors import ErrorCode, InputCollector
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables_orders import BillRun

router = APIRouter()
ACCOUNT_FILTERS = frozenset({"Account", "Subscription"})
# GET /v1/bill-runs/{id}/accounts and the accounts a plan lists inline.
DEFAULT_ACCOUNTS_PAGE, MAX_ACCOUNTS_PAGE = 100, 1000
ACCOUNT_PAGING = query(
    ("page", PAGE_NUMBER, "1-based page number"),
    (
        "pageSize",
        PAGE_NUMBER,
        f"accounts per page (default {DEFAULT_ACCOUNTS_PAGE}; at most {MAX_ACCOUNTS_PAGE})",
    ),
)


class FilterModel(CamelModel):
    filter_type: Literal["Account", "Subscription", "InvoiceSchedule", "BillRunErrors", "FilterCondition"] | None = None
    account_id: str | None = None
    subscription_id: str | None = None


class OrganizationLabel(CamelModel):
    """An org the run is created for: its ID or its name (bulkbill's org label is either, §6.1)."""

    organization_id: str | None = None
    organization_name: str | None = None


class BulkbillOptions(CamelModel):
    """bulkbill's own options (no Zuora field has this name)."""

    plan_only: bool | None = None


DayOfMonth = Annotated[int, Field(ge=1, le=31), BeforeValidator(integer_input)]


class CreateBillRun(CamelModel):
    """CreateBillRunRequest: ad-hoc runs, for every account or one account."""

    name: str | None = None
    batches: list[str] | None = Field(default=None, min_length=1, max_length=300)
    bill_cycle_day: Annotated[str, Field(max_length=16)] | DayOfMonth | None = None
    bill_run_filters: list[FilterModel] | None = None
    bill_run_type: Literal["Regular", "CatchUp"] | None = None
    charge_type_to_exclude: list[str] | None = Field(default=None, max_length=2)
    auto_email: bool | None = None
    auto_post: bool | None = None
    auto_renewal: bool | None = None
    no_email_for_zero_amount_invoice: bool | None = None
    schedule: dict[str, Any] | None = None
    invoice_date: ZDate | None = None
    target_date: ZDate | None = None
    organization_labels: list[OrganizationLabel] | None = None
    include_subscriptions: bool | None = None
    include_order_line_items: bool | None = None
    bulkbill_options: BulkbillOptions | None = None


class PostBillRun(CamelModel):
    invoice_date: ZDate | None = None


ECHOED = (
    "batches",
    "billCycleDay",
    "billRunFilters",
    "billRunType",
    "chargeTypeToExclude",
    "autoEmail",
    "autoRenewal",
    "noEmailForZeroAmountInvoice",
    "organizationLabels",
    "includeSubscriptions",
)


def _accounts(body: CreateBillRun, errors: InputCollector) -> tuple[str, ...] | None:
    if body.batches and body.bill_run_filters:
        errors.add(("billRunFilters",), ErrorCode.INVALID_VALUE, "Specify either batches or billRunFilters, not both.")
    if not body.bill_run_filters:
        return None
    accounts: list[str] = []
    for i, f in enumerate(body.bill_run_filters):
        if f.filter_type not in ACCOUNT_FILTERS:
            errors.add(
                ("billRunFilters", i, "filterType"),
                ErrorCode.INVALID_VALUE,
                "Only Account and Subscription filters are supported.",
            )
        elif f.account_id is None:
            errors.missing(("billRunFilters", i, "accountId"))
        elif f.account_id not in accounts:
            accounts.append(f.account_id)
    if len(accounts) > 1:
        errors.add(("billRunFilters",), ErrorCode.INVALID_VALUE, "A bill run's filters must all name the same account.")
    return tuple(accounts)


def _org_labels(body: CreateBillRun, errors: InputCollector) -> frozenset[str] | None:
    """organizationLabels as org labels (None: absent or empty, the run is not restricted to orgs).

    Each item names its org by `organizationId` or `organizationName`; bulkbill's org label is the
    one string an account was created with, so either field may carry it (both: the same one).
    """
    if not body.organization_labels:
        return None
    labels: set[str] = set()
    for i, item in enumerate(body.organization_labels):
        named = {v.strip() for v in (item.organization_id, item.organization_name) if v is not None and v.strip()}
        if not named:
            errors.add(
                ("organizationLabels", i, "organizationId"),
                ErrorCode.PARAMETER_MISSING,
                "Either organizationId or organizationName is required.",
            )
        elif len(named) > 1:
            errors.add(
                ("organizationLabels", i, "organizationName"),
                ErrorCode.INVALID_VALUE,
                "organizationId and organizationName name different orgs.",
            )
        else:
            labels |= named
    return frozenset(labels)


def _progress(run: BillRun) -> dict[str, Any]:
    return {
        "totalChunks": run.total_chunks,
        "chunksDone": run.chunks_done,
        "plannedLines": run.planned_lines,
        "billedLines": run.billed_lines,
    }


def _totals(totals: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "currency": currency.upper(),
            "invoiceAmount": to_major(amounts.get("invoice", 0), currency),
            "creditMemoAmount": to_major(amounts.get("creditMemo", 0), currency),
        }
        for currency, amounts in sorted(totals.items())
    ]


def _account_rows(uow: UnitOfWork, run: BillRun, offset: int, limit: int) -> list[dict[str, Any]]:
    return [
        {
            "accountId": a.account_id,
            "accountNumber": a.account_number,
            "status": a.status,
            "numberOfItems": a.items,
            "numberOfInvoices": a.invoices,
            "numberOfCreditMemos": a.credit_memos,
            "totals": _totals(dict(a.totals)),
        }
        for a in service.account_lines(uow, run, offset=offset, limit=limit)
    ]


def _plan(uow: UnitOfWork, run: BillRun, base_url: str) -> dict[str, Any]:
    """A frozen plan: its counts and totals, and its first accounts (the rest through /accounts)."""
    summary = run.plan_summary or {}
    body: dict[str, Any] = {
        "numberOfAccounts": summary.get("accounts", 0),
        "numberOfItems": summary.get("items", 0),
        "numberOfInvoices": summary.get("invoices", 0),
        "numberOfCreditMemos": summary.get("creditMemos", 0),
        "totals": _totals(summary.get("totals", {})),
        "accounts": _account_rows(uow, run, 0, MAX_ACCOUNTS_PAGE),
    }
    if summary.get("accounts", 0) > MAX_ACCOUNTS_PAGE:
        body["nextPage"] = f"{base_url}/v1/bill-runs/{run.id}/accounts?page=2&pageSize={MAX_ACCOUNTS_PAGE}"
    return body


def _body(uow: UnitOfWork, run: BillRun, c: ZuoraRequest) -> dict[str, Any]:
    body = {"success": True, **render_bill_run(run), "progress": _progress(run)}
    if run.status == BillRunStatus.PLANNED:
        body["plan"] = _plan(uow, run, c.base_url)
    return body


@router.post("/v1/bill-runs", openapi_extra=json_body(CreateBillRun))
def create_bill_run(call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        with zuora_reasons():
            body = parse_model(CreateBillRun, c.body)
            errors = InputCollector()
            accounts = _accounts(body, errors)
            labels = _org_labels(body, errors)
            if body.schedule is not None:
                errors.add(
                    ("schedule",), ErrorCode.INVALID_VALUE, "Scheduled bill runs are not supported; create ad-hoc runs."
                )
            errors.raise_if_any()
            data = body.model_dump(by_alias=True, exclude_unset=True, mode="json")
            # A catch-up run generates no billing documents.
            bill_lines = body.include_order_line_items is not False and body.bill_run_type != "CatchUp"
            plan_only = bool(body.bulkbill_options and body.bulkbill_options.plan_only)
            bill_run = service.create_bill_run(
                uow,
                service.NewBillRun(
                    target_date=body.target_date,
                    invoice_date=body.invoice_date,
                    name=body.name,
                    account_keys=accounts,
                    auto_post=bool(body.auto_post),
                    include_order_line_items=bill_lines,
                    settings={name: data[name] for name in ECHOED if name in data},
                    plan_only=plan_only,
                    org_labels=labels,
                ),
                orgs=orgs_of(uow, c),
            )
            if not plan_only:
                service.start_bill_run(uow, bill_run)
        return _body(uow, bill_run, c)

    return execute(call, run)


@router.get("/v1/bill-runs/{bill_run_id}")
def get_bill_run(bill_run_id: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        return _body(uow, service.get_bill_run(uow, bill_run_id, orgs=orgs_of(uow, c)), c)

    return execute(call, run)


@router.put("/v1/bill-runs/{bill_run_id}/post", openapi_extra=json_body(PostBillRun))
def post_bill_run(bill_run_id: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        with zuora_reasons():
            body = parse_model(PostBillRun, c.body)
            orgs = orgs_of(uow, c)
            bill_run = service.post_bill_run(uow, bill_run_id, invoice_date=body.invoice_date, orgs=orgs)
        return {"success": True, **render_bill_run(bill_run), "progress": _progress(bill_run)}

    return execute(call, run)


@router.put("/v1/bill-runs/{bill_run_id}/commit", openapi_extra=no_body())
def commit_bill_run(bill_run_id: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    """bulkbill: bill exactly what a Planned run froze (inline, or queued for the workers when large)."""

    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        with zuora_reasons():
            bill_run = service.commit_plan(uow, bill_run_id, orgs=orgs_of(uow, c))
        return _body(uow, bill_run, c)

    return execute(call, run)


def _account_page(c: ZuoraRequest) -> tuple[int, int]:
    page = query_integer(c.query_value("page"), "page", default=1)  # its SQL OFFSET fits a BIGINT
    size = query_integer(c.query_value("pageSize"), "pageSize", default=DEFAULT_ACCOUNTS_PAGE)
    return page, min(size, MAX_ACCOUNTS_PAGE)


@router.get("/v1/bill-runs/{bill_run_id}/accounts", openapi_extra=ACCOUNT_PAGING)
def get_bill_run_accounts(bill_run_id: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    """bulkbill: the run's accounts in id order with their items, documents and totals (planned or billed)."""

    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        page, size = _account_page(c)
        bill_run = service.get_bill_run(uow, bill_run_id, orgs=orgs_of(uow, c))
        rows = _account_rows(uow, bill_run, (page - 1) * size, size + 1)
        body: dict[str, Any] = {"success": True, "accounts": rows[:size]}
        if len(rows) > size:
            body["nextPage"] = f"{c.base_url}/v1/bill-runs/{bill_run_id}/accounts?page={page + 1}&pageSize={size}"
        return body

    return execute(call, run)
