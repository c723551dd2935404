"""Stripe /v1/subscriptions and /v1/subscription_items: translation only, the rules are the core's.

Subscriptions render in the current (basil and later) shape: the billing period lives on each item
(`items.data[].current_period_start/end`). Trials, the billing cycle anchor (and its config),
backdating, cancel_at, paused collection, add_invoice_items and a currency option act as Stripe's
(core.subscriptions.terms). A change in the current period is prorated as Stripe's classic mode does
(`proration_behavior`, `proration_date`; cancel's `prorate` and `invoice_now`: core.subscriptions.prorations).
`billing_thresholds` (and items' `usage_gte`) act on metered usage (services/subscriptions/thresholds.py);
items' `price_data` makes an inactive price first (inline_items). Stored and rendered without acting, each
for a stated reason: `billing_thresholds[reset_billing_cycle_anchor]` (a threshold invoice keeps the cycle),
`pending_invoice_item_interval` (pending items are invoiced with the next period), `billing_mode`
(classic and flexible bill alike here: one line per item and period), `invoice_settings[account_tax_ids]`
(bulkbill keeps no account tax IDs; custom_fields, description and footer reach every invoice).
Refused with a 400 naming the parameter: `billing_schedules` (prebilling several periods ahead needs
flexible billing mode's schedules, which bulkbill does not model), the pre-basil
`coupon`/`promotion_code`, and payments and Connect (edge/no_money.py); payment-only knobs
(`payment_behavior`) are accepted and have no effect, since bulkbill moves no money.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.catalog.prices as price_service
import bulkbill.services.subscriptions.items as item_service
import bulkbill.services.subscriptions.subscriptions as service
from bulkbill.api.stripe.catalog.prices import render_price
from bulkbill.api.stripe.catalog.tax_rates import render_tax_rate
from bulkbill.api.stripe.customers.customers import render_customer
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.expansion import allowed, listed
from bulkbill.api.stripe.edge.filters import CREATED_LIST_PARAMS, RANGE, bounds
from bulkbill.api.stripe.edge.numbers import decimal_string
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import (
    AMOUNT,
    AMOUNT_DECIMAL,
    AUTOMATIC_TAX,
    EXPAND,
    LIST_PARAMS,
    QUANTITY,
    Array,
    Bool,
    Currency,
    Enum,
    Int,
    Metadata,
    Obj,
    OrWord,
    Str,
    Time,
    Unsettable,
    parse,
)
from bulkbill.api.stripe.edge.render import check_expand, check_list_expand, cursor_from
from bulkbill.api.stripe.invoicing.invoices import invoice_response
from bulkbill.api.stripe.invoicing.line_params import DISCOUNTS, TAX_RATES, to_changes
from bulkbill.api.stripe.subscriptions.pending_updates import (
    check_not_pending_on_create,
    check_pending_item_update,
    check_pending_update,
)
from bulkbill.api.stripe.subscriptions.test_clocks import expanded_clock
from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput, NotFound, Path
from bulkbill.core.invoicing.commands import DiscountRef
from bulkbill.core.metadata import Clear
from bulkbill.core.money import MAX_AMOUNT, MAX_QUANTITY
from bulkbill.core.subscriptions.billing_mode import UnusedTimeFrom
from bulkbill.core.subscriptions.prorations import ProrationBehavior
from bulkbill.core.subscriptions.rules import ItemChange, refuse_unsupported
from bulkbill.core.subscriptions.terms import MAX_TRIAL_DAYS, AnchorConfig, MissingPaymentMethod, PauseBehavior
from bulkbill.core.subscriptions.usage import USAGE_GTE
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.invoicing.invoices import get_invoice
from bulkbill.services.platform.pagination import Page
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Price
from bulkbill.storage.tables_subscriptions import Subscription, SubscriptionItem

router = APIRouter()

EXPANDABLE = allowed("subscription")
PAYMENT_BEHAVIORS = ("allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete")
PRORATION_BEHAVIORS = ("always_invoice", "create_prorations", "none")
STATUSES = (
    "active",
    "all",
    "canceled",
    "ended",
    "incomplete",
    "incomplete_expired",
    "past_due",
    "paused",
    "trialing",
    "unpaid",
)
FEEDBACK = (
    "customer_service",
    "low_quality",
    "missing_features",
    "other",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
)
# Stripe Billing parameters bulkbill does not implement, and what to call them in the refusal
# (payments and Connect parameters are refused on every route: api/stripe/edge/no_money.py).
UNSUPPORTED = {
    "billing_schedules": "Prebilling through billing schedules (flexible billing mode's schedules, not modelled)",
    "coupon": "The pre-basil coupon parameter (use discounts)",
    "promotion_code": "The pre-basil promotion_code parameter (use discounts[][promotion_code])",
}
CANCEL_AT_WORDS = ("max_billed_until", "max_period_end", "min_period_end")
INTERVALS = ("day", "week", "month", "year")
_INVOICE_SETTINGS = Obj(
    {
        "account_tax_ids": Unsettable(Array(Str(), max_items=25)),
        "custom_fields": Unsettable(
            Array(Obj({"name": Str(40), "value": Str(140)}, required=frozenset({"name", "value"})), max_items=4)
        ),
        "description": Unsettable(Str(1500)),
        "footer": Unsettable(Str(5000)),
    }
)
_ADDED_PERIOD = Obj(
    {
        "start": Obj(
            {"type": Enum(("max_item_period_start", "now", "timestamp")), "timestamp": Time()},
            required=frozenset({"type"}),
        ),
        "end": Obj(
            {"type": Enum(("min_item_period_end", "timestamp")), "timestamp": Time()}, required=frozenset({"type"})
        ),
    },
    required=frozenset({"start", "end"}),
)
_ADD_INVOICE_ITEMS = Array(
    Obj(
        {
            "discountable": Bool(),
            "discounts": DISCOUNTS,
            "metadata": Metadata(),
            "period": _ADDED_PERIOD,
            "price": Str(),
            "price_data": Obj(
                {
                    "currency": Currency(),
                    "product": Str(),
                    "tax_behavior": Enum(("exclusive", "inclusive", "unspecified")),
                    "unit_amount": AMOUNT,
                    "unit_amount_decimal": AMOUNT_DECIMAL,
                },
                required=frozenset({"currency", "product"}),
            ),
            "quantity": QUANTITY,
            "tax_rates": TAX_RATES,
        }
    ),
    max_items=20,
)
_TERMS = {
    "trial_end": OrWord(("now",), Time()),
    "trial_from_plan": Bool(),
    "trial_settings": Obj(
        {
            "end_behavior": Obj(
                {"missing_payment_method": Enum(tuple(MissingPaymentMethod))},
                required=frozenset({"missing_payment_method"}),
            )
        },
        required=frozenset({"end_behavior"}),
    ),
    "invoice_settings": _INVOICE_SETTINGS,
    "add_invoice_items": _ADD_INVOICE_ITEMS,
    "pending_invoice_item_interval": Unsettable(
        Obj({"interval": Enum(INTERVALS), "interval_count": Int(1, 365)}, required=frozenset({"interval"}))
    ),
    "billing_thresholds": Unsettable(Obj({"amount_gte": Int(1, MAX_AMOUNT), "reset_billing_cycle_anchor": Bool()})),
}
_CREATE_TERMS = {
    **_TERMS,
    "trial_period_days": Int(0, MAX_TRIAL_DAYS),
    "billing_cycle_anchor": Time(),
    "billing_cycle_anchor_config": Obj(
        {
            "day_of_month": Int(1, 31),
            "hour": Int(0, 23),
            "minute": Int(0, 59),
            "second": Int(0, 59),
            "month": Int(1, 12),
        },
        required=frozenset({"day_of_month"}),
    ),
    "backdate_start_date": Time(),
    "cancel_at": OrWord(CANCEL_AT_WORDS, Time()),
    "currency": Currency(),
    "billing_mode": Obj(
        {
            "type": Enum(("classic", "flexible")),
            "flexible": Obj({"proration_discounts": Enum(("included", "itemized"))}),
        },
        required=frozenset({"type"}),
    ),
}
_UPDATE_TERMS = {
    **_TERMS,
    # The SDK sends billing_cycle_anchor[type]; Stripe's API also takes the bare word.
    "billing_cycle_anchor": OrWord(
        ("now", "unchanged"), Obj({"type": Enum(("now", "unchanged"))}, required=frozenset({"type"}))
    ),
    "cancel_at": Unsettable(OrWord(CANCEL_AT_WORDS, Time())),
    "pause_collection": Unsettable(
        Obj({"behavior": Enum(tuple(PauseBehavior)), "resumes_at": Time()}, required=frozenset({"behavior"}))
    ),
    "proration_date": Time(),
}

_ITEM_PRICE_DATA = Obj(
    {
        "currency": Currency(),
        "product": Str(),
        "recurring": Obj(
            {"interval": Enum(INTERVALS), "interval_count": Int(1, max(price_service.MAX_INTERVAL_COUNT.values()))},
            required=frozenset({"interval"}),
        ),
        "tax_behavior": Enum(("exclusive", "inclusive", "unspecified")),
        "unit_amount": AMOUNT,
        "unit_amount_decimal": AMOUNT_DECIMAL,
    },
    required=frozenset({"currency", "product", "recurring"}),
)
_ITEM = {
    "price": Str(),
    "plan": Str(),  # a recurring price's older name
    "price_data": _ITEM_PRICE_DATA,
    "quantity": QUANTITY,
    "tax_rates": TAX_RATES,
    "discounts": DISCOUNTS,
    "metadata": Metadata(),
    # Acts on metered items: their unbilled usage reaching usage_gte is invoiced at once (services/subscriptions/
    # thresholds.py).
    "billing_thresholds": Unsettable(Obj({"usage_gte": Int(1, MAX_QUANTITY)}, required=frozenset({"usage_gte"}))),
    # A Trial Offer (product_catalog.trial_offer) to apply: bulkbill serves no trial offers, so any id is unknown.
    "current_trial": Obj({"trial_offer": Str()}, required=frozenset({"trial_offer"})),
}
# feedback_option names one of the customer portal's custom feedback options (a Dashboard object bulkbill does not
# have): kept and shown as given.
_CANCELLATION = Obj(
    {"comment": Unsettable(Str(5000)), "feedback": Unsettable(Enum(FEEDBACK)), "feedback_option": Str(5000)}
)
_COMMON = {
    "collection_method": Enum(("charge_automatically", "send_invoice")),
    "days_until_due": Int(0, 3650),
    "default_tax_rates": TAX_RATES,
    "discounts": DISCOUNTS,
    "metadata": Metadata(),
    "description": Unsettable(Str(500)),
    "cancel_at_period_end": Bool(),
    "payment_behavior": Enum(PAYMENT_BEHAVIORS),
    "proration_behavior": Enum(PRORATION_BEHAVIORS),
    "off_session": Bool(),
    "automatic_tax": AUTOMATIC_TAX,
    "expand": EXPAND,
}
CREATE = Obj(
    {**_COMMON, **_CREATE_TERMS, "customer": Str(), "items": Array(Obj(_ITEM), max_items=100)},
    required=frozenset({"customer", "items"}),
)
UPDATE = Obj(
    {
        **_COMMON,
        **_UPDATE_TERMS,
        # clear_usage: a deleted metered item's unbilled usage is not billed either way (its renewal line goes
        # with it), so there is nothing more to clear.
        "items": Array(Obj({**_ITEM, "id": Str(), "deleted": Bool(), "clear_usage": Bool()}), max_items=100),
        "cancellation_details": _CANCELLATION,
    }
)
CANCEL = Obj({"invoice_now": Bool(), "prorate": Bool(), "cancellation_details": _CANCELLATION, "expand": EXPAND})
RETRIEVE = Obj({"expand": EXPAND})
RESUME = Obj(
    {
        "billing_cycle_anchor": Enum(("now", "unchanged")),
        "proration_behavior": Enum(PRORATION_BEHAVIORS),
        # Prorations as though resumed then (a resume keeping the cycle charges the rest of its period).
        "proration_date": Time(),
        # How payment failure affects the resumption: bulkbill takes no payment, so it has no effect.
        "payment_behavior": Enum(("resume_on_payment_attempt", "resume_on_payment_success")),
        "expand": EXPAND,
    }
)
_FLEXIBLE = Obj({"proration_discounts": Enum(("included", "itemized"))})
MIGRATE = Obj(
    {
        "billing_mode": Obj({"type": Enum(("flexible",)), "flexible": _FLEXIBLE}, required=frozenset({"type"})),
        "expand": EXPAND,
    },
    required=frozenset({"billing_mode"}),
)
PAUSE = Obj(
    {
        "type": Enum(("subscription",)),
        "invoicing_behavior": Enum(("invoice", "pending_invoice_item")),
        "bill_for": Obj(
            {
                "unused_time_from": Obj({"type": Enum(tuple(UnusedTimeFrom))}, required=frozenset({"type"})),
                # Metered usage is what this bills: bulkbill's prices are licensed, so there is none to bill.
                "outstanding_usage_through": Obj({"type": Enum(("none", "now"))}, required=frozenset({"type"})),
            }
        ),
        "expand": EXPAND,
    }
)
LIST = Obj(
    {
        **CREATED_LIST_PARAMS,
        "customer": Str(),
        "price": Str(),
        "plan": Str(),
        "current_period_start": RANGE,
        "current_period_end": RANGE,
        "automatic_tax": Obj({"enabled": Bool()}, required=frozenset({"enabled"})),
        "status": Enum(STATUSES),
        "test_clock": Str(),
        "collection_method": Enum(("charge_automatically", "send_invoice")),
    }
)
_ITEM_CHANGE = {
    **_ITEM,
    "payment_behavior": Enum(PAYMENT_BEHAVIORS),
    "proration_behavior": Enum(PRORATION_BEHAVIORS),
    "proration_date": Time(),
    "expand": EXPAND,
}
ITEM_CREATE = Obj({**_ITEM_CHANGE, "subscription": Str()}, required=frozenset({"subscription"}))
ITEM_UPDATE = Obj({**_ITEM_CHANGE, "off_session": Bool()})
# clear_usage: bulkbill has no metered usage, so there is none to clear.
ITEM_DELETE = Obj(
    {
        "proration_behavior": Enum(PRORATION_BEHAVIORS),
        "proration_date": Time(),
        "clear_usage": Bool(),
        "payment_behavior": Enum(PAYMENT_BEHAVIORS),  # no payment is taken: no effect
    }
)
ITEM_LIST = Obj({**LIST_PARAMS, "subscription": Str()}, required=frozenset({"subscription"}))


# --- rendering -------------------------------------------------------------------------------


def _plan(p: Price) -> dict[str, Any]:
    """The legacy `plan` view of a recurring price, which Stripe still shows on subscription items."""
    amount = p.unit_amount_decimal
    whole = amount is not None and amount == amount.to_integral_value()
    return {
        "id": p.id,
        "object": "plan",
        "active": p.active,
        "amount": int(amount) if amount is not None and whole else None,
        "amount_decimal": decimal_string(amount) if amount is not None else None,
        "billing_scheme": "per_unit",
        "created": p.created,
        "currency": p.currency,
        "interval": p.recurring_interval,
        "interval_count": p.recurring_interval_count or 1,
        "livemode": False,
        "metadata": dict(p.metadata_),
        "meter": p.meter_id,
        "nickname": p.nickname,
        "product": p.product_id,
        "tiers": None,
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": p.usage_type or "licensed",
    }


def render_item(view: service.SubscriptionView, item: SubscriptionItem) -> dict[str, Any]:
    sub, price = view.subscription, view.prices[item.price_id]
    usage_gte = (item.usage or {}).get(USAGE_GTE)
    body = {
        "id": item.id,
        "object": "subscription_item",
        "billed_until": None,
        "billing_thresholds": {"usage_gte": usage_gte} if usage_gte is not None else None,
        "created": item.created,
        "current_period_end": sub.current_period_end,
        "current_period_start": sub.current_period_start,
        "current_trial": None,
        "discounts": list(item.discounts),
        "metadata": dict(item.metadata_),
        "plan": _plan(price),
        "price": render_price(price),
        "quantity": item.quantity,
        "subscription": sub.id,
        "tax_rates": [render_tax_rate(view.tax_rates[r]) for r in item.tax_rates or () if r in view.tax_rates],
    }
    if price.usage_type == "metered":
        del body["quantity"]  # Stripe: a metered item has no quantity, its usage is the meter's
    return body


def _anchor_config(config: dict[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    return {k: config.get(k) for k in ("day_of_month", "hour", "minute", "month", "second")}


def render_billing_mode(mode: dict[str, Any] | None, created: int) -> dict[str, Any]:
    """A stored billing_mode as subscriptions and subscription schedules show it (classic unless flexible)."""
    mode = mode or {}
    if mode.get("type") != "flexible":
        return {"flexible": None, "type": "classic", "updated_at": None}
    discounts = (mode.get("flexible") or {}).get("proration_discounts") or "included"
    updated_at = mode.get("updated_at", created)  # migrated then; else flexible since creation
    return {"flexible": {"proration_discounts": discounts}, "type": "flexible", "updated_at": updated_at}


def _status_details(sub: Subscription, terms: dict[str, Any]) -> dict[str, Any] | None:
    """Why and since when a paused subscription is paused: on request, or its trial ended without a payment method."""
    if sub.status != "paused":
        return None
    paused = terms.get(service.PAUSED_TERM) or {
        "reason": "trial_end_without_payment_method",
        "transitioned_at": sub.trial_end,
    }
    return {
        "paused": {
            "subscription": {"type": paused["reason"]},
            "transitioned_at": paused["transitioned_at"],
            "type": "subscription",
        }
    }


def _invoice_settings(terms: dict[str, Any]) -> dict[str, Any]:
    settings = terms.get("invoice_settings") or {}
    return {
        "account_tax_ids": settings.get("account_tax_ids") or None,
        "custom_fields": settings.get("custom_fields") or None,
        "description": settings.get("description"),
        "footer": settings.get("footer"),
        "issuer": {"type": "self"},
    }


def render_subscription(view: service.SubscriptionView) -> dict[str, Any]:
    sub = view.subscription
    details = sub.cancellation_details or {}
    terms = sub.terms or {}
    interval = terms.get("pending_invoice_item_interval")
    thresholds = terms.get("billing_thresholds")
    pause = sub.pause_collection
    cancel_at = sub.cancel_at if sub.cancel_at is not None else None
    if cancel_at is None and sub.cancel_at_period_end:
        cancel_at = sub.current_period_end
    return {
        "id": sub.id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": sub.billing_cycle_anchor,
        "billing_cycle_anchor_config": _anchor_config(sub.anchor_config),
        "billing_mode": render_billing_mode(terms.get("billing_mode"), sub.created),
        "billing_schedules": [],
        "billing_thresholds": {
            "amount_gte": thresholds.get("amount_gte"),
            "reset_billing_cycle_anchor": thresholds.get("reset_billing_cycle_anchor"),
        }
        if thresholds
        else None,
        "cancel_at": cancel_at,
        "cancel_at_period_end": sub.cancel_at_period_end,
        "canceled_at": sub.canceled_at,
        "cancellation_details": {
            "comment": details.get("comment"),
            "feedback": details.get("feedback"),
            "feedback_option": details.get("feedback_option"),
            "reason": details.get("reason"),
        },
        "collection_method": sub.collection_method,
        "created": sub.created,
        "currency": sub.currency,
        "customer": sub.customer_id,
        "customer_account": None,
        "days_until_due": sub.days_until_due,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [render_tax_rate(view.tax_rates[r]) for r in sub.default_tax_rates if r in view.tax_rates],
        "description": sub.description,
        "discounts": list(sub.discounts),
        "ended_at": sub.ended_at,
        "invoice_settings": _invoice_settings(terms),
        "items": {
            "object": "list",
            "data": [render_item(view, i) for i in view.items],
            "has_more": False,
            "total_count": len(view.items),
            "url": f"/v1/subscription_items?subscription={sub.id}",
        },
        "latest_invoice": sub.latest_invoice_id,
        "livemode": False,
        "managed_payments": None,
        "metadata": dict(sub.metadata_),
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": {"behavior": pause["behavior"], "resumes_at": pause.get("resumes_at")} if pause else None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": {
            "interval": interval["interval"],
            "interval_count": interval.get("interval_count") or 1,
        }
        if interval
        else None,
        "pending_setup_intent": None,
        "pending_update": None,
        "presentment_details": None,
        "schedule": sub.schedule_id,
        "start_date": sub.start_date,
        "status": sub.status,
        "status_details": _status_details(sub, terms),
        "test_clock": sub.test_clock_id,
        "transfer_data": None,
        "trial_end": sub.trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": sub.trial_end_behavior}},
        "trial_start": sub.trial_start,
    }


def _render(uow: UnitOfWork, subs: list[Subscription], expand: set[str]) -> list[dict[str, Any]]:
    bodies = [render_subscription(v) for v in service.views(uow, subs)]
    for body in bodies:
        if "latest_invoice" in expand and body["latest_invoice"]:
            body["latest_invoice"] = invoice_response(uow, get_invoice(uow, body["latest_invoice"]), set())
        if "customer" in expand:
            body["customer"] = render_customer(get_customer(uow, body["customer"], include_deleted=True))
        if "test_clock" in expand and body["test_clock"]:
            body["test_clock"] = expanded_clock(uow, body["test_clock"])
    return bodies


def _one(uow: UnitOfWork, sub: Subscription, expand: set[str]) -> dict[str, Any]:
    return _render(uow, [sub], expand)[0]


# --- translation -----------------------------------------------------------------------------


def _refuse_unsupported(params: dict[str, Any]) -> None:
    for name in sorted(params):
        if name in UNSUPPORTED:
            raise refuse_unsupported(name, UNSUPPORTED[name])


def _discounts(value: Any) -> tuple[DiscountRef, ...] | Clear | None:
    if isinstance(value, list):
        return tuple(DiscountRef(d.get("coupon"), d.get("discount"), d.get("promotion_code")) for d in value)
    return value if isinstance(value, Clear) else None


def _rates(value: Any) -> tuple[str, ...] | Clear | None:
    if isinstance(value, list):
        return tuple(value)
    return value if isinstance(value, Clear) else None


def _item(p: dict[str, Any]) -> ItemChange:
    thresholds = p.get("billing_thresholds")
    return ItemChange(
        id=p.get("id"),
        price=p.get("price", p.get("plan")),
        quantity=p.get("quantity"),
        deleted=bool(p.get("deleted")),
        tax_rates=_rates(p.get("tax_rates")),
        discounts=_discounts(p.get("discounts")),
        metadata=p.get("metadata"),
        usage_gte=thresholds if isinstance(thresholds, Clear) else thresholds["usage_gte"] if thresholds else None,
        quantity_given="quantity" in p,
        inline_price="price_data" in p,
    )


def _exclusive_price(p: dict[str, Any], prefix: Path) -> None:
    given = [name for name in ("price", "plan", "price_data") if name in p]
    if len(given) > 1:
        raise InvalidInput(
            [
                FieldError(
                    (*prefix, given[1]),
                    ErrorCode.PARAMETERS_EXCLUSIVE,
                    f"You may only specify one of these parameters: {', '.join(given)}.",
                )
            ]
        )


def inline_items(uow: UnitOfWork, items: list[dict[str, Any]] | None, prefix: Path) -> list[dict[str, Any]] | None:
    """Items as the service takes them: each `price_data` made into a new inactive price (Stripe's way), and
    `current_trial` refused, since bulkbill serves no trial offers for it to name. Errors name the item's own
    parameters under `prefix`."""
    if items is None:
        return None
    out = []
    for i, p in enumerate(items):
        at: Path = (*prefix, i) if prefix else ()
        _exclusive_price(p, at)
        if "current_trial" in p:
            raise NotFound("trial_offer", p["current_trial"]["trial_offer"], path=(*at, "current_trial", "trial_offer"))
        data = p.get("price_data")
        if data is None:
            out.append(p)
            continue
        recurring = data["recurring"]
        fields = price_service.PriceFields(
            currency=data["currency"],
            product=data["product"],
            unit_amount=data.get("unit_amount"),
            unit_amount_decimal=data.get("unit_amount_decimal"),
            recurring=price_service.Recurring(recurring["interval"], recurring.get("interval_count")),
            tax_behavior=data.get("tax_behavior"),
            active=False,
        )
        try:
            price = price_service.create_price(uow, fields)
        except InvalidInput as exc:
            raise InvalidInput([replace(e, path=(*at, "price_data", *e.path)) for e in exc.errors]) from None
        except NotFound as exc:
            raise NotFound(exc.resource, exc.object_id, path=(*at, "price_data", *(exc.path or ()))) from None
        out.append({**p, "price": price.id})
    return out


def _cancellation(p: dict[str, Any] | None) -> dict[str, str | None] | None:
    if p is None:
        return None
    return {k: (None if isinstance(v, Clear) else v) for k, v in p.items()}


def cancellation(p: dict[str, Any], *, preview: bool = False) -> service.Cancellation:
    """A cancel's parameters, as the service takes them."""
    return service.Cancellation(
        _cancellation(p.get("cancellation_details")),
        prorate=bool(p.get("prorate")),
        invoice_now=bool(p.get("invoice_now")),
        preview=preview,
    )


def _added_item(p: dict[str, Any], i: int) -> service.AddedItem:
    period = p.get("period")
    line = {k: v for k, v in p.items() if k != "period"}
    if p.get("price_data") is not None:
        data = p["price_data"]
        line["price_data"] = dict(data)
    changes = to_changes(line, ("add_invoice_items", i))
    if period is None:
        return service.AddedItem(changes)
    start, end = period["start"], period["end"]
    for name, part in (("start", start), ("end", end)):
        if part.get("type") == "timestamp" and part.get("timestamp") is None:
            raise InvalidInput(
                [
                    FieldError(
                        ("add_invoice_items", i, "period", name, "timestamp"),
                        ErrorCode.PARAMETER_MISSING,
                        f"add_invoice_items[{i}][period][{name}][timestamp] is required when type=timestamp.",
                    )
                ]
            )
    return service.AddedItem(changes, (start["type"], start.get("timestamp")), (end["type"], end.get("timestamp")))


def _config(p: dict[str, Any] | None) -> AnchorConfig | None:
    if p is None:
        return None
    return AnchorConfig(p["day_of_month"], p.get("hour"), p.get("minute"), p.get("second"), p.get("month"))


_STORED = ("billing_thresholds", "pending_invoice_item_interval", "invoice_settings", "billing_mode")
_NOT_FIELDS = {"expand", "payment_behavior", "proration_behavior", "off_session", "automatic_tax"}


def subscription_fields(p: dict[str, Any]) -> service.SubscriptionFields:
    items = p.get("items")
    anchor = p.get("billing_cycle_anchor")
    anchor_reset = anchor.get("type") if isinstance(anchor, dict) else anchor if isinstance(anchor, str) else None
    settings = p.get("trial_settings")
    return service.SubscriptionFields(
        customer=p.get("customer"),
        items=tuple(_item(i) for i in items) if items is not None else None,
        collection_method=p.get("collection_method"),
        days_until_due=p.get("days_until_due"),
        default_tax_rates=_rates(p.get("default_tax_rates")),
        discounts=_discounts(p.get("discounts")),
        metadata=p.get("metadata"),
        description=p.get("description"),
        cancel_at_period_end=p.get("cancel_at_period_end"),
        cancellation_details=_cancellation(p.get("cancellation_details")),
        trial_end=p.get("trial_end"),
        trial_period_days=p.get("trial_period_days"),
        trial_from_plan=p.get("trial_from_plan"),
        trial_end_behavior=settings["end_behavior"]["missing_payment_method"] if settings else None,
        billing_cycle_anchor=anchor if isinstance(anchor, int) else None,
        anchor_now=anchor_reset == "now",
        anchor_config=_config(p.get("billing_cycle_anchor_config")),
        backdate_start_date=p.get("backdate_start_date"),
        cancel_at=p.get("cancel_at"),
        currency=p.get("currency"),
        prorate=p.get("proration_behavior") != "none",
        proration_behavior=ProrationBehavior(p.get("proration_behavior") or ProrationBehavior.CREATE_PRORATIONS),
        proration_date=p.get("proration_date"),
        pause_collection=p.get("pause_collection"),
        stored={k: p[k] for k in _STORED if k in p},
        add_invoice_items=tuple(_added_item(a, i) for i, a in enumerate(p.get("add_invoice_items") or ())),
        given=frozenset(p) - _NOT_FIELDS,
    )


def _item_proration(p: dict[str, Any]) -> service.SubscriptionFields:
    """A subscription item change's proration parameters, as the subscription update takes them."""
    return subscription_fields({k: p[k] for k in ("proration_behavior", "proration_date") if k in p})


def _item_change(uow: UnitOfWork, p: dict[str, Any]) -> ItemChange:
    (inlined,) = inline_items(uow, [p], ()) or [p]
    return _item(inlined)


# --- endpoints -------------------------------------------------------------------------------


@router.post("/v1/subscriptions", openapi_extra=body_params(CREATE))
def create_subscription(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        _refuse_unsupported(params)
        p = parse(CREATE, params)
        check_not_pending_on_create(p)
        expand = check_expand(p, EXPANDABLE)
        p["items"] = inline_items(uow, p.get("items"), ("items",))
        return _one(uow, service.create_subscription(uow, subscription_fields(p)), expand)

    return execute(call, run)


@router.get("/v1/subscriptions/{subscription_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_subscription(subscription_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        expand = check_expand(parse(RETRIEVE, params), EXPANDABLE)
        sub = service.get_subscription(uow, subscription_id, for_update=True)
        service.catch_up(uow, [sub])
        return _one(uow, sub, expand)

    return execute(call, run)


@router.post("/v1/subscriptions/{subscription_id}", openapi_extra=body_params(UPDATE))
def update_subscription(subscription_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        _refuse_unsupported(params)
        p = parse(UPDATE, params)
        check_pending_update(p)
        expand = check_expand(p, EXPANDABLE)
        if "items" in p:
            p["items"] = inline_items(uow, p["items"], ("items",))
        return _one(uow, service.update_subscription(uow, subscription_id, subscription_fields(p)), expand)

    return execute(call, run)


@router.delete("/v1/subscriptions/{subscription_id}/discount")
def delete_subscription_discount(subscription_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        parse(Obj({}), params)
        sub, d = service.delete_discount(uow, subscription_id)
        return {
            "id": d.id,
            "object": "discount",
            "deleted": True,
            "checkout_session": None,
            "customer": d.customer_id,
            "customer_account": None,
            "invoice": None,
            "invoice_item": None,
            "promotion_code": None,
            "source": {"type": "coupon", "coupon": d.coupon_id},
            "start": d.start,
            "subscription": sub.id,
            "subscription_item": None,
        }

    return execute(call, run)


@router.delete("/v1/subscriptions/{subscription_id}", openapi_extra=query_params(CANCEL))
def cancel_subscription(subscription_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CANCEL, params)
        expand = check_expand(p, EXPANDABLE)
        sub = service.cancel_subscription(uow, subscription_id, cancellation(p))
        return _one(uow, sub, expand)

    return execute(call, run)


@router.post("/v1/subscriptions/{subscription_id}/resume", openapi_extra=body_params(RESUME))
def resume_subscription(subscription_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(RESUME, params)
        expand = check_expand(p, EXPANDABLE)
        anchor_now = p.get("billing_cycle_anchor", "now") == "now"
        resumed = service.resume_subscription(
            uow,
            subscription_id,
            anchor_now=anchor_now,
            # With the anchor reset to now there is nothing to prorate (Stripe); unchanged prorates by default.
            proration_behavior=ProrationBehavior(p.get("proration_behavior") or ProrationBehavior.CREATE_PRORATIONS),
            proration_date=p.get("proration_date"),
        )
        return _one(uow, resumed, expand)

    return execute(call, run)


@router.post("/v1/subscriptions/{subscription_id}/migrate", openapi_extra=body_params(MIGRATE))
def migrate_subscription(subscription_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(MIGRATE, params)
        expand = check_expand(p, EXPANDABLE)
        discounts = (p["billing_mode"].get("flexible") or {}).get("proration_discounts")
        sub = service.migrate_billing_mode(uow, subscription_id, proration_discounts=discounts)
        return _one(uow, sub, expand)

    return execute(call, run)


@router.post("/v1/subscriptions/{subscription_id}/pause", openapi_extra=body_params(PAUSE))
def pause_subscription(subscription_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(PAUSE, params)
        expand = check_expand(p, EXPANDABLE)
        unused = ((p.get("bill_for") or {}).get("unused_time_from") or {}).get("type", UnusedTimeFrom.NOW)
        pause = service.Pause(UnusedTimeFrom(unused), invoice_now=p.get("invoicing_behavior") == "invoice")
        return _one(uow, service.pause_subscription(uow, subscription_id, pause), expand)

    return execute(call, run)


@router.get("/v1/subscriptions", openapi_extra=query_params(LIST))
def list_subscriptions(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        expand = check_list_expand(p, EXPANDABLE)
        page: Page[Subscription] = service.list_subscriptions(
            uow,
            cursor_from(p),
            customer=p.get("customer"),
            price=p.get("price") or p.get("plan"),  # a plan is a recurring price's older name
            status=p.get("status"),
            periods=(bounds(p, "current_period_start"), bounds(p, "current_period_end")),
            none=(p.get("automatic_tax") or {}).get("enabled") is True,  # Stripe Tax is never on
            test_clock=p.get("test_clock"),
            collection_method=p.get("collection_method"),
        )
        return {
            "object": "list",
            "data": _render(uow, page.data, expand),
            "has_more": page.has_more,
            "url": "/v1/subscriptions",
        }

    return execute(call, run)


@router.get("/v1/subscription_items", openapi_extra=query_params(ITEM_LIST))
def list_subscription_items(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(ITEM_LIST, params)
        check_expand(p, listed("subscription_item"))
        sub = service.get_subscription(uow, p["subscription"])
        view = service.views(uow, [sub])[0]
        items, ids, limit = view.items, [i.id for i in view.items], p.get("limit") or 10
        for name in ("starting_after", "ending_before"):
            if p.get(name) is not None and p[name] not in ids:
                raise NotFound("subscription_item", p[name], path=(name,))
        if p.get("ending_before") is not None:
            before = items[: ids.index(p["ending_before"])]
            page, has_more = before[-limit:], len(before) > limit
        else:
            start = ids.index(p["starting_after"]) + 1 if p.get("starting_after") is not None else 0
            page, has_more = items[start : start + limit], len(items) > start + limit
        return {
            "object": "list",
            "data": [render_item(view, i) for i in page],
            "has_more": has_more,
            "url": "/v1/subscription_items",
        }

    return execute(call, run)


def _render_one_item(uow: UnitOfWork, item: SubscriptionItem) -> dict[str, Any]:
    view = service.views(uow, [service.get_subscription(uow, item.subscription_id)])[0]
    return render_item(view, item)


@router.post("/v1/subscription_items", openapi_extra=body_params(ITEM_CREATE))
def create_subscription_item(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(ITEM_CREATE, params)
        check_pending_item_update(p, create=True)
        check_expand(p, allowed("subscription_item"))
        item = item_service.create_item(uow, p["subscription"], _item_change(uow, p), _item_proration(p))
        return _render_one_item(uow, item)

    return execute(call, run)


@router.post("/v1/subscription_items/{item_id}", openapi_extra=body_params(ITEM_UPDATE))
def update_subscription_item(item_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(ITEM_UPDATE, params)
        check_pending_item_update(p, create=False)
        check_expand(p, allowed("subscription_item"))
        return _render_one_item(uow, item_service.update_item(uow, item_id, _item_change(uow, p), _item_proration(p)))

    return execute(call, run)


@router.delete("/v1/subscription_items/{item_id}", openapi_extra=query_params(ITEM_DELETE))
def delete_subscription_item(item_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(ITEM_DELETE, params)
        item = item_service.delete_item(uow, item_id, _item_proration(p))
        return {"id": item.id, "object": "subscription_item", "deleted": True}

    return execute(call, run)


@router.get("/v1/subscription_items/{item_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_subscription_item(item_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), allowed("subscription_item"))
        return _render_one_item(uow, service.get_item(uow, item_id))

    return execute(call, run)
