"""A tenant's branding on the documents its customers read (`bulkbill tenants update`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bulkbill.core.documents.branding import BrandingRefused, check_accent, check_locale, check_text, logo_type
from bulkbill.services.rendering.pdf import logo_renders
from bulkbill.storage.tables import Tenant


@dataclass(frozen=True, slots=True)
class BrandingChange:
    """What to change; None leaves a value as it is, "" clears it."""

    business_name: str | None = None
    address: str | None = None
    tax_id: str | None = None
    accent: str | None = None
    footer: str | None = None
    logo: bytes | None = None
    # The locale of documents whose customer names none ("" clears it: English).
    locale: str | None = None

    def is_empty(self) -> bool:
        values = (self.business_name, self.address, self.tax_id, self.accent, self.footer, self.logo, self.locale)
        return all(v is None for v in values)


def set_branding(session: Session, tenant_id: str, change: BrandingChange) -> None:
    """Check every value first (BrandingRefused, nothing changes), then apply them all."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise LookupError(f"no tenant {tenant_id!r}")
    accent = check_accent(change.accent) if change.accent else change.accent
    locale = check_locale(change.locale) if change.locale else change.locale
    kind = logo_type(change.logo) if change.logo else None
    if change.logo and kind is not None and not logo_renders(change.logo, kind):
        raise BrandingRefused("the logo cannot be read as the image it claims to be")
    texts = {
        "business_name": change.business_name,
        "business_address": change.address,
        "tax_id": change.tax_id,
        "invoice_footer": change.footer,
    }
    for column, value in texts.items():
        if value is not None:
            setattr(tenant, column, check_text(value, column.replace("_", " ")) or None)
    if accent is not None:
        tenant.accent = accent or None
    if locale is not None:
        tenant.default_locale = locale or None
    if change.logo is not None:
        tenant.logo, tenant.logo_type = (change.logo, kind) if change.logo else (None, None)
