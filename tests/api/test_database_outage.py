"""A busy database is a retryable 409; a database that cannot answer at all is a 503; a statement past the
database's limits is the request's 400; in each dialect's envelope."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import psycopg.errors
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

import bulkbill.services.customers.accounts as accounts
import bulkbill.services.customers.customers as customers
from bulkbill.api.app import create_app
from bulkbill.api.db_refusals import CHOSEN_KEYS, SERVER_MADE_KEYS, is_busy, is_too_large
from bulkbill.config import Settings
from bulkbill.storage.unique_keys import schema_keys
from tests.helpers import StripeClient, ZuoraClient

BUSY = [
    sqlite3.OperationalError("database is locked"),
    sqlite3.OperationalError("database table is locked: invoices"),
    psycopg.errors.SerializationFailure("could not serialize access due to concurrent update"),
    psycopg.errors.DeadlockDetected("deadlock detected"),
    psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"),
]
DOWN = [
    sqlite3.OperationalError("disk I/O error"),
    sqlite3.OperationalError("unable to open database file"),
    psycopg.OperationalError("server closed the connection unexpectedly"),
    psycopg.OperationalError('connection to server at "127.0.0.1", port 1 failed: Connection refused'),
    psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
]

TOO_LARGE = [
    sqlite3.OperationalError("Expression tree is too large (maximum depth 1000)"),
    sqlite3.OperationalError("too many SQL variables"),
    psycopg.errors.StatementTooComplex("stack depth limit exceeded"),
    psycopg.errors.ProgramLimitExceeded("index row size exceeds maximum"),
]


def _raising(error: Exception) -> Callable[..., None]:
    def fail(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, error)

    return fail


@pytest.mark.parametrize("error", BUSY + DOWN, ids=lambda e: f"{type(e).__name__}:{str(e)[:24]}")
def test_busy_is_told_from_down(error: Exception) -> None:
    assert is_busy(OperationalError("SELECT 1", {}, error)) == (error in BUSY)


@pytest.mark.parametrize("error", BUSY + DOWN + TOO_LARGE, ids=lambda e: f"{type(e).__name__}:{str(e)[:24]}")
def test_too_large_is_told_from_busy_and_down(error: Exception) -> None:
    assert is_too_large(OperationalError("SELECT 1", {}, error)) == (error in TOO_LARGE)


def test_a_statement_too_large_is_the_requests_400(
    stripe: StripeClient, zuora: ZuoraClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(customers, "list_customers", _raising(TOO_LARGE[0]))
    monkeypatch.setattr(accounts, "find_account", _raising(TOO_LARGE[2]))
    assert stripe.error("GET", "/v1/customers")["type"] == "invalid_request_error"
    body = zuora.fail("GET", "/v1/accounts/A00000001", status=400)
    assert "smaller parts" in body["reasons"][0]["message"]


@pytest.mark.parametrize(("error", "status"), [(BUSY[0], 409), (BUSY[2], 409), (DOWN[0], 503), (DOWN[2], 503)])
def test_stripe(stripe: StripeClient, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int) -> None:
    monkeypatch.setattr(customers, "list_customers", _raising(error))
    response = stripe.get("/v1/customers")
    assert response.status_code == status, response.text
    assert response.json()["error"]["type"] == "api_error"
    assert (response.json()["error"].get("code") == "lock_timeout") == (status == 409)


@pytest.mark.parametrize(("error", "status"), [(BUSY[1], 409), (BUSY[3], 409), (DOWN[1], 503), (DOWN[4], 503)])
def test_zuora(zuora: ZuoraClient, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int) -> None:
    monkeypatch.setattr(accounts, "find_account", _raising(error))
    response = zuora.request("GET", "/v1/accounts/A00000001")
    assert response.status_code == status, response.text
    category = 50 if status == 409 else 61
    assert response.json()["success"] is False and response.json()["reasons"][0]["code"] == 50000000 + category
    legacy = zuora.request("GET", "/v1/accounts/A00000001", headers={"Zuora-Version": "196.0"})
    assert legacy.status_code == 200 and legacy.json()["reasons"][0]["code"] == 50000000 + category


@pytest.fixture(scope="module")
def unreachable() -> TestClient:
    """An application whose database listens nowhere (port 1 refuses connections)."""
    settings = Settings(database_url="postgresql://bulkbill@127.0.0.1:1/bulkbill", idempotency_prune_seconds=0)
    return TestClient(create_app(settings, migrate=False), raise_server_exceptions=False)


def test_stripe_without_a_database(unreachable: TestClient) -> None:
    auth = {"Authorization": "Bearer sk_test_123456789012345678901234"}
    for response in (
        unreachable.get("/stripe/v1/customers", headers=auth),
        unreachable.post("/stripe/v1/customers", data={"name": "A"}, headers={**auth, "Idempotency-Key": "k"}),
    ):
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["type"] == "api_error" and "unavailable" in error["message"]
        assert response.headers["request-id"].startswith("req_")


def test_zuora_without_a_database(unreachable: TestClient) -> None:
    auth = {"Authorization": "Bearer 0123456789abcdef0123456789abcdef"}
    current = unreachable.get("/zuora/v1/accounts/A00000001", headers={**auth, "Zuora-Version": "2025-08-12"})
    assert current.status_code == 503, current.text
    assert current.json()["reasons"][0]["code"] == 50000061 and current.json()["success"] is False
    legacy = unreachable.get("/zuora/v1/accounts/A00000001", headers={**auth, "Zuora-Version": "196.0"})
    assert legacy.status_code == 200 and legacy.json()["reasons"][0]["code"] == 50000061
    token = unreachable.post(
        "/zuora/oauth/token", data={"client_id": "c", "client_secret": "s", "grant_type": "client_credentials"}
    )
    assert token.status_code == 503 and token.json()["code"] == 50000061  # CommonErrorResponse's code too


def test_every_unique_key_of_the_schema_is_chosen_or_server_made() -> None:
    # A new unique key must be classified: the caller's 400 naming a field, or a race's 409.
    assert not CHOSEN_KEYS.keys() & SERVER_MADE_KEYS
    assert schema_keys() == CHOSEN_KEYS.keys() | SERVER_MADE_KEYS
