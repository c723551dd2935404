"""Customers (Zuora: accounts): the party invoices are billed to."""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from sqlalchemy import select

from bulkbill.core.errors import InputCollector, NotFound
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.metadata import MetadataUpdate, check_metadata, merge_metadata
from bulkbill.services.events.outbox import changing, emit
from bulkbill.services.platform.locks import get_row
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.session_rows import rows_by_id, shown_row
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Customer
from bulkbill.storage.tables_subscriptions import BillingClock


@dataclass(frozen=True)
class CustomerFields:
    name: str | None = None
    email: str | None = None
    description: str | None = None
    phone: str | None = None
    balance: int | None = None
    invoice_prefix: str | None = None
    metadata: MetadataUpdate | None = None
    # Only on create: the test clock whose frozen time the customer lives in.
    test_clock: str | None = None
    next_invoice_sequence: int | None = None
    tax_exempt: str | None = None
    # Shown, not acted on (Customer.details): a key with None removes it; invoice_settings merge key by key.
    details: Mapping[str, Any] | None = None


def _prefix() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8))


def create_customer(uow: UnitOfWork, fields: CustomerFields, *, customer_id: str | None = None) -> Customer:
    """A customer gets a unique invoice prefix so its invoice numbers never collide."""
    errors = InputCollector()
    check_metadata(fields.metadata, ("metadata",), errors)
    metadata = merge_metadata({}, fields.metadata, ("metadata",), errors)
    if fields.test_clock is not None:
        clock = uow.session.get(BillingClock, (uow.tenant_id, fields.test_clock))
        if clock is None or clock.deleted:
            errors.not_found(("test_clock",), "test_clock", fields.test_clock)
    errors.raise_if_any()
    customer = Customer(
        tenant_id=uow.tenant_id,
        id=customer_id or new_id("cus_", 14),
        name=fields.name,
        email=fields.email,
        description=fields.description,
        phone=fields.phone,
        balance=fields.balance or 0,
        invoice_prefix=(fields.invoice_prefix or _prefix()).upper(),
        next_invoice_sequence=1,
        metadata_=metadata,
        created=uow.now,
        deleted=False,
        test_clock_id=fields.test_clock,
        tax_exempt=fields.tax_exempt or "none",
        details=merge_details({}, fields.details),
    )
    if fields.next_invoice_sequence is not None:
        customer.next_invoice_sequence = fields.next_invoice_sequence
    uow.session.add(customer)
    uow.session.flush()
    emit(uow, EventType.CUSTOMER_CREATED, customer.id)
    return customer


def merge_details(stored: Mapping[str, Any] | None, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The stored details with the given keys set (None removes one); invoice_settings merge key by key."""
    out = dict(stored or {})
    for key, value in (given or {}).items():
        if key == "invoice_settings" and value is not None:
            value = merge_details(out.get(key), value) or None
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def get_customer(
    uow: UnitOfWork, customer_id: str, *, include_deleted: bool = False, lock: Literal["update"] | None = None
) -> Customer:
    """A customer; with lock="update", held until the transaction ends (updates merge into what they read)."""
    customer = get_row(uow, Customer, customer_id, lock=lock)
    if customer is None or (customer.deleted and not include_deleted):
        raise NotFound("customer", customer_id)
    return customer


def shown_customer(uow: UnitOfWork, customer_id: str) -> Customer:
    """A customer to show, deleted ones too (a GET's): its values as read (session_rows.shown_row), not a
    row to change."""
    customer: Customer | None = shown_row(uow, Customer, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    return customer


def update_customer(uow: UnitOfWork, customer_id: str, fields: CustomerFields) -> Customer:
    customer = get_customer(uow, customer_id, lock="update")
    changing(uow, EventObject.CUSTOMER, [customer.id])
    errors = InputCollector()
    check_metadata(fields.metadata, ("metadata",), errors)
    customer.metadata_ = merge_metadata(customer.metadata_, fields.metadata, ("metadata",), errors)
    errors.raise_if_any()
    for name in ("name", "email", "description", "phone", "balance", "next_invoice_sequence", "tax_exempt"):
        value = getattr(fields, name)
        if value is not None:
            setattr(customer, name, value)
    if fields.invoice_prefix is not None:
        customer.invoice_prefix = fields.invoice_prefix.upper()
    if fields.details:
        customer.details = merge_details(customer.details, fields.details)
    uow.session.flush()
    emit(uow, EventType.CUSTOMER_UPDATED, customer.id)
    return customer


def delete_customer(uow: UnitOfWork, customer_id: str) -> Customer:
    """Deleting hides the customer; its invoices stay, as Stripe keeps them."""
    customer = get_customer(uow, customer_id, lock="update")
    changing(uow, EventObject.CUSTOMER, [customer.id])
    customer.deleted = True
    uow.session.flush()
    emit(uow, EventType.CUSTOMER_DELETED, customer.id)
    return customer


def delete_discount(uow: UnitOfWork, customer_id: str) -> NoReturn:
    """bulkbill keeps no customer-level discounts: a customer's discount is always missing (as Stripe answers a
    customer without one)."""
    get_customer(uow, customer_id)
    raise NotFound("discount", f"{customer_id}/discount")


def list_customers(
    uow: UnitOfWork, cursor: Cursor, *, email: str | None = None, test_clock: str | None = None
) -> Page[Customer]:
    query = select(Customer).where(Customer.tenant_id == uow.tenant_id, Customer.deleted.is_(False))
    if email is not None:
        query = query.where(Customer.email == email)
    if test_clock is not None:
        query = query.where(Customer.test_clock_id == test_clock)
    return paginate(uow, query, Customer, cursor)


def get_customers(uow: UnitOfWork, ids: set[str]) -> Mapping[str, Customer]:
    if not ids:
        return {}
    return rows_by_id(uow, Customer, ids)
