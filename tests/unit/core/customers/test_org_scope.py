"""Core rules of multi-org scope (Decision 10): requested orgs must be accessible; what a scope lets through."""

from __future__ import annotations

import pytest

from bulkbill.core.customers.org_scope import AccessDenied, check_requested_orgs, in_scope


class TestScope:
    def test_requested_orgs_must_be_accessible(self) -> None:
        assert check_requested_orgs(["EU"], {"EU", "US"}) == {"EU"}
        with pytest.raises(AccessDenied):
            check_requested_orgs(["EU", "APAC"], {"EU"})

    def test_in_scope(self) -> None:
        assert in_scope(None, None) and in_scope("EU", None) and in_scope("EU", frozenset({"EU"}))
        assert not in_scope(None, frozenset({"EU"})) and not in_scope("US", frozenset({"EU"}))
