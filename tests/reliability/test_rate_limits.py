"""Part 6: rate limiting per key (the `limits` library, moving window), answered in each dialect's envelope.

A tiny limit (5 requests a second) on a live server: the sixth request of a key within a second is
refused with 429 (Stripe: invalid_request_error / rate_limit, which stripe-python raises as
RateLimitError; Zuora: category 70, at every Zuora-Version) and a Retry-After header; another key
is not affected; once the window has moved on, the key is served again. The limiter keeps its
windows in memory, whatever the database: these tests use SQLite.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import stripe
import zuora_sdk

from bulkbill.api.state import AppState
from bulkbill.config import Settings
from bulkbill.services.platform.tenants import NewTenant, create_tenant
from tests.reliability.conftest import Figures, Live, Served, serve
from tests.reliability.flows import account_body

PART = "6 rate limits"
LIMIT = 5
DATABASE = "any (in memory)"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    url = f"sqlite:///{tmp_path_factory.mktemp('rl') / 'bulkbill.db'}"
    served: Served = serve(Settings(database_url=url, rate_limit=f"{LIMIT}/second"))
    try:
        yield Live(served.url, served.app, url)
    finally:
        served.stop()


def new_tenant(live: Live) -> NewTenant:
    state = live.app.state.bulkbill
    with state.sessions.begin() as session:
        return create_tenant(session, "rl-" + uuid.uuid4().hex[:6], now=int(time.time()))


def test_stripe_answers_429_rate_limit_per_key(limited: Live, figures: Figures) -> None:
    mine, other = limited.stripe(new_tenant(limited)), limited.stripe(new_tenant(limited))
    answers = [mine.get("/v1/customers") for _ in range(LIMIT + 1)]
    assert [a.status_code for a in answers[:LIMIT]] == [200] * LIMIT
    refused = answers[LIMIT]
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "rate_limit") and error["message"]
    assert int(refused.headers["Retry-After"]) >= 1 and refused.headers["Request-Id"].startswith("req_")
    assert other.get("/v1/customers").status_code == 200  # per key
    # POSTs count too, and a refused POST changes nothing
    assert mine.post("/v1/customers", {"name": "Late"}, key="rl-" + uuid.uuid4().hex).status_code == 429
    time.sleep(1.1)
    assert mine.get("/v1/customers").status_code == 200  # the window moved on
    assert mine.ok("GET", "/v1/customers")["data"] == []
    figures.add(PART, DATABASE, "Stripe requests over a 5/second limit answered 429 rate_limit", 2)
    figures.add(PART, DATABASE, "Stripe requests within the limit served", LIMIT + 3)


def test_stripe_python_raises_rate_limit_error(limited: Live, figures: Figures) -> None:
    tenant = new_tenant(limited)
    client = stripe.StripeClient(
        tenant.stripe_secret_key, base_addresses={"api": limited.url + "/stripe"}, max_network_retries=0
    )
    for _ in range(LIMIT):
        client.v1.customers.list()
    with pytest.raises(stripe.RateLimitError) as raised:
        client.v1.customers.list()
    assert raised.value.http_status == 429
    assert raised.value.json_body is not None and raised.value.json_body["error"]["code"] == "rate_limit"
    figures.add(PART, DATABASE, "stripe-python RateLimitError raised", 1)


def test_zuora_answers_429_category_70_at_every_version(limited: Live, figures: Figures) -> None:
    tenant = new_tenant(limited)
    zuora, sdk_tokens = limited.zuora(tenant), [limited.zuora(tenant).token for _ in range(2)]
    account = limited.zuora(tenant).ok("POST", "/v1/accounts", account_body())  # with a token of its own
    answers = [zuora.request("GET", f"/v1/accounts/{account['accountId']}") for _ in range(LIMIT + 1)]
    assert [a.status_code for a in answers[:LIMIT]] == [200] * LIMIT
    refused = answers[LIMIT]
    body = refused.json()
    assert refused.status_code == 429 and body["success"] is False and body["processId"]
    assert [r["code"] for r in body["reasons"]] == [50000070]
    assert int(refused.headers["Retry-After"]) >= 1 and refused.headers["Zuora-Request-Id"]
    legacy = zuora.request("GET", f"/v1/accounts/{account['accountId']}", version="211.0")
    assert legacy.status_code == 429 and legacy.json()["reasons"][0]["code"] == 50000070
    # zuora-sdk (urllib3) honours Retry-After: by default it waits and retries; without retries it raises.
    for retries, token in zip((None, 0), sdk_tokens, strict=True):
        config = zuora_sdk.Configuration(host=limited.url + "/zuora", access_token=token, retries=retries)
        api = zuora_sdk.AccountsApi(zuora_sdk.ApiClient(config))
        for _ in range(LIMIT):
            api.get_account(account["accountId"])
        if retries is None:
            started = time.monotonic()
            assert api.get_account(account["accountId"]).success is True
            assert time.monotonic() - started >= 0.2  # it waited for the window
            continue
        with pytest.raises(zuora_sdk.ApiException) as raised:
            api.get_account(account["accountId"])
        assert raised.value.status == 429
    figures.add(PART, DATABASE, "Zuora requests over a 5/second limit answered 429 category 70", 4)
    figures.add(PART, DATABASE, "Zuora requests within the limit served", 3 * LIMIT + 1)


def test_the_token_endpoint_is_limited_per_client_address(limited: Live) -> None:
    tenant = new_tenant(limited)
    data = {
        "client_id": tenant.zuora_client_id,
        "client_secret": tenant.zuora_client_secret,
        "grant_type": "client_credentials",
    }
    time.sleep(1.1)
    codes = [requests.post(limited.url + "/zuora/oauth/token", data=data, timeout=10).status_code for _ in range(8)]
    assert codes[:LIMIT] == [200] * LIMIT and 429 in codes[LIMIT:]


def test_rate_limit_setting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    for off in ("", "off", "OFF", "0"):
        assert AppState.from_settings(Settings(database_url=url, rate_limit=off)).limiter is None
    limiter = AppState.from_settings(Settings(database_url=url, rate_limit="2/second;3/minute")).limiter
    assert limiter is not None
    assert [limiter.hit("k") for _ in range(2)] == [None, None]
    wait = limiter.hit("k")
    assert wait is not None and 0 <= wait <= 1
    assert limiter.hit("other") is None
    assert Settings(database_url=url).rate_limit == "100/second"  # the default
    with pytest.raises(ValueError):  # a wrong rate stops the start-up, it is not ignored
        AppState.from_settings(Settings(database_url=url, rate_limit="lots"))
