"""The loaders and includers `expand[]` uses (edge/expansion.py walks the paths; this module knows the objects).

A loader turns an id into its object, rendered as its own retrieve shows it; an includer makes an includable field
(left out unless expanded) of an object already rendered. Imported once by app.py, which registers them.
"""

from __future__ import annotations

from typing import Any

import bulkbill.services.customers.balance_transactions as balance_service
import bulkbill.services.customers.tax_ids as tax_ids_service
import bulkbill.services.subscriptions.subscriptions as subscription_service
from bulkbill.api.stripe.catalog.coupons import render_coupon
from bulkbill.api.stripe.catalog.prices import render_price
from bulkbill.api.stripe.catalog.products import render_deleted_product, render_product
from bulkbill.api.stripe.catalog.promotion_codes import render_promotion_code
from bulkbill.api.stripe.catalog.tax_rates import render_tax_rate
from bulkbill.api.stripe.customers.balance_transactions import render_balance_transaction
from bulkbill.api.stripe.customers.customers import customer_response
from bulkbill.api.stripe.customers.tax_ids import render_tax_id, tax_id_list
from bulkbill.api.stripe.edge.expansion import register_includer, register_loader
from bulkbill.api.stripe.invoicing.credit_note_render import render_credit_notes
from bulkbill.api.stripe.invoicing.invoice_render import render_discount
from bulkbill.api.stripe.invoicing.invoices import invoice_response
from bulkbill.api.stripe.subscriptions.subscriptions import render_subscription
from bulkbill.api.stripe.subscriptions.test_clocks import render_clock
from bulkbill.core.errors import NotFound
from bulkbill.services.catalog.coupons import get_coupon
from bulkbill.services.catalog.discounts import get_discounts
from bulkbill.services.catalog.prices import get_price
from bulkbill.services.catalog.products import get_product
from bulkbill.services.catalog.promotion_codes import get_promotion_code
from bulkbill.services.catalog.tax_rates import get_tax_rate
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.documents.credit_notes import get_credit_note
from bulkbill.services.invoicing.invoice_views import Related
from bulkbill.services.invoicing.invoices import get_invoice
from bulkbill.services.platform.pagination import Cursor
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.test_clocks import get_clock

# Stripe shows up to ten of a customer's subscriptions in `subscriptions` (has_more says when there are more).
SUBSCRIPTIONS_SHOWN = 10


def _customer(uow: UnitOfWork, customer_id: str) -> dict[str, Any]:
    customer = get_customer(uow, customer_id, include_deleted=True)
    if customer.deleted:
        return {"id": customer.id, "object": "customer", "deleted": True}
    return customer_response(uow, customer, set())


def _product(uow: UnitOfWork, product_id: str) -> dict[str, Any]:
    product = get_product(uow, product_id, include_deleted=True)
    return render_deleted_product(product) if product.deleted else render_product(product)


def _subscription(uow: UnitOfWork, subscription_id: str) -> dict[str, Any]:
    sub = subscription_service.get_subscription(uow, subscription_id)
    return render_subscription(subscription_service.views(uow, [sub])[0])


def _discount(uow: UnitOfWork, discount_id: str) -> dict[str, Any]:
    found = get_discounts(uow, [discount_id]).get(discount_id)
    if found is None:
        raise NotFound("discount", discount_id)
    return render_discount(found, Related())


def customer_subscriptions(uow: UnitOfWork, customer: dict[str, Any]) -> dict[str, Any]:
    """A customer's `subscriptions`: its subscriptions not canceled, newest first, as a list object."""
    page = subscription_service.list_subscriptions(uow, Cursor(limit=SUBSCRIPTIONS_SHOWN), customer=customer["id"])
    views = subscription_service.views(uow, page.data)
    return {
        "object": "list",
        "data": [render_subscription(v) for v in views],
        "has_more": page.has_more,
        "url": f"/v1/customers/{customer['id']}/subscriptions",
    }


def _included(kind: str, field: str, load: Any) -> None:
    """An includable field made by rendering the object again with that field expanded."""
    register_includer(kind, field, lambda uow, node: load(uow, node["id"], field).get(field))


def register() -> None:
    """Register every loader and includer (idempotent)."""
    register_loader("customer", _customer)
    register_loader("invoice", lambda uow, i: invoice_response(uow, get_invoice(uow, i), set()))
    register_loader("subscription", _subscription)
    register_loader("test_clock", lambda uow, i: render_clock(get_clock(uow, i)))
    register_loader("tax_id", lambda uow, i: render_tax_id(tax_ids_service.get_any_tax_id(uow, i)))
    register_loader("tax_rate", lambda uow, i: render_tax_rate(get_tax_rate(uow, i)))
    register_loader("price", lambda uow, i: render_price(get_price(uow, i)))
    register_loader("product", _product)
    register_loader("discount", _discount)
    register_loader("promotion_code", lambda uow, i: render_promotion_code(get_promotion_code(uow, i)))
    register_loader("coupon", lambda uow, i: render_coupon(get_coupon(uow, i), uow.now))
    register_loader("credit_note", lambda uow, i: render_credit_notes(uow, [get_credit_note(uow, i)])[0])
    register_loader(
        "customer_balance_transaction",
        lambda uow, i: render_balance_transaction(balance_service.find_transaction(uow, i)),
    )
    register_includer("customer", "subscriptions", customer_subscriptions)
    register_includer(
        "customer", "tax_ids", lambda uow, c: tax_id_list(c["id"], tax_ids_service.tax_ids_of(uow, c["id"]))
    )
    _included("customer", "tax", lambda uow, i, f: customer_response(uow, get_customer(uow, i), {f}))
    for field in ("tiers", "currency_options"):
        _included("price", field, lambda uow, i, f: render_price(get_price(uow, i), {f}))
    for field in ("applies_to", "currency_options"):
        _included("coupon", field, lambda uow, i, f: render_coupon(get_coupon(uow, i), uow.now, {f}))
