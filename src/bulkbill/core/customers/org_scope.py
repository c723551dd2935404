"""Org scoping: which accounts (and their documents) a call may see when it names orgs.

An account belongs to its tenant and optionally to one org. A call that names orgs must name orgs
the caller can access, and then sees only accounts of those orgs; a call that names none sees every
account, including accounts with no org. The dialect decides how orgs are named on the wire.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from bulkbill.core.errors import BillingError, ErrorCode


class AccessDenied(BillingError):
    """The caller named something (an org) it cannot access."""

    code = ErrorCode.ACCESS_DENIED


def check_requested_orgs(requested: Iterable[str], accessible: Collection[str]) -> frozenset[str]:
    """Every org a call names must be accessible to the caller; returns the requested set."""
    wanted = frozenset(requested)
    unknown = sorted(wanted - set(accessible))
    if unknown:
        raise AccessDenied(f"You do not have access to the org(s): {', '.join(unknown)}.")
    return wanted


def in_scope(org: str | None, scope: frozenset[str] | None) -> bool:
    """No scope sees every account; a scope sees only accounts of its orgs (never accounts with no org)."""
    return scope is None or (org is not None and org in scope)
