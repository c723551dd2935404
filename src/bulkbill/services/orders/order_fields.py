"""Helpers the order use cases share: runBilling's request, accounts by number, ISO dates.

What a client sends for an order line item is core.orders.line_updates.LineFields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bulkbill.core.customers.org_scope import in_scope
from bulkbill.core.errors import NotFound
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer


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
