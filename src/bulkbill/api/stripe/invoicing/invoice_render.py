"""Invoices, line items, invoice items and discounts in Stripe's current (basil and later) shape."""

from __future__ import annotations

import functools
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import inspect as sa_inspect

from bulkbill.api.public_links import hosted_page_url, pdf_url
from bulkbill.api.stripe.catalog.tax_rates import render_tax_rate
from bulkbill.api.stripe.customers.customers import render_address, render_customer, render_shipping
from bulkbill.api.stripe.edge.expansion import allowed
from bulkbill.api.stripe.edge.numbers import decimal_string
from bulkbill.core.money import truncate
from bulkbill.core.subscriptions.prorations import CREDITED, PRORATION, PRORATION_DISCOUNTS
from bulkbill.core.subscriptions.rules import auto_finalizes, finalizes_at
from bulkbill.services.invoicing.invoice_views import EMBEDDED_LINES, InvoiceView, Related, ShownLine
from bulkbill.services.invoicing.item_rows import ItemFields
from bulkbill.storage.tables import Discount, Invoice

INVOICE_EXPANDABLE = allowed("invoice")
LINE_EXPANDABLE = allowed("line_item")
ITEM_EXPANDABLE = allowed("invoiceitem")


def render_discount(d: Discount, related: Related) -> dict[str, Any]:
    return {
        "id": d.id,
        "object": "discount",
        "checkout_session": None,
        "customer": d.customer_id,
        "customer_account": None,
        "end": None,
        "invoice": d.invoice_id,
        "invoice_item": d.invoice_item_id,
        "promotion_code": d.promotion_code_id,
        "source": {"type": "coupon", "coupon": d.coupon_id},
        "start": d.start,
        "subscription": None,
        "subscription_item": None,
    }


def _discount_ref(discount_id: str, related: Related, expand: bool) -> Any:
    found = related.discounts.get(discount_id)
    return render_discount(found, related) if expand and found is not None else discount_id


# A draft's lines mostly repeat a few unit prices and quantities: each distinct value is spelled once per
# process (equal decimals spell the same: decimal_string normalizes), not once per line.
_unit_text = functools.lru_cache(maxsize=4096)(decimal_string)


@functools.lru_cache(maxsize=4096)
def _quantity(value: Decimal) -> tuple[int, str]:
    """A quantity as Stripe shows it: `quantity` (truncated) and `quantity_decimal`."""
    return truncate(value), decimal_string(value)


def _pricing(item: ItemFields, related: Related, expand_price: bool) -> dict[str, Any]:
    details = None
    if item.price_id is not None:
        price: Any = item.price_id
        if expand_price and item.price_id in related.prices:
            from bulkbill.api.stripe.catalog.prices import render_price

            price = render_price(related.prices[item.price_id])
        details = {"price": price, "product": item.product_id}
    pricing: dict[str, Any] = {"type": "price_details", "unit_amount_decimal": _unit_text(item.unit_amount_decimal)}
    if details is not None:
        # Stripe's schema has no null price_details: an item without a price omits the key.
        pricing["price_details"] = details
    return pricing


def tax_entry(t: dict[str, Any]) -> dict[str, Any]:
    """A stored tax amount as Stripe shows one in `taxes` / `total_taxes`."""
    return {
        "amount": t["amount"],
        "tax_behavior": "inclusive" if t["inclusive"] else "exclusive",
        "tax_rate_details": {"tax_rate": t["tax_rate"]},
        "taxability_reason": t.get("taxability_reason", "standard_rated"),
        "taxable_amount": t["taxable_amount"],
        "type": "tax_rate_details",
    }


def _proration(item: ItemFields) -> tuple[bool, dict[str, Any] | None]:
    """Whether the item is a subscription change's proration, and the line a credit proration credits."""
    extras = item.extras if isinstance(item.extras, dict) else {}
    return bool(extras.get(PRORATION)), extras.get(CREDITED)


def _netted_discounts(item: ItemFields) -> list[dict[str, Any]]:
    """The discounts netted into a proration (core.subscriptions.prorations), as stored: signed as the line."""
    extras = item.extras if isinstance(item.extras, dict) else {}
    return list(extras.get(PRORATION_DISCOUNTS) or [])


def _invoice_parent(inv: Invoice) -> dict[str, Any] | None:
    """Subscription invoices name their subscription and its metadata as it was when they were made."""
    if inv.subscription_id is None:
        return None
    return {
        "type": "subscription_details",
        "quote_details": None,
        "subscription_details": {
            "metadata": dict(inv.subscription_metadata or {}),
            "subscription": inv.subscription_id,
        },
    }


def render_line(entry: ShownLine, related: Related, expand: set[str], prefix: str = "") -> dict[str, Any]:
    item = entry.item
    # Built inline (no helper per field): events at commit render up to 10 lines of each of 50 invoices.
    extras = item.extras if isinstance(item.extras, dict) else {}
    proration = bool(extras.get(PRORATION)) if extras else False
    discount_amounts = entry.discount_amounts
    if expand:
        # Without expansions (every event, most responses) no path is spelled out per line.
        exp_discounts = f"{prefix}discounts" in expand
        exp_amounts = f"{prefix}discount_amounts.discount" in expand
        exp_price = f"{prefix}pricing.price_details.price" in expand
    else:
        exp_discounts = exp_amounts = exp_price = False
    pricing = _pricing(item, related, exp_price)
    if item.kind == "subscription" or proration:
        # A proration is an invoice item of a subscription item: Stripe shows it as that item's line.
        parent: dict[str, Any] = {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": item.id if proration else None,
                "proration": proration,
                "proration_details": {"credited_items": extras.get(CREDITED)},
                "subscription": item.subscription_id,
                "subscription_item": item.subscription_item_id,
            },
        }
    else:
        parent = {
            "type": "invoice_item_details",
            "subscription_item_details": None,
            "invoice_item_details": {
                "invoice_item": item.id,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": item.subscription_id,
            },
        }
    quantity, quantity_text = _quantity(item.quantity_decimal)
    return {
        "id": entry.line_id,
        "object": "line_item",
        "amount": item.amount,
        "currency": item.currency,
        "description": item.description,
        "discount_amounts": (
            [
                {"amount": d["amount"], "discount": _discount_ref(d["discount"], related, exp_amounts)}
                for d in discount_amounts
            ]
            if discount_amounts
            # A proration's discounts are netted into its amount: Stripe's classic mode names them at 0 here.
            else [
                {"amount": 0, "discount": _discount_ref(d["discount"], related, exp_amounts)}
                for d in extras.get(PRORATION_DISCOUNTS) or ()
            ]
            if extras
            else []
        ),
        "discountable": item.discountable,
        "discounts": [_discount_ref(d, related, exp_discounts) for d in item.discounts] if item.discounts else [],
        "invoice": entry.invoice_id,
        "livemode": False,
        "metadata": dict(item.metadata_),
        "parent": parent,
        "period": {"end": item.period_end, "start": item.period_start},
        "pretax_credit_amounts": [
            {"amount": d["amount"], "credit_balance_transaction": None, "discount": d["discount"], "type": "discount"}
            for d in discount_amounts
        ],
        "pricing": pricing,
        "quantity": quantity,
        "quantity_decimal": quantity_text,
        "subscription": item.subscription_id,
        "subtotal": item.amount,
        "taxes": [tax_entry(t) for t in entry.taxes],
    }


def _finalizes_at(inv: Invoice) -> int | None:
    """A draft's scheduled finalization: the chosen time, or a renewal draft's hour (core.subscriptions.rules)."""
    if inv.status != "draft" or not inv.auto_advance:
        return None
    if inv.chosen_finalizes_at is not None:
        return inv.chosen_finalizes_at
    return finalizes_at(inv.created) if auto_finalizes(inv.status, inv.auto_advance, inv.billing_reason) else None


def _shipping_cost(inv: Invoice) -> dict[str, Any] | None:
    """The shipping amount: untaxed (tax comes from tax rates on lines), from rate data (no shipping-rate object)."""
    if inv.shipping_cost is None:
        return None
    amount = inv.amount_shipping
    return {"amount_subtotal": amount, "amount_tax": 0, "amount_total": amount, "shipping_rate": None, "taxes": []}


# Every column attribute of an invoice: when all are loaded, rendering reads them as plain values.
_INVOICE_COLUMNS = frozenset(column.key for column in sa_inspect(Invoice).column_attrs)


def _loaded_columns(inv: Invoice) -> Any:
    """The invoice's column values as plain attributes (~30 ns a read, against ~300 ns through the ORM's
    instrumented attribute: an invoice body reads ~55 of them), or the ORM object itself when any is not
    loaded (expired, or a new row's default not yet written), so that the ORM supplies it as before."""
    loaded = inv.__dict__
    return SimpleNamespace(**loaded) if loaded.keys() >= _INVOICE_COLUMNS else inv


def render_invoice(view: InvoiceView, expand: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    inv, related = _loaded_columns(view.invoice), view.related
    customer = related.customers.get(inv.customer_id)
    details = (customer.details if customer else None) or {}
    lines = view.lines[:EMBEDDED_LINES]
    finalized = inv.status != "draft"
    return {
        "id": inv.id,
        "object": "invoice",
        "account_country": None,
        "account_name": None,
        "account_tax_ids": list(inv.account_tax_ids) if inv.account_tax_ids is not None else None,
        "amount_due": inv.amount_due,
        "amount_overpaid": 0,
        "amount_paid": inv.amount_paid,
        "amount_paid_off_stripe": inv.amount_paid if inv.paid_out_of_band else 0,
        "amount_remaining": inv.amount_due - inv.amount_paid,
        "amount_shipping": inv.amount_shipping,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": inv.auto_advance,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": _finalizes_at(inv),
        "billing_reason": inv.billing_reason,
        "collection_method": inv.collection_method,
        "confirmation_secret": None,
        "created": inv.created,
        "currency": inv.currency,
        "custom_fields": inv.document_custom_fields,
        "customer": render_customer(customer) if "customer" in expand and customer else inv.customer_id,
        "customer_account": None,
        "customer_address": render_address(details.get("address")),
        "customer_email": customer.email if customer else None,
        "customer_name": customer.name if customer else None,
        "customer_phone": customer.phone if customer else None,
        "customer_shipping": render_shipping(details.get("shipping")),
        "customer_tax_exempt": customer.tax_exempt if customer else None,
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [
            render_tax_rate(related.tax_rates[r]) for r in inv.default_tax_rates if r in related.tax_rates
        ],
        "description": inv.description,
        "discounts": [_discount_ref(d, related, "discounts" in expand) for d in inv.discounts],
        "due_date": inv.due_date,
        "effective_at": inv.effective_at if inv.effective_at is not None else inv.finalized_at,
        "ending_balance": inv.ending_balance,
        "footer": inv.footer,
        "from_invoice": (
            {"action": "revision", "invoice": inv.from_invoice_id} if inv.from_invoice_id is not None else None
        ),
        # A draft has no document (as Stripe): the links appear at finalization.
        "hosted_invoice_url": hosted_page_url(inv.document_token) if finalized and inv.document_token else None,
        "invoice_pdf": pdf_url(inv.document_token) if finalized and inv.document_token else None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": inv.latest_revision_id,
        "lines": {
            "object": "list",
            "data": [render_line(e, related, expand, "lines.data.") for e in lines],
            "has_more": max(inv.line_count, len(view.lines)) > len(lines),
            "url": f"/v1/invoices/{inv.id}/lines",
        },
        "livemode": False,
        "metadata": dict(inv.metadata_),
        "next_payment_attempt": None,
        "number": inv.number,
        "on_behalf_of": None,
        "parent": _invoice_parent(inv),
        "payment_settings": {"default_mandate": None, "payment_method_options": None, "payment_method_types": None},
        "period_end": inv.period_end,
        "period_start": inv.period_start,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": _rendering(inv.rendering),
        "shipping_cost": _shipping_cost(inv),
        "shipping_details": render_shipping(inv.shipping_details),
        "starting_balance": inv.starting_balance,
        "statement_descriptor": inv.statement_descriptor,
        "status": inv.status,
        "status_transitions": {
            "finalized_at": inv.finalized_at,
            "marked_uncollectible_at": inv.marked_uncollectible_at,
            "paid_at": inv.paid_at,
            "voided_at": inv.voided_at,
        },
        "subtotal": inv.subtotal,
        "subtotal_excluding_tax": inv.subtotal_excluding_tax,
        "test_clock": customer.test_clock_id if customer else None,
        "total": inv.total,
        "total_discount_amounts": [
            {
                "amount": d["amount"],
                "discount": _discount_ref(d["discount"], related, "total_discount_amounts.discount" in expand),
            }
            for d in inv.total_discount_amounts
        ],
        "total_excluding_tax": inv.total_excluding_tax,
        "total_pretax_credit_amounts": [
            {"amount": d["amount"], "credit_balance_transaction": None, "discount": d["discount"], "type": "discount"}
            for d in inv.total_discount_amounts
        ],
        "total_taxes": [tax_entry(t) for t in inv.total_taxes],
        "webhooks_delivered_at": inv.finalized_at if finalized else None,
    }


def render_item(
    item: ItemFields,
    related: Related,
    expand: set[str] = frozenset(),  # type: ignore[assignment]
    invoice: Invoice | None = None,
) -> dict[str, Any]:
    customer = related.customers.get(item.customer_id)
    proration, credited = _proration(item)
    quantity, quantity_text = _quantity(item.quantity_decimal)
    return {
        "id": item.id,
        "object": "invoiceitem",
        "amount": item.amount,
        "currency": item.currency,
        "customer": render_customer(customer) if "customer" in expand and customer else item.customer_id,
        "customer_account": None,
        "date": item.created,
        "description": item.description,
        "discountable": item.discountable,
        "discounts": [_discount_ref(d, related, "discounts" in expand) for d in item.discounts],
        "frozen_fields": None,
        "invoice": item.invoice_id,
        "invoicing_rules": None,
        "livemode": False,
        "metadata": dict(item.metadata_),
        # After discounts, before credits and taxes: what its invoice line is discounted by.
        "net_amount": item.amount - related.item_discounts.get(item.id, 0),
        "parent": (
            {
                "type": "subscription_details",
                # Stripe's schema has subscription_item non-nullable: an item made for a subscription omits it.
                "subscription_details": {
                    "subscription": item.subscription_id,
                    **({"subscription_item": item.subscription_item_id} if item.subscription_item_id else {}),
                },
            }
            if item.subscription_id is not None
            else None
        ),
        "period": {"end": item.period_end, "start": item.period_start},
        "pricing": _pricing(item, related, "pricing.price_details.price" in expand),
        "proration": proration,
        "proration_details": {
            "credited_items": _credited_item(credited),
            # What the discounts took off when the proration was made (netted into `amount`).
            "discount_amounts": [
                {"amount": d["amount"], "discount": _discount_ref(d["discount"], related, False)}
                for d in _netted_discounts(item)
            ],
        },
        "quantity": quantity,
        "quantity_decimal": quantity_text,
        "tax_rates": (
            [render_tax_rate(related.tax_rates[r]) for r in item.tax_rates if r in related.tax_rates]
            if item.tax_rates is not None
            else []
        ),
        "test_clock": customer.test_clock_id if customer else None,
    }


def _credited_item(credited: dict[str, Any] | None) -> dict[str, Any] | None:
    """An invoice item's proration_details.credited_items: the invoice line its credit credits (_proration's)."""
    if credited is None:
        return None
    return {"type": "invoice_line_items", "invoice_line_item_details": credited}


def _rendering(stored: dict[str, str] | None) -> dict[str, Any] | None:
    """Stripe's invoice `rendering` as set (never a template: bulkbill refuses them); null when nothing is."""
    if not stored:
        return None
    page_size = stored.get("page_size")
    return {
        "amount_tax_display": stored.get("amount_tax_display"),
        "pdf": {"page_size": page_size} if page_size else None,
        "template": None,
        "template_version": None,
    }
