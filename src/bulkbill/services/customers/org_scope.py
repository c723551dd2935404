"""Zuora-Org-Ids scoping (Decision 10), for every Zuora-dialect call that reads or writes accounts.

A tenant's orgs are the org labels of its accounts (an org comes into being when an account is
created with it). A call naming orgs sees only accounts of those orgs and their documents, orders,
lines and fulfillments; an object outside the scope does not exist for it (not found).

    orgs = resolve_orgs(uow, call.org_ids)               # 403 for an org the tenant does not have
    ensure_in_scope(uow, customer, call.org_ids)         # 403 as above, or not found outside the scope
    labels = restrict_to_labels(uow, body_labels, orgs)  # orgs a body names (bill runs); 403 outside `orgs`
    accounts_in_scope(uow, account_ids, orgs)            # do these accounts all lie in the scope?
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, select, true

from bulkbill.core.customers.org_scope import AccessDenied, check_requested_orgs, in_scope
from bulkbill.core.errors import NotFound
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer


def accessible_orgs(uow: UnitOfWork, among: Iterable[str] | None = None) -> set[str]:
    """The tenant's orgs (optionally only those among `among`)."""
    query = select(Customer.org_label).where(Customer.tenant_id == uow.tenant_id, Customer.org_label.is_not(None))
    if among is not None:
        query = query.where(Customer.org_label.in_(set(among)))
    return {o for o in uow.session.scalars(query.distinct()) if o is not None}


def resolve_orgs(uow: UnitOfWork, org_ids: list[str] | None) -> frozenset[str] | None:
    """The call's scope: None (every account) without Zuora-Org-Ids, else the named orgs, all accessible."""
    if org_ids is None:
        return None
    return check_requested_orgs(org_ids, accessible_orgs(uow, org_ids))


def ensure_in_scope(
    uow: UnitOfWork,
    customer: Customer,
    org_ids: list[str] | None,
    *,
    what: str = "account",
    object_id: str | None = None,
) -> None:
    """Refuse (not found) an account, or an object of it (`what`, `object_id`), outside the call's orgs."""
    if not in_scope(customer.org_label, resolve_orgs(uow, org_ids)):
        raise NotFound(what, object_id or customer.id)


def scope_condition(orgs: frozenset[str] | None) -> ColumnElement[bool]:
    """A WHERE condition on Customer keeping only accounts in scope (join Customer to use it)."""
    if orgs is None:
        return true()
    return Customer.org_label.in_(sorted(orgs))


def restrict_to_labels(uow: UnitOfWork, labels: Iterable[str], orgs: frozenset[str] | None) -> frozenset[str]:
    """Orgs a request body names (a bill run's organizationLabels), within the call's scope `orgs`.

    Every label must be an org of the tenant and, when the call names orgs (Zuora-Org-Ids), one of
    them: otherwise the caller cannot access it and the call fails (AccessDenied, 403), as creating an
    account in an org outside Zuora-Org-Ids does. What passes is the labels within the call's scope.
    """
    wanted = frozenset(labels)
    named = check_requested_orgs(wanted, accessible_orgs(uow, wanted))
    if orgs is None:
        return named
    outside = sorted(named - orgs)
    if outside:
        raise AccessDenied(f"The org(s) {', '.join(outside)} are not among the orgs named in Zuora-Org-Ids.")
    return named & orgs


def accounts_in_scope(uow: UnitOfWork, account_ids: Iterable[str], orgs: frozenset[str] | None) -> bool:
    """Whether every one of these accounts (by id) exists in the tenant and lies in the scope `orgs`.

    No scope covers everything; a scope never covers an empty set of accounts (nothing to judge by).
    """
    if orgs is None:
        return True
    wanted = set(account_ids)
    if not wanted:
        return False
    rows = uow.session.execute(
        select(Customer.id, Customer.org_label).where(Customer.tenant_id == uow.tenant_id, Customer.id.in_(wanted))
    ).all()
    return len(rows) == len(wanted) and all(in_scope(org, orgs) for _, org in rows)
