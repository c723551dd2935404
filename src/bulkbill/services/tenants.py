"""Tenants and their credentials: keys are random, shown once, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select
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


def create_tenant(session: Session, name: str, *, now: int) -> NewTenant:
    """Create a tenant with a fresh Stripe secret key and Zuora client pair; secrets are returned once."""
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
    )
    session.add(tenant)
    session.flush()
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
