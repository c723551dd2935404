"""Row locks on order line items: what every quantity check of an order line reads is locked first.

A line's figures (what is left to fulfil, what may still be returned) are sums over other rows
(its fulfillments, the return lines against it). Every writer that can change such a sum locks the
line the sum belongs to before reading it: fulfillments lock the fulfilled line, returns lock the
sales line they return. So two requests checking the same sum run one after the other, and the
second reads what the first wrote (PostgreSQL, READ COMMITTED: each statement after the lock sees
what committed before it). Locks are taken in id order, in one statement, so two requests locking
overlapping sets cannot deadlock. On SQLite every write transaction holds the database's write
lock from its start (BEGIN IMMEDIATE), which serializes the same checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import CompoundSelect, any_, bindparam, func, select, union

from bulkbill.services.orders.order_views import LINE_COLUMNS, LineRow
from bulkbill.services.platform.locks import lock_rows
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables_orders import OrderLineItem


def lock_lines(uow: UnitOfWork, ids: Iterable[str]) -> dict[str, OrderLineItem]:
    """Load lines by id, row-locked (in id order) on PostgreSQL for the rest of the transaction."""
    return lock_rows(uow, OrderLineItem, ids)


def lock_with_originals(uow: UnitOfWork, ids: Iterable[str]) -> dict[str, LineRow]:
    """lock_lines of the lines `ids` and of the sales lines those of them that are returns return, as plain rows.

    One statement locks both (in id order), so the lock order is the same for every request; a
    return's original never changes, so the subquery that names it needs no lock of its own.
    """
    wanted = list(set(ids))
    if not wanted:
        return {}
    statement = _WITH_ORIGINALS["postgresql" if uow.is_postgres else "sqlite"]
    rows = uow.session.execute(statement, {"tenant_id": uow.tenant_id, "ids": wanted})
    return {row[1]: LineRow(*row) for row in rows}


def _with_originals(*, postgres: bool) -> Any:
    of_tenant = OrderLineItem.tenant_id == bindparam("tenant_id")
    named = OrderLineItem.id.in_(bindparam("ids", expanding=True))
    originals = select(OrderLineItem.original_line_item_id).where(
        of_tenant, named, OrderLineItem.original_line_item_id.is_not(None)
    )
    # The ids as one set (a union, not `id IN (...) OR id IN (subquery)`), so the lines are read by primary key.
    wanted: CompoundSelect[Any] = union(select(OrderLineItem.id).where(of_tenant, named), originals)
    if not postgres:
        return select(*LINE_COLUMNS).where(of_tenant, OrderLineItem.id.in_(wanted.subquery().select()))
    # PostgreSQL: `id = ANY(ARRAY(...))` evaluates the set once and probes the primary key with it,
    # whatever the table's statistics say (a fresh table's made the IN form a scan of the tenant).
    found = OrderLineItem.id == any_(func.array(wanted.scalar_subquery()))
    return select(*LINE_COLUMNS).where(of_tenant, found).order_by(OrderLineItem.id).with_for_update()


# Built once per database (bound by tenant and ids): every bulk line call runs it. On SQLite the
# write transaction's database lock stands for the row locks.
_WITH_ORIGINALS = {"sqlite": _with_originals(postgres=False), "postgresql": _with_originals(postgres=True)}
