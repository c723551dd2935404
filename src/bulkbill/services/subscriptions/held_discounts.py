"""The discounts a subscription or its items hold, with their coupons' durations (what falls due when)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from bulkbill.core.subscriptions.rules import DiscountTerm
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Coupon, Discount


def discount_terms(uow: UnitOfWork, ids: Sequence[str]) -> list[DiscountTerm]:
    """The discounts among `ids` with their coupons' durations (what core.subscriptions.rules.split_discounts
    reads), in the order given, in one query."""
    if not ids:
        return []
    rows = {
        d_id: (duration, months, start)
        for d_id, duration, months, start in uow.session.execute(
            select(Discount.id, Coupon.duration, Coupon.duration_in_months, Discount.start)
            .join(Coupon, (Coupon.tenant_id == Discount.tenant_id) & (Coupon.id == Discount.coupon_id))
            .where(Discount.tenant_id == uow.tenant_id, Discount.id.in_(list(ids)))
        )
    }
    return [DiscountTerm(d, *rows[d]) for d in ids if d in rows]
