"""Tenants and their credentials: keys are random, shown once, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
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
    client_secret = secrets.token_urlsafe(32)
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


def tenant_for_stripe_key(session: Session, key: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.stripe_key_hash == hash_secret(key)))
