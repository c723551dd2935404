"""The server speaks: one access-log line per request, errors logged with their request id, no secret.

Requests run through the application in-process; log records are captured (caplog) and also
rendered with the JSON formatter `bulkbill serve --log-format json` uses.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

import bulkbill.api.stripe.edge.call as stripe_call
import bulkbill.services.customers.accounts as accounts
import bulkbill.services.customers.customers as customers
from bulkbill.cli.logs import PLAIN_FORMAT, JsonFormatter
from bulkbill.services.platform.tenants import NewTenant
from tests.helpers import StripeClient, ZuoraClient, zuora_for

ACCESS = "bulkbill.access"


def access_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ACCESS]


def fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: getattr(record, k) for k in ("method", "path", "status", "duration_ms", "request_id", "tenant_id")}


def _boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("forced failure")


def test_each_request_gets_one_access_line_with_its_request_id_and_tenant(
    stripe: StripeClient, zuora: ZuoraClient, tenant: NewTenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    created = stripe.post("/v1/customers", {"name": "Ada"})
    listed = zuora.request("GET", "/v1/accounts/nope")
    lines = access_lines(caplog)
    assert len(lines) == 2
    stripe_line, zuora_line = fields(lines[0]), fields(lines[1])
    assert stripe_line == {
        "method": "POST",
        "path": "/stripe/v1/customers",
        "status": 200,
        "duration_ms": stripe_line["duration_ms"],
        "request_id": created.headers["request-id"],
        "tenant_id": tenant.id,
    }
    assert isinstance(stripe_line["duration_ms"], float) and stripe_line["duration_ms"] >= 0
    assert zuora_line["path"] == "/zuora/v1/accounts/nope" and zuora_line["status"] == listed.status_code == 404
    assert zuora_line["request_id"] == listed.headers["zuora-request-id"] and zuora_line["tenant_id"] == tenant.id
    message = lines[0].getMessage()
    assert message.startswith("POST /stripe/v1/customers 200 ")
    assert f"request_id={created.headers['request-id']} tenant={tenant.id}" in message


def test_unauthenticated_and_unrouted_requests_are_logged_without_a_tenant(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    refused = client.get("/stripe/v1/customers")
    client.get("/nowhere")
    client.get("/healthz")
    lines = [fields(r) for r in access_lines(caplog)]
    assert [(f["path"], f["status"], f["tenant_id"]) for f in lines] == [
        ("/stripe/v1/customers", 401, None),
        ("/nowhere", 404, None),
        ("/healthz", 200, None),
    ]
    assert lines[0]["request_id"] == refused.headers["request-id"]


def test_no_key_secret_or_token_is_logged(
    client: TestClient, tenant: NewTenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = tenant.stripe_secret_key
    basic = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    assert client.get("/stripe/v1/customers", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get("/stripe/v1/customers", headers={"Authorization": basic}).status_code == 200
    # A key pasted into the query string is refused, and not logged either.
    client.get(f"/stripe/v1/customers?api_key={key}&limit=1", headers={"Authorization": f"Bearer {key}"})
    zuora = zuora_for(client, tenant)  # the client secret goes in the form body
    client.get(f"/zuora/v1/accounts/x?token={zuora.token}", headers=zuora.headers())
    zuora.request("GET", "/v1/accounts/x")
    # Everything the server side logged (the test's own HTTP client logs the URLs it calls).
    records = [r for r in caplog.records if r.name.split(".")[0] not in ("httpx", "httpcore")]
    assert len(access_lines(caplog)) == 6
    plain = logging.Formatter(PLAIN_FORMAT)
    rendered = "\n".join(f(r) for r in records for f in (plain.format, JsonFormatter().format))
    for name, secret in {
        "stripe secret key": key,
        "zuora client secret": tenant.zuora_client_secret,
        "bearer token": zuora.token,
        "basic credentials": basic.split()[1],
    }.items():
        assert secret not in rendered, f"the {name} was logged"
    assert "api_key" not in rendered and "token=" not in rendered


@pytest.mark.parametrize("where", ["handler", "request reading"])
def test_a_stripe_500_logs_the_request_id_the_response_carries(
    stripe: StripeClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    if where == "handler":  # caught by the dialect's executor
        monkeypatch.setattr(customers, "list_customers", _boom)
    else:  # escapes to the dialect's envelope
        monkeypatch.setattr(stripe_call, "decode_form", _boom)
    caplog.set_level(logging.INFO)
    response = stripe.get("/v1/customers", {"limit": 1})
    assert response.status_code == 500
    request_id = response.headers["request-id"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert getattr(errors[0], "request_id", None) == request_id and request_id in errors[0].getMessage()
    assert "forced failure" in caplog.text  # the traceback is in the log, not in the response
    assert "forced failure" not in response.text
    (line,) = access_lines(caplog)
    assert fields(line)["status"] == 500 and fields(line)["request_id"] == request_id


def test_a_zuora_500_logs_the_request_id_the_response_carries(
    zuora: ZuoraClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "find_account", _boom)
    caplog.set_level(logging.INFO)
    response = zuora.request("GET", "/v1/accounts/A00000001")
    assert response.status_code == 500
    request_id = response.headers["zuora-request-id"]
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert getattr(error, "request_id", None) == request_id and request_id in error.getMessage()
    (line,) = access_lines(caplog)
    assert fields(line)["status"] == 500 and fields(line)["request_id"] == request_id


def test_json_format_is_one_object_per_record_with_the_access_fields(
    stripe: StripeClient, tenant: NewTenant, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO)
    ok = stripe.get("/v1/customers")
    monkeypatch.setattr(customers, "list_customers", _boom)
    failed = stripe.get("/v1/customers")
    parsed = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    access = [p for p in parsed if p["logger"] == ACCESS]
    assert [(a["status"], a["request_id"]) for a in access] == [
        (200, ok.headers["request-id"]),
        (500, failed.headers["request-id"]),
    ]
    for entry in access:
        assert entry["level"] == "INFO" and entry["method"] == "GET" and entry["path"] == "/stripe/v1/customers"
        assert entry["tenant_id"] == tenant.id and isinstance(entry["duration_ms"], float)
        assert entry["time"].endswith("+00:00") and entry["message"].startswith("GET /stripe/v1/customers ")
    (error,) = [p for p in parsed if p["level"] == "ERROR"]
    assert error["request_id"] == failed.headers["request-id"] and "RuntimeError: forced failure" in error["exception"]


def test_plain_format_is_one_line_per_access_record(stripe: StripeClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    response = stripe.get("/v1/customers")
    (line,) = access_lines(caplog)
    text = logging.Formatter(PLAIN_FORMAT).format(line)
    facts = fields(line)
    assert "\n" not in text
    assert text.endswith(
        f" INFO bulkbill.access: GET /stripe/v1/customers 200 {facts['duration_ms']:.1f}ms"
        f" request_id={response.headers['request-id']} tenant={facts['tenant_id']}"
    )


def test_control_characters_in_a_path_cannot_forge_a_log_line(
    stripe: StripeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    stripe.get("/v1/customers/cus_x%0AINFO%20forged")
    (line,) = access_lines(caplog)
    assert "\n" not in line.getMessage() and fields(line)["path"].endswith("cus_x%0AINFO%20forged")
