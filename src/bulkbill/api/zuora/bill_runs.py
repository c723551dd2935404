"""POST /v1/bill-runs (ad-hoc, executed in the request), GET /v1/bill-runs/{id}, PUT /v1/bill-runs/{id}/post."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import Field

from bulkbill.api.zuora.call import ZuoraRequest, execute, zuora_request
from bulkbill.api.zuora.order_common import CamelModel, orgs_of, zuora_reasons
from bulkbill.api.zuora.order_render import render_bill_run
from bulkbill.api.zuora.validation import ZDate, parse_model
from bulkbill.core.errors import InputCollector
from bulkbill.services import bill_runs as service
from bulkbill.services.uow import UnitOfWork

router = APIRouter()
ACCOUNT_FILTERS = frozenset({"Account", "Subscription"})


class FilterModel(CamelModel):
    filter_type: Literal["Account", "Subscription", "InvoiceSchedule", "BillRunErrors", "FilterCondition"] | None = None
    account_id: str | None = None
    subscription_id: str | None = None


class CreateBillRun(CamelModel):
    """CreateBillRunRequest: ad-hoc runs, for every account or one account."""

    name: str | None = None
    batches: list[str] | None = Field(default=None, min_length=1, max_length=300)
    bill_cycle_day: str | int | None = None
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
    organization_labels: list[dict[str, Any]] | None = None
    include_subscriptions: bool | None = None
    include_order_line_items: bool | None = None


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
        errors.add(("billRunFilters",), "invalid_value", "Specify either batches or billRunFilters, not both.")
    if not body.bill_run_filters:
        return None
    accounts: list[str] = []
    for i, f in enumerate(body.bill_run_filters):
        if f.filter_type not in ACCOUNT_FILTERS:
            errors.add(
                ("billRunFilters", i, "filterType"),
                "invalid_value",
                "Only Account and Subscription filters are supported.",
            )
        elif f.account_id is None:
            errors.missing(("billRunFilters", i, "accountId"))
        elif f.account_id not in accounts:
            accounts.append(f.account_id)
    if len(accounts) > 1:
        errors.add(("billRunFilters",), "invalid_value", "A bill run's filters must all name the same account.")
    return tuple(accounts)


@router.post("/v1/bill-runs")
def create_bill_run(call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        with zuora_reasons():
            body = parse_model(CreateBillRun, c.body)
            errors = InputCollector()
            accounts = _accounts(body, errors)
            if body.schedule is not None:
                errors.add(("schedule",), "invalid_value", "Scheduled bill runs are not supported; create ad-hoc runs.")
            errors.raise_if_any()
            data = body.model_dump(by_alias=True, exclude_unset=True, mode="json")
            # A catch-up run generates no billing documents.
            bill_lines = body.include_order_line_items is not False and body.bill_run_type != "CatchUp"
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
                ),
                orgs=orgs_of(uow, c),
            )
        return {"success": True, **render_bill_run(bill_run)}

    return execute(call, run)


@router.get("/v1/bill-runs/{bill_run_id}")
def get_bill_run(bill_run_id: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        return {"success": True, **render_bill_run(service.get_bill_run(uow, bill_run_id))}

    return execute(call, run)


@router.put("/v1/bill-runs/{bill_run_id}/post")
def post_bill_run(bill_run_id: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        with zuora_reasons():
            body = parse_model(PostBillRun, c.body)
            bill_run = service.post_bill_run(uow, bill_run_id, invoice_date=body.invoice_date)
        return {"success": True, **render_bill_run(bill_run)}

    return execute(call, run)
