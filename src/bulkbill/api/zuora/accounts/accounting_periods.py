"""Accounting periods (spec §6.2): create, close, reopen, and read one back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BeforeValidator, Field

import bulkbill.services.accounting.periods as service
from bulkbill.api.zuora.accounts.accounts import WireModel
from bulkbill.api.zuora.documents.documents_render import zdatetime
from bulkbill.api.zuora.edge.call import ZuoraRequest, execute, zuora_request
from bulkbill.api.zuora.edge.errors import refusal
from bulkbill.api.zuora.edge.openapi import json_body, no_body
from bulkbill.api.zuora.edge.validation import ZDate, integer_input, parse_model
from bulkbill.core.accounting.periods import PeriodAction
from bulkbill.core.errors import InvalidInput
from bulkbill.services.customers.org_scope import resolve_orgs
from bulkbill.services.platform.uow import UnitOfWork

router = APIRouter()


class PeriodIn(WireModel):
    name: str = Field(min_length=1, max_length=100)
    start_date: ZDate
    end_date: ZDate
    fiscal_year: Annotated[int, Field(ge=1000, le=9999), BeforeValidator(integer_input)]
    fiscal_quarter: Annotated[int, Field(ge=1, le=4), BeforeValidator(integer_input)] | None = None
    notes: str | None = Field(None, max_length=255)


@router.post("/v1/accounting-periods", openapi_extra=json_body(PeriodIn))
def create_period(call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        resolve_orgs(uow, c.org_ids)
        body = parse_model(PeriodIn, c.body)
        new = service.NewPeriod(
            body.name, body.start_date, body.end_date, body.fiscal_year, body.fiscal_quarter, body.notes
        )
        try:
            row = service.create_period(uow, new)
        except InvalidInput as exc:
            raise refusal(exc) from exc
        return {"success": True, "id": row.id}

    return execute(call, run)


def _change(period_id: str, call: ZuoraRequest, action: PeriodAction) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        resolve_orgs(uow, c.org_ids)
        service.change_period(uow, period_id, action)
        return {"success": True}

    return execute(call, run)


@router.put("/v1/accounting-periods/{period_id}/close", openapi_extra=no_body())
def close_period(period_id: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    return _change(period_id, call, PeriodAction.CLOSE)


@router.put("/v1/accounting-periods/{period_id}/reopen", openapi_extra=no_body())
def reopen_period(period_id: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    return _change(period_id, call, PeriodAction.REOPEN)


@router.get("/v1/accounting-periods/{period_id}")
def get_period(period_id: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        resolve_orgs(uow, c.org_ids)
        row = service.get_period(uow, period_id)
        return {
            "success": True,
            "id": row.id,
            "name": row.name,
            "startDate": row.start_date,
            "endDate": row.end_date,
            "fiscalYear": row.fiscal_year,
            "fiscalQuarter": row.fiscal_quarter,
            "notes": row.notes,
            "status": row.status,
            "createdOn": zdatetime(row.created),
            "updatedOn": zdatetime(row.updated),
        }

    return execute(call, run)
