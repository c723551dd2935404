"""Load every object a set of line changes refers to, one query per kind, into core References."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select

from bulkbill.core.catalog.promotion_restrictions import PromotionRestrictions
from bulkbill.core.invoicing.commands import DiscountRef, LineChanges
from bulkbill.core.invoicing.items import (
    CouponInfo,
    DiscountInfo,
    PriceInfo,
    PromotionCodeInfo,
    References,
    TaxRateInfo,
)
from bulkbill.core.invoicing.lifecycle import InvoiceStatus
from bulkbill.core.metadata import Clear
from bulkbill.services.catalog.coupons import coupon_is_valid, lock_coupons
from bulkbill.services.catalog.price_schemes import scheme_from
from bulkbill.services.catalog.promotion_codes import lock_promotion_codes
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.bulk import driver_rows
from bulkbill.storage.rows import as_read, decoded, row_decoders
from bulkbill.storage.tables import Discount, Invoice, Price, Product, TaxRate


@dataclass
class ReferencedIds:
    prices: set[str] = field(default_factory=set)
    coupons: set[str] = field(default_factory=set)
    discounts: set[str] = field(default_factory=set)
    tax_rates: set[str] = field(default_factory=set)
    products: set[str] = field(default_factory=set)
    promotion_codes: set[str] = field(default_factory=set)

    def add_discounts(self, refs: Iterable[DiscountRef]) -> None:
        for ref in refs:
            if ref.coupon:
                self.coupons.add(ref.coupon)
            if ref.discount:
                self.discounts.add(ref.discount)
            if ref.promotion_code:
                self.promotion_codes.add(ref.promotion_code)

    def add_item_price(self, price_id: str | None) -> None:
        """An edited item's own price: a new quantity is priced through it (tiers, transform_quantity)."""
        if price_id:
            self.prices.add(price_id)

    def add_changes(self, changes: LineChanges) -> None:
        if changes.price:
            self.prices.add(changes.price)
        if changes.price_data and changes.price_data.product:
            self.products.add(changes.price_data.product)
        if changes.discounts is not None and not isinstance(changes.discounts, Clear):
            self.add_discounts(changes.discounts)
        if changes.tax_rates is not None and not isinstance(changes.tax_rates, Clear):
            self.tax_rates.update(changes.tax_rates)


# Built once: nearly every line edit names a price, and building the statement cost more than running it.
# Read as plain rows from the driver (storage.bulk.driver_rows): an ORM Price per call cost more than the query.
_PRICE_COLUMNS = (
    Price.id,
    Price.currency,
    Price.unit_amount_decimal,
    Price.product_id,
    Price.type,
    Price.active,
    Price.pricing,
)
_PRICE_DECODERS = row_decoders(_PRICE_COLUMNS)
_PRICES = select(*map(as_read, _PRICE_COLUMNS)).where(
    Price.tenant_id == bindparam("tenant_id"), Price.id.in_(bindparam("ids", expanding=True))
)


def _price_infos(uow: UnitOfWork, ids: set[str]) -> dict[str, PriceInfo]:
    prices = {}
    for row in driver_rows(uow.session, _PRICES, {"tenant_id": uow.tenant_id, "ids": sorted(ids)}):
        price_id, currency, unit_amount, product_id, price_type, active, pricing = decoded(row, _PRICE_DECODERS)
        prices[price_id] = PriceInfo(
            price_id,
            currency,
            unit_amount,
            product_id,
            recurring=price_type == "recurring",
            active=active,
            scheme=scheme_from(currency, unit_amount, pricing) if pricing else None,
        )
    return prices


def load_references(uow: UnitOfWork, ids: ReferencedIds) -> References:
    """One query per kind of object, whatever the number of lines."""
    t = uow.tenant_id
    prices = _price_infos(uow, ids.prices) if ids.prices else {}
    discounts = {}
    if ids.discounts:
        for d in uow.session.scalars(select(Discount).where(Discount.tenant_id == t, Discount.id.in_(ids.discounts))):
            discounts[d.id] = DiscountInfo(d.id, d.coupon_id, d.customer_id)
    codes = {}
    coupon_ids = set(ids.coupons)
    if ids.promotion_codes:
        for code in lock_promotion_codes(uow, ids.promotion_codes):
            left = None if code.max_redemptions is None else max(0, code.max_redemptions - code.times_redeemed)
            valid = code.active and (code.expires_at is None or uow.now <= code.expires_at)
            restrictions = PromotionRestrictions.stored(code.restrictions)
            codes[code.id] = PromotionCodeInfo(code.id, code.coupon_id, valid, code.customer_id, left, restrictions)
            coupon_ids.add(code.coupon_id)
    coupons = {}
    if coupon_ids:
        for c in lock_coupons(uow, coupon_ids):
            if not c.deleted:
                left = None if c.max_redemptions is None else max(0, c.max_redemptions - c.times_redeemed)
                coupons[c.id] = CouponInfo(
                    c.id,
                    c.percent_off,
                    c.amount_off,
                    c.currency,
                    valid=coupon_is_valid(c, uow.now),
                    redemptions_left=left,
                    other_currencies=frozenset(c.currency_options or {}),
                )
    tax_rates = {}
    if ids.tax_rates:
        for r in uow.session.scalars(select(TaxRate).where(TaxRate.tenant_id == t, TaxRate.id.in_(ids.tax_rates))):
            tax_rates[r.id] = TaxRateInfo(r.id, active=r.active)
    products: set[str] = set()
    if ids.products:
        products = set(
            uow.session.scalars(
                select(Product.id).where(
                    Product.tenant_id == t, Product.id.in_(ids.products), Product.deleted.is_(False)
                )
            )
        )
    return References(
        prices=prices,
        coupons=coupons,
        discounts=discounts,
        tax_rates=tax_rates,
        products=products,
        promotion_codes=codes,
        has_purchased=lambda customer_id: customer_has_purchased(uow, customer_id),
    )


# A purchase, for first_time_transaction: an invoice that was finalized and not voided (Stripe: "customers
# without any successful payments or invoices"); drafts are not purchases, nor are credit memos.
_PURCHASED = (InvoiceStatus.OPEN.value, InvoiceStatus.PAID.value, InvoiceStatus.UNCOLLECTIBLE.value)


def customer_has_purchased(uow: UnitOfWork, customer_id: str) -> bool:
    """Whether the customer has an invoice finalized and not voided, from either dialect."""
    found = uow.session.scalar(
        select(Invoice.id)
        .where(
            Invoice.tenant_id == uow.tenant_id,
            Invoice.customer_id == customer_id,
            Invoice.document_type == "invoice",
            Invoice.status.in_(_PURCHASED),
        )
        .limit(1)
    )
    return found is not None
