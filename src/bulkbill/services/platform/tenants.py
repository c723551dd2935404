"""Tenants and their credentials: keys are random, shown once, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Tenant


@dataclass(frozen=True)
class NewTenant:
    id: str
    name: str
    stripe_secret_key: str
    zuora_client_id: str
    zuora_client_secret: str


def hash_secret(secret: str) -> str:
    # Keys are 32+ random bytes, so a plain SHA-256 is enough (no password stretching needed).
    return hashlib.sha256(secret.encode()).hexdigest()


class TenantNameRefused(ValueError):
    """A tenant name that is empty, too long, or already another tenant's."""


# The column's width (tables.Tenant.name).
TENANT_NAME_MAX = 200


def tenant_id_named(session: Session, id_or_name: str) -> str | None:
    """The tenant an operator's argument names: by id first (ids never change), else by its unique name."""
    if session.get(Tenant, id_or_name) is not None:
        return id_or_name
    return _id_of_name(session, id_or_name)


def _id_of_name(session: Session, name: str) -> str | None:
    return session.scalar(select(Tenant.id).where(Tenant.name == name))


def list_tenants(session: Session) -> list[Tenant]:
    """Every tenant, oldest first."""
    return list(session.scalars(select(Tenant).order_by(Tenant.created, Tenant.id)))


def check_tenant_name(name: str) -> str:
    """A tenant name is what an operator types to name it: not blank, at most 200 characters, no outer spaces."""
    name = name.strip()
    if not name:
        raise TenantNameRefused("a tenant name must not be empty")
    if len(name) > TENANT_NAME_MAX:
        raise TenantNameRefused(f"a tenant name has at most {TENANT_NAME_MAX} characters, not {len(name)}")
    return name


def _name_taken(name: str) -> TenantNameRefused:
    return TenantNameRefused(f"a tenant named {name!r} already exists (`bulkbill tenants list` shows them)")


# Zuora-Version values: a legacy minor version (196.0) or a dated one (2025-08-12).
ZUORA_VERSION = re.compile(r"^(\d{3}\.\d+|\d{4}-\d{2}-\d{2})$")


def check_zuora_version(version: str | None) -> str | None:
    """A tenant's default Zuora-Version is a legacy (196.0) or dated (2025-08-12) version, or None."""
    if version is not None and not ZUORA_VERSION.match(version):
        raise ValueError(f"not a Zuora-Version (196.0 or 2025-08-12): {version!r}")
    return version


def set_zuora_default_version(session: Session, tenant_id: str, version: str | None) -> None:
    """Answer this tenant's requests without Zuora-Version as `version` does (None: the current behaviour)."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise LookupError(f"no tenant {tenant_id!r}")
    tenant.zuora_default_version = check_zuora_version(version)


def create_tenant(session: Session, name: str, *, now: int, zuora_default_version: str | None = None) -> NewTenant:
    """Create a tenant with a fresh Stripe secret key and Zuora client pair; secrets are returned once.

    Names are unique (the database's uq_tenants_name enforces it under races too).
    """
    name = check_tenant_name(name)
    if _id_of_name(session, name) is not None:
        raise _name_taken(name)
    key = "sk_test_" + secrets.token_urlsafe(32).replace("-", "x").replace("_", "y")
    client_id = str(uuid.uuid4())
    client_secret = secrets.token_urlsafe(30)  # 40 characters: zuora-sdk refuses more than 42
    tenant = Tenant(
        id=new_id("acct_", 16),
        name=name,
        stripe_key_hash=hash_secret(key),
        zuora_client_id=client_id,
        zuora_secret_hash=hash_secret(client_secret),
        created=now,
        zuora_default_version=check_zuora_version(zuora_default_version),
    )
    session.add(tenant)
    try:
        session.flush()
    except IntegrityError as exc:
        # Another process created the same name since the check above. (The other unique columns hold
        # 256-bit random values or UUIDs: a clash there is not a thing that happens.)
        raise _name_taken(name) from exc
    return NewTenant(tenant.id, name, key, client_id, client_secret)


# Key hash → (tenant id, when cached). Keys are never reissued to another tenant, so a short-lived
# process cache only saves the lookup on the hot path; a miss always reads the database.
_KEY_CACHE: dict[str, tuple[str, float]] = {}
_KEY_CACHE_SECONDS = 60.0
_KEY_CACHE_SIZE = 10_000


def tenant_id_for_stripe_key(session: Session, key: str) -> str | None:
    """The tenant a Stripe secret key belongs to, or None for an unknown key."""
    digest = hash_secret(key)
    cached = _KEY_CACHE.get(digest)
    if cached is not None and time.monotonic() - cached[1] < _KEY_CACHE_SECONDS:
        return cached[0]
    tenant_id = session.scalar(select(Tenant.id).where(Tenant.stripe_key_hash == digest))
    if tenant_id is not None:
        if len(_KEY_CACHE) >= _KEY_CACHE_SIZE:
            _KEY_CACHE.clear()
        _KEY_CACHE[digest] = (tenant_id, time.monotonic())
    return tenant_id
