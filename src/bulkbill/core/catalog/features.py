"""Entitlement features: what a product grants its subscribers, and which features may be attached."""

from __future__ import annotations

from bulkbill.core.errors import RuleViolation

# Stripe's limits on a feature's lookup key and name.
MAX_LOOKUP_KEY = 80
MAX_NAME = 80


def check_attachable(feature_id: str, active: bool) -> None:
    """An archived (inactive) feature cannot be attached to a product (Stripe's rule); attached ones stay."""
    if not active:
        raise RuleViolation(
            f"The feature {feature_id} is archived (active=false): reactivate it to attach it to a product.",
            path=("entitlement_feature",),
        )
