"""Tax IDs: who owns one, and the country its type names."""

from __future__ import annotations

from enum import StrEnum

from bulkbill.core.errors import ErrorCode, FieldError, Path

# A customer, the tenant's own account, or a connected account, each holds at most this many (Stripe's limit).
MAX_TAX_IDS = 25


class TaxIdOwner(StrEnum):
    """Whose tax ID it is (Stripe's `owner[type]`)."""

    ACCOUNT = "account"  # a connected account, named by id: bulkbill keeps none, so the id is stored as given
    APPLICATION = "application"  # a Connect platform's application: Connect, refused by design
    CUSTOMER = "customer"
    SELF = "self"  # the tenant itself: the IDs its invoices show as `account_tax_ids`


# The owner field each owner type requires; the others must not be given with it.
OWNER_FIELD: dict[TaxIdOwner, str | None] = {
    TaxIdOwner.ACCOUNT: "account",
    TaxIdOwner.APPLICATION: None,
    TaxIdOwner.CUSTOMER: "customer",
    TaxIdOwner.SELF: None,
}


def owner_problems(owner: TaxIdOwner, given: dict[str, str | None], path: Path) -> list[FieldError]:
    """An owner names exactly the id its type requires (account or customer), none for self; no application."""
    if owner is TaxIdOwner.APPLICATION:
        message = "owner[type]=application is Connect (a platform's application): bulkbill does not serve Connect."
        return [FieldError((*path, "type"), ErrorCode.PARAMETER_UNSUPPORTED, message)]
    needed = OWNER_FIELD[owner]
    problems = []
    for name in ("account", "customer"):
        if name == needed and not given.get(name):
            message = f"owner[{name}] is required when owner[type] is {owner.value}."
            problems.append(FieldError((*path, name), ErrorCode.PARAMETER_MISSING, message))
        elif name != needed and given.get(name):
            message = f"owner[{name}] cannot be given when owner[type] is {owner.value}."
            problems.append(FieldError((*path, name), ErrorCode.PARAMETER_INVALID, message))
    return problems


def country_of(type_: str, value: str) -> str | None:
    """The ID's country: the type's prefix (`de_stn` → DE), an EU VAT number's own (`EL…` is Greece)."""
    if type_ in ("unknown", "eu_oss_vat"):
        return None
    if type_ == "eu_vat":
        prefix = value[:2].upper()
        return "GR" if prefix == "EL" else prefix
    return type_[:2].upper()
