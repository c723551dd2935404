"""Coupons: a percentage or a fixed amount off, redeemable until a date or a number of uses.

Ids have no prefix: the caller's own or 8 random uppercase letters and digits, as in Stripe.
Only the name and metadata change after creation; a deleted coupon is gone for new uses, while
discounts already made from it keep their row.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from sqlalchemy import select

from bulkbill.core.errors import ErrorCode, InputCollector, NotFound
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.metadata import Clear, MetadataUpdate, check_metadata, merge_metadata
from bulkbill.core.money import MAX_AMOUNT
from bulkbill.services.catalog.prices import check_currency
from bulkbill.services.events.outbox import changing, emit
from bulkbill.services.platform.locks import get_row
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Coupon, Product

DURATIONS = ("forever", "once", "repeating")
_ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class CouponFields:
    """Create uses every field; update only name and metadata (None leaves a field unchanged)."""

    percent_off: Decimal | None = None
    amount_off: int | None = None
    currency: str | None = None
    duration: str | None = None
    duration_in_months: int | None = None
    max_redemptions: int | None = None
    redeem_by: int | None = None
    name: str | Clear | None = None
    metadata: MetadataUpdate | None = None
    applies_to_products: tuple[str, ...] | None = None
    currency_options: dict[str, int] | None = None  # currency → amount_off


def coupon_is_valid(coupon: Coupon, now: int) -> bool:
    """Whether the coupon can still be applied: not deleted, not past redeem_by, uses left."""
    if coupon.deleted:
        return False
    if coupon.redeem_by is not None and now > coupon.redeem_by:
        return False
    return coupon.max_redemptions is None or coupon.times_redeemed < coupon.max_redemptions


def lock_coupons(uow: UnitOfWork, ids: Iterable[str]) -> list[Coupon]:
    """Coupons about to be applied, row-locked (in id order) on PostgreSQL until the transaction ends.

    Applying a coupon counts a redemption: whoever checks times_redeemed against max_redemptions
    holds the row until its own redemptions are written, so concurrent uses cannot exceed the
    limit. SQLite serializes writers already (BEGIN IMMEDIATE).
    """
    query = select(Coupon).where(Coupon.tenant_id == uow.tenant_id, Coupon.id.in_(set(ids)))
    if uow.is_postgres:
        query = query.order_by(Coupon.id).with_for_update()
    return list(uow.session.scalars(query))


def _check_discount(fields: CouponFields, errors: InputCollector) -> None:
    if fields.percent_off is not None and fields.amount_off is not None:
        errors.add(
            (), ErrorCode.PARAMETERS_EXCLUSIVE, "You may only specify one of these parameters: amount_off, percent_off."
        )
    elif fields.percent_off is None and fields.amount_off is None:
        errors.add(("percent_off",), ErrorCode.PARAMETER_MISSING, "You must specify either percent_off or amount_off.")
    elif fields.percent_off is not None and not Decimal(0) < fields.percent_off <= Decimal(100):
        errors.add(
            ("percent_off",),
            ErrorCode.PARAMETER_INVALID_DECIMAL,
            "Invalid percent_off: must be greater than 0 and at most 100.",
        )
    elif fields.amount_off is not None:
        if not 0 < fields.amount_off <= MAX_AMOUNT:
            errors.add(
                ("amount_off",),
                ErrorCode.PARAMETER_INVALID_INTEGER,
                f"Invalid amount_off: must be between 1 and {MAX_AMOUNT}.",
            )
        if fields.currency is None:
            errors.missing(("currency",))
    check_currency(fields.currency, ("currency",), errors)
    _check_currency_options(fields.currency_options, fields.amount_off, errors)


def _check_currency_options(options: dict[str, int] | None, amount_off: int | None, errors: InputCollector) -> None:
    """Only an amount_off coupon has amounts off in other currencies, each a positive amount."""
    for cur, amount in (options or {}).items():
        path = ("currency_options", cur, "amount_off")
        check_currency(cur, ("currency_options", cur), errors)
        if amount_off is None:
            errors.add(path, ErrorCode.PARAMETER_INVALID, "currency_options need an amount_off coupon.")
        elif not 0 < amount <= MAX_AMOUNT:
            errors.add(
                path, ErrorCode.PARAMETER_INVALID_INTEGER, f"Invalid amount_off: must be between 1 and {MAX_AMOUNT}."
            )


def _check_products(uow: UnitOfWork, ids: tuple[str, ...] | None, errors: InputCollector) -> None:
    """applies_to[products] names existing, undeleted products."""
    if not ids:
        return
    found = set(
        uow.session.scalars(
            select(Product.id).where(
                Product.tenant_id == uow.tenant_id, Product.id.in_(set(ids)), Product.deleted.is_(False)
            )
        )
    )
    for i, product_id in enumerate(ids):
        if product_id not in found:
            errors.not_found(("applies_to", "products", i), "product", product_id)


def _check_duration(fields: CouponFields, now: int, errors: InputCollector) -> None:
    repeating = fields.duration == "repeating"
    if repeating and fields.duration_in_months is None:
        errors.missing(("duration_in_months",))
    elif not repeating and fields.duration_in_months is not None:
        errors.add(
            ("duration_in_months",),
            ErrorCode.PARAMETER_INVALID,
            "duration_in_months can only be set when duration is repeating.",
        )
    if fields.redeem_by is not None and fields.redeem_by <= now:
        errors.add(("redeem_by",), ErrorCode.REDEEM_BY_IN_PAST, "Invalid redeem_by: must be in the future.")


def _random_id(uow: UnitOfWork) -> str:
    while True:
        candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))
        if uow.session.get(Coupon, (uow.tenant_id, candidate)) is None:
            return candidate


def create_coupon(uow: UnitOfWork, fields: CouponFields, *, coupon_id: str | None = None) -> Coupon:
    errors = InputCollector()
    _check_discount(fields, errors)
    _check_duration(fields, uow.now, errors)
    if coupon_id is not None and uow.session.get(Coupon, (uow.tenant_id, coupon_id)) is not None:
        errors.add(("id",), ErrorCode.RESOURCE_ALREADY_EXISTS, "Coupon already exists.")
    _check_products(uow, fields.applies_to_products, errors)
    check_metadata(fields.metadata, ("metadata",), errors)
    metadata = merge_metadata({}, fields.metadata, ("metadata",), errors)
    errors.raise_if_any()
    coupon = Coupon(
        tenant_id=uow.tenant_id,
        id=coupon_id or _random_id(uow),
        name=fields.name if isinstance(fields.name, str) else None,
        percent_off=fields.percent_off,
        amount_off=fields.amount_off,
        currency=fields.currency,
        duration=fields.duration or "once",
        duration_in_months=fields.duration_in_months,
        max_redemptions=fields.max_redemptions,
        times_redeemed=0,
        redeem_by=fields.redeem_by,
        metadata_=metadata,
        created=uow.now,
        deleted=False,
        applies_to=list(fields.applies_to_products) if fields.applies_to_products is not None else None,
        currency_options={c: {"amount_off": a} for c, a in fields.currency_options.items()}
        if fields.currency_options
        else None,
    )
    uow.session.add(coupon)
    uow.session.flush()
    emit(uow, EventType.COUPON_CREATED, coupon.id)
    return coupon


def get_coupon(
    uow: UnitOfWork, coupon_id: str, *, include_deleted: bool = False, lock: Literal["update"] | None = None
) -> Coupon:
    """A deleted coupon is not found unless `include_deleted` (to render past discounts); with
    lock="update", held until the transaction ends (updates merge into what they read)."""
    coupon = get_row(uow, Coupon, coupon_id, lock=lock)
    if coupon is None or (coupon.deleted and not include_deleted):
        raise NotFound("coupon", coupon_id)
    return coupon


def update_coupon(uow: UnitOfWork, coupon_id: str, fields: CouponFields) -> Coupon:
    """name, metadata and currency_options change (the discount itself is fixed once made, as on Stripe)."""
    coupon = get_coupon(uow, coupon_id, lock="update")
    changing(uow, EventObject.COUPON, [coupon.id])
    errors = InputCollector()
    check_metadata(fields.metadata, ("metadata",), errors)
    coupon.metadata_ = merge_metadata(coupon.metadata_, fields.metadata, ("metadata",), errors)
    _check_currency_options(fields.currency_options, coupon.amount_off, errors)
    errors.raise_if_any()
    if fields.name is not None:
        coupon.name = fields.name if isinstance(fields.name, str) else None
    if fields.currency_options:  # merged currency by currency, as a price's currency_options
        options = dict(coupon.currency_options or {})
        options.update({c: {"amount_off": a} for c, a in fields.currency_options.items()})
        coupon.currency_options = options
    uow.session.flush()
    emit(uow, EventType.COUPON_UPDATED, coupon.id)
    return coupon


def delete_coupon(uow: UnitOfWork, coupon_id: str) -> Coupon:
    coupon = get_coupon(uow, coupon_id, lock="update")
    changing(uow, EventObject.COUPON, [coupon.id])
    coupon.deleted = True
    uow.session.flush()
    emit(uow, EventType.COUPON_DELETED, coupon.id)
    return coupon


def list_coupons(uow: UnitOfWork, cursor: Cursor) -> Page[Coupon]:
    query = select(Coupon).where(Coupon.tenant_id == uow.tenant_id, Coupon.deleted.is_(False))
    return paginate(uow, query, Coupon, cursor)
