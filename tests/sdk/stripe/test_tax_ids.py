"""Top-level /v1/tax_ids through stripe-python: the tenant's own tax IDs (`owner[type]=self`, the default), a
connected account's as given, and customers' (the same objects /v1/customers/{id}/tax_ids serves)."""

from __future__ import annotations

import pytest
import stripe

from tests.helpers.sdk import SdkTenant

pytestmark = pytest.mark.sdk


def test_own_tax_ids_are_the_default_owner_and_listed_apart_from_customers(sdk: SdkTenant) -> None:
    tax_ids = sdk.client.v1.tax_ids
    own = tax_ids.create({"type": "eu_vat", "value": "EL123456789"})
    assert (own.object, own.country, own.customer, own.owner.type) == ("tax_id", "GR", None, "self")
    explicit = tax_ids.create({"type": "gb_vat", "value": "GB123", "owner": {"type": "self"}})
    customer = sdk.customer(tax_id_data=[{"type": "us_ein", "value": "12-3456789"}])
    listed = tax_ids.list()
    assert [t.id for t in listed.data] == [explicit.id, own.id]  # newest first; the customer's is not the tenant's
    assert [t.id for t in tax_ids.list({"owner": {"type": "self"}, "limit": 1}).data] == [explicit.id]
    assert tax_ids.retrieve(own.id).value == "EL123456789"
    assert (tax_ids.delete(own.id).deleted, [t.id for t in tax_ids.list().data]) == (True, [explicit.id])
    with pytest.raises(stripe.InvalidRequestError) as caught:
        tax_ids.retrieve(own.id)
    assert caught.value.http_status == 404
    assert tax_ids.list({"owner": {"type": "customer", "customer": customer.id}}).data[0].value == "12-3456789"


def test_a_customers_tax_ids_are_one_set_under_both_paths(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    made = sdk.client.v1.tax_ids.create(
        {"type": "de_stn", "value": "1234567890", "owner": {"type": "customer", "customer": customer.id}}
    )
    assert (made.customer, made.owner.type, made.owner.customer, made.country) == (
        customer.id,
        "customer",
        customer.id,
        "DE",
    )
    under = sdk.client.v1.customers.tax_ids
    assert [t.id for t in under.list(customer.id).data] == [made.id]
    assert sdk.client.v1.tax_ids.retrieve(made.id).customer == customer.id
    other = under.create(customer.id, {"type": "eu_vat", "value": "FR12345678901"})
    listed = sdk.client.v1.tax_ids.list({"owner": {"type": "customer", "customer": customer.id}})
    assert [t.id for t in listed.data] == [other.id, made.id]
    sdk.client.v1.tax_ids.delete(other.id)  # deleted at the top level: gone under the customer too
    assert [t.id for t in under.list(customer.id).data] == [made.id]
    expanded = sdk.client.v1.customers.retrieve(customer.id, {"expand": ["tax_ids"]})
    assert expanded.tax_ids is not None and [t.id for t in expanded.tax_ids.data] == [made.id]


def test_an_accounts_tax_ids_are_stored_under_the_account_named(sdk: SdkTenant) -> None:
    made = sdk.client.v1.tax_ids.create(
        {"type": "au_abn", "value": "12345678912", "owner": {"type": "account", "account": "acct_1"}}
    )
    assert (made.owner.type, made.owner.account, made.customer) == ("account", "acct_1", None)
    assert [t.id for t in sdk.client.v1.tax_ids.list({"owner": {"type": "account", "account": "acct_1"}}).data] == [
        made.id
    ]
    assert sdk.client.v1.tax_ids.list({"owner": {"type": "account", "account": "acct_2"}}).data == []
    assert sdk.client.v1.tax_ids.list().data == []


@pytest.mark.parametrize(
    ("owner", "param"),
    [
        ({"type": "customer"}, "owner[customer]"),
        ({"type": "account"}, "owner[account]"),
        ({"type": "self", "customer": "cus_x"}, "owner[customer]"),
        ({"type": "application"}, "owner[type]"),
        ({"type": "customer", "customer": "cus_missing"}, "owner[customer]"),
        ({"type": "someone"}, "owner[type]"),
    ],
)
def test_a_wrong_owner_is_refused_naming_it_and_nothing_is_made(
    sdk: SdkTenant, owner: dict[str, str], param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.tax_ids.create({"type": "eu_vat", "value": "DE1", "owner": owner})  # type: ignore[typeddict-item]
    assert (caught.value.http_status, caught.value.param) == (400, param)
    assert sdk.client.v1.tax_ids.list().data == []
    assert sdk.client.v1.tax_ids.list({"owner": {"type": "account", "account": "acct_x"}}).data == []


def test_at_most_25_own_tax_ids(sdk: SdkTenant) -> None:
    for n in range(25):
        sdk.client.v1.tax_ids.create({"type": "us_ein", "value": f"12-{n:07d}"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.tax_ids.create({"type": "us_ein", "value": "12-9999999"})
    assert caught.value.param == "type"
    assert len(sdk.client.v1.tax_ids.list({"limit": 100}).data) == 25


def test_tax_ids_of_another_tenant_are_not_found(sdk: SdkTenant, other_sdk: SdkTenant) -> None:
    own = sdk.client.v1.tax_ids.create({"type": "eu_vat", "value": "DE1"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        other_sdk.client.v1.tax_ids.retrieve(own.id)
    assert caught.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError):
        other_sdk.client.v1.tax_ids.delete(own.id)
    assert [t.id for t in sdk.client.v1.tax_ids.list().data] == [own.id]
