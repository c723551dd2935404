"""Search through stripe-python (every response schema-checked, `search_result` included): Stripe's query
language on customers, invoices, prices and products, its pages, its refusals, and tenant isolation.
Subscriptions' search is in test_subscriptions.py (their objects are checked against the SDK's models)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import stripe

from tests.helpers.sdk import SdkTenant

pytestmark = pytest.mark.sdk


def _ids(result: Any) -> set[str]:
    return {obj.id for obj in result.data}


@pytest.fixture
def people(sdk: SdkTenant) -> dict[str, stripe.Customer]:
    create = sdk.client.v1.customers.create
    return {
        "ada": create({"name": "Ada Lovelace", "email": "ada@analytical.example", "metadata": {"plan": "pro"}}),
        "grace": create({"name": "Grace Hopper", "email": "Grace@Navy.example", "phone": "+15550100"}),
        "alan": create({"name": "Alan Turing", "metadata": {"plan": "free", 'odd "key"': "yes"}}),
    }


def test_customers_by_each_field_and_operator(sdk: SdkTenant, people: dict[str, stripe.Customer]) -> None:
    search = sdk.client.v1.customers.search
    ada, grace, alan = people["ada"].id, people["grace"].id, people["alan"].id
    assert _ids(search({"query": 'email:"grace@navy.example"'})) == {grace}  # exact, any case
    assert _ids(search({"query": 'email:"grace@navy"'})) == set()  # exact is not a substring
    assert _ids(search({"query": "name~'ing'"})) == {alan}  # substring, single quotes
    assert _ids(search({"query": 'name~"LOVE"'})) == {ada}
    assert _ids(search({"query": 'phone:"+15550100"'})) == {grace}
    assert _ids(search({"query": 'metadata["plan"]:"pro"'})) == {ada}
    assert _ids(search({"query": 'metadata["plan"]:null'})) == {grace}  # no such key
    assert _ids(search({"query": '-metadata["plan"]:null'})) == {ada, alan}  # has the key
    assert _ids(search({"query": 'metadata["odd \\"key\\""]:"yes"'})) == {alan}  # escaped quotes in a key
    # A negation matches what has no value at all: Ada and Alan have no phone.
    assert _ids(search({"query": '-phone:"+15550100"'})) == {ada, alan}
    assert _ids(search({"query": 'name:"Ada Lovelace" OR name:"Alan Turing"'})) == {ada, alan}
    assert _ids(search({"query": 'name~"tur" metadata["plan"]:"free"'})) == {alan}
    assert _ids(search({"query": 'name~"tur" AND metadata["plan"]:"pro"'})) == set()
    # The three were made in turn: under load their `created` seconds may differ, so bound by all three.
    first, created = min(c.created for c in people.values()), people["grace"].created
    assert _ids(search({"query": f"created>={first} created<={first + 3600}"})) == {ada, grace, alan}
    assert _ids(search({"query": f"created<{first - 3600}"})) == set()
    assert _ids(search({"query": f"created={created} -created>{created}"})) == {
        c.id for c in people.values() if c.created == created
    }


def test_pages_follow_next_page_and_total_count_is_there_when_expanded(
    sdk: SdkTenant, people: dict[str, stripe.Customer]
) -> None:
    extra = [sdk.client.v1.customers.create({"name": f"Paged {i}", "email": f"p{i}@paged.example"}) for i in range(5)]
    first = sdk.client.v1.customers.search({"query": 'email~"paged"', "limit": 2})
    assert (len(first.data), first.has_more, first.url) == (2, True, "/v1/customers/search")
    assert first.next_page and "total_count" not in first
    seen = [c.id for c in sdk.client.v1.customers.search({"query": 'email~"paged"', "limit": 2}).auto_paging_iter()]
    assert sorted(seen) == sorted(c.id for c in extra) and len(seen) == len(set(seen))
    newest_first = sorted(extra, key=lambda c: (c.created, c.id), reverse=True)
    assert seen == [c.id for c in newest_first]
    counted = sdk.client.v1.customers.search({"query": 'email~"paged"', "limit": 1, "expand": ["total_count"]})
    assert (counted.total_count, len(counted.data)) == (5, 1)
    last = sdk.client.v1.customers.search({"query": 'email~"paged"', "limit": 5})
    assert (last.has_more, last.next_page) == (False, None)


REFUSED = [
    ('email:"a" OR name:"b" phone:"c"', "cannot mix AND and OR"),
    ('nickname:"x"', "Field 'nickname' is not a search field for customers"),
    ('email~"ad"', "at least 3 characters"),
    ('email>"x"', "The operator > does not apply to email"),
    ("created>yesterday", "must be a whole number"),
    ("email:ada", "String values must be quoted"),
    ('metadata:"x"', 'metadata["key"]'),
    ('email:"x" AND', "ends before its last clause is complete"),
    ('(email:"x")', "cannot be read at column 1"),
    ('email:"unterminated', "cannot be read"),
    (" ".join(f'name:"n{i}"' for i in range(11)), "at most 10 clauses"),
]


@pytest.mark.parametrize(("query", "message"), REFUSED)
def test_bad_queries_are_one_400_naming_the_query(sdk: SdkTenant, query: str, message: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        sdk.client.v1.customers.search({"query": query})
    error = refused.value.error
    assert error is not None and (refused.value.http_status, error.type, error.param) == (
        400,
        "invalid_request_error",
        "query",
    )
    assert message in (error.message or ""), error.message


def test_a_page_token_is_for_its_own_query(sdk: SdkTenant, people: dict[str, stripe.Customer]) -> None:
    token = sdk.client.v1.customers.search({"query": 'email~"example"', "limit": 1}).next_page
    assert token  # two of the three have an email
    for query, page in [('name~"lov"', token), ('email~"example"', "nonsense!"), ('email~"example"', "e30")]:
        with pytest.raises(stripe.InvalidRequestError) as refused:
            sdk.client.v1.customers.search({"query": query, "page": page})
        assert refused.value.error is not None and refused.value.error.param == "page"
    assert base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))  # opaque, but well-formed


def test_another_tenant_finds_nothing(sdk: SdkTenant, other_sdk: SdkTenant, people: dict[str, stripe.Customer]) -> None:
    assert _ids(sdk.client.v1.customers.search({"query": 'email~"analytical"'})) == {people["ada"].id}
    assert _ids(other_sdk.client.v1.customers.search({"query": 'email~"analytical"'})) == set()
    token = sdk.client.v1.customers.search({"query": 'email~"example"', "limit": 1}).next_page
    assert token
    # Another tenant's token reads that tenant's own rows only.
    assert _ids(other_sdk.client.v1.customers.search({"query": 'email~"example"', "page": token})) == set()


def test_invoices_by_customer_status_total_number_and_metadata(sdk: SdkTenant) -> None:
    search = sdk.client.v1.invoices.search
    ada, bob = sdk.customer(), sdk.customer(name="Bob", email="bob@example.com")
    draft = sdk.client.v1.invoices.create({"customer": ada.id, "metadata": {"order": "A-1"}})
    draft = sdk.client.v1.invoices.add_lines(draft.id, {"lines": [{"amount": 700, "description": "Small"}]})
    big = sdk.client.v1.invoices.create({"customer": bob.id, "currency": "eur"})
    sdk.client.v1.invoices.add_lines(big.id, {"lines": [{"amount": 5000, "description": "Large"}]})
    big = sdk.client.v1.invoices.finalize_invoice(big.id)
    assert _ids(search({"query": f'customer:"{ada.id}"'})) == {draft.id}
    assert _ids(search({"query": 'status:"open"'})) == {big.id}
    assert _ids(search({"query": 'status:"OPEN"'})) == {big.id}  # a string field: any case
    assert _ids(search({"query": "total>1000"})) == {big.id}
    assert _ids(search({"query": "total<=700 total>=700"})) == {draft.id}
    assert _ids(search({"query": f'number:"{big.number}"'})) == {big.id}
    assert _ids(search({"query": 'currency:"eur"'})) == {big.id}
    assert _ids(search({"query": 'currency:"EUR"'})) == set()  # a token: exact case
    assert _ids(search({"query": 'metadata["order"]:"A-1"'})) == {draft.id}
    assert _ids(search({"query": 'receipt_number:"x"'})) == set()  # never set: no payments
    found = search({"query": f'customer:"{ada.id}"', "expand": ["data.customer"]})
    assert found.data[0].customer.id == ada.id and found.data[0].lines.data[0].amount == 700


def test_prices_by_product_type_lookup_key_and_active(sdk: SdkTenant) -> None:
    search = sdk.client.v1.prices.search
    product = sdk.client.v1.products.create({"name": "Seat"})
    once = sdk.client.v1.prices.create(
        {"product": product.id, "currency": "usd", "unit_amount": 500, "lookup_key": "seat_once"}
    )
    monthly = sdk.client.v1.prices.create(
        {"product": product.id, "currency": "usd", "unit_amount": 900, "recurring": {"interval": "month"}}
    )
    other = sdk.price()
    assert _ids(search({"query": f'product:"{product.id}"'})) == {once.id, monthly.id}
    assert _ids(search({"query": f'product:"{product.id}" AND type:"recurring"'})) == {monthly.id}
    assert _ids(search({"query": 'lookup_key~"seat"'})) == {once.id}
    assert _ids(search({"query": 'lookup_key~"t_o"'})) == {once.id}  # _ is a character, not a wildcard
    assert _ids(search({"query": 'lookup_key~"t%o"'})) == set()  # and % is one too
    sdk.client.v1.prices.update(monthly.id, {"active": False})
    assert _ids(search({"query": "active:'false'"})) == {monthly.id}
    assert _ids(search({"query": "active:true"})) == {once.id, other.id}
    expanded = search({"query": f'product:"{product.id}" type:"one_time"', "expand": ["data.product"]})
    assert expanded.data[0].product.name == "Seat"
