"""Webhook endpoints and deliveries: signed so the official SDK accepts them, retried, disabled, SSRF-checked."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import stripe as stripe_sdk
from fastapi.testclient import TestClient

from bulkbill.config import Settings
from bulkbill.jobs.webhooks import WebhookSender
from tests.helpers import StripeClient
from tests.helpers.receiver import Receiver, receiver


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def sender(client: TestClient, **settings: Any) -> WebhookSender:
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    return WebhookSender(state.sessions, state.settings.model_copy(update=settings))


def deliver(client: TestClient, **settings: Any) -> None:
    """Run one sender until nothing it may send is due."""
    s = sender(client, **settings)
    try:
        for _ in range(10):
            if s.run_once() == 0:
                return
    finally:
        s.close()


def endpoint(stripe: StripeClient, url: str, events: list[str] | None = None) -> dict[str, Any]:
    return stripe.ok("POST", "/v1/webhook_endpoints", {"url": url, "enabled_events": events or ["*"]})


def test_endpoint_crud_shows_the_secret_on_create_only(stripe: StripeClient, other_stripe: StripeClient) -> None:
    created = endpoint(stripe, "https://example.com/hook", ["customer.created"])
    assert created["secret"].startswith("whsec_") and created["status"] == "enabled"
    fetched = stripe.ok("GET", f"/v1/webhook_endpoints/{created['id']}")
    assert "secret" not in fetched and fetched["enabled_events"] == ["customer.created"]
    updated = stripe.ok(
        "POST",
        f"/v1/webhook_endpoints/{created['id']}",
        {"disabled": "true", "description": "crm", "metadata": {"a": "b"}},
    )
    assert (updated["status"], updated["description"], updated["metadata"]) == ("disabled", "crm", {"a": "b"})
    assert [e["id"] for e in stripe.ok("GET", "/v1/webhook_endpoints")["data"]] == [created["id"]]
    other_stripe.error("GET", f"/v1/webhook_endpoints/{created['id']}", status=404)
    other_stripe.error("DELETE", f"/v1/webhook_endpoints/{created['id']}", status=404)
    assert stripe.ok("DELETE", f"/v1/webhook_endpoints/{created['id']}")["deleted"] is True
    stripe.error("GET", f"/v1/webhook_endpoints/{created['id']}", status=404)


def test_endpoint_input_is_checked(stripe: StripeClient) -> None:
    assert stripe.error("POST", "/v1/webhook_endpoints", {"url": "ftp://x", "enabled_events": ["*"]})["param"] == "url"
    error = stripe.error("POST", "/v1/webhook_endpoints", {"url": "https://x.io", "enabled_events": ["nope.happened"]})
    assert error["param"] == "enabled_events[0]"
    assert stripe.error("POST", "/v1/webhook_endpoints", {"url": "https://x.io"})["param"] == "enabled_events"
    assert stripe.ok("GET", "/v1/webhook_endpoints")["data"] == []


def test_a_delivery_is_signed_so_the_official_sdk_verifies_it(
    client: TestClient, stripe: StripeClient, hook: Receiver
) -> None:
    secret = endpoint(stripe, hook.url, ["customer.created"])["secret"]
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})
    stripe.ok("POST", "/v1/products", {"name": "not wanted"})
    assert stripe.ok("GET", "/v1/events", {"type": "customer.created"})["data"][0]["pending_webhooks"] == 1
    deliver(client)
    [got] = hook.received
    event = stripe_sdk.Webhook.construct_event(got.body, got.headers["stripe-signature"], secret)
    assert event.type == "customer.created" and event.data.object.id == customer["id"]
    assert got.headers["content-type"].startswith("application/json")
    with pytest.raises(stripe_sdk.SignatureVerificationError):
        stripe_sdk.Webhook.construct_event(got.body, got.headers["stripe-signature"], "whsec_wrong")
    listed = stripe.ok("GET", "/v1/events", {"type": "customer.created", "delivery_success": "true"})["data"]
    assert [e["id"] for e in listed] == [event.id] and listed[0]["pending_webhooks"] == 0


def test_failures_are_retried_then_disable_the_endpoint_which_resumes_when_enabled(
    client: TestClient, stripe: StripeClient, hook: Receiver
) -> None:
    we = endpoint(stripe, hook.url)
    hook.statuses = [500, 503, 500]
    stripe.ok("POST", "/v1/customers", {"name": "Ada"})
    fast = {"webhook_retry_first_delay_seconds": 0, "webhook_disable_after_failures": 3}
    for _ in range(3):
        s = sender(client, **fast)
        s.run_once()
        s.close()
    assert len(hook.received) == 3
    assert stripe.ok("GET", f"/v1/webhook_endpoints/{we['id']}")["status"] == "disabled"
    deliver(client, **fast)
    assert len(hook.received) == 3  # a disabled endpoint receives nothing
    assert stripe.ok("GET", "/v1/events", {"delivery_success": "false"})["data"][0]["pending_webhooks"] == 1
    stripe.ok("POST", f"/v1/webhook_endpoints/{we['id']}", {"disabled": "false"})
    deliver(client, **fast)
    assert len(hook.received) == 4
    assert {json.loads(r.body)["id"] for r in hook.received} == {stripe.ok("GET", "/v1/events")["data"][0]["id"]}
    assert stripe.ok("GET", "/v1/events", {"delivery_success": "false"})["data"] == []


def test_a_delivery_gives_up_after_the_retry_window(client: TestClient, stripe: StripeClient, hook: Receiver) -> None:
    endpoint(stripe, hook.url)
    hook.statuses = [500] * 10
    stripe.ok("POST", "/v1/customers", {"name": "Ada"})
    deliver(client, webhook_retry_first_delay_seconds=0, webhook_retry_for_seconds=0)
    assert len(hook.received) == 1
    assert stripe.ok("GET", "/v1/events", {"delivery_success": "false"})["data"][0]["pending_webhooks"] == 0


def test_private_addresses_are_refused_when_the_setting_says_so(
    client: TestClient, stripe: StripeClient, hook: Receiver
) -> None:
    endpoint(stripe, hook.url)
    stripe.ok("POST", "/v1/customers", {"name": "Ada"})
    deliver(client, webhook_allow_private_urls=False, webhook_retry_first_delay_seconds=3600)
    assert hook.received == []
    deliver(client)  # not yet due again: the refusal was recorded as a failed attempt
    assert hook.received == []


def test_a_name_resolving_to_loopback_is_delivered_by_default_and_refused_in_production(
    client: TestClient, stripe: StripeClient, hook: Receiver
) -> None:
    port = urlsplit(hook.url).port
    endpoint(stripe, f"http://localhost:{port}/hook")
    stripe.ok("POST", "/v1/customers", {"name": "Ada"})
    deliver(client)  # the default: local development delivers to local receivers
    assert len(hook.received) == 1 and hook.received[0].headers["host"] == f"localhost:{port}"
    stripe.ok("POST", "/v1/customers", {"name": "Grace"})
    deliver(client, webhook_allow_private_urls=False, webhook_retry_first_delay_seconds=3600)  # --production
    assert len(hook.received) == 1
    [refused] = [e for e in stripe.ok("GET", "/v1/events")["data"] if e["data"]["object"]["name"] == "Grace"]
    assert refused["pending_webhooks"] == 1


def test_the_connection_goes_to_the_address_that_was_checked(
    client: TestClient, stripe: StripeClient, hook: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name only our resolver knows reaches the receiver: nothing resolved it a second time (DNS rebinding)."""
    port = urlsplit(hook.url).port
    resolved: list[str] = []
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "hooks.bulkbill.invalid":
            return real(host, *args, **kwargs)
        resolved.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    endpoint(stripe, f"http://hooks.bulkbill.invalid:{port}/hook")
    for name in ("Ada", "Grace"):
        stripe.ok("POST", "/v1/customers", {"name": name})
    deliver(client, webhook_concurrency_per_endpoint=1)
    assert [r.headers["host"] for r in hook.received] == [f"hooks.bulkbill.invalid:{port}"] * 2
    assert resolved == ["hooks.bulkbill.invalid"]  # once, for the one kept-alive connection both went over


def test_redirects_are_not_followed(client: TestClient, stripe: StripeClient, hook: Receiver) -> None:
    with receiver() as target:
        endpoint(stripe, hook.url)
        hook.statuses, hook.redirect_to = [302], target.url
        stripe.ok("POST", "/v1/customers", {"name": "Ada"})
        deliver(client, webhook_retry_first_delay_seconds=3600)
        assert len(hook.received) == 1 and target.received == []


def test_a_rolled_back_call_queues_no_delivery(client: TestClient, stripe: StripeClient, hook: Receiver) -> None:
    endpoint(stripe, hook.url)
    stripe.error("POST", "/v1/customers", {"metadata": {"k" * 41: "v"}})
    deliver(client)
    assert hook.received == [] and stripe.ok("GET", "/v1/events")["data"] == []


def test_resend_delivers_again(client: TestClient, stripe: StripeClient, hook: Receiver, tenant: Any) -> None:
    from bulkbill.services.events.deliveries import resend
    from bulkbill.services.platform.uow import UnitOfWork

    we = endpoint(stripe, hook.url)
    stripe.ok("POST", "/v1/customers", {"name": "Ada"})
    deliver(client)
    event_id = stripe.ok("GET", "/v1/events")["data"][0]["id"]
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    with state.sessions.begin() as session:
        resend(
            UnitOfWork(session, Settings(database_url=state.settings.database_url), tenant_id=tenant.id),
            event_id,
            we["id"],
        )
    deliver(client)
    assert [json.loads(r.body)["id"] for r in hook.received] == [event_id, event_id]


def test_an_idle_sender_takes_no_write_lock(tmp_path: Any) -> None:
    """Nothing due: the sender only reads, so on SQLite it neither waits for nor blocks a writer."""
    import sqlite3

    from bulkbill.api.app import create_app

    url = f"sqlite:///{tmp_path / 'idle.db'}"
    with TestClient(create_app(Settings(database_url=url, sqlite_busy_timeout_ms=1, rate_limit="off"))) as app:
        writer = sqlite3.connect(tmp_path / "idle.db", isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # another process's writer holds the lock
        try:
            s = sender(app)
            try:
                assert s.claim() == []  # with the claim's write lock first, this would be "database is locked"
            finally:
                s.close()
        finally:
            writer.execute("ROLLBACK")
            writer.close()
