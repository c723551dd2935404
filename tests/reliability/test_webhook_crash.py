"""Crash safety of events: the real server is SIGKILLed between the commits that wrote events and their
deliveries (a slow receiver keeps deliveries in flight), restarted, and every committed event must reach
the receiver at least once, signed with the endpoint's secret. Nothing committed is lost."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest
import requests
import stripe as stripe_sdk
from sqlalchemy import select

from bulkbill.storage.db import create_db_engine
from bulkbill.storage.tables_events import Event
from tests.helpers.receiver import receiver
from tests.reliability.test_crash import Server, crash_database, new_tenant  # noqa: F401 (a fixture)

KILLS = 5
CALLS_PER_ROUND = 8


def test_killed_server_loses_no_event(crash_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("BULKBILL_WEBHOOK_LEASE_SECONDS", "1")  # a killed sender's claims are taken over soon
    monkeypatch.setenv("BULKBILL_WEBHOOK_POLL_SECONDS", "0.1")
    rng = random.Random()
    server = Server(crash_database, tmp_path / "serve.log")
    with receiver() as hook:
        hook.delay = 0.3
        try:
            server.start()
            tenant = new_tenant(crash_database)
            auth = {"Authorization": f"Bearer {tenant.stripe_secret_key}"}
            created = requests.post(
                server.url + "/stripe/v1/webhook_endpoints",
                data={"url": hook.url, "enabled_events[0]": "*"},
                headers=auth,
                timeout=30,
            )
            assert created.status_code == 200, created.text
            secret = created.json()["secret"]
            undelivered_at_kill = []
            for round_ in range(KILLS):
                for i in range(CALLS_PER_ROUND):
                    answer = requests.post(
                        server.url + "/stripe/v1/customers", data={"name": f"r{round_}c{i}"}, headers=auth, timeout=30
                    )
                    assert answer.status_code == 200, answer.text
                time.sleep(rng.uniform(0, 0.05))
                undelivered_at_kill.append(CALLS_PER_ROUND * (round_ + 1) - len({r.body for r in hook.received}))
                server.kill()
                server.start()
            engine = create_db_engine(crash_database)
            with engine.connect() as connection:
                committed = set(connection.scalars(select(Event.id).where(Event.tenant_id == tenant.id)))
            engine.dispose()
            assert len(committed) == KILLS * CALLS_PER_ROUND
            deadline = time.monotonic() + 60
            while True:
                delivered = {
                    stripe_sdk.Webhook.construct_event(r.body, r.headers["stripe-signature"], secret).id
                    for r in list(hook.received)
                }
                if committed <= delivered or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        finally:
            server.stop()
    assert committed - delivered == set(), f"lost: {sorted(committed - delivered)}"
    assert delivered <= committed
    assert any(n > 0 for n in undelivered_at_kill), "no kill landed between a commit and its delivery"
    ids = [json.loads(r.body)["id"] for r in hook.received]
    print(
        f"\nwebhook crash: {KILLS} kills, {len(committed)} events, {len(ids)} deliveries "
        f"({len(ids) - len(set(ids))} repeated), undelivered at each kill: {undelivered_at_kill}"
    )
