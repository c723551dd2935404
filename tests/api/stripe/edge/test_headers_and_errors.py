"""Stripe wire headers and error details (spec §1.6, §4.8): the echoed Stripe-Version, request_log_url on errors,
and the verbatim missing-key message."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import StripeClient


class TestHeadersAndErrors:
    def test_stripe_version_is_echoed_when_well_formed(self, client: TestClient, stripe: StripeClient) -> None:
        headers = {"Authorization": f"Bearer {stripe.key}"}
        for sent, echoed in (
            ("2024-06-20", "2024-06-20"),
            ("2025-03-31.basil", "2025-03-31.basil"),
            ("garbage", "2026-10-28.endive"),
            (None, "2026-10-28.endive"),
        ):
            extra = {"Stripe-Version": sent} if sent else {}
            response = client.get("/stripe/v1/customers", headers={**headers, **extra})
            assert response.status_code == 200
            assert response.headers["Stripe-Version"] == echoed, sent

    def test_errors_name_their_request_log(self, stripe: StripeClient) -> None:
        response = stripe.get("/v1/invoices/in_missing")
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["request_log_url"] == "https://dashboard.stripe.com/test/logs/" + response.headers["Request-Id"]

    def test_a_trailing_slash_is_an_unrecognized_url_not_a_redirect(self, stripe: StripeClient) -> None:
        for method, path in (("GET", "/v1/customers/"), ("POST", "/v1/invoices/"), ("GET", "/v1/invoices/in_1/")):
            response = stripe.get(path) if method == "GET" else stripe.post(path)
            assert response.status_code == 404, (method, path)
            message = response.json()["error"]["message"]
            assert message == f"Unrecognized request URL ({method}: {path}).", message
        assert stripe.get("/v1/customers").status_code == 200  # the path without the slash is served

    def test_a_missing_key_gets_stripes_message_verbatim(self, client: TestClient) -> None:
        response = client.get("/stripe/v1/customers")
        assert response.status_code == 401
        assert response.json()["error"]["message"] == (
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
            "https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."
        )
