"""Zuora accounts: a Zuora account is a core customer (one id space with Stripe customers).

The account number, org and the Zuora profile (contacts, bill cycle day, payment term, auto-pay,
custom fields) live on the customer row; Stripe clients see the same row as a cus_ customer.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from bulkbill.core.customers.org_scope import AccessDenied, in_scope
from bulkbill.core.customers.terms import DEFAULT_PAYMENT_TERM, check_bill_cycle_day, check_currency, check_payment_term
from bulkbill.core.errors import InputCollector, NotFound, RuleViolation
from bulkbill.services.billing.sequences import ACCOUNTS, chosen_number_taken, take_number
from bulkbill.services.customers.customers import CustomerFields, create_customer
from bulkbill.services.customers.org_scope import resolve_orgs
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer


@dataclass(frozen=True)
class NewAccount:
    name: str
    currency: str
    bill_to: Mapping[str, Any]
    sold_to: Mapping[str, Any] | None = None
    bill_cycle_day: int = 0
    auto_pay: bool = False
    payment_term: str = DEFAULT_PAYMENT_TERM
    account_number: str | None = None
    org: str | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


def _contact(values: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": secrets.token_hex(16), **{k: v for k, v in values.items() if v is not None}}


def create_account(uow: UnitOfWork, new: NewAccount, org_ids: list[str] | None) -> Customer:
    """A customer with a unique account number (A00000001 when none is given) and its Zuora profile."""
    errors = InputCollector()
    check_currency(new.currency, ("currency",), errors)
    check_bill_cycle_day(new.bill_cycle_day, ("billCycleDay",), errors)
    check_payment_term(new.payment_term, ("paymentTerm",), errors)
    errors.raise_if_any()
    orgs = resolve_orgs(uow, org_ids)
    if orgs is not None and new.org is not None and new.org not in orgs:
        # A call scoped to some orgs cannot create an account in another one.
        raise AccessDenied(f"The organizationLabel {new.org!r} is not among the orgs named in Zuora-Org-Ids.")
    if orgs is not None and new.org is None:
        raise AccessDenied("An account created under Zuora-Org-Ids needs an organizationLabel among those orgs.")
    if new.account_number is not None and chosen_number_taken(uow, new.account_number, (ACCOUNTS,)):
        raise RuleViolation(f"The account number {new.account_number} already exists.")
    number = new.account_number or take_number(uow, ACCOUNTS)
    customer = create_customer(uow, CustomerFields(name=new.name, email=new.bill_to.get("workEmail")))
    customer.currency = new.currency.lower()
    customer.account_number = number
    customer.org_label = new.org
    bill_to = _contact(new.bill_to)
    sold_to = _contact(new.sold_to if new.sold_to is not None else new.bill_to)
    customer.profile = {
        "status": "Active",
        "billCycleDay": new.bill_cycle_day,
        "paymentTerm": new.payment_term,
        "autoPay": new.auto_pay,
        "billToContact": bill_to,
        "soldToContact": sold_to,
        "customFields": dict(new.custom_fields),
    }
    uow.session.flush()
    return customer


def find_account(uow: UnitOfWork, key: str, org_ids: list[str] | None) -> Customer:
    """An account by id or account number, within the call's orgs; anything else is not found."""
    customer = uow.session.get(Customer, (uow.tenant_id, key))
    if customer is None:
        customer = uow.session.scalar(
            select(Customer).where(Customer.tenant_id == uow.tenant_id, Customer.account_number == key)
        )
    if customer is None or customer.deleted or not in_scope(customer.org_label, resolve_orgs(uow, org_ids)):
        raise NotFound("account", key)
    return customer


def account_auto_pay(customer: Customer) -> bool:
    return bool((customer.profile or {}).get("autoPay", False))


def account_payment_term(customer: Customer) -> str:
    term = (customer.profile or {}).get("paymentTerm")
    return term if isinstance(term, str) else DEFAULT_PAYMENT_TERM
