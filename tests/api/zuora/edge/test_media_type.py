"""Request media types on the Zuora dialect: anything but JSON (or gzipped JSON) is 415, after authentication."""

from __future__ import annotations

import gzip
import json

from fastapi.testclient import TestClient

from bulkbill.services.platform.tenants import NewTenant
from tests.helpers import ZuoraClient
from tests.helpers.zuora import codes, line, new_account, order_body

UNSUPPORTED = 50000045


class TestMediaType:
    def test_xml_is_415(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        account = new_account(client, tenant)
        payload = json.dumps(order_body(account, [line()]))
        for kind in ("application/xml", "text/plain", "text/xml; charset=utf-8", "multipart/form-data"):
            refused = zuora.fail("POST", "/v1/orders", payload, headers={"Content-Type": kind}, status=415)
            assert codes(refused) == [UNSUPPORTED] and "Content-Type" in refused["reasons"][0]["message"]
        refused = zuora.fail(
            "PUT", "/v1/invoices", "<invoices/>", headers={"Content-Type": "application/xml"}, status=415
        )
        assert codes(refused) == [UNSUPPORTED]

    def test_legacy_versions_answer_200(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        payload = json.dumps(order_body(new_account(client, tenant), [line()]))
        for version in ("211.0", "2023-01-01"):
            zuora.version = version
            refused = zuora.fail("POST", "/v1/orders", payload, headers={"Content-Type": "application/xml"}, status=200)
            assert codes(refused) == [UNSUPPORTED]

    def test_authentication_comes_first(self, client: TestClient) -> None:
        response = client.post("/zuora/v1/orders", content=b"<order/>", headers={"Content-Type": "application/xml"})
        assert response.status_code == 401

    def test_json_gzip_and_missing_type_still_work(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        account = new_account(client, tenant)
        payload = json.dumps(order_body(account, [line()]))
        for kind in ("application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"):
            assert zuora.ok("POST", "/v1/orders", payload, headers={"Content-Type": kind})["orderNumber"]
        packed = gzip.compress(payload.encode())
        for headers in (
            {"Content-Encoding": "gzip"},
            {"Content-Type": "application/octet-stream", "Content-Encoding": "gzip"},
            {"Content-Type": "application/octet-stream"},
        ):
            assert zuora.ok("POST", "/v1/orders", packed, headers=headers)["orderNumber"]
        # No Content-Type at all: read as JSON, as before.
        bare = client.post(
            "/zuora/v1/orders",
            content=payload.encode(),
            headers={"Authorization": f"Bearer {zuora.token}", "Zuora-Version": "2025-08-12"},
        )
        assert bare.status_code == 200 and bare.json()["success"] is True
        # An empty body is not refused for its type: there is nothing to read (orderDate is missing).
        empty = zuora.fail("POST", "/v1/orders", b"", headers={"Content-Type": "text/plain"}, status=400)
        assert codes(empty) == [50000022]

    def test_token_endpoint(self, client: TestClient, tenant: NewTenant) -> None:
        form = {"client_id": tenant.zuora_client_id, "client_secret": tenant.zuora_client_secret}
        ok = client.post(
            "/zuora/oauth/token",
            data={**form, "grant_type": "client_credentials"},
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
        )
        assert ok.status_code == 200 and ok.json()["token_type"] == "bearer"
        xml = client.post("/zuora/oauth/token", content=b"<token/>", headers={"Content-Type": "application/xml"})
        assert xml.status_code == 415 and xml.json()["code"] == UNSUPPORTED
        # JSON is not the token endpoint's type but is read (and lacks the form's fields): 400 as before.
        as_json = client.post("/zuora/oauth/token", json={**form, "grant_type": "client_credentials"})
        assert as_json.status_code == 400 and as_json.json()["code"] == 50000022
