"""POST /v1/accounts and GET /v1/accounts/{accountKey}: bulkbill's minimal subset (spec §6.1)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

import bulkbill.services.customers.accounts as service
from bulkbill.api.zuora.documents.documents_render import custom_fields, stored_custom
from bulkbill.api.zuora.edge.call import ZuoraRequest, execute, zuora_request
from bulkbill.api.zuora.edge.openapi import json_body
from bulkbill.api.zuora.edge.validation import ZuoraModel, custom_value_problem, integer_input, parse_model
from bulkbill.core.customers.terms import DEFAULT_PAYMENT_TERM
from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer

router = APIRouter()

CONTACT_FIELDS = (
    "firstName",
    "lastName",
    "nickname",
    "workEmail",
    "personalEmail",
    "workPhone",
    "homePhone",
    "mobilePhone",
    "otherPhone",
    "fax",
    "address1",
    "address2",
    "city",
    "county",
    "state",
    "taxRegion",
    "zipCode",
    "country",
    "contactDescription",
)


class WireModel(ZuoraModel):
    """A request body: snake_case fields, camelCase on the wire; custom fields kept as extras."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class ContactIn(WireModel):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    nickname: str | None = Field(None, max_length=100)
    work_email: str | None = Field(None, max_length=80)
    personal_email: str | None = Field(None, max_length=80)
    work_phone: str | None = Field(None, max_length=40)
    home_phone: str | None = Field(None, max_length=40)
    mobile_phone: str | None = Field(None, max_length=40)
    other_phone: str | None = Field(None, max_length=40)
    fax: str | None = Field(None, max_length=40)
    address1: str | None = Field(None, max_length=255)
    address2: str | None = Field(None, max_length=255)
    city: str | None = Field(None, max_length=100)
    county: str | None = Field(None, max_length=100)
    state: str | None = Field(None, max_length=100)
    tax_region: str | None = Field(None, max_length=100)
    zip_code: str | None = Field(None, max_length=20)
    country: str | None = Field(None, max_length=64)
    contact_description: str | None = Field(None, max_length=100)

    def values(self) -> dict[str, Any]:
        fields = type(self).model_fields
        return {fields[n].alias or n: getattr(self, n) for n in fields}


class AccountIn(WireModel):
    name: str = Field(min_length=1, max_length=255)
    currency: str = Field(min_length=3, max_length=3)
    bill_to_contact: ContactIn
    sold_to_contact: ContactIn | None = None
    bill_cycle_day: Annotated[int, Field(ge=0, le=31), BeforeValidator(integer_input)] = 0  # 0: set automatically
    auto_pay: bool = False
    payment_term: str = DEFAULT_PAYMENT_TERM
    account_number: str | None = Field(None, min_length=1, max_length=70)
    organization_label: str | None = Field(None, min_length=1, max_length=100)


def check_custom_values(values: dict[str, Any], path: tuple[str | int, ...] = ()) -> dict[str, Any]:
    """Custom fields hold scalars, text of at most 255 characters; __NS fields are strings."""
    errors = []
    for key, value in values.items():
        problem = custom_value_problem(value)
        if problem is None and key.endswith("__NS") and value is not None and not isinstance(value, str):
            problem = "must be a string of at most 255 characters"
        if problem is not None:
            errors.append(FieldError((*path, key), ErrorCode.INVALID_VALUE, problem))
    if errors:
        raise InvalidInput(errors)
    return stored_custom(values)


def render_contact(contact: dict[str, Any] | None, customer: Customer) -> dict[str, Any] | None:
    if not isinstance(contact, dict):
        return None
    body = {"id": contact.get("id"), "accountId": customer.id, "accountNumber": customer.account_number}
    body.update({name: contact.get(name) for name in CONTACT_FIELDS})
    return body


def render_account(customer: Customer) -> dict[str, Any]:
    """AccountDetailResponse: basicInfo, billingAndPayment and the two contacts."""
    profile = customer.profile or {}
    basic: dict[str, Any] = {
        "id": customer.id,
        "accountNumber": customer.account_number,
        "name": customer.name,
        "status": profile.get("status", "Active"),
        "organizationLabel": customer.org_label,
    }
    basic.update(custom_fields(profile.get("customFields")))
    return {
        "success": True,
        "basicInfo": basic,
        "billingAndPayment": {
            "currency": customer.currency.upper() if customer.currency else None,
            "billCycleDay": profile.get("billCycleDay", 0),
            "paymentTerm": profile.get("paymentTerm", DEFAULT_PAYMENT_TERM),
            "autoPay": profile.get("autoPay", False),
        },
        "billToContact": render_contact(profile.get("billToContact"), customer),
        "soldToContact": render_contact(profile.get("soldToContact"), customer),
    }


@router.post("/v1/accounts", openapi_extra=json_body(AccountIn))
def create_account(call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        body = parse_model(AccountIn, c.body)
        new = service.NewAccount(
            name=body.name,
            currency=body.currency.upper(),
            bill_to=body.bill_to_contact.values(),
            sold_to=body.sold_to_contact.values() if body.sold_to_contact is not None else None,
            bill_cycle_day=body.bill_cycle_day,
            auto_pay=body.auto_pay,
            payment_term=body.payment_term,
            account_number=body.account_number,
            org=body.organization_label,
            custom_fields=check_custom_values(body.custom_fields()),
        )
        customer = service.create_account(uow, new, c.org_ids)
        return {"success": True, "accountId": customer.id, "accountNumber": customer.account_number}

    return execute(call, run)


@router.get("/v1/accounts/{account_key}")
def get_account(account_key: str, call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        return render_account(service.find_account(uow, account_key, c.org_ids))

    return execute(call, run)
