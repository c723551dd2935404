"""Promotion codes (Stripe's promo_): a code customers redeem for a coupon, with its own limits.

A code applies only while it is active, before expires_at, fewer than max_redemptions times, and to
its customer when it names one; its coupon's own rules apply as well. Codes are unique among the
tenant's active codes (checked under the tenant's lock, as Stripe checks them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update

from bulkbill.core.errors import ErrorCode, InputCollector, NotFound, RuleViolation
from bulkbill.core.metadata import MetadataUpdate, check_metadata, merge_metadata
from bulkbill.core.money import MAX_AMOUNT
from bulkbill.services.catalog.coupons import get_coupon
from bulkbill.services.platform.locks import get_row, lock_tenant
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Customer, PromotionCode


@dataclass(frozen=True)
class Restrictions:
    first_time_transaction: bool | None = None
    minimum_amount: int | None = None
    minimum_amount_currency: str | None = None
    # The minimum amount in other currencies: {currency: minimum_amount}.
    currency_options: Mapping[str, int] | None = None


def _currency_options(
    current: Mapping[str, Any], update: Mapping[str, int] | None, base: str | None, errors: InputCollector
) -> dict[str, Any]:
    """Per-currency minimums merged into the stored ones; none may restate the base minimum's currency."""
    merged = dict(current)
    for currency, minimum in (update or {}).items():
        if currency == base:
            errors.add(
                ("restrictions", "currency_options", currency),
                ErrorCode.PARAMETER_INVALID,
                f"currency_options cannot name {currency}, the minimum_amount_currency.",
            )
        merged[currency] = {"minimum_amount": minimum}
    return merged


@dataclass(frozen=True)
class PromotionCodeFields:
    coupon: str | None = None
    code: str | None = None
    customer: str | None = None
    active: bool | None = None
    expires_at: int | None = None
    max_redemptions: int | None = None
    restrictions: Restrictions | None = None
    metadata: MetadataUpdate | None = None


def _check_code_free(uow: UnitOfWork, code: str, own_id: str, errors: InputCollector) -> None:
    lock_tenant(uow)
    taken = uow.session.scalar(
        select(PromotionCode.id).where(
            PromotionCode.tenant_id == uow.tenant_id,
            PromotionCode.code == code,
            PromotionCode.active.is_(True),
            PromotionCode.id != own_id,
        )
    )
    if taken is not None:
        errors.add(("code",), ErrorCode.PARAMETER_INVALID, f"An active promotion code ({taken}) already uses {code!r}.")


def create_promotion_code(uow: UnitOfWork, fields: PromotionCodeFields) -> PromotionCode:
    errors = InputCollector()
    if fields.coupon is None:
        errors.missing(("promotion", "coupon"))
    check_metadata(fields.metadata, ("metadata",), errors)
    metadata = merge_metadata({}, fields.metadata, ("metadata",), errors)
    if fields.expires_at is not None and fields.expires_at <= uow.now:
        errors.add(("expires_at",), ErrorCode.PARAMETER_INVALID, "expires_at must be in the future.")
    restrictions = fields.restrictions or Restrictions()
    if (restrictions.minimum_amount is None) != (restrictions.minimum_amount_currency is None):
        errors.add(
            ("restrictions", "minimum_amount_currency"),
            ErrorCode.PARAMETER_MISSING,
            "minimum_amount and minimum_amount_currency go together.",
        )
    if restrictions.minimum_amount is not None and not 0 <= restrictions.minimum_amount <= MAX_AMOUNT:
        errors.add(("restrictions", "minimum_amount"), ErrorCode.PARAMETER_INVALID, "Invalid minimum_amount.")
    options = _currency_options({}, restrictions.currency_options, restrictions.minimum_amount_currency, errors)
    promo_id = new_id("promo_", 24)
    code = fields.code or new_id("", 8).upper()
    active = True if fields.active is None else fields.active
    if active:
        _check_code_free(uow, code, promo_id, errors)
    errors.raise_if_any()
    try:
        coupon = get_coupon(uow, fields.coupon or "")
    except NotFound:
        raise NotFound("coupon", fields.coupon or "", path=("promotion", "coupon")) from None
    if fields.customer is not None and get_row(uow, Customer, fields.customer) is None:
        raise NotFound("customer", fields.customer, path=("customer",))
    promo = PromotionCode(
        tenant_id=uow.tenant_id,
        id=promo_id,
        code=code,
        coupon_id=coupon.id,
        customer_id=fields.customer,
        active=active,
        max_redemptions=fields.max_redemptions,
        times_redeemed=0,
        expires_at=fields.expires_at,
        restrictions={
            "first_time_transaction": bool(restrictions.first_time_transaction),
            "minimum_amount": restrictions.minimum_amount,
            "minimum_amount_currency": restrictions.minimum_amount_currency,
            "currency_options": options,
        },
        metadata_=metadata,
        created=uow.now,
    )
    uow.session.add(promo)
    uow.session.flush()
    return promo


def get_promotion_code(uow: UnitOfWork, promo_id: str) -> PromotionCode:
    promo = get_row(uow, PromotionCode, promo_id)
    if promo is None:
        raise NotFound("promotion code", promo_id)
    return promo


def update_promotion_code(
    uow: UnitOfWork,
    promo_id: str,
    *,
    active: bool | None,
    metadata: MetadataUpdate | None,
    currency_options: Mapping[str, int] | None = None,
) -> PromotionCode:
    """active, metadata and restrictions' currency_options change (as on Stripe); a code made active again
    must still be free."""
    promo = get_row(uow, PromotionCode, promo_id, lock="update")
    if promo is None:
        raise NotFound("promotion code", promo_id)
    errors = InputCollector()
    check_metadata(metadata, ("metadata",), errors)
    merged = merge_metadata(promo.metadata_, metadata, ("metadata",), errors)
    if active and not promo.active:
        _check_code_free(uow, promo.code, promo.id, errors)
    restrictions = dict(promo.restrictions or {})
    if currency_options is not None:
        stored = restrictions.get("currency_options") or {}
        base = restrictions.get("minimum_amount_currency")
        restrictions["currency_options"] = _currency_options(stored, currency_options, base, errors)
    errors.raise_if_any()
    promo.restrictions = restrictions
    promo.metadata_ = merged
    if active is not None:
        promo.active = active
    uow.session.flush()
    return promo


def list_promotion_codes(
    uow: UnitOfWork,
    cursor: Cursor,
    *,
    active: bool | None = None,
    code: str | None = None,
    coupon: str | None = None,
    customer: str | None = None,
) -> Page[PromotionCode]:
    query = select(PromotionCode).where(PromotionCode.tenant_id == uow.tenant_id)
    if active is not None:
        query = query.where(PromotionCode.active.is_(active))
    if code is not None:
        query = query.where(PromotionCode.code == code)
    if coupon is not None:
        query = query.where(PromotionCode.coupon_id == coupon)
    if customer is not None:
        query = query.where(PromotionCode.customer_id == customer)
    return paginate(uow, query, PromotionCode, cursor)


def lock_promotion_codes(uow: UnitOfWork, ids: Iterable[str]) -> list[PromotionCode]:
    """Codes about to be redeemed, row-locked in id order on PostgreSQL (as lock_coupons does)."""
    query = select(PromotionCode).where(PromotionCode.tenant_id == uow.tenant_id, PromotionCode.id.in_(set(ids)))
    if uow.is_postgres:
        query = query.order_by(PromotionCode.id).with_for_update()
    return list(uow.session.scalars(query))


def redeem_promotion_code(uow: UnitOfWork, promo_id: str) -> str:
    """Count one redemption of the code (never past max_redemptions); returns its coupon's id."""
    redeemed = uow.session.execute(
        update(PromotionCode)
        .where(
            PromotionCode.tenant_id == uow.tenant_id,
            PromotionCode.id == promo_id,
            or_(PromotionCode.max_redemptions.is_(None), PromotionCode.times_redeemed < PromotionCode.max_redemptions),
        )
        .values(times_redeemed=PromotionCode.times_redeemed + 1)
        .returning(PromotionCode.coupon_id)
    )
    coupon_id: Any = redeemed.scalar()
    if coupon_id is None:
        raise RuleViolation(f"Promotion code {promo_id} has reached its max_redemptions.", path=("discounts",))
    return str(coupon_id)
