"""Idempotency-Keys are forgotten once their lifetime is over: by serve's background sweep and by the worker."""

from __future__ import annotations

import time
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from bulkbill.api.app import create_app
from bulkbill.api.housekeeping import prune_idempotency_keys
from bulkbill.api.state import AppState
from bulkbill.config import Settings
from bulkbill.jobs.worker import run_worker
from bulkbill.services.platform.tenants import NewTenant
from bulkbill.storage.tables import IdempotencyKey

TTL = 24 * 3600


def _state(client: TestClient) -> AppState:
    state: AppState = client.app.state.bulkbill  # type: ignore[attr-defined]
    return state


def _put(state: AppState, tenant: NewTenant, state_: str, age: int) -> str:
    """A key of the tenant, `age` seconds old, in flight or done."""
    key = f"{state_}-{age}-{uuid.uuid4().hex[:8]}"
    with state.sessions.begin() as session:
        session.execute(
            text(
                "INSERT INTO idempotency_keys (tenant_id, dialect, key, request_hash, state, status_code, body,"
                " request_id, created) VALUES (:t, 'stripe', :k, 'h', :s, 200, '{}', 'req_x', :c)"
            ),
            {"t": tenant.id, "k": key, "s": state_, "c": int(time.time()) - age},
        )
    return key


def _kept(state: AppState, tenant: NewTenant) -> set[str]:
    with state.sessions.begin() as session:
        return set(session.scalars(select(IdempotencyKey.key).where(IdempotencyKey.tenant_id == tenant.id)))


def test_a_sweep_forgets_expired_keys_and_keeps_the_rest(client: TestClient, tenant: NewTenant) -> None:
    state = _state(client)
    assert state.settings.idempotency_ttl_seconds == TTL
    expired = _put(state, tenant, "done", TTL + 60)
    fresh = _put(state, tenant, "done", TTL - 60)
    in_flight = _put(state, tenant, "in_flight", 5)
    stalled = _put(state, tenant, "in_flight", TTL - 60)  # past the in-flight timeout: a retry takes it over
    abandoned = _put(state, tenant, "in_flight", TTL + 60)  # abandoned a whole lifetime ago
    prune_idempotency_keys(state)
    assert _kept(state, tenant) == {fresh, in_flight, stalled}
    assert expired not in _kept(state, tenant) and abandoned not in _kept(state, tenant)


def test_serve_sweeps_in_the_background(client: TestClient, settings: Settings, tenant: NewTenant) -> None:
    state = _state(client)
    expired, fresh = _put(state, tenant, "done", TTL + 60), _put(state, tenant, "done", 60)
    app = create_app(settings.model_copy(update={"idempotency_prune_seconds": 3600}))
    with TestClient(app):
        # The first sweep runs as the application starts, in the background.
        deadline = time.monotonic() + 30
        while expired in _kept(state, tenant) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert _kept(state, tenant) == {fresh}


def test_serve_can_be_told_not_to_sweep(client: TestClient, settings: Settings, tenant: NewTenant) -> None:
    state = _state(client)
    expired = _put(state, tenant, "done", TTL + 60)
    with TestClient(create_app(settings.model_copy(update={"idempotency_prune_seconds": 0}))) as other:
        assert other.get("/healthz").status_code == 200
    assert expired in _kept(state, tenant)


def test_the_worker_sweeps_too(client: TestClient, settings: Settings, tenant: NewTenant) -> None:
    state = _state(client)
    expired, fresh = _put(state, tenant, "done", TTL + 60), _put(state, tenant, "done", 60)
    run_worker(settings, once=True)  # the first loop sweeps, then finds no chunk and stops
    assert _kept(state, tenant) == {fresh}
    assert expired not in _kept(state, tenant)
