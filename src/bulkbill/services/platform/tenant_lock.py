"""One lock per tenant for rules about a whole set of rows, which no single row can stand for.

"No two accounting periods overlap" and "a lookup key names at most one price" are checked by
reading the set, then writing: two requests doing that at once both read the set before either
wrote, and both pass. Such writers lock their tenant's row first, so they run one after the
other and the second reads what the first wrote.
"""

from __future__ import annotations

from sqlalchemy import select

from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Tenant


def lock_tenant(uow: UnitOfWork) -> None:
    """Hold the tenant's row until the transaction ends (PostgreSQL; SQLite serializes writers already).

    FOR NO KEY UPDATE: only other holders of this lock (and updates of the tenant row) wait; rows
    that merely reference the tenant are inserted meanwhile as usual.
    """
    if uow.is_postgres:
        uow.session.execute(select(Tenant.id).where(Tenant.id == uow.tenant_id).with_for_update(key_share=True))
