"""Idempotency-Key: replay, mismatch, scope per tenant; Request-Id and envelopes everywhere."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import bindparam, false, func, select

import bulkbill.services.platform.idempotency as idempotency
from tests.helpers import StripeClient, ZuoraClient
from tests.helpers.stripe import all_lines, setup_invoice

RETURN_IDS = {"returnIds": "true"}


class TestIdempotency:
    def test_replay_returns_the_first_response_and_changes_nothing(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        path = f"/v1/invoices/{invoice['id']}/add_lines"
        first = stripe.post(path, {"lines": [{"amount": 100}]}, headers={"Idempotency-Key": "k-1"})
        again = stripe.post(path, {"lines": [{"amount": 100}]}, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == again.status_code == 200
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
        assert again.headers["idempotency-key"] == "k-1"
        assert len(all_lines(stripe, invoice["id"])) == 1

    def test_a_stored_key_the_claim_did_not_see_replays_its_response_and_undoes_the_work(
        self, client: TestClient, stripe: StripeClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # On PostgreSQL the claim reads the key in the statement that takes its advisory lock: a request in
        # another process that held the lock and committed the key just before is not seen. Seen from here:
        # the work runs again, its key clashes at the end, and the stored response is replayed.
        if client.app.state.bulkbill.engine.dialect.name != "postgresql":  # type: ignore[attr-defined]
            pytest.skip("SQLite's writers hold the database lock from their start: a key is never unseen")
        invoice = setup_invoice(stripe)
        path = f"/v1/invoices/{invoice['id']}/add_lines"
        first = stripe.post(path, {"lines": [{"amount": 100}]}, headers={"Idempotency-Key": "k-unseen"})
        keys = idempotency._KEYS
        unseen = select(
            func.pg_try_advisory_xact_lock(func.hashtextextended(bindparam("lock"), 0)).label("taken"),
            *keys.c,
        ).select_from(idempotency._ONE.outerjoin(keys, false()))
        monkeypatch.setattr(idempotency, "_LOCK_AND_READ_KEY", unseen)
        again = stripe.post(path, {"lines": [{"amount": 100}]}, headers={"Idempotency-Key": "k-unseen"})
        assert first.status_code == again.status_code == 200
        assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
        assert len(all_lines(stripe, invoice["id"])) == 1

    def test_same_key_other_parameters_is_an_idempotency_error(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        path = f"/v1/invoices/{invoice['id']}/add_lines"
        stripe.post(path, {"lines": [{"amount": 100}]}, headers={"Idempotency-Key": "k-2"})
        response = stripe.post(path, {"lines": [{"amount": 101}]}, headers={"Idempotency-Key": "k-2"})
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "idempotency_error"
        assert len(all_lines(stripe, invoice["id"])) == 1

    def test_failures_are_not_stored(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        path = f"/v1/invoices/{invoice['id']}/add_lines"
        bad = stripe.post(path, {"lines": [{"amount": "x"}]}, headers={"Idempotency-Key": "k-3"})
        assert bad.status_code == 400
        fixed = stripe.post(path, {"lines": [{"amount": "x"}]}, headers={"Idempotency-Key": "k-3"})
        assert fixed.status_code == 400 and "idempotent-replayed" not in fixed.headers

    def test_keys_are_per_tenant(self, stripe: StripeClient, other_stripe: StripeClient) -> None:
        mine = stripe.post("/v1/customers", {"name": "A"}, headers={"Idempotency-Key": "shared"})
        theirs = other_stripe.post("/v1/customers", {"name": "A"}, headers={"Idempotency-Key": "shared"})
        assert mine.json()["id"] != theirs.json()["id"]
        assert "idempotent-replayed" not in theirs.headers

    def test_overlong_key_is_refused(self, stripe: StripeClient) -> None:
        response = stripe.post("/v1/customers", {"name": "A"}, headers={"Idempotency-Key": "k" * 256})
        assert response.status_code == 400


class TestEnvelope:
    def test_request_id_on_every_response(self, stripe: StripeClient) -> None:
        for response in (
            stripe.get("/v1/customers"),
            stripe.get("/v1/invoices/in_nope"),
            stripe.get("/v1/not-a-route"),
            stripe.client.get("/stripe/v1/customers"),
        ):
            assert response.headers["request-id"].startswith("req_")
            assert "error" in response.json() or "object" in response.json()

    def test_unknown_route_is_a_stripe_404(self, stripe: StripeClient) -> None:
        response = stripe.post("/v1/frobnicate")
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "invalid_request_error"


class TestFingerprint:
    """A key answers only for the call it was first used with: everything that changes the answer counts."""

    def test_stripe_counts_the_query_string(self, stripe: StripeClient) -> None:
        first = stripe.post("/v1/customers?name=Ada", headers={"Idempotency-Key": "q-1"})
        assert first.status_code == 200 and first.json()["name"] == "Ada"
        other = stripe.post("/v1/customers?name=Bob", headers={"Idempotency-Key": "q-1"})
        assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error"
        again = stripe.post("/v1/customers?name=Ada", headers={"Idempotency-Key": "q-1"})
        assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()

    def test_zuora_counts_the_query_string(self, zuora: ZuoraClient) -> None:
        key = {"Idempotency-Key": "z-q-1"}
        first = zuora.request("POST", "/v1/orders", {"orderDate": "2021-01-01"}, headers=key)
        assert first.status_code == 400  # stored: Zuora replays failures too
        other = zuora.request("POST", "/v1/orders", {"orderDate": "2021-01-01"}, headers=key, params=RETURN_IDS)
        assert other.status_code == 422 and "idempotent-replayed" not in other.headers, other.text
        again = zuora.request("POST", "/v1/orders", {"orderDate": "2021-01-01"}, headers=key)
        assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()

    def test_zuora_counts_the_org_scope(self, zuora: ZuoraClient) -> None:
        key = {"Idempotency-Key": "z-org-1"}
        run = {"targetDate": "2021-06-30", "invoiceDate": "2021-07-01", "autoPost": False}
        assert zuora.ok("POST", "/v1/bill-runs", run, headers=key)["status"] == "Completed"
        # An org the tenant does not have is refused (403), not answered with the run made without one.
        outside = zuora.request("POST", "/v1/bill-runs", run, headers={**key, "Zuora-Org-Ids": "north"})
        assert outside.status_code == 422 and "idempotent-replayed" not in outside.headers, outside.text

    def test_a_stored_refusal_is_sent_at_each_callers_version(self, client: TestClient, zuora: ZuoraClient) -> None:
        key = {"Idempotency-Key": "z-v-1"}
        current = zuora.request("POST", "/v1/orders", {"orderDate": "2021-01-01"}, headers=key)
        assert current.status_code == 400 and current.json()["success"] is False
        legacy = ZuoraClient(client, zuora.token, version="196.0")
        replayed = legacy.request("POST", "/v1/orders", {"orderDate": "2021-01-01"}, headers=key)
        assert replayed.status_code == 200 and replayed.headers["idempotent-replayed"] == "true"
        assert replayed.json() == current.json()
        # And the other way round: a refusal first stored for a legacy caller is a 400 at a current version.
        legacy_key = {"Idempotency-Key": "z-v-2"}
        first = legacy.request("POST", "/v1/orders", {"orderDate": "2021-01-01"}, headers=legacy_key)
        assert first.status_code == 200 and first.json()["success"] is False
        again = zuora.request("POST", "/v1/orders", {"orderDate": "2021-01-01"}, headers=legacy_key)
        assert again.status_code == 400 and again.headers["idempotent-replayed"] == "true"
