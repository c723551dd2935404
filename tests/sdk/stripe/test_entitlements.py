"""Entitlements through stripe-python 16.1: features (/v1/entitlements/features), features attached to products
(/v1/products/{id}/features), and a customer's active entitlements, derived from its live subscriptions
(/v1/entitlements/active_entitlements). Every response is checked against the schemas in tests/data."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.helpers.schema import assert_stripe_schema
from tests.helpers.sdk import SdkTenant
from tests.sdk.stripe.test_subscription_terms import Clocked, at
from tests.sdk.stripe.test_subscriptions import billing, monthly

__all__ = ["billing"]

pytestmark = pytest.mark.sdk

# The example objects of github.com/stripe/openapi's openapi/fixtures3.json (commit f6c2a48f), copied unchanged:
# the schemas written from stripe-python's models (tests/data/README.md) must accept what Stripe publishes.
STRIPE_FIXTURES: dict[str, dict[str, Any]] = {
    "entitlements.feature": {
        "active": True,
        "id": "feat_test_61QGU1MWyFMSP9YBZ41ClCIKljWvsTgu",
        "livemode": False,
        "lookup_key": "something",
        "metadata": {},
        "name": "My super awesome feature",
        "object": "entitlements.feature",
    },
    "entitlements.active_entitlement": {
        "feature": "feat_test_61QGU1MWyFMSP9YBZ41ClCIKljWvsTgu",
        "id": "ent_test_61QG5x2cU1GluFTYs41JqiESbLiX8C8O",
        "livemode": False,
        "lookup_key": "something",
        "object": "entitlements.active_entitlement",
    },
    "product_feature": {
        "entitlement_feature": {
            "active": False,
            "id": "",
            "livemode": False,
            "lookup_key": "",
            "metadata": {},
            "name": "",
            "object": "entitlements.feature",
        },
        "id": "",
        "livemode": False,
        "object": "product_feature",
    },
    "deleted_product_feature": {"deleted": True, "id": "prodft_BcMBZUWCIOEgEc", "object": "product_feature"},
}


@pytest.mark.parametrize("schema", sorted(STRIPE_FIXTURES))
def test_stripes_published_examples_match_the_schemas(schema: str) -> None:
    assert_stripe_schema(STRIPE_FIXTURES[schema], schema)
    with pytest.raises(AssertionError):
        assert_stripe_schema({**STRIPE_FIXTURES[schema], "id": 1}, schema)


def _feature(sdk: SdkTenant, key: str, **params: Any) -> stripe.entitlements.Feature:
    return sdk.client.v1.entitlements.features.create({"lookup_key": key, "name": key.title(), **params})


def test_features_are_created_changed_archived_and_listed(sdk: SdkTenant) -> None:
    features = sdk.client.v1.entitlements.features
    seats = _feature(sdk, "seats", metadata={"tier": "pro"})
    sso = _feature(sdk, "sso")
    assert (seats.object, seats.active, seats.lookup_key, seats.metadata.to_dict()) == (
        "entitlements.feature",
        True,
        "seats",
        {"tier": "pro"},
    )
    assert features.retrieve(seats.id).name == "Seats"
    assert [f.id for f in features.list().data] == [sso.id, seats.id]
    renamed = features.update(seats.id, {"name": "Seats+", "metadata": {"tier": "", "x": "1"}})
    assert (renamed.name, renamed.metadata.to_dict(), renamed.lookup_key) == ("Seats+", {"x": "1"}, "seats")
    archived = features.update(sso.id, {"active": False})
    assert archived.active is False
    assert [f.id for f in features.list().data] == [seats.id]  # archived ones are hidden unless asked for
    assert [f.id for f in features.list({"archived": True}).data] == [sso.id]
    assert [f.id for f in features.list({"lookup_key": "seats"}).data] == [seats.id]
    assert [f.id for f in features.list({"limit": 1, "archived": False}).data] == [seats.id]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"lookup_key": "seats", "name": "Again"}, "lookup_key"),  # taken
        ({"lookup_key": "other"}, "name"),
        ({"lookup_key": "x" * 81, "name": "Long"}, "lookup_key"),
        ({"lookup_key": "other", "name": "Other", "active": False}, "active"),  # not a create parameter
    ],
)
def test_a_refused_feature_names_the_parameter_and_nothing_is_made(
    sdk: SdkTenant, params: dict[str, Any], param: str
) -> None:
    seats = _feature(sdk, "seats")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.entitlements.features.create(params)  # type: ignore[arg-type]
    assert (caught.value.http_status, caught.value.param) == (400, param)
    assert [f.id for f in sdk.client.v1.entitlements.features.list({"archived": False}).data] == [seats.id]
    assert sdk.client.v1.entitlements.features.list({"archived": True}).data == []


def test_features_are_attached_to_products_once_and_detached(sdk: SdkTenant) -> None:
    product = sdk.client.v1.products.create({"name": "Pro"})
    seats, sso = _feature(sdk, "seats"), _feature(sdk, "sso")
    attached = sdk.client.v1.products.features
    first = attached.create(product.id, {"entitlement_feature": seats.id})
    assert (first.object, first.entitlement_feature.id, first.entitlement_feature.lookup_key) == (
        "product_feature",
        seats.id,
        "seats",
    )
    second = attached.create(product.id, {"entitlement_feature": sso.id})
    assert [a.id for a in attached.list(product.id).data] == [second.id, first.id]
    assert attached.retrieve(product.id, first.id).entitlement_feature.id == seats.id
    for params, param in (
        ({"entitlement_feature": seats.id}, "entitlement_feature"),  # already attached
        ({"entitlement_feature": "feat_missing"}, "entitlement_feature"),
        ({}, "entitlement_feature"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            attached.create(product.id, params)  # type: ignore[arg-type]
        assert (caught.value.http_status, caught.value.param) == (400, param)
    sdk.client.v1.entitlements.features.update(sso.id, {"active": False})
    other = sdk.client.v1.products.create({"name": "Basic"})
    with pytest.raises(stripe.InvalidRequestError) as caught:  # an archived feature is not attached anew
        attached.create(other.id, {"entitlement_feature": sso.id})
    assert (caught.value.http_status, caught.value.param) == (400, "entitlement_feature")
    assert attached.list(other.id).data == []
    assert len(attached.list(product.id).data) == 2  # nothing changed by the refusals
    gone = attached.delete(product.id, first.id)
    assert (gone.id, gone.deleted) == (first.id, True)
    assert [a.id for a in attached.list(product.id).data] == [second.id]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        attached.retrieve(other.id, second.id)  # another product's attachment is not found under this one
    assert caught.value.http_status == 404


def test_active_entitlements_follow_the_customers_live_subscriptions(billing: SdkTenant) -> None:
    story = Clocked(billing, at(2025, 1, 1))
    seats, sso, audit = _feature(billing, "seats"), _feature(billing, "sso"), _feature(billing, "audit")
    for f in (seats, sso):
        billing.client.v1.products.features.create(story.price.product, {"entitlement_feature": f.id})  # type: ignore[arg-type]
    addon = monthly(billing, 500, "Audit add-on")
    billing.client.v1.products.features.create(addon.product, {"entitlement_feature": audit.id})  # type: ignore[arg-type]
    entitlements = billing.client.v1.entitlements.active_entitlements
    assert entitlements.list({"customer": story.customer.id}).data == []
    sub = story.subscribe(**{"billing_mode": {"type": "flexible"}})
    held = entitlements.list({"customer": story.customer.id})
    assert [(e.lookup_key, e.feature) for e in held.data] == [("sso", sso.id), ("seats", seats.id)]
    expanded = entitlements.list({"customer": story.customer.id, "expand": ["data.feature"], "limit": 1})
    assert (expanded.has_more, expanded.data[0].feature.name) == (True, "Sso")  # type: ignore[union-attr]
    one = entitlements.retrieve(held.data[1].id, {"expand": ["feature"]})
    assert one.feature.id == seats.id  # type: ignore[union-attr]
    trial = billing.client.v1.subscriptions.create(
        {"customer": story.customer.id, "items": [{"price": addon.id}], "trial_period_days": 7}
    )
    assert {e.lookup_key for e in entitlements.list({"customer": story.customer.id}).data} == {"seats", "sso", "audit"}
    billing.client.v1.subscriptions.cancel(trial.id)
    billing.client.v1.subscriptions.pause(sub.id)  # paused: no entitlements
    assert entitlements.list({"customer": story.customer.id}).data == []
    with pytest.raises(stripe.InvalidRequestError) as caught:
        entitlements.retrieve(held.data[1].id)
    assert caught.value.http_status == 404
    story.advance(at(2025, 1, 5))
    billing.client.v1.subscriptions.resume(sub.id)
    assert len(entitlements.list({"customer": story.customer.id}).data) == 2
    other = billing.client.v1.customers.create({"name": "Bo"})
    assert entitlements.list({"customer": other.id}).data == []


def test_active_entitlements_need_an_existing_customer(sdk: SdkTenant, other_sdk: SdkTenant) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.entitlements.active_entitlements.list({})  # type: ignore[typeddict-item]
    assert (caught.value.http_status, caught.value.param) == (400, "customer")
    theirs = other_sdk.customer()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.entitlements.active_entitlements.list({"customer": theirs.id})
    assert caught.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.entitlements.active_entitlements.retrieve("ent_nothing")
    assert caught.value.http_status == 404
