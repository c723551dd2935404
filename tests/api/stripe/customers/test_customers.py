"""Stripe /v1/customers, auth and envelopes."""

from __future__ import annotations

import base64

from tests.helpers import StripeClient


class TestAuth:
    def test_missing_key_is_401_in_stripe_envelope(self, stripe: StripeClient) -> None:
        response = stripe.client.get("/stripe/v1/customers")
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "invalid_request_error"
        assert response.headers["request-id"].startswith("req_")

    def test_wrong_key_is_401_and_masked(self, stripe: StripeClient) -> None:
        response = stripe.client.get("/stripe/v1/customers", headers={"Authorization": "Bearer sk_test_nope1234567890"})
        assert response.status_code == 401
        assert "sk_test_nope1234567890" not in response.text

    def test_basic_auth_with_key_as_user(self, stripe: StripeClient) -> None:
        token = base64.b64encode(f"{stripe.key}:".encode()).decode()
        response = stripe.client.get("/stripe/v1/customers", headers={"Authorization": f"Basic {token}"})
        assert response.status_code == 200


class TestCustomers:
    def test_create_retrieve_update_delete(self, stripe: StripeClient) -> None:
        created = stripe.ok(
            "POST", "/v1/customers", {"name": "Ada", "email": "ada@example.com", "metadata": {"a": "1"}}
        )
        assert created["object"] == "customer" and created["id"].startswith("cus_")
        fetched = stripe.ok("GET", f"/v1/customers/{created['id']}")
        assert fetched == created
        updated = stripe.ok("POST", f"/v1/customers/{created['id']}", "name=Grace&metadata[a]=&metadata[b]=2")
        assert updated["name"] == "Grace" and updated["metadata"] == {"b": "2"}
        deleted = stripe.ok("DELETE", f"/v1/customers/{created['id']}")
        assert deleted == {"id": created["id"], "object": "customer", "deleted": True}

    def test_unknown_parameter_is_refused_with_its_name(self, stripe: StripeClient) -> None:
        error = stripe.error("POST", "/v1/customers", "name=x&nickname=y")
        assert error["code"] == "parameter_unknown" and error["param"] == "nickname"

    def test_list_paginates_newest_first(self, stripe: StripeClient) -> None:
        ids = [stripe.ok("POST", "/v1/customers", {"name": f"c{i}"})["id"] for i in range(5)]
        page1 = stripe.ok("GET", "/v1/customers", {"limit": 2})
        assert [c["id"] for c in page1["data"]] == ids[::-1][:2] and page1["has_more"]
        page2 = stripe.ok("GET", "/v1/customers", {"limit": 10, "starting_after": page1["data"][-1]["id"]})
        assert [c["id"] for c in page2["data"]] == ids[::-1][2:] and not page2["has_more"]
        back = stripe.ok("GET", "/v1/customers", {"limit": 2, "ending_before": ids[2]})
        assert [c["id"] for c in back["data"]] == [ids[4], ids[3]]

    def test_other_tenants_customer_is_invisible(self, stripe: StripeClient, other_stripe: StripeClient) -> None:
        created = stripe.ok("POST", "/v1/customers", {"name": "Secret"})
        error = other_stripe.error("GET", f"/v1/customers/{created['id']}", status=404)
        assert error["code"] == "resource_missing" and "Secret" not in str(error)
        assert other_stripe.ok("GET", "/v1/customers")["data"] == []


class TestInvoicePrefixIsUnique:
    """A prefix another customer uses is the caller's error (400 with its param), never a 409 'retry'."""

    def test_create_with_a_taken_prefix_is_refused_and_creates_nothing(self, stripe: StripeClient) -> None:
        stripe.ok("POST", "/v1/customers", {"invoice_prefix": "ZZQQ"})
        before = stripe.ok("GET", "/v1/customers", {"limit": 100})["data"]
        error = stripe.error("POST", "/v1/customers", {"invoice_prefix": "zzqq"})
        assert error["param"] == "invoice_prefix"
        assert error["code"] == "resource_already_exists"
        assert stripe.ok("GET", "/v1/customers", {"limit": 100})["data"] == before

    def test_update_to_a_taken_prefix_is_refused_and_changes_nothing(self, stripe: StripeClient) -> None:
        stripe.ok("POST", "/v1/customers", {"invoice_prefix": "TAKEN1"})
        other = stripe.ok("POST", "/v1/customers", {"invoice_prefix": "FREE1", "name": "Ada"})
        error = stripe.error("POST", f"/v1/customers/{other['id']}", {"invoice_prefix": "TAKEN1", "name": "Grace"})
        assert error["param"] == "invoice_prefix"
        assert stripe.ok("GET", f"/v1/customers/{other['id']}") == other
