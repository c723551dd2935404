"""A tenant's default Zuora-Version (spec Decision 1): requests without the header are answered as it says."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from bulkbill.cli.main import app
from bulkbill.services.platform.tenants import NewTenant, check_zuora_version, set_zuora_default_version
from bulkbill.storage.db import create_db_engine, make_sessionmaker
from bulkbill.storage.tables import Tenant
from tests.helpers import zuora_for


def _set_default(client: TestClient, tenant: NewTenant, version: str | None) -> None:
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    with state.sessions.begin() as session:
        set_zuora_default_version(session, tenant.id, version)


class TestRequests:
    def test_without_the_header_a_legacy_default_answers_errors_with_200(
        self, client: TestClient, tenant: NewTenant
    ) -> None:
        # given a tenant whose default is a legacy version
        _set_default(client, tenant, "196.0")
        zuora = zuora_for(client, tenant)
        # when a request without Zuora-Version fails
        zuora.version = None
        body = zuora.fail("GET", "/v1/accounts/A99999999", status=200)
        # then it is answered the legacy way: HTTP 200, success false
        assert body["success"] is False and body["reasons"][0]["code"] == 50000040
        # and a header still wins over the default
        zuora.version = "2025-08-12"
        assert zuora.fail("GET", "/v1/accounts/A99999999", status=404)["success"] is False

    def test_without_a_default_the_current_behaviour_applies(self, client: TestClient, tenant: NewTenant) -> None:
        zuora = zuora_for(client, tenant)
        zuora.version = None
        assert zuora.fail("GET", "/v1/accounts/A99999999", status=404)["reasons"][0]["code"] == 50000040
        _set_default(client, tenant, "2019-01-01")  # dated, before 2024-05-20: legacy
        assert zuora.fail("GET", "/v1/accounts/A99999999", status=200)["success"] is False
        _set_default(client, tenant, None)
        zuora.fail("GET", "/v1/accounts/A99999999", status=404)

    def test_authentication_failures_stay_401(self, client: TestClient, tenant: NewTenant) -> None:
        _set_default(client, tenant, "196.0")
        response = client.get("/zuora/v1/accounts/A1", headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401


@pytest.mark.parametrize("version", ["196.0", "2025-08-12", None])
def test_well_formed_versions_are_kept(version: str | None) -> None:
    assert check_zuora_version(version) == version


@pytest.mark.parametrize("version", ["", "196", "latest", "2025-8-12", "196.0; drop"])
def test_malformed_versions_are_refused(version: str) -> None:
    with pytest.raises(ValueError, match="not a Zuora-Version"):
        check_zuora_version(version)


def test_the_cli_sets_and_clears_the_default(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    created = runner.invoke(app, ["tenants", "create", "acme", "--database-url", url, "--zuora-version", "196.0"])
    assert created.exit_code == 0, created.output

    def stored() -> str | None:
        engine = create_db_engine(url)
        with make_sessionmaker(engine)() as session:
            value = session.scalar(select(Tenant.zuora_default_version).where(Tenant.name == "acme"))
        engine.dispose()
        return value

    assert stored() == "196.0"
    updated = runner.invoke(app, ["tenants", "update", "acme", "--database-url", url, "--zuora-version", "2023-01-01"])
    assert updated.exit_code == 0, updated.output
    assert stored() == "2023-01-01"
    refused = runner.invoke(app, ["tenants", "update", "acme", "--database-url", url, "--zuora-version", "latest"])
    assert refused.exit_code == 2 and stored() == "2023-01-01"
    cleared = runner.invoke(app, ["tenants", "update", "acme", "--database-url", url, "--zuora-version", "current"])
    assert cleared.exit_code == 0 and stored() is None
    missing = runner.invoke(app, ["tenants", "update", "nobody", "--database-url", url, "--zuora-version", "current"])
    assert missing.exit_code == 2
