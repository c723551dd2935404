"""Credentials: stored only as hashes, never logged, and expired OAuth tokens refused.

One tenant is put through both dialects (every kind of object, Idempotency-Keys on both dialects,
the token endpoint with and without a key, refused credentials) while every log record at DEBUG is
captured, SQLAlchemy's statement log included. Then every row the tenant owns, in every table, is
searched for the Stripe secret key, the Zuora client secret and every access token issued.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from bulkbill.services.platform.tenants import hash_secret
from bulkbill.storage.tables import OAuthToken, Tenant
from tests.helpers import StripeClient, ZuoraClient, new_tenant, zuora_for
from tests.reliability_input.conftest import Counts
from tests.reliability_input.world import build_world, tenant_tables


def rows_of(client: TestClient, tenant_id: str) -> list[tuple[str, Any]]:
    """Every row the tenant owns, as (table, row), its tenants row included."""
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    out: list[tuple[str, Any]] = []
    with state.sessions.begin() as session:
        out += [("tenants", r) for r in session.execute(select(Tenant.__table__).where(Tenant.id == tenant_id))]
        for table in tenant_tables():
            out += [(table.name, r) for r in session.execute(select(table).where(table.c.tenant_id == tenant_id))]
    return out


def test_keys_and_tokens_are_stored_hashed_and_never_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture, counts: Counts
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # statements and their parameters
    try:
        tenant = new_tenant(client, "secrets")
        tokens = [
            zuora_for(client, tenant).token,
            zuora_for(client, tenant, {"Idempotency-Key": uuid.uuid4().hex}).token,
        ]
        zuora = ZuoraClient(client, tokens[0])
        world = build_world(client, tenant, zuora)
        stripe = StripeClient(client, tenant.stripe_secret_key)
        key = {"Idempotency-Key": uuid.uuid4().hex}
        stripe.ok("POST", "/v1/customers", {"name": "idempotent"})
        assert stripe.post("/v1/customers", {"name": "again"}, headers=key).status_code == 200
        assert stripe.post("/v1/customers", {"name": "again"}, headers=key).headers["Idempotent-Replayed"] == "true"
        zuora.request("POST", "/v1/accounts", {"name": "x"}, headers={"Idempotency-Key": uuid.uuid4().hex})
        body = {"name": "Idem", "currency": "USD", "billToContact": {"firstName": "A", "lastName": "B"}}
        zuora.ok("POST", "/v1/accounts", body, headers=key)
        # Refused credentials are logged without the credential.
        assert (
            client.get("/stripe/v1/customers", headers={"Authorization": "Bearer sk_test_wrong" + "x" * 20}).status_code
            == 401
        )
        bad_secret = client.post(
            "/zuora/oauth/token",
            data={"client_id": tenant.zuora_client_id, "client_secret": "nope", "grant_type": "client_credentials"},
        )
        assert bad_secret.status_code == 401
        tokens.append(zuora_for(client, tenant).token)
        stripe.ok("GET", f"/v1/invoices/{world.first('invoice')}")
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    plaintexts = {"stripe secret key": tenant.stripe_secret_key, "zuora client secret": tenant.zuora_client_secret}
    plaintexts.update({f"access token {i}": t for i, t in enumerate(tokens)})

    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert "sqlalchemy.engine" in {r.name.rsplit(".", 1)[0] for r in caplog.records}  # the statement log was on
    for name, secret in plaintexts.items():
        assert secret not in logged, f"the {name} was logged"

    rows = rows_of(client, tenant.id)
    for name, secret in plaintexts.items():
        found = [table for table, row in rows if any(secret in str(value) for value in row)]
        assert not found, f"the {name} is stored in plain text in {found}"
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    with state.sessions.begin() as session:
        stored = session.get(Tenant, tenant.id)
        assert stored is not None
        assert stored.stripe_key_hash == hash_secret(tenant.stripe_secret_key)
        assert stored.zuora_secret_hash == hash_secret(tenant.zuora_client_secret)
        for token in tokens:
            assert session.get(OAuthToken, hash_secret(token)) is not None
    counts.add("secrets: rows searched for plaintext keys and tokens", len(rows))
    counts.add("secrets: log records searched for plaintext keys and tokens", len(caplog.records))


def test_expired_tokens_are_refused(client: TestClient, counts: Counts) -> None:
    tenant = new_tenant(client, "expiry")
    token = zuora_for(client, tenant).token
    zuora = ZuoraClient(client, token)
    account = zuora.ok(
        "POST", "/v1/accounts", {"name": "x", "currency": "USD", "billToContact": {"firstName": "A", "lastName": "B"}}
    )
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    tried = 0
    for expires_at in (int(time.time()) + 2, int(time.time()) - 1, 0):
        with state.sessions.begin() as session:
            session.execute(
                update(OAuthToken).where(OAuthToken.token_hash == hash_secret(token)).values(expires_at=expires_at)
            )
        response = zuora.request("GET", f"/v1/accounts/{account['accountId']}")
        expected = 200 if expires_at > time.time() else 401
        assert response.status_code == expected, response.text
        if expected == 401:
            assert response.json()["reasons"][0]["code"] == 90000011
            # Unknown paths and other versions too: authentication comes first.
            assert zuora.request("GET", "/v1/nothing-here").status_code == 401
            legacy = ZuoraClient(client, token, version="196.0")
            assert legacy.request("POST", "/v1/accounts", {}).status_code == 401
            tried += 3
        tried += 1
    # A fresh token works again.
    assert zuora_for(client, tenant).request("GET", f"/v1/accounts/{account['accountId']}").status_code == 200
    counts.add("expired OAuth tokens refused", tried)
