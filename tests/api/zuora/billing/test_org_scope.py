"""Zuora-Org-Ids (Decision 10) on bill runs, and bill-run organizationLabels.

A call naming orgs sees only objects of those orgs: an org the tenant does not have is 403
(category 10), an object outside the orgs is not found (category 40), as GET /v1/accounts answers.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from bulkbill.services.platform.tenants import NewTenant
from tests.helpers import ZuoraClient
from tests.helpers.zuora import (
    BOTH,
    DENIED,
    EAST,
    INVALID,
    MISSING,
    NORTH,
    NOT_FOUND,
    SDK_DEFAULTS,
    WEST,
    codes,
    documents,
    new_account,
    sent,
)


def new_run(zuora: ZuoraClient, headers: dict[str, str] | None = None, **kw: Any) -> dict[str, Any]:
    body = {**SDK_DEFAULTS, "targetDate": "2021-06-30", "invoiceDate": "2021-07-01", **kw}
    return zuora.ok("POST", "/v1/bill-runs", body, headers=headers)


def billed(client: TestClient, tenant: NewTenant) -> list[str]:
    """The source ids of every billed item, in document order."""
    return [str(i.source_id) for d in documents(client, tenant) for i in d.items]


class TestBillRunReads:
    def test_a_run_made_under_org_ids_belongs_to_those_orgs(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        east, west = new_account(client, tenant, org="east"), new_account(client, tenant, org="west")
        sent(zuora, east, "2021-01-01")
        sent(zuora, west, "2021-01-01")
        created = new_run(zuora, EAST)
        assert created["numberOfAccounts"] == 1
        for key in (created["id"], created["billRunNumber"]):
            for path in (f"/v1/bill-runs/{key}", f"/v1/bill-runs/{key}/accounts"):
                zuora.ok("GET", path, headers=EAST)
                zuora.ok("GET", path, headers=BOTH)
                zuora.ok("GET", path)  # no header: every org the caller can access
                assert codes(zuora.fail("GET", path, headers=WEST, status=404)) == [NOT_FOUND]
                assert codes(zuora.fail("GET", path, headers=NORTH, status=403)) == [DENIED]

    def test_posting_needs_the_run_in_scope(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        east = new_account(client, tenant, org="east")
        new_account(client, tenant, org="west")
        sent(zuora, east, "2021-01-01")
        created = new_run(zuora, EAST)
        path = f"/v1/bill-runs/{created['id']}/post"
        assert codes(zuora.fail("PUT", path, {}, headers=WEST, status=404)) == [NOT_FOUND]
        assert codes(zuora.fail("PUT", path, {}, headers=NORTH, status=403)) == [DENIED]
        [draft] = documents(client, tenant)
        assert draft.invoice.status == "draft"
        assert zuora.ok("GET", f"/v1/bill-runs/{created['id']}")["status"] == "Completed"
        assert zuora.ok("PUT", path, {}, headers=EAST)["status"] == "Posted"

    def test_committing_needs_the_run_in_scope(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        east = new_account(client, tenant, org="east")
        new_account(client, tenant, org="west")
        due = sent(zuora, east, "2021-01-01")
        planned = new_run(zuora, EAST, bulkbillOptions={"planOnly": True})
        assert planned["status"] == "Planned"
        path = f"/v1/bill-runs/{planned['id']}/commit"
        assert codes(zuora.fail("PUT", path, headers=WEST, status=404)) == [NOT_FOUND]
        assert codes(zuora.fail("PUT", path, headers=NORTH, status=403)) == [DENIED]
        assert documents(client, tenant) == []
        assert zuora.ok("PUT", path, headers=EAST)["status"] == "Completed"
        assert billed(client, tenant) == [due]

    def test_a_run_without_orgs_is_seen_only_without_the_header(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        east, west = new_account(client, tenant, org="east"), new_account(client, tenant, org="west")
        sent(zuora, east, "2021-01-01")
        sent(zuora, west, "2021-01-01")
        everyone = new_run(zuora)  # may bill every org and accounts with no org, like an account with no org
        zuora.ok("GET", f"/v1/bill-runs/{everyone['id']}")
        for headers in (EAST, BOTH):
            zuora.fail("GET", f"/v1/bill-runs/{everyone['id']}", headers=headers, status=404)
            zuora.fail("PUT", f"/v1/bill-runs/{everyone['id']}/post", {}, headers=headers, status=404)

    def test_a_run_filtered_to_an_account_follows_that_account(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        east, none = new_account(client, tenant, org="east"), new_account(client, tenant)
        new_account(client, tenant, org="west")
        sent(zuora, east, "2021-01-01")
        one = new_run(zuora, billRunFilters=[{"filterType": "Account", "accountId": east}])
        zuora.ok("GET", f"/v1/bill-runs/{one['id']}", headers=EAST)
        zuora.fail("GET", f"/v1/bill-runs/{one['id']}", headers=WEST, status=404)
        unlabelled = new_run(zuora, billRunFilters=[{"filterType": "Account", "accountId": none}])
        zuora.ok("GET", f"/v1/bill-runs/{unlabelled['id']}")
        zuora.fail("GET", f"/v1/bill-runs/{unlabelled['id']}", headers=EAST, status=404)
        # And an account outside the caller's orgs cannot be filtered to.
        body = {"targetDate": "2021-06-30", "billRunFilters": [{"filterType": "Account", "accountId": east}]}
        assert codes(zuora.fail("POST", "/v1/bill-runs", body, headers=WEST, status=404)) == [NOT_FOUND]


class TestOrganizationLabels:
    def test_labels_restrict_the_accounts_billed(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        east, west, none = (
            new_account(client, tenant, org="east"),
            new_account(client, tenant, org="west"),
            new_account(client, tenant),
        )
        in_east = sent(zuora, east, "2021-01-01")
        in_west = sent(zuora, west, "2021-01-01")
        sent(zuora, none, "2021-01-01")
        labels = [{"organizationId": "east"}]
        created = new_run(zuora, organizationLabels=labels)
        assert created["numberOfAccounts"] == 1 and created["organizationLabels"] == labels
        assert billed(client, tenant) == [in_east]
        by_name = new_run(zuora, organizationLabels=[{"organizationName": "west", "organizationId": "west"}])
        assert by_name["numberOfAccounts"] == 1 and billed(client, tenant) == [in_east, in_west]
        # The run belongs to its labels' orgs.
        zuora.ok("GET", f"/v1/bill-runs/{created['id']}", headers=EAST)
        zuora.fail("GET", f"/v1/bill-runs/{created['id']}", headers=WEST, status=404)
        assert zuora.ok("GET", f"/v1/bill-runs/{created['id']}")["organizationLabels"] == labels

    def test_labels_within_the_callers_orgs(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        east, west = new_account(client, tenant, org="east"), new_account(client, tenant, org="west")
        in_east = sent(zuora, east, "2021-01-01")
        sent(zuora, west, "2021-01-01")
        created = new_run(zuora, BOTH, organizationLabels=[{"organizationName": "east"}])
        assert created["numberOfAccounts"] == 1 and billed(client, tenant) == [in_east]
        zuora.fail("GET", f"/v1/bill-runs/{created['id']}", headers=WEST, status=404)
        zuora.ok("GET", f"/v1/bill-runs/{created['id']}", headers=EAST)

    def test_a_label_the_caller_cannot_access_is_403(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient
    ) -> None:
        east, west = new_account(client, tenant, org="east"), new_account(client, tenant, org="west")
        sent(zuora, east, "2021-01-01")
        sent(zuora, west, "2021-01-01")
        body = {"targetDate": "2021-06-30"}
        for labels, headers in (
            ([{"organizationId": "north"}], None),  # the tenant has no such org
            ([{"organizationId": "east"}, {"organizationName": "north"}], None),
            ([{"organizationId": "west"}], EAST),  # outside the call's Zuora-Org-Ids
        ):
            refused = zuora.fail(
                "POST", "/v1/bill-runs", {**body, "organizationLabels": labels}, headers=headers, status=403
            )
            assert codes(refused) == [DENIED]
        assert documents(client, tenant) == []

    def test_malformed_labels(self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> None:
        east, west = new_account(client, tenant, org="east"), new_account(client, tenant, org="west")
        body = {"targetDate": "2021-06-30"}
        missing = zuora.fail("POST", "/v1/bill-runs", {**body, "organizationLabels": [{}]}, status=400)
        assert codes(missing) == [MISSING]
        both = [{"organizationId": "east", "organizationName": "west"}]
        assert codes(zuora.fail("POST", "/v1/bill-runs", {**body, "organizationLabels": both}, status=400)) == [INVALID]
        zuora.fail("POST", "/v1/bill-runs", {**body, "organizationLabels": ["east"]}, status=400)
        # An account filter outside the labels would bill nothing: refused.
        mismatch = {
            **body,
            "organizationLabels": [{"organizationId": "east"}],
            "billRunFilters": [{"filterType": "Account", "accountId": west}],
        }
        assert codes(zuora.fail("POST", "/v1/bill-runs", mismatch, status=400)) == [INVALID]
        # An empty list restricts nothing.
        assert new_run(zuora, organizationLabels=[])["status"] == "Completed"
        assert east
