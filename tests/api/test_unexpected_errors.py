"""A bug in a handler never leaks a traceback: each dialect answers in its own envelope and rolls back."""

from __future__ import annotations

import pytest

import bulkbill.services.customers.accounts as accounts
import bulkbill.services.customers.customers as customers
from tests.helpers import StripeClient, ZuoraClient


def _boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("secret internal detail")


def test_stripe_answers_api_error(stripe: StripeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(customers, "list_customers", _boom)
    response = stripe.get("/v1/customers")
    assert response.status_code == 500 and response.headers["request-id"].startswith("req_")
    assert response.json()["error"]["type"] == "api_error"
    assert "secret internal detail" not in response.text and "Traceback" not in response.text


def test_zuora_answers_category_60(zuora: ZuoraClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "find_account", _boom)
    response = zuora.request("GET", "/v1/accounts/A00000001")
    assert response.status_code == 500 and response.headers["zuora-request-id"]
    body = response.json()
    assert body["success"] is False and body["reasons"][0]["code"] == 50000060
    assert "secret internal detail" not in response.text
    legacy = zuora.request("GET", "/v1/accounts/A00000001", headers={"Zuora-Version": "211.0"})
    assert legacy.status_code == 200 and legacy.json()["success"] is False
