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

from sqlalchemy import bindparam, select

from bulkbill.services.platform.locks import lock_rows
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables_orders import OrderLineItem


def lock_lines(uow: UnitOfWork, ids: Iterable[str]) -> dict[str, OrderLineItem]:
    """Load lines by id, row-locked (in id order) on PostgreSQL for the rest of the transaction."""
    return lock_rows(uow, OrderLineItem, ids)


def with_originals(uow: UnitOfWork, ids: Iterable[str]) -> set[str]:
    """The lines `ids` and the sales lines those of them that are returns return.

    Locking both in one statement (lock_lines) keeps the lock order the same for every request.
    A return's original never changes, so reading it before the lock is safe.
    """
    wanted = set(ids)
    if not wanted:
        return wanted
    originals = uow.session.scalars(_ORIGINALS, {"tenant_id": uow.tenant_id, "ids": list(wanted)})
    return wanted | {o for o in originals if o is not None}


# Built once (bound by tenant and ids): every bulk line call runs it.
_ORIGINALS = select(OrderLineItem.original_line_item_id).where(
    OrderLineItem.tenant_id == bindparam("tenant_id"),
    OrderLineItem.id.in_(bindparam("ids", expanding=True)),
    OrderLineItem.original_line_item_id.is_not(None),
)
