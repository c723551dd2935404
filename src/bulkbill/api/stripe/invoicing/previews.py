"""Stripe POST /v1/invoices/create_preview: the upcoming invoice, of things as they are or after a change.

`subscription_details` previews a subscription update (its prorations included), a cancellation
(`cancel_now`) or, without `subscription`, a new subscription; `customer_details` previews the customer
with another address, shipping, tax status or tax IDs. The change is made by the same code that makes
it for real, in a savepoint rolled back before the answer leaves (services.subscriptions.upcoming).
`schedule` previews a subscription schedule's next invoice (its first when it starts, else its
subscription's next renewal in the phase then in force), after `schedule_details` change it; without
`schedule`, `schedule_details` previews a new schedule of `customer` (services.subscriptions.schedules).
`subscription_details[pause|resume_at|billing_schedules]` are refused with a 400 naming them (bulkbill does
not pause subscriptions on request, previews no resume, and has no flexible billing mode's schedules).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from bulkbill.api.stripe.customers.customers import UPDATE as CUSTOMER_UPDATE
from bulkbill.api.stripe.customers.customers import customer_fields
from bulkbill.api.stripe.customers.tax_ids import TAX_ID_DATA, new_tax_ids
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.expansion import expand_body
from bulkbill.api.stripe.edge.openapi import body_params
from bulkbill.api.stripe.edge.params import (
    AMOUNT,
    AUTOMATIC_TAX,
    EXPAND,
    Array,
    Bool,
    Currency,
    Enum,
    Metadata,
    Obj,
    OrWord,
    Refused,
    Str,
    Time,
    parse,
)
from bulkbill.api.stripe.edge.render import check_expand
from bulkbill.api.stripe.invoicing.invoice_items import ITEM_FIELDS, item_changes, tax_fields
from bulkbill.api.stripe.invoicing.invoice_render import INVOICE_EXPANDABLE
from bulkbill.api.stripe.invoicing.invoices import preview_body
from bulkbill.api.stripe.invoicing.line_params import DISCOUNTS, TAX_RATES
from bulkbill.api.stripe.subscriptions.schedules import SCHEDULE_DETAILS, schedule_fields
from bulkbill.api.stripe.subscriptions.subscriptions import (
    PRORATION_BEHAVIORS,
    inline_items,
    subscription_fields,
)
from bulkbill.api.stripe.subscriptions.subscriptions import (
    UPDATE as SUBSCRIPTION_UPDATE,
)
from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput
from bulkbill.core.invoicing.commands import DiscountRef
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.schedules import ScheduleFields
from bulkbill.services.subscriptions.subscriptions import SubscriptionFields
from bulkbill.services.subscriptions.upcoming import CustomerDetails, PreviewItem, PreviewRequest, preview_upcoming

router = APIRouter()

_SUBSCRIPTION_FIELDS = SUBSCRIPTION_UPDATE.fields
SUBSCRIPTION_DETAILS = Obj(
    {
        # A timestamp anchors a new subscription; an existing one takes only now or unchanged.
        "billing_cycle_anchor": OrWord(("now", "unchanged"), Time()),
        "billing_mode": Obj(
            {
                "type": Enum(("classic", "flexible")),
                "flexible": Obj({"proration_discounts": Enum(("included", "itemized"))}),
            },
            required=frozenset({"type"}),
        ),
        "billing_schedules": Refused(
            "prebilling needs flexible billing mode's schedules, which bulkbill does not model.", {"type": "array"}
        ),
        "cancel_at": _SUBSCRIPTION_FIELDS["cancel_at"],
        "cancel_at_period_end": Bool(),
        "cancel_now": Bool(),
        "default_tax_rates": TAX_RATES,
        "items": _SUBSCRIPTION_FIELDS["items"],
        "metadata": Metadata(),
        "pause": Refused("bulkbill does not pause subscriptions (only their collection).", {"type": "object"}),
        "proration_behavior": Enum(PRORATION_BEHAVIORS),
        "proration_date": Time(),
        "resume_at": Refused("previewing a resume is not supported; POST /v1/subscriptions/{id}/resume resumes."),
        "start_date": Time(),
        "trial_end": OrWord(("now",), Time()),
    }
)
_CUSTOMER_FIELDS = CUSTOMER_UPDATE.fields
CUSTOMER_DETAILS = Obj(
    {
        "address": _CUSTOMER_FIELDS["address"],
        "shipping": _CUSTOMER_FIELDS["shipping"],
        "tax": _CUSTOMER_FIELDS["tax"],
        "tax_exempt": _CUSTOMER_FIELDS["tax_exempt"],
        "tax_ids": TAX_ID_DATA,
    }
)
PREVIEW = Obj(
    {
        "customer": Str(),
        "subscription": Str(),
        "currency": Currency(),
        "discounts": DISCOUNTS,
        # Besides an item's own fields, a preview's items take `price` and `unit_amount` (stripe-python declares
        # them): the price as a line's `price` (or `pricing[price]`), the amount as `unit_amount_decimal` would.
        "invoice_items": Array(
            Obj({**ITEM_FIELDS, "invoiceitem": Str(), "price": Str(), "unit_amount": AMOUNT}), max_items=250
        ),
        # "next" and "recurring" preview the same invoice here: the next invoice (with any prorations).
        "preview_mode": Enum(("next", "recurring")),
        "subscription_details": SUBSCRIPTION_DETAILS,
        "customer_details": CUSTOMER_DETAILS,
        "schedule": Str(),
        "schedule_details": SCHEDULE_DETAILS,
        "automatic_tax": AUTOMATIC_TAX,
        "expand": EXPAND,
    }
)


# Registered before POST /v1/invoices/{invoice_id}, which would otherwise take `create_preview` for an id.
@router.post("/v1/invoices/create_preview", openapi_extra=body_params(PREVIEW))
def create_preview(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(PREVIEW, params)
        expand = check_expand(p, INVOICE_EXPANDABLE)
        details = p.get("subscription_details") or {}
        # Items' price_data make prices, as the change itself would: in a savepoint rolled back with the preview.
        inlined = uow.session.begin_nested()
        try:
            if details.get("items") is not None:
                details["items"] = inline_items(uow, details["items"], ("subscription_details", "items"))
            return preview_upcoming(uow, preview_request(p), lambda invoice: _expanded(uow, invoice, expand))
        finally:
            inlined.rollback()

    return execute(call, run)


def _expanded(uow: UnitOfWork, invoice: Any, expand: set[str]) -> dict[str, Any]:
    """The preview with every expansion made before its savepoint is rolled back (what it made is gone after)."""
    body = preview_body(uow, invoice, expand)
    expand_body(uow, body, expand)
    return body


def preview_request(p: dict[str, Any]) -> PreviewRequest:
    """A preview's parameters, as the upcoming-invoice service takes them."""
    discounts = p.get("discounts")
    details = p.get("subscription_details")
    customer = p.get("customer_details")
    return PreviewRequest(
        customer=p.get("customer"),
        subscription=p.get("subscription"),
        currency=p.get("currency"),
        discounts=(
            tuple(DiscountRef(d.get("coupon"), d.get("discount"), d.get("promotion_code")) for d in discounts)
            if isinstance(discounts, list)
            else None
        ),
        items=tuple(
            PreviewItem(item_changes(_item(i, k)), i.get("invoiceitem"), tax_fields(i))
            for k, i in enumerate(p.get("invoice_items") or [])
        ),
        subscription_details=_subscription_details(details, existing=p.get("subscription") is not None)
        if details is not None
        else None,
        cancel_now=bool((details or {}).get("cancel_now")),
        schedule=p.get("schedule"),
        schedule_details=_schedule_details(p["schedule_details"], existing=p.get("schedule") is not None)
        if "schedule_details" in p
        else None,
        customer_details=CustomerDetails(
            customer_fields(customer),
            tuple(new_tax_ids(customer["tax_ids"])) if "tax_ids" in customer else None,
        )
        if customer is not None
        else None,
    )


def _schedule_details(details: dict[str, Any], *, existing: bool) -> ScheduleFields:
    """schedule_details as a schedule update (of `schedule`) or create (without it: the first phase's start)."""
    phases = details.get("phases") or []
    start = phases[0].get("start_date") if phases and not existing else None
    try:
        return replace(schedule_fields(details), start_date=start)
    except InvalidInput as exc:
        raise InvalidInput([FieldError(("schedule_details", *e.path), e.code, e.message) for e in exc.errors]) from exc


def _item(item: dict[str, Any], k: int) -> dict[str, Any]:
    """A preview item's `unit_amount` as its own `unit_amount_decimal` (its `price` is a line's: line_params)."""
    item = dict(item)
    if "unit_amount" in item:
        if "unit_amount_decimal" in item:
            raise InvalidInput([_exclusive(("invoice_items", k, "unit_amount"), "unit_amount", "unit_amount_decimal")])
        item["unit_amount_decimal"] = Decimal(item.pop("unit_amount"))
    return item


def _exclusive(path: tuple[str | int, ...], *names: str) -> FieldError:
    return FieldError(
        path, ErrorCode.PARAMETERS_EXCLUSIVE, f"You may only specify one of these parameters: {', '.join(names)}."
    )


def _subscription_details(details: dict[str, Any], *, existing: bool) -> SubscriptionFields:
    """subscription_details as a subscription update (of `subscription`) or create (without it)."""
    given = dict(details)
    given.pop("cancel_now", None)
    anchor = given.get("billing_cycle_anchor")
    if existing and isinstance(anchor, int):
        raise InvalidInput(
            [
                FieldError(
                    ("subscription_details", "billing_cycle_anchor"),
                    ErrorCode.PARAMETER_INVALID,
                    "An existing subscription's billing_cycle_anchor can only be set to now or unchanged.",
                )
            ]
        )
    if "start_date" in given:
        start = given.pop("start_date")
        if existing:
            raise InvalidInput(
                [
                    FieldError(
                        ("subscription_details", "start_date"),
                        ErrorCode.PARAMETER_INVALID,
                        "start_date previews a new subscription only (omit subscription).",
                    )
                ]
            )
        given["backdate_start_date"] = start
    return subscription_fields(given)
