"""A customer's tax IDs (Stripe's tax_id objects): created, listed, retrieved and deleted under the customer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput, NotFound, Path
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import CustomerTaxId

# A customer holds at most this many tax IDs (Stripe's limit).
MAX_TAX_IDS = 25


@dataclass(frozen=True)
class NewTaxId:
    type: str
    value: str


def country_of(type_: str, value: str) -> str | None:
    """The ID's country: the type's prefix (`de_stn` → DE), an EU VAT number's own (`EL…` is Greece)."""
    if type_ == "unknown":
        return None
    if type_ == "eu_vat":
        prefix = value[:2].upper()
        return "GR" if prefix == "EL" else prefix
    if type_ == "eu_oss_vat":
        return None
    return type_[:2].upper()


def add_tax_ids(uow: UnitOfWork, customer_id: str, new: Sequence[NewTaxId], path: Path) -> list[CustomerTaxId]:
    """Tax IDs for a customer (at most MAX_TAX_IDS in all)."""
    if new and len(tax_ids_of(uow, customer_id)) + len(new) > MAX_TAX_IDS:
        message = f"A customer can have at most {MAX_TAX_IDS} tax IDs."
        raise InvalidInput([FieldError(path, ErrorCode.TOO_MANY_ITEMS, message)])
    rows = [
        CustomerTaxId(
            tenant_id=uow.tenant_id,
            id=new_id("txi_", 14),
            customer_id=customer_id,
            type=t.type,
            value=t.value,
            country=country_of(t.type, t.value),
            created=uow.now,
        )
        for t in new
    ]
    uow.session.add_all(rows)
    uow.session.flush()
    return rows


def create_tax_id(uow: UnitOfWork, customer_id: str, new: NewTaxId) -> CustomerTaxId:
    get_customer(uow, customer_id, lock="update")  # counts and adds under the customer's lock
    return add_tax_ids(uow, customer_id, [new], ("type",))[0]


def tax_ids_of(uow: UnitOfWork, customer_id: str) -> list[CustomerTaxId]:
    query = select(CustomerTaxId).where(
        CustomerTaxId.tenant_id == uow.tenant_id, CustomerTaxId.customer_id == customer_id
    )
    return list(uow.session.scalars(query.order_by(CustomerTaxId.created.desc(), CustomerTaxId.id.desc())))


def get_tax_id(uow: UnitOfWork, customer_id: str, tax_id: str) -> CustomerTaxId:
    get_customer(uow, customer_id)
    row = uow.session.get(CustomerTaxId, (uow.tenant_id, tax_id))
    if row is None or row.customer_id != customer_id:
        raise NotFound("tax_id", tax_id)
    return row


def find_tax_id(uow: UnitOfWork, tax_id: str) -> CustomerTaxId:
    """A tax ID by its id alone (what an expanded reference names)."""
    row = uow.session.get(CustomerTaxId, (uow.tenant_id, tax_id))
    if row is None:
        raise NotFound("tax_id", tax_id)
    return row


def delete_tax_id(uow: UnitOfWork, customer_id: str, tax_id: str) -> CustomerTaxId:
    row = get_tax_id(uow, customer_id, tax_id)
    uow.session.delete(row)
    uow.session.flush()
    return row


def list_tax_ids(uow: UnitOfWork, customer_id: str, cursor: Cursor) -> Page[CustomerTaxId]:
    get_customer(uow, customer_id)
    query = select(CustomerTaxId).where(
        CustomerTaxId.tenant_id == uow.tenant_id, CustomerTaxId.customer_id == customer_id
    )
    return paginate(uow, query, CustomerTaxId, cursor)
