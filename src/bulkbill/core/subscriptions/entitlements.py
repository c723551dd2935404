"""Active entitlements: the features a customer may use, derived from its live subscriptions' products.

Nothing is stored: a customer is entitled to every feature attached to a product whose price one of its
subscriptions bills while that subscription is `active` or `trialing` (a paused or canceled one grants
nothing), so entitlements follow every subscription change at once. An entitlement's id names its feature
and customer, so retrieving it checks the entitlement still holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bulkbill.core.subscriptions.rules import SubscriptionStatus

ENTITLING = frozenset({SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING})
_PREFIX = "ent_"
_FEATURE_PREFIX = "feat_"
# Feature ids are server-made, of one length (storage.ids.new_id(prefix, 24)): the id's part after `feat_`.
FEATURE_KEY_LENGTH = 24


def entitled_features(
    subscriptions: Iterable[tuple[str, Sequence[str]]], features_of_product: Mapping[str, Sequence[str]]
) -> set[str]:
    """The features granted by (status, product ids) of a customer's subscriptions: those live ones' products'."""
    return {
        feature
        for status, products in subscriptions
        if status in ENTITLING
        for product in products
        for feature in features_of_product.get(product, ())
    }


def entitlement_id(feature_id: str, customer_id: str) -> str:
    """The id of a customer's entitlement to a feature: `ent_` + the feature's key + the customer's id."""
    return _PREFIX + feature_id.removeprefix(_FEATURE_PREFIX) + customer_id


def parse_entitlement_id(entitlement_id: str) -> tuple[str, str] | None:
    """(feature id, customer id) an entitlement id names, or None when it is not one."""
    body = entitlement_id.removeprefix(_PREFIX)
    if body == entitlement_id or len(body) <= FEATURE_KEY_LENGTH:
        return None
    return _FEATURE_PREFIX + body[:FEATURE_KEY_LENGTH], body[FEATURE_KEY_LENGTH:]
