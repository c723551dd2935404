"""The schema. Every row carries its tenant; every key and foreign key includes tenant_id.

That keeps tenants apart by construction and lets the schema be distributed on Citus with
tenant_id as the distribution column. Amounts are BIGINT minor units; unit prices and rates
are exact decimals (DecimalText); nothing is a float.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bulkbill.storage.types import DecimalText, IdString

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Json = JSON()
# A JSON column where None is SQL NULL (not JSON null), so that IS NULL and CHECK constraints see it.
JsonOrNull = JSON(none_as_null=True)
# An item is pending (no invoice, no line) or a line of its invoice (all of the line's columns set).
LINE_COLUMNS_RULE = (
    '(invoice_id IS NULL AND line_id IS NULL AND "position" IS NULL AND discount_amounts IS NULL AND taxes IS NULL)'
    ' OR (invoice_id IS NOT NULL AND line_id IS NOT NULL AND "position" IS NOT NULL'
    " AND discount_amounts IS NOT NULL AND taxes IS NOT NULL)"
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def tenant_fk(columns: list[str], table: str, **kw: Any) -> ForeignKeyConstraint:
    """A foreign key that always carries tenant_id, so no row can point into another tenant."""
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"], **kw)


def new_document_token() -> str:
    """A public document URL's secret: 32 URL-safe characters (192 random bits)."""
    return secrets.token_urlsafe(24)


class Tenant(Base):
    __tablename__ = "tenants"
    # Operators name tenants on the command line (`--tenant acme`): a name means one tenant. A unique
    # index rather than a constraint: SQLite adds one without rebuilding a table others point to.
    __table_args__ = (Index("uq_tenants_name", "name", unique=True),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    stripe_key_hash: Mapped[str] = mapped_column(IdString, unique=True)
    zuora_client_id: Mapped[str] = mapped_column(String(36), unique=True)
    zuora_secret_hash: Mapped[str] = mapped_column(IdString)
    created: Mapped[int] = mapped_column(BigInteger)
    # The Zuora-Version a request without the header is answered by (None: the current behaviour).
    zuora_default_version: Mapped[str | None] = mapped_column(String(32))
    # Branding on the documents customers read (`bulkbill tenants update`); none of it is required.
    business_name: Mapped[str | None] = mapped_column(String(200))
    business_address: Mapped[str | None] = mapped_column(Text)
    tax_id: Mapped[str | None] = mapped_column(String(64))
    accent: Mapped[str | None] = mapped_column(String(7))
    invoice_footer: Mapped[str | None] = mapped_column(Text)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str | None] = mapped_column(String(32))
    # The locale of documents whose customer names none (a BCP 47 tag babel knows); None: English.
    default_locale: Mapped[str | None] = mapped_column(String(35))


class Customer(Base):
    __tablename__ = "customers"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(256))
    email: Mapped[str | None] = mapped_column(String(512))
    description: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(IdString)
    currency: Mapped[str | None] = mapped_column(String(3))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    invoice_prefix: Mapped[str] = mapped_column(String(12))
    next_invoice_sequence: Mapped[int] = mapped_column(Integer, default=1)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", Json, default=dict)
    created: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Zuora's view of the same account: its number, org, and the rest of its profile.
    account_number: Mapped[str | None] = mapped_column(String(70))
    org_label: Mapped[str | None] = mapped_column(String(100))
    profile: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # The Stripe test clock whose frozen time this customer lives in (tables_subscriptions.BillingClock).
    test_clock_id: Mapped[str | None] = mapped_column(IdString)
    # none, exempt or reverse (core.customers.tax_exemption): exempt and reverse-charge customers are taxed nothing.
    tax_exempt: Mapped[str] = mapped_column(String(8), default="none", server_default="none")
    # What Stripe stores and shows of a customer and bulkbill only renders: address, shipping,
    # preferred_locales, invoice_settings (footer and custom_fields are copied onto new invoices),
    # business_name, individual_name, tax.
    details: Mapped[dict[str, Any] | None] = mapped_column(Json)
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        UniqueConstraint("tenant_id", "invoice_prefix"),
        UniqueConstraint("tenant_id", "account_number"),
    )


class CustomerTaxId(Base):
    """A tax ID (Stripe's tax_id object): a customer's (shown on the customer and its invoices), the tenant's
    own (`owner[type]=self`) or a connected account's as given (`account`); core.customers.tax_ids.TaxIdOwner."""

    __tablename__ = "customer_tax_ids"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(16), default="customer", server_default="customer")
    # Set when owner_type is "customer"; owner_account when it is "account" (an id as given: no accounts here).
    customer_id: Mapped[str | None] = mapped_column(IdString)
    owner_account: Mapped[str | None] = mapped_column(IdString)
    type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(256))
    country: Mapped[str | None] = mapped_column(String(2))
    created: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
        Index("ix_customer_tax_ids_customer", "tenant_id", "customer_id", "created"),
        Index("ix_customer_tax_ids_owner", "tenant_id", "owner_type", "created"),
    )


class CustomerBalanceTransaction(Base):
    """One move of a customer's balance (Stripe's customer_balance_transaction): amount added, balance after."""

    __tablename__ = "customer_balance_transactions"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    customer_id: Mapped[str] = mapped_column(IdString)
    type: Mapped[str] = mapped_column(String(40))  # core.customers.balance.BalanceTransactionType
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    ending_balance: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", Json, default=dict)
    invoice_id: Mapped[str | None] = mapped_column(IdString)
    credit_note_id: Mapped[str | None] = mapped_column(IdString)
    created: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
        Index("ix_customer_balance_transactions_customer", "tenant_id", "customer_id", "created"),
    )


class Product(Base):
    __tablename__ = "products"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    default_price_id: Mapped[str | None] = mapped_column(IdString)
    unit_label: Mapped[str | None] = mapped_column(String(12))
    # Stripe's product type: good or service (what it is, it changes nothing billed).
    type: Mapped[str] = mapped_column(String(8), default="service", server_default="service")
    # Searchable and list filters, so columns; the rest of Stripe's product details (images,
    # package_dimensions, statement_descriptor, tax_code, marketing_features, tax_details) in `details`.
    url: Mapped[str | None] = mapped_column(String(2048))
    shippable: Mapped[bool | None] = mapped_column(Boolean)
    details: Mapped[dict[str, Any] | None] = mapped_column(Json)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", Json, default=dict)
    created: Mapped[int] = mapped_column(BigInteger)
    updated: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)


class Price(Base):
    __tablename__ = "prices"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    product_id: Mapped[str] = mapped_column(IdString)
    currency: Mapped[str] = mapped_column(String(3))
    unit_amount_decimal: Mapped[Decimal | None] = mapped_column(DecimalText)
    type: Mapped[str] = mapped_column(String(16))
    recurring_interval: Mapped[str | None] = mapped_column(String(8))
    recurring_interval_count: Mapped[int | None] = mapped_column(Integer)
    tax_behavior: Mapped[str] = mapped_column(String(16), default="unspecified")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    nickname: Mapped[str | None] = mapped_column(String(256))
    lookup_key: Mapped[str | None] = mapped_column(String(200))
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", Json, default=dict)
    created: Mapped[int] = mapped_column(BigInteger)
    # Beyond a plain unit amount (None: per_unit at unit_amount_decimal): billing_scheme, tiers_mode,
    # tiers, transform_quantity, custom_unit_amount, currency_options, decimals as strings
    # (services/catalog/price_schemes.py reads and writes it).
    pricing: Mapped[dict[str, Any] | None] = mapped_column(Json)
    # recurring[usage_type]=metered prices bill a meter's usage in arrears (None: licensed, billed per quantity).
    usage_type: Mapped[str | None] = mapped_column(String(16))
    meter_id: Mapped[str | None] = mapped_column(IdString)
    __table_args__ = (tenant_fk(["product_id"], "products"),)


class TaxRate(Base):
    __tablename__ = "tax_rates"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(50))
    percentage: Mapped[Decimal] = mapped_column(DecimalText)
    inclusive: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    country: Mapped[str | None] = mapped_column(String(2))
    state: Mapped[str | None] = mapped_column(String(8))
    jurisdiction: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    tax_type: Mapped[str | None] = mapped_column(String(32))
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", Json, default=dict)
    created: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)


class Coupon(Base):
    __tablename__ = "coupons"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(40))
    percent_off: Mapped[Decimal | None] = mapped_column(DecimalText)
    amount_off: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    duration: Mapped[str] = mapped_column(String(16), default="once")
    duration_in_months: Mapped[int | None] = mapped_column(Integer)
    max_redemptions: Mapped[int | None] = mapped_column(Integer)
    times_redeemed: Mapped[int] = mapped_column(Integer, default=0)
    redeem_by: Mapped[int | None] = mapped_column(BigInteger)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", Json, default=dict)
    created: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # applies_to[products] (a list of product ids; None: every product) and currency_options
    # ({currency: {"amount_off": n}}) for an amount_off coupon used in other currencies.
    applies_to: Mapped[list[str] | None] = mapped_column(Json)
    currency_options: Mapped[dict[str, Any] | None] = mapped_column(Json)
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)


class Discount(Base):
    """A coupon applied to something: created each time a coupon is applied (Stripe's di_)."""

    __tablename__ = "discounts"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    coupon_id: Mapped[str] = mapped_column(IdString)
    customer_id: Mapped[str | None] = mapped_column(IdString)
    invoice_id: Mapped[str | None] = mapped_column(IdString)
    invoice_item_id: Mapped[str | None] = mapped_column(IdString)
    start: Mapped[int] = mapped_column(BigInteger)
    # The promotion code the customer redeemed to get this discount (Stripe's promo_), if any.
    promotion_code_id: Mapped[str | None] = mapped_column(IdString)
    __table_args__ = (tenant_fk(["coupon_id"], "coupons"),)


class PromotionCode(Base):
    """A customer-facing code for a coupon (Stripe's promo_), with its own redemption limits."""

    __tablename__ = "promotion_codes"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    code: Mapped[str] = mapped_column(String(500))
    coupon_id: Mapped[str] = mapped_column(IdString)
    customer_id: Mapped[str | None] = mapped_column(IdString)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    max_redemptions: Mapped[int | None] = mapped_column(Integer)
    times_redeemed: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[int | None] = mapped_column(BigInteger)
    # first_time_transaction, minimum_amount, minimum_amount_currency, currency_options.
    restrictions: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", Json, default=dict)
    created: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        tenant_fk(["coupon_id"], "coupons"),
        Index("ix_promotion_codes_tenant_code", "tenant_id", "code"),
    )


class Invoice(Base):
    __tablename__ = "invoices"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    customer_id: Mapped[str] = mapped_column(IdString)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    collection_method: Mapped[str] = mapped_column(String(24), default="charge_automatically")
    days_until_due: Mapped[int | None] = mapped_column(Integer)
    due_date: Mapped[int | None] = mapped_column(BigInteger)
    auto_advance: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    footer: Mapped[str | None] = mapped_column(Text)
    # Name-value pairs shown on the document (Stripe custom_fields, at most 4; not the Zuora custom_fields
    # column): a new invoice takes its customer's invoice_settings.custom_fields.
    document_custom_fields: Mapped[list[dict[str, str]] | None] = mapped_column(Json)
    # Stripe's invoice `rendering`: {"amount_tax_display": ..., "page_size": ...} as set; None when nothing is.
    rendering: Mapped[dict[str, str] | None] = mapped_column(Json)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", Json, default=dict)
    default_tax_rates: Mapped[list[str]] = mapped_column(Json, default=list)
    discounts: Mapped[list[str]] = mapped_column(Json, default=list)
    number: Mapped[str | None] = mapped_column(IdString)
    billing_reason: Mapped[str] = mapped_column(String(32), default="manual")
    created: Mapped[int] = mapped_column(BigInteger)
    period_start: Mapped[int] = mapped_column(BigInteger)
    period_end: Mapped[int] = mapped_column(BigInteger)
    finalized_at: Mapped[int | None] = mapped_column(BigInteger)
    paid_at: Mapped[int | None] = mapped_column(BigInteger)
    voided_at: Mapped[int | None] = mapped_column(BigInteger)
    marked_uncollectible_at: Mapped[int | None] = mapped_column(BigInteger)
    starting_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    ending_balance: Mapped[int | None] = mapped_column(BigInteger)
    amount_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_out_of_band: Mapped[bool] = mapped_column(Boolean, default=False)
    subtotal: Mapped[int] = mapped_column(BigInteger, default=0)
    subtotal_excluding_tax: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    total_excluding_tax: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_due: Mapped[int] = mapped_column(BigInteger, default=0)
    total_discount_amounts: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    total_taxes: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    next_line_position: Mapped[int] = mapped_column(Integer, default=0)
    # "invoice", or "credit_memo" for documents billing returns (Zuora); Stripe shows invoices only.
    document_type: Mapped[str] = mapped_column(String(16), default="invoice", server_default="invoice")
    # Who made it: "stripe", "zuora_standalone", "run_billing" or "bill_run"; decides its numbering.
    origin: Mapped[str] = mapped_column(String(24), default="stripe", server_default="stripe")
    invoice_date: Mapped[str | None] = mapped_column(String(10))
    target_date: Mapped[str | None] = mapped_column(String(10))
    comments: Mapped[str | None] = mapped_column(Text)
    transferred_to_accounting: Mapped[str | None] = mapped_column(String(16))
    auto_pay: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    custom_fields: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    bill_run_id: Mapped[str | None] = mapped_column(IdString)
    template_id: Mapped[str | None] = mapped_column(String(64))
    # Set on a subscription's invoices, with a snapshot of the subscription's metadata at creation.
    subscription_id: Mapped[str | None] = mapped_column(IdString)
    subscription_metadata: Mapped[dict[str, str] | None] = mapped_column(Json)
    # The secret part of the public document URLs (hosted page, PDF): 192 random bits, so the URL is
    # unguessable and names one tenant's one document; shown only once the invoice is finalized.
    document_token: Mapped[str | None] = mapped_column(String(48), default=new_document_token)
    # Set on a credit note (a credit memo made through Stripe's /v1/credit_notes): the invoice it credits.
    credited_invoice_id: Mapped[str | None] = mapped_column(IdString)
    # Stripe invoice fields (migration 0014). `effective_at` is chosen on a draft, else set to the
    # finalization time when it finalizes (older rows: null, shown as finalized_at).
    statement_descriptor: Mapped[str | None] = mapped_column(String(22))
    effective_at: Mapped[int | None] = mapped_column(BigInteger)
    # A chosen `automatically_finalizes_at`: replaces the renewal draft's hour (core.subscriptions.rules).
    chosen_finalizes_at: Mapped[int | None] = mapped_column(BigInteger)
    # Shipping: the fixed amount of `shipping_cost[shipping_rate_data]` (with its display data), which
    # adds to the total (`amount_shipping`), and the `shipping_details` shown.
    shipping_cost: Mapped[dict[str, Any] | None] = mapped_column(Json)
    amount_shipping: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    shipping_details: Mapped[dict[str, Any] | None] = mapped_column(Json)
    account_tax_ids: Mapped[list[str] | None] = mapped_column(Json)
    # A revision (`from_invoice[action]=revision`) names the finalized invoice it revises; that one names
    # its latest revision.
    from_invoice_id: Mapped[str | None] = mapped_column(IdString)
    latest_revision_id: Mapped[str | None] = mapped_column(IdString)
    __table_args__ = (
        tenant_fk(["customer_id"], "customers"),
        UniqueConstraint("tenant_id", "number"),
        # Looked up by token alone (the public pages carry no tenant). Not a unique key: every key carries
        # the tenant (a distributed PostgreSQL shards by it); 192 random bits do not collide.
        Index("ix_invoices_document_token", "document_token"),
        Index("ix_invoices_tenant_customer", "tenant_id", "customer_id", "created"),
        Index("ix_invoices_tenant_created", "tenant_id", "created"),
        Index("ix_invoices_tenant_credited", "tenant_id", "credited_invoice_id"),
    )


class InvoiceItem(Base):
    """A billable item (Stripe's ii_), pending while invoice_id is null; on an invoice, also its line (il_).

    A billed line is one row: the item carries its line's id, position and figures (discount and tax
    amounts). A pending item has none of the four, an item on an invoice all four (a CHECK says so),
    so one item is at most one line by construction.
    """

    __tablename__ = "invoice_items"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(IdString, primary_key=True)
    customer_id: Mapped[str] = mapped_column(IdString)
    invoice_id: Mapped[str | None] = mapped_column(IdString)
    kind: Mapped[str] = mapped_column(String(16), default="invoice_item")
    currency: Mapped[str] = mapped_column(String(3))
    unit_amount_decimal: Mapped[Decimal] = mapped_column(DecimalText)
    quantity_decimal: Mapped[Decimal] = mapped_column(DecimalText)
    amount: Mapped[int] = mapped_column(BigInteger)
    amount_defined: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    discountable: Mapped[bool] = mapped_column(Boolean, default=True)
    discounts: Mapped[list[str]] = mapped_column(Json, default=list)
    tax_rates: Mapped[list[str] | None] = mapped_column(Json)
    period_start: Mapped[int] = mapped_column(BigInteger)
    period_end: Mapped[int] = mapped_column(BigInteger)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", Json, default=dict)
    price_id: Mapped[str | None] = mapped_column(IdString)
    product_id: Mapped[str | None] = mapped_column(IdString)
    subscription_id: Mapped[str | None] = mapped_column(IdString)
    subscription_item_id: Mapped[str | None] = mapped_column(IdString)
    created: Mapped[int] = mapped_column(BigInteger)
    # What this item bills, when it came from elsewhere: ("order_line_item" | "fulfillment", id).
    # Unique, so the database itself refuses to bill an order line or fulfillment twice.
    source_type: Mapped[str | None] = mapped_column(String(24))
    source_id: Mapped[str | None] = mapped_column(IdString)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # Dialect details with no core meaning (Zuora's chargeName, sku, accounting codes, ...).
    extras: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # Tax amounts given by hand (Stripe's line `tax_amounts`): the line's taxes are these, not computed.
    manual_taxes: Mapped[list[dict[str, Any]] | None] = mapped_column(Json)
    # Its invoice line, while on an invoice (all four null while pending): the line's id (il_), its
    # place on the invoice, and the discount and tax amounts the invoice arithmetic gave it.
    line_id: Mapped[str | None] = mapped_column(IdString)
    position: Mapped[int | None] = mapped_column(Integer)
    discount_amounts: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonOrNull)
    taxes: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonOrNull)
    __table_args__ = (
        tenant_fk(["customer_id"], "customers"),
        tenant_fk(["invoice_id"], "invoices"),
        UniqueConstraint("tenant_id", "source_type", "source_id"),
        UniqueConstraint("tenant_id", "line_id"),
        # An invoice's lines in order; also what finds an invoice's items (and checks the invoice key).
        UniqueConstraint("tenant_id", "invoice_id", "position"),
        CheckConstraint(LINE_COLUMNS_RULE, name="line_columns"),
        Index("ix_invoice_items_pending", "tenant_id", "customer_id", "invoice_id"),
        # Room in each page for a draft's edited items to update in place (HOT): migration 0020.
        {"postgresql_with": {"fillfactor": 70}},
    )


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    dialect: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(IdString)
    state: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(IdString)
    created: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]), Index("ix_idem_created", "created"))


class Sequence(Base):
    """Gapless counters per tenant (A00000001, INV00000001, O-00000001, ...), taken under a row lock."""

    __tablename__ = "sequences"
    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)


class OAuthToken(Base):
    """A Zuora-dialect bearer token, stored as a hash; it expires."""

    __tablename__ = "oauth_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(40))
    expires_at: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]), Index("ix_oauth_expires", "expires_at"))


# Models kept in their own modules register on the same metadata when this module is imported.
from bulkbill.storage import tables_accounting as _accounting  # noqa: E402,F401
from bulkbill.storage import tables_documents as _documents  # noqa: E402,F401
from bulkbill.storage import tables_entitlements as _entitlements  # noqa: E402,F401
from bulkbill.storage import tables_events as _events  # noqa: E402,F401
from bulkbill.storage import tables_orders as _orders  # noqa: E402,F401
from bulkbill.storage import tables_subscriptions as _subscriptions  # noqa: E402,F401
from bulkbill.storage import tables_usage as _usage  # noqa: E402,F401
