"""Tax rates (Stripe txr_): a fixed percentage, inclusive or exclusive, applied to invoice lines.

The percentage and the inclusive flag never change after creation (as in Stripe): invoices
that used a rate keep meaning what they meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from sqlalchemy import select

from bulkbill.core.errors import ErrorCode, InputCollector, NotFound
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.metadata import Clear, MetadataUpdate, check_metadata, merge_metadata
from bulkbill.services.events.outbox import changing, emit
from bulkbill.services.platform.locks import get_row
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import TaxRate

TAX_TYPES = (
    "amusement_tax",
    "communications_tax",
    "gst",
    "hst",
    "igst",
    "jct",
    "lease_tax",
    "mass_transit_parking_tax",
    "parking_tax",
    "pst",
    "qst",
    "retail_delivery_fee",
    "rst",
    "sales_tax",
    "service_tax",
    "vat",
)
_OPTIONAL_TEXTS = ("country", "state", "jurisdiction", "description", "tax_type")


@dataclass(frozen=True)
class TaxRateFields:
    """None leaves a field as it is; CLEAR (for the optional texts) sets it to null."""

    display_name: str | None = None
    percentage: Decimal | None = None
    inclusive: bool | None = None
    active: bool | None = None
    country: str | Clear | None = None
    state: str | Clear | None = None
    jurisdiction: str | Clear | None = None
    description: str | Clear | None = None
    tax_type: str | Clear | None = None
    metadata: MetadataUpdate | None = None


def _check(fields: TaxRateFields, errors: InputCollector) -> None:
    p = fields.percentage
    if p is not None and not Decimal(0) <= p <= Decimal(100):
        errors.add(
            ("percentage",), ErrorCode.PARAMETER_INVALID_DECIMAL, "Invalid percentage: must be between 0 and 100."
        )
    country = fields.country
    if isinstance(country, str) and not (len(country) == 2 and country.isascii() and country.isalpha()):
        errors.add(("country",), ErrorCode.INVALID_COUNTRY, "Invalid country: use a two-letter ISO 3166-1 code.")
    check_metadata(fields.metadata, ("metadata",), errors)


def _apply_texts(rate: TaxRate, fields: TaxRateFields) -> None:
    for name in _OPTIONAL_TEXTS:
        value = getattr(fields, name)
        if value is not None:
            text = None if isinstance(value, Clear) else value
            setattr(rate, name, text.upper() if text and name in ("country", "state") else text)


def create_tax_rate(uow: UnitOfWork, fields: TaxRateFields) -> TaxRate:
    errors = InputCollector()
    for name in ("display_name", "percentage", "inclusive"):
        if getattr(fields, name) is None:
            errors.missing((name,))
    _check(fields, errors)
    metadata = merge_metadata({}, fields.metadata, ("metadata",), errors)
    errors.raise_if_any()
    assert fields.display_name is not None and fields.percentage is not None and fields.inclusive is not None
    rate = TaxRate(
        tenant_id=uow.tenant_id,
        id=new_id("txr_", 24),
        display_name=fields.display_name,
        percentage=fields.percentage,
        inclusive=fields.inclusive,
        active=True if fields.active is None else fields.active,
        metadata_=metadata,
        created=uow.now,
    )
    _apply_texts(rate, fields)
    uow.session.add(rate)
    uow.session.flush()
    emit(uow, EventType.TAX_RATE_CREATED, rate.id)
    return rate


def get_tax_rate(uow: UnitOfWork, tax_rate_id: str, *, lock: Literal["update"] | None = None) -> TaxRate:
    """A tax rate; with lock="update", held until the transaction ends (updates merge into what they read)."""
    rate = get_row(uow, TaxRate, tax_rate_id, lock=lock)
    if rate is None:
        raise NotFound("tax_rate", tax_rate_id)
    return rate


def update_tax_rate(uow: UnitOfWork, tax_rate_id: str, fields: TaxRateFields) -> TaxRate:
    """Everything but percentage and inclusive can change."""
    rate = get_tax_rate(uow, tax_rate_id, lock="update")
    changing(uow, EventObject.TAX_RATE, [rate.id])
    errors = InputCollector()
    _check(fields, errors)
    rate.metadata_ = merge_metadata(rate.metadata_, fields.metadata, ("metadata",), errors)
    errors.raise_if_any()
    if fields.display_name is not None:
        rate.display_name = fields.display_name
    if fields.active is not None:
        rate.active = fields.active
    _apply_texts(rate, fields)
    uow.session.flush()
    emit(uow, EventType.TAX_RATE_UPDATED, rate.id)
    return rate


def list_tax_rates(
    uow: UnitOfWork, cursor: Cursor, *, active: bool | None = None, inclusive: bool | None = None
) -> Page[TaxRate]:
    query = select(TaxRate).where(TaxRate.tenant_id == uow.tenant_id)
    if active is not None:
        query = query.where(TaxRate.active.is_(active))
    if inclusive is not None:
        query = query.where(TaxRate.inclusive.is_(inclusive))
    return paginate(uow, query, TaxRate, cursor)
