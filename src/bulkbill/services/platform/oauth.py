"""Zuora-dialect OAuth: client credentials in, a bearer token out; tokens are stored hashed and expire."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select

from bulkbill.core.errors import Unauthenticated
from bulkbill.services.platform.tenants import hash_secret
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import OAuthToken, Tenant

TOKEN_LIFETIME_SECONDS = 3600


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    tenant_id: str


def issue_token(uow: UnitOfWork, client_id: str, client_secret: str) -> IssuedToken:
    """A valid client pair gets a fresh token for its tenant, good for one hour."""
    tenant = uow.session.scalar(select(Tenant).where(Tenant.zuora_client_id == client_id))
    if tenant is None or not hmac.compare_digest(tenant.zuora_secret_hash, hash_secret(client_secret)):
        raise Unauthenticated("Authentication error")
    token = secrets.token_hex(16)
    uow.session.execute(delete(OAuthToken).where(OAuthToken.expires_at < uow.now))
    uow.session.add(
        OAuthToken(token_hash=hash_secret(token), tenant_id=tenant.id, expires_at=uow.now + TOKEN_LIFETIME_SECONDS)
    )
    uow.session.flush()
    return IssuedToken(token, TOKEN_LIFETIME_SECONDS, tenant.id)


def tenant_for_token(uow: UnitOfWork, token: str) -> str:
    """The tenant a live token belongs to; expired or unknown tokens are refused."""
    row = uow.session.get(OAuthToken, hash_secret(token))
    if row is None or row.expires_at <= uow.now:
        raise Unauthenticated("Authentication error")
    return row.tenant_id
