"""`bulkbill listen` forwards new events signed with the secret it prints; `bulkbill events resend` queues one."""

from __future__ import annotations

import re
import threading
import time

import stripe as stripe_sdk
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from bulkbill.cli.main import app
from bulkbill.config import Settings
from bulkbill.jobs.webhooks import WebhookSender
from bulkbill.services.platform.tenants import NewTenant
from tests.helpers import StripeClient
from tests.helpers.receiver import receiver

runner = CliRunner()


def test_listen_forwards_new_events_signed_with_the_printed_secret(
    settings: Settings, stripe: StripeClient, tenant: NewTenant
) -> None:
    stripe.ok("POST", "/v1/customers", {"name": "before listen"})  # not forwarded: listen starts from now
    time.sleep(1.1)
    with receiver() as hook:
        results: list[Result] = []
        args = ["listen", "--forward-to", hook.url, "--tenant", tenant.id, "--events", "customer.created"]
        args += ["--database-url", settings.database_url, "--poll-interval", "0.1"]
        args += ["--stop-after-events", "1", "--stop-after", "120"]  # ends once it forwarded one event
        thread = threading.Thread(target=lambda: results.append(runner.invoke(app, args)))
        thread.start()
        time.sleep(3)  # listen is up (it forwards what is created from its start on)
        stripe.ok("POST", "/v1/products", {"name": "not asked for"})
        customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})
        thread.join()
    [result] = results
    assert result.exit_code == 0, result.output
    secret = re.search(r"(whsec_\w+)", result.output)
    assert secret is not None, result.output
    [got] = hook.received
    event = stripe_sdk.Webhook.construct_event(got.body, got.headers["stripe-signature"], secret.group(1))
    assert event.data.object.id == customer["id"]
    assert f"--> customer.created [{event.id}]" in result.output and "[200]" in result.output
    assert "product.created" not in result.output


def test_events_resend_queues_a_new_delivery(
    client: TestClient, settings: Settings, stripe: StripeClient, tenant: NewTenant
) -> None:
    with receiver() as hook:
        endpoint = stripe.ok("POST", "/v1/webhook_endpoints", {"url": hook.url, "enabled_events": ["*"]})
        stripe.ok("POST", "/v1/customers", {"name": "Ada"})
        event_id = stripe.ok("GET", "/v1/events")["data"][0]["id"]
        url = ["--tenant", tenant.id, "--database-url", settings.database_url]
        done = runner.invoke(app, ["events", "resend", event_id, "--endpoint", endpoint["id"], *url])
        assert done.exit_code == 0, done.output
        missing = runner.invoke(app, ["events", "resend", "evt_nope", "--endpoint", endpoint["id"], *url])
        assert missing.exit_code == 1 and "evt_nope" in missing.output
        state = client.app.state.bulkbill  # type: ignore[attr-defined]
        sender = WebhookSender(state.sessions, state.settings)
        while sender.run_once():
            pass
        sender.close()
        assert [r.body.count(event_id) > 0 for r in hook.received] == [True, True]
