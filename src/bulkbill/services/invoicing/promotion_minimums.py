"""A promotion code's minimum amount, checked when the invoice it was redeemed on is finalized.

A code is redeemed on an invoice when its discount was applied to the invoice itself or to one of its
lines, or, for a subscription's discount, on the subscription's first finalized invoice: later invoices
of the subscription keep the discount whatever their amount (the code was redeemed once).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from bulkbill.core.catalog.promotion_restrictions import PromotionRestrictions, minimum_amount_problem
from bulkbill.core.errors import ErrorCode, InputCollector
from bulkbill.core.invoicing.lifecycle import InvoiceStatus
from bulkbill.services.invoicing.invoice_totals import FigureRow
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Discount, Invoice, PromotionCode


def check_promotion_minimums(uow: UnitOfWork, invoice: Invoice, rows: Sequence[FigureRow]) -> None:
    """Refuse to finalize an invoice whose subtotal before discounts is below the minimum amount of a
    promotion code redeemed on it."""
    discount_ids = set(invoice.discounts or ()) | {d for row in rows for d in row.discounts}
    if not discount_ids:
        return
    found = uow.session.execute(
        select(Discount.invoice_id, Discount.invoice_item_id, PromotionCode.code, PromotionCode.restrictions)
        .join(
            PromotionCode,
            (PromotionCode.tenant_id == Discount.tenant_id) & (PromotionCode.id == Discount.promotion_code_id),
        )
        .where(Discount.tenant_id == uow.tenant_id, Discount.id.in_(discount_ids))
    ).all()
    read = [
        (invoice_id, item_id, code, PromotionRestrictions.stored(stored)) for invoice_id, item_id, code, stored in found
    ]
    restricted = [entry for entry in read if entry[3].has_minimum]
    if not restricted:
        return
    subtotal = sum(row.amount for row in rows)
    first_of_subscription: bool | None = None
    errors = InputCollector()
    for invoice_id, item_id, code, restrictions in restricted:
        if invoice_id is None and item_id is None:  # a subscription's discount
            if first_of_subscription is None:
                first_of_subscription = _first_of_subscription(uow, invoice)
            if not first_of_subscription:
                continue
        problem = minimum_amount_problem(code, restrictions, invoice.currency, subtotal)
        if problem is not None:
            errors.add(("discounts",), ErrorCode.PROMOTION_CODE_RESTRICTED, problem)
    errors.raise_if_any()


def _first_of_subscription(uow: UnitOfWork, invoice: Invoice) -> bool:
    if invoice.subscription_id is None:
        return False
    earlier = uow.session.scalar(
        select(Invoice.id)
        .where(
            Invoice.tenant_id == uow.tenant_id,
            Invoice.subscription_id == invoice.subscription_id,
            Invoice.status != InvoiceStatus.DRAFT.value,
            Invoice.id != invoice.id,
        )
        .limit(1)
    )
    return earlier is None
