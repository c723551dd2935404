"""What a client sends for an order line item, dialect-neutral, and helpers shared by its use cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from bulkbill.core.customers.org_scope import in_scope
from bulkbill.core.errors import NotFound
from bulkbill.core.orders.line_items import BillingRule, DiscountType, ItemCategory, ItemState
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer

# Prices arrive in the dialect's unit; the dialect hands in its converter (Zuora: major → minor units).
ToMinor = Callable[[Decimal, str], Decimal]
PRICE_FIELDS = ("listPricePerUnit", "amountPerUnit")


@dataclass(frozen=True)
class LineFields:
    """The fields sent for one order line item; `given` holds their wire names (None then means cleared)."""

    given: frozenset[str] = frozenset()
    item_state: ItemState | None = None
    item_category: ItemCategory | None = None
    billing_rule: BillingRule | None = None
    item_type: str | None = None
    item_name: str | None = None
    item_number: str | None = None
    description: str | None = None
    quantity: Decimal | None = None
    list_price_per_unit: Decimal | None = None
    amount_per_unit: Decimal | None = None
    inline_discount_type: DiscountType | None = None
    inline_discount_per_unit: Decimal | None = None
    bill_target_date: dt.date | None = None
    transaction_start_date: dt.date | None = None
    transaction_end_date: dt.date | None = None
    currency: str | None = None
    uom: str | None = None
    product_code: str | None = None
    owner_account_number: str | None = None
    original_order_number: str | None = None
    original_order_line_item_number: str | None = None
    # Every other wire field, JSON-ready, stored and echoed as sent.
    attrs: Mapping[str, Any] = field(default_factory=dict)
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BillingRequest:
    """processingOptions.runBilling with its billingOptions; dates default to today (Decision 3)."""

    target_date: dt.date | None = None
    document_date: dt.date | None = None
    draft: bool = False
    credit_memo_reason_code: str | None = None


def today(uow: UnitOfWork) -> dt.date:
    return dt.datetime.fromtimestamp(uow.now, dt.UTC).date()


def iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def parse_iso(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def find_account(
    uow: UnitOfWork, key: str, *, path: tuple[str | int, ...] | None = None, orgs: frozenset[str] | None = None
) -> Customer:
    """An account (a core customer) by Zuora account number or id; outside the caller's orgs it does not exist."""
    customer = uow.session.scalar(
        select(Customer).where(
            Customer.tenant_id == uow.tenant_id, Customer.account_number == key, Customer.deleted.is_(False)
        )
    )
    if customer is None:
        customer = uow.session.get(Customer, (uow.tenant_id, key))
        if customer is not None and customer.deleted:
            customer = None
    if customer is None or not in_scope(customer.org_label, orgs):
        raise NotFound("account", key, path=path)
    return customer


def account_currency(customer: Customer) -> str:
    """Documents of an account are in its currency (stored lower-case on the core customer)."""
    return (customer.currency or "usd").lower()


def account_payment_term(customer: Customer) -> str | None:
    return profile_payment_term(customer.profile)


def profile_payment_term(profile: Mapping[str, Any] | None) -> str | None:
    """The payment term an account profile names (top level, or under billingAndPayment), if any."""
    profile = profile or {}
    term = profile.get("paymentTerm")
    if term is None and isinstance(profile.get("billingAndPayment"), Mapping):
        term = profile["billingAndPayment"].get("paymentTerm")
    return term if isinstance(term, str) else None
