"""From stored rows to the core's document model: a finalized invoice or a posted credit memo, all its lines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

from bulkbill.core.documents.display import AmountTaxDisplay, PageSize, paper_for
from bulkbill.core.documents.formatting import choose_locale
from bulkbill.core.documents.model import (
    Adjustment,
    Branding,
    Document,
    DocumentKind,
    DocumentLine,
    Party,
    document_state,
)
from bulkbill.core.errors import NotFound
from bulkbill.services.documents.documents import DOC_KEY
from bulkbill.services.invoicing.invoice_totals import load_lines
from bulkbill.services.invoicing.invoice_views import Related, load_related
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer, Invoice, Tenant

DEFAULT_ACCENT = "#1f6feb"
_E = TypeVar("_E", AmountTaxDisplay, PageSize)


def has_document(invoice: Invoice) -> bool:
    """Finalized (Stripe) or posted (Zuora) documents have one; drafts never do."""
    return document_state(invoice.status) is not None


def build_document(uow: UnitOfWork, invoice: Invoice) -> Document:
    """The document a customer reads for a finalized invoice or credit memo (NotFound for a draft)."""
    state = document_state(invoice.status)
    if state is None:
        raise NotFound("document", invoice.id)
    entries = load_lines(uow, invoice.id)
    related = load_related(uow, [invoice], [e.item for e in entries])
    customer = related.customers.get(invoice.customer_id)
    tenant = uow.session.get(Tenant, uow.tenant_id)
    lines = tuple(
        DocumentLine(
            description=_line_description(e.item.description, e.item.extras),
            quantity=e.item.quantity_decimal,
            unit_amount=e.item.unit_amount_decimal,
            amount=e.item.amount,
            period_start=e.item.period_start,
            period_end=e.item.period_end,
            inclusive_tax=sum(int(t["amount"]) for t in e.taxes if t.get("inclusive")),
        )
        for e in entries
    )
    locale = document_locale(customer, tenant)
    rendering = invoice.rendering or {}
    return Document(
        kind=DocumentKind(invoice.document_type),
        state=state,
        number=invoice.number or invoice.id,
        currency=invoice.currency,
        locale=locale,
        issued=_issued(invoice),
        due=invoice.due_date,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        issuer=_issuer(tenant),
        customer=_customer(customer),
        branding=_branding(tenant, invoice),
        lines=lines,
        subtotal=invoice.subtotal,
        discounts=_discounts(invoice, related),
        taxes=_taxes(invoice, related),
        total=invoice.total,
        balance_applied=invoice.starting_balance,
        amount_paid=invoice.amount_paid,
        amount_due=invoice.amount_due,
        memo=invoice.description or invoice.comments,
        payment_terms=_payment_terms(invoice, customer),
        custom_fields=_custom_fields(invoice),
        tax_display=_enum(AmountTaxDisplay, rendering.get("amount_tax_display")),
        paper=paper_for(_enum(PageSize, rendering.get("page_size")), locale),
    )


def _enum(kind: type[_E], value: object) -> _E | None:
    """A stored choice as its enum; None when unset (or not one of today's values)."""
    return kind(value) if isinstance(value, str) and value in kind._value2member_map_ else None


def _custom_fields(invoice: Invoice) -> tuple[tuple[str, str], ...]:
    """Stripe's custom_fields (name-value pairs, in their order), then Zuora's custom fields by name."""
    stripe = [(str(f.get("name", "")), str(f.get("value", ""))) for f in invoice.document_custom_fields or ()]
    zuora = [
        (str(k), str(v))
        for k, v in sorted((invoice.custom_fields or {}).items())
        if v not in (None, "") and k != DOC_KEY  # the document's own attributes, not a custom field
    ]
    return tuple(stripe + zuora)


# A Zuora account carries no language (its contacts' country is not one): bulkbill reads this custom
# field of the account, a BCP 47 tag such as "fr" or "fr-CA" (README, "Billing documents").
ZUORA_LOCALE_FIELD = "Locale__c"


def customer_locale(customer: Customer | None, default: str | None = None) -> str:
    """The customer's first preferred locale babel knows (Stripe preferred_locales; a Zuora account's
    Locale__c), else `default` (the tenant's), else English."""
    preferences = _details(customer).get("preferred_locales")
    wanted = [p for p in preferences if isinstance(p, str)] if isinstance(preferences, list | tuple) else []
    profile = getattr(customer, "profile", None) if customer is not None else None
    custom = profile.get("customFields") if isinstance(profile, dict) else None
    if isinstance(custom, dict) and isinstance(custom.get(ZUORA_LOCALE_FIELD), str):
        wanted.append(custom[ZUORA_LOCALE_FIELD])
    if default:
        wanted.append(default)
    return choose_locale(wanted)


def document_locale(customer: Customer | None, tenant: Tenant | None) -> str:
    """The locale a customer's documents read in: the customer's own, else the tenant's default, else English."""
    return customer_locale(customer, tenant.default_locale if tenant is not None else None)


def _details(customer: Customer | None) -> dict[str, Any]:
    """What Stripe stores of a customer beyond its columns (address, preferred_locales, ...); {} when none."""
    details = getattr(customer, "details", None) if customer is not None else None
    return details if isinstance(details, dict) else {}


def _line_description(description: str | None, extras: Mapping[str, Any] | None) -> str:
    if description:
        return description
    extras = extras or {}
    return str(extras.get("chargeName") or extras.get("productName") or "")


def _issued(invoice: Invoice) -> int:
    if invoice.invoice_date:
        day = dt.date.fromisoformat(invoice.invoice_date)
        return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
    return invoice.finalized_at or invoice.created


def _issuer(tenant: Tenant | None) -> Party:
    if tenant is None:
        return Party()
    return Party(name=tenant.business_name or tenant.name, address=tenant.business_address, tax_id=tenant.tax_id)


def _branding(tenant: Tenant | None, invoice: Invoice) -> Branding:
    footer = invoice.footer or (tenant.invoice_footer if tenant is not None else None)
    if tenant is None:
        return Branding(footer=footer)
    return Branding(logo=tenant.logo, logo_type=tenant.logo_type, accent=tenant.accent or DEFAULT_ACCENT, footer=footer)


def _customer(customer: Customer | None) -> Party:
    if customer is None:
        return Party()
    contact = (customer.profile or {}).get("billToContact")
    address = _details(customer).get("address")
    return Party(
        name=customer.name,
        address=format_address(address) or format_address(contact),
        email=customer.email or (contact.get("workEmail") if isinstance(contact, dict) else None),
    )


def format_address(address: object) -> str | None:
    """A Stripe address (line1, city, ...) or a Zuora contact (address1, zipCode, ...) as lines of text."""
    if not isinstance(address, dict):
        return None

    def field(*names: str) -> str:
        return next((str(address[n]) for n in names if address.get(n)), "")

    city = " ".join(p for p in (field("postal_code", "zipCode"), field("city")) if p)
    parts = [field("line1", "address1"), field("line2", "address2"), city, field("state"), field("country")]
    text = "\n".join(p for p in parts if p)
    return text or None


def _discounts(invoice: Invoice, related: Related) -> tuple[Adjustment, ...]:
    out = []
    for entry in invoice.total_discount_amounts or []:
        discount = related.discounts.get(entry["discount"])
        coupon = related.coupons.get(discount.coupon_id) if discount is not None else None
        label = (coupon.name or coupon.id) if coupon is not None else ""  # "": the document's word for it
        if coupon is not None and coupon.percent_off is not None:
            label = f"{label} ({_percent(coupon.percent_off)} %)"
        out.append(Adjustment(label, int(entry["amount"])))
    return tuple(out)


def _taxes(invoice: Invoice, related: Related) -> tuple[Adjustment, ...]:
    out = []
    for entry in invoice.total_taxes or []:
        rate = related.tax_rates.get(entry.get("tax_rate", ""))
        label = f"{rate.display_name} {_percent(rate.percentage)} %" if rate is not None else ""
        out.append(Adjustment(label, int(entry["amount"]), bool(entry.get("inclusive"))))
    return tuple(out)


def _percent(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _payment_terms(invoice: Invoice, customer: Customer | None) -> str | None:
    term = (customer.profile or {}).get("paymentTerm") if customer is not None else None
    if isinstance(term, str) and term:
        return term
    if invoice.collection_method == "send_invoice" and invoice.days_until_due is not None:
        return f"Net {invoice.days_until_due}"
    return None
