"""Zuora dialect: OAuth tokens, bearer auth, envelope by Zuora-Version."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bulkbill.services.platform.tenants import NewTenant
from tests.helpers import ZuoraClient
from tests.helpers.zuora import INVALID


class TestOAuth:
    def test_token_for_client_credentials(self, client: TestClient, tenant: NewTenant) -> None:
        response = client.post(
            "/zuora/oauth/token",
            data={
                "client_id": tenant.zuora_client_id,
                "client_secret": tenant.zuora_client_secret,
                "grant_type": "client_credentials",
            },
            headers={"Authorization": "Bearer ignored"},
        )
        body = response.json()
        assert response.status_code == 200 and body["token_type"] == "bearer" and body["expires_in"] == 3600
        assert len(body["access_token"]) == 32 and len(tenant.zuora_client_id) == 36
        assert len(tenant.zuora_client_secret) <= 42  # zuora-sdk refuses longer secrets

    def test_bad_secret_is_401(self, client: TestClient, tenant: NewTenant) -> None:
        response = client.post(
            "/zuora/oauth/token",
            data={"client_id": tenant.zuora_client_id, "client_secret": "nope", "grant_type": "client_credentials"},
        )
        assert response.status_code == 401 and response.json()["reasons"][0]["code"] == 90000011

    def test_missing_grant_type(self, client: TestClient, tenant: NewTenant) -> None:
        response = client.post("/zuora/oauth/token", data={"client_id": tenant.zuora_client_id})
        assert response.status_code == 400
        assert all(r["code"] == 50000022 for r in response.json()["reasons"])

    def test_v1_calls_need_a_token(self, client: TestClient, zuora: ZuoraClient) -> None:
        bad = ZuoraClient(client, "0" * 32)
        for version in ("2025-08-12", "211.0"):
            bad.version = version
            response = bad.request("GET", "/v1/accounts/A00000001")
            assert response.status_code == 401 and response.json()["success"] is False


class TestEnvelope:
    def test_unknown_route_is_category_40(self, zuora: ZuoraClient) -> None:
        body = zuora.fail("GET", "/v1/no-such-thing", status=404)
        assert body["reasons"][0]["code"] == 50000040 and len(body["processId"]) == 16


class TestTokenErrors:
    def test_400_carries_code_and_message(self, client: TestClient, tenant: NewTenant) -> None:
        missing = client.post("/zuora/oauth/token", data={"client_id": tenant.zuora_client_id})
        body = missing.json()
        assert missing.status_code == 400 and body["success"] is False and len(body["reasons"]) == 2
        assert body["code"] == 50000022 and isinstance(body["code"], int)
        assert body["message"] == body["reasons"][0]["message"] and "client_secret" in body["message"]
        wrong = client.post(
            "/zuora/oauth/token",
            data={"client_id": tenant.zuora_client_id, "client_secret": "x", "grant_type": "password"},
        )
        assert wrong.status_code == 400 and wrong.json()["code"] == INVALID
        assert "grant_type" in wrong.json()["message"]

    def test_401_keeps_its_shape(self, client: TestClient, tenant: NewTenant) -> None:
        response = client.post(
            "/zuora/oauth/token",
            data={"client_id": tenant.zuora_client_id, "client_secret": "nope", "grant_type": "client_credentials"},
        )
        body = response.json()
        assert response.status_code == 401 and body["message"] == "Authentication error" and "code" not in body

    def test_other_calls_are_unchanged(self, zuora: ZuoraClient) -> None:
        body = zuora.fail("POST", "/v1/orders", {}, status=400)
        assert "code" not in body and "message" not in body
