"""Discounts (Stripe's di_): a coupon applied to an invoice or an item, created on application."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select, update

from bulkbill.core.errors import RuleViolation
from bulkbill.core.invoicing.commands import DiscountRef
from bulkbill.core.invoicing.totals import CouponTerms
from bulkbill.services.catalog.promotion_codes import redeem_promotion_code
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Coupon, Discount


def apply_discounts(
    uow: UnitOfWork,
    refs: Iterable[DiscountRef],
    *,
    customer_id: str,
    invoice_id: str | None = None,
    invoice_item_id: str | None = None,
) -> list[str]:
    """Turn checked discount refs into discount ids: a coupon or a promotion code creates a discount and counts
    a redemption (of the code and of its coupon)."""
    ids: list[str] = []
    for ref in refs:
        if ref.discount is not None:
            ids.append(ref.discount)
            continue
        if ref.promotion_code is not None:
            coupon_id = redeem_promotion_code(uow, ref.promotion_code)
        elif ref.coupon is not None:
            coupon_id = ref.coupon
        else:
            continue
        discount = Discount(
            tenant_id=uow.tenant_id,
            id=new_id("di_"),
            coupon_id=coupon_id,
            customer_id=customer_id,
            invoice_id=invoice_id,
            invoice_item_id=invoice_item_id,
            start=uow.now,
            promotion_code_id=ref.promotion_code,
        )
        uow.session.add(discount)
        _redeem(uow, coupon_id)
        ids.append(discount.id)
    return ids


def _redeem(uow: UnitOfWork, coupon_id: str) -> None:
    """Count one redemption, never past max_redemptions, whatever ran before.

    The checks (core check_coupon, under lock_coupons' row lock) refuse such a use with the line's
    path first; this conditional UPDATE is the last guard, so no code path can over-redeem.
    """
    redeemed = uow.session.execute(
        update(Coupon)
        .where(
            Coupon.tenant_id == uow.tenant_id,
            Coupon.id == coupon_id,
            or_(Coupon.max_redemptions.is_(None), Coupon.times_redeemed < Coupon.max_redemptions),
        )
        .values(times_redeemed=Coupon.times_redeemed + 1)
        .execution_options(synchronize_session="fetch")
    )
    if getattr(redeemed, "rowcount", 0) != 1:
        raise RuleViolation(f"Coupon {coupon_id} has reached its max_redemptions.", path=("discounts",))


def coupon_terms(uow: UnitOfWork, discount_ids: Iterable[str], currency: str | None = None) -> dict[str, CouponTerms]:
    """What each discount takes off, from its coupon, in one query: a fixed amount in `currency` comes from
    the coupon's currency_options when the coupon is in another currency; applies_to limits the products."""
    wanted = set(discount_ids)
    if not wanted:
        return {}
    rows = uow.session.execute(
        select(
            Discount.id,
            Coupon.percent_off,
            Coupon.amount_off,
            Coupon.currency,
            Coupon.currency_options,
            Coupon.applies_to,
        )
        .join(Coupon, (Coupon.tenant_id == Discount.tenant_id) & (Coupon.id == Discount.coupon_id))
        .where(Discount.tenant_id == uow.tenant_id, Discount.id.in_(wanted))
    )
    terms: dict[str, CouponTerms] = {}
    for d_id, percent, amount, coupon_currency, options, products in rows:
        if amount is not None and currency is not None and currency != coupon_currency:
            amount = (options or {}).get(currency, {}).get("amount_off", amount)
        terms[d_id] = CouponTerms(d_id, percent, amount, frozenset(products) if products is not None else None)
    return terms


def get_discounts(uow: UnitOfWork, discount_ids: Iterable[str]) -> dict[str, Discount]:
    wanted = set(discount_ids)
    if not wanted:
        return {}
    rows = uow.session.scalars(select(Discount).where(Discount.tenant_id == uow.tenant_id, Discount.id.in_(wanted)))
    return {d.id: d for d in rows}
