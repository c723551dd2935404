"""Idempotency-Key: replay, mismatch, scope per tenant; Request-Id and envelopes everywhere."""

from __future__ import annotations

from tests.helpers import StripeClient
from tests.helpers.stripe import all_lines, setup_invoice


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
