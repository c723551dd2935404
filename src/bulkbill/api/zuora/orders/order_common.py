"""Shared by the order-billing routers: reasons with the right categories, org scope, money, options."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel

from bulkbill.api.zuora.edge.call import ZuoraRequest
from bulkbill.api.zuora.edge.errors import refusal
from bulkbill.api.zuora.edge.money import to_major, to_minor
from bulkbill.api.zuora.edge.validation import ZDate, ZuoraModel, custom_value_problem, wire_names
from bulkbill.core.errors import ErrorCode, InputCollector, InvalidInput
from bulkbill.core.orders.line_items import ChargeType, bills_order_lines
from bulkbill.services.customers.org_scope import resolve_orgs
from bulkbill.services.orders.order_fields import BillingRequest
from bulkbill.services.platform.uow import UnitOfWork

Str25 = Annotated[str, StringConstraints(max_length=25)]
Str32 = Annotated[str, StringConstraints(max_length=32)]
Str36 = Annotated[str, StringConstraints(max_length=36)]
Str50 = Annotated[str, StringConstraints(max_length=50)]
Str70 = Annotated[str, StringConstraints(max_length=70)]
Str100 = Annotated[str, StringConstraints(max_length=100)]
Str200 = Annotated[str, StringConstraints(max_length=200)]
Str255 = Annotated[str, StringConstraints(max_length=255)]
Str500 = Annotated[str, StringConstraints(max_length=500)]
Hex32 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{32}$")]
Id32to36 = Annotated[str, StringConstraints(min_length=32, max_length=36)]


class CamelModel(ZuoraModel):
    """Python snake_case fields, camelCase on the wire; unknown keys kept (and ignored) as Zuora is lenient."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    def given(self) -> frozenset[str]:
        """Wire names of the fields the client sent (null included)."""
        names = wire_names(type(self))
        return frozenset(names[name] for name in self.model_fields_set if name in names)


@contextmanager
def zuora_reasons() -> Iterator[None]:
    """Collected problems become one reason each, categorised by the one table (errors.CATEGORY_OF)."""
    try:
        yield
    except InvalidInput as exc:
        raise refusal(exc) from None


def orgs_of(uow: UnitOfWork, call: ZuoraRequest) -> frozenset[str] | None:
    """The call's org scope from Zuora-Org-Ids (Decision 10); 403 for an org the caller cannot access."""
    return resolve_orgs(uow, call.org_ids)


def minor(amount: Decimal, currency: str) -> Decimal:
    """Zuora major units (10.50 USD) to the core's unrounded minor units (1050)."""
    return to_minor(amount, currency)


def major(value: Decimal | int | None, currency: str) -> Decimal | None:
    """Minor units back to Zuora's major units: amounts with the currency's places, unit prices exact."""
    if value is None:
        return None
    if isinstance(value, int):
        return to_major(value, currency)
    return to_major(value, currency).normalize() if value != 0 else Decimal(0)


def timestamp(epoch: int) -> str:
    """Zuora's date-time format: YYYY-MM-DD HH:MM:SS (UTC, no offset)."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def check_custom_fields(
    values: Mapping[str, Any] | None, path: tuple[str | int, ...], errors: InputCollector
) -> dict[str, Any]:
    """customFields holds only `*__c` keys (Decision 6), each with a single value (text of ≤ 255 characters)."""
    out: dict[str, Any] = {}
    for key, value in (values or {}).items():
        problem = custom_value_problem(value)
        if not key.endswith("__c"):
            errors.add(
                (*path, "customFields", key), ErrorCode.PARAMETER_UNKNOWN, "is not a custom field (names end in __c)"
            )
        elif problem is not None:
            errors.add((*path, "customFields", key), ErrorCode.INVALID_VALUE, problem)
        else:
            out[key] = value
    return out


class BillingOptionsModel(CamelModel):
    target_date: ZDate | None = None
    document_date: ZDate | None = None
    generate_draft_invoice: bool | None = None
    credit_memo_reason_code: Str25 | None = None
    charge_type_to_exclude: list[ChargeType] | None = None


class ProcessingOptionsModel(CamelModel):
    run_billing: bool | None = None
    billing_options: BillingOptionsModel | None = None
    collect_payment: bool | None = None
    allow_payment_failure: bool | None = None
    apply_credit: bool | None = None
    apply_credit_balance: bool | None = None

    @property
    def runs_billing(self) -> bool:
        """runBilling was asked for (the response then lists the documents made, possibly none)."""
        return bool(self.run_billing)

    def billing(self, path: tuple[str | int, ...], errors: InputCollector) -> BillingRequest | None:
        """The billing to do for the call's order line items, or None; payments are not collected by bulkbill.

        With `OneTime` in chargeTypeToExclude there is nothing to bill (every order line item is a
        one-time charge): None, though runBilling was asked for.
        """
        if self.collect_payment and not self.run_billing:
            errors.add(
                (*path, "collectPayment"),
                ErrorCode.INVALID_VALUE,
                "collectPayment cannot be true when runBilling is false.",
            )
        elif self.collect_payment:
            errors.add(
                (*path, "collectPayment"),
                ErrorCode.INVALID_VALUE,
                "bulkbill processes no payments: collectPayment is not supported.",
            )
        options = self.billing_options or BillingOptionsModel()
        if not self.run_billing or not bills_order_lines(options.charge_type_to_exclude or ()):
            return None
        return BillingRequest(
            target_date=options.target_date,
            document_date=options.document_date,
            draft=bool(options.generate_draft_invoice),
            credit_memo_reason_code=options.credit_memo_reason_code,
        )
