"""Tax IDs (Stripe's tax_id objects): a customer's, under the customer or at /v1/tax_ids, and the tenant's own
(`owner[type]=self`) or a connected account's (`account`), all in one table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from bulkbill.core.customers.tax_ids import MAX_TAX_IDS, TaxIdOwner, country_of, owner_problems
from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput, NotFound, Path
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import CustomerTaxId, Tenant

__all__ = ["MAX_TAX_IDS", "NewTaxId", "Owner"]


@dataclass(frozen=True)
class NewTaxId:
    type: str
    value: str


@dataclass(frozen=True)
class Owner:
    """Whose tax IDs: `owner[type]` and the id it names (a customer's or a connected account's)."""

    type: TaxIdOwner = TaxIdOwner.SELF
    customer: str | None = None
    account: str | None = None

    def check(self, path: Path) -> None:
        problems = owner_problems(self.type, {"customer": self.customer, "account": self.account}, path)
        if problems:
            raise InvalidInput(problems)


def _owned_by(owner: Owner) -> Select[Any]:
    query = select(CustomerTaxId).where(CustomerTaxId.owner_type == owner.type.value)
    if owner.type is TaxIdOwner.CUSTOMER:
        query = query.where(CustomerTaxId.customer_id == owner.customer)
    elif owner.type is TaxIdOwner.ACCOUNT:
        query = query.where(CustomerTaxId.owner_account == owner.account)
    return query


def _add(uow: UnitOfWork, owner: Owner, new: Sequence[NewTaxId], path: Path) -> list[CustomerTaxId]:
    """Tax IDs for one owner, at most MAX_TAX_IDS in all (the caller holds the owner's lock)."""
    if not new:
        return []
    held = uow.session.scalar(
        _owned_by(owner).where(CustomerTaxId.tenant_id == uow.tenant_id).with_only_columns(func.count())
    )
    if (held or 0) + len(new) > MAX_TAX_IDS:
        whom = "A customer" if owner.type is TaxIdOwner.CUSTOMER else "An account"
        message = f"{whom} can have at most {MAX_TAX_IDS} tax IDs."
        raise InvalidInput([FieldError(path, ErrorCode.TOO_MANY_ITEMS, message)])
    rows = [
        CustomerTaxId(
            tenant_id=uow.tenant_id,
            id=new_id("txi_", 14),
            owner_type=owner.type.value,
            customer_id=owner.customer,
            owner_account=owner.account,
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


def add_tax_ids(uow: UnitOfWork, customer_id: str, new: Sequence[NewTaxId], path: Path) -> list[CustomerTaxId]:
    """Tax IDs for a customer (at most MAX_TAX_IDS in all)."""
    return _add(uow, Owner(TaxIdOwner.CUSTOMER, customer=customer_id), new, path)


def create_tax_id(uow: UnitOfWork, customer_id: str, new: NewTaxId) -> CustomerTaxId:
    get_customer(uow, customer_id, lock="update")  # counts and adds under the customer's lock
    return add_tax_ids(uow, customer_id, [new], ("type",))[0]


def create_owned_tax_id(uow: UnitOfWork, owner: Owner, new: NewTaxId) -> CustomerTaxId:
    """A tax ID for any owner (POST /v1/tax_ids); a customer's is the same as one made under the customer."""
    owner.check(("owner",))
    if owner.type is TaxIdOwner.CUSTOMER:
        assert owner.customer is not None
        try:
            get_customer(uow, owner.customer, lock="update")
        except NotFound as exc:
            raise NotFound("customer", owner.customer, path=("owner", "customer")) from exc
    else:
        # The tenant's own (and accounts') IDs are counted and added under the tenant's row lock.
        uow.session.get(Tenant, uow.tenant_id, with_for_update=True if uow.is_postgres else None)
    return _add(uow, owner, [new], ("type",))[0]


def tax_ids_of(uow: UnitOfWork, customer_id: str) -> list[CustomerTaxId]:
    query = select(CustomerTaxId).where(
        CustomerTaxId.tenant_id == uow.tenant_id, CustomerTaxId.customer_id == customer_id
    )
    return list(uow.session.scalars(query.order_by(CustomerTaxId.created.desc(), CustomerTaxId.id.desc())))


def get_any_tax_id(uow: UnitOfWork, tax_id: str) -> CustomerTaxId:
    """Any of the tenant's tax IDs, whoever owns it (GET /v1/tax_ids/{id}, and what an expanded reference names)."""
    row = uow.session.get(CustomerTaxId, (uow.tenant_id, tax_id))
    if row is None:
        raise NotFound("tax_id", tax_id)
    return row


def get_tax_id(uow: UnitOfWork, customer_id: str, tax_id: str) -> CustomerTaxId:
    get_customer(uow, customer_id)
    row = uow.session.get(CustomerTaxId, (uow.tenant_id, tax_id))
    if row is None or row.customer_id != customer_id:
        raise NotFound("tax_id", tax_id)
    return row


def _delete(uow: UnitOfWork, row: CustomerTaxId) -> CustomerTaxId:
    uow.session.delete(row)
    uow.session.flush()
    return row


def delete_tax_id(uow: UnitOfWork, customer_id: str, tax_id: str) -> CustomerTaxId:
    return _delete(uow, get_tax_id(uow, customer_id, tax_id))


def delete_any_tax_id(uow: UnitOfWork, tax_id: str) -> CustomerTaxId:
    return _delete(uow, get_any_tax_id(uow, tax_id))


def list_tax_ids(uow: UnitOfWork, customer_id: str, cursor: Cursor) -> Page[CustomerTaxId]:
    get_customer(uow, customer_id)
    return list_owned_tax_ids(uow, Owner(TaxIdOwner.CUSTOMER, customer=customer_id), cursor)


def list_owned_tax_ids(uow: UnitOfWork, owner: Owner, cursor: Cursor) -> Page[CustomerTaxId]:
    """One owner's tax IDs, newest first (GET /v1/tax_ids: the tenant's own unless `owner` says otherwise)."""
    owner.check(("owner",))
    if owner.type is TaxIdOwner.CUSTOMER:
        assert owner.customer is not None
        try:
            get_customer(uow, owner.customer)
        except NotFound as exc:
            raise NotFound("customer", owner.customer, path=("owner", "customer")) from exc
    return paginate(uow, _owned_by(owner).where(CustomerTaxId.tenant_id == uow.tenant_id), CustomerTaxId, cursor)
