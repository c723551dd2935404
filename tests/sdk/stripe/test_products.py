"""Products' full set of Stripe parameters through stripe-python (every response schema-checked): details
stored and shown back, updated and unset, list filters, default_price_data, and product search."""

from __future__ import annotations

import pytest
import stripe

from tests.helpers.sdk import SdkTenant

pytestmark = pytest.mark.sdk

DETAILS = {
    "images": ["https://img.example/a.png", "https://img.example/b.png"],
    "url": "https://shop.example/socks",
    "shippable": True,
    "package_dimensions": {"height": 2.5, "length": 10, "weight": 3.25, "width": 4},
    "statement_descriptor": "ACME SOCKS",
    "tax_code": "txcd_99999999",
    "marketing_features": [{"name": "Warm"}, {"name": "Wool"}],
    "tax_details": {"tax_code": "txcd_99999999"},
}


def test_details_are_stored_shown_updated_and_unset(sdk: SdkTenant) -> None:
    products = sdk.client.v1.products
    made = products.create({"name": "Socks", "type": "good", **DETAILS})  # type: ignore[typeddict-item]
    for product in (made, products.retrieve(made.id)):
        assert product.images == DETAILS["images"] and product.url == DETAILS["url"] and product.shippable is True
        assert product.package_dimensions.to_dict() == {"height": 2.5, "length": 10, "weight": 3.25, "width": 4}
        assert (product.statement_descriptor, product.tax_code) == ("ACME SOCKS", "txcd_99999999")
        assert [f.name for f in product.marketing_features] == ["Warm", "Wool"]
        assert product.tax_details.tax_code == "txcd_99999999" and product.tax_details.performance_location is None
    changed = products.update(
        made.id,
        {"images": ["https://img.example/c.png"], "shippable": False, "marketing_features": [{"name": "Soft"}]},
    )
    assert (changed.images, changed.shippable, [f.name for f in changed.marketing_features]) == (
        ["https://img.example/c.png"],
        False,
        ["Soft"],
    )
    assert changed.url == DETAILS["url"] and changed.statement_descriptor == "ACME SOCKS"  # untouched
    unset = products.update(
        made.id,
        {
            "images": "",
            "url": "",
            "package_dimensions": "",
            "statement_descriptor": "",
            "tax_code": "",
            "marketing_features": "",
            "tax_details": "",
        },
    )
    assert (unset.images, unset.url, unset.package_dimensions, unset.statement_descriptor) == ([], None, None, None)
    assert (unset.tax_code, unset.marketing_features, unset.tax_details) == (None, [], None)
    plain = products.create({"name": "Plain"})
    assert (plain.images, plain.shippable, plain.url, plain.package_dimensions, plain.tax_details) == (
        [],
        None,
        None,
        None,
        None,
    )


def test_list_filters_shippable_and_url(sdk: SdkTenant) -> None:
    products = sdk.client.v1.products
    socks = products.create({"name": "Socks", "shippable": True, "url": "https://shop.example/socks"})
    course = products.create({"name": "Course", "shippable": False, "url": "https://shop.example/course"})
    plain = products.create({"name": "Plain"})
    assert [p.id for p in products.list({"shippable": True}).data] == [socks.id]
    assert [p.id for p in products.list({"shippable": False}).data] == [course.id]
    assert [p.id for p in products.list({"url": "https://shop.example/course"}).data] == [course.id]
    assert {p.id for p in products.list().data} == {socks.id, course.id, plain.id}


@pytest.mark.parametrize(
    ("descriptor", "message"),
    [("ACME SOCKS AND MORE SOCKS", "at most 22"), ("12345", "at least one letter"), ('ACME "SOCKS"', 'contain "')],
)
def test_statement_descriptors_follow_stripes_rules(sdk: SdkTenant, descriptor: str, message: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        sdk.client.v1.products.create({"name": "Socks", "statement_descriptor": descriptor})
    assert refused.value.error is not None and refused.value.error.param == "statement_descriptor"
    assert message in str(refused.value.error.message)
    assert sdk.client.v1.products.list().data == []  # nothing made


def test_default_price_data_makes_the_products_first_price_its_default(sdk: SdkTenant) -> None:
    product = sdk.client.v1.products.create(
        {
            "name": "Seat",
            "default_price_data": {
                "currency": "eur",
                "unit_amount": 1200,
                "recurring": {"interval": "month"},
                "metadata": {"tier": "base"},
            },
        }
    )
    assert product.default_price
    price = sdk.client.v1.prices.retrieve(product.default_price)
    assert (price.product, price.currency, price.unit_amount, price.type) == (product.id, "eur", 1200, "recurring")
    assert (price.recurring.interval, price.metadata.to_dict()) == ("month", {"tier": "base"})
    assert [p.id for p in sdk.client.v1.prices.list({"product": product.id}).data] == [price.id]
    expanded = sdk.client.v1.products.retrieve(product.id)
    assert expanded.default_price == price.id


def test_a_bad_default_price_is_named_under_default_price_data_and_makes_nothing(sdk: SdkTenant) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        sdk.client.v1.products.create(
            {"name": "Seat", "default_price_data": {"currency": "usd", "recurring": {"interval": "fortnight"}}}
        )
    assert refused.value.error is not None
    assert refused.value.error.param == "default_price_data[recurring][interval]"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        sdk.client.v1.products.create(
            {"name": "Seat", "default_price_data": {"currency": "usd", "unit_amount": 1, "unit_amount_decimal": "1"}}
        )
    assert refused.value.error is not None and str(refused.value.error.param).startswith("default_price_data")
    assert sdk.client.v1.products.list().data == [] and sdk.client.v1.prices.list().data == []


def test_products_search_by_url_shippable_description_and_name(sdk: SdkTenant) -> None:
    search = sdk.client.v1.products.search
    socks = sdk.client.v1.products.create(
        {"name": "Wool Socks", "description": "Warm wool", "shippable": True, "url": "https://shop.example/socks"}
    )
    course = sdk.client.v1.products.create({"name": "Knitting course", "shippable": False})
    assert [p.id for p in search({"query": 'url~"/socks"'}).data] == [socks.id]
    assert [p.id for p in search({"query": "shippable:'true'"}).data] == [socks.id]
    assert [p.id for p in search({"query": "shippable:false"}).data] == [course.id]
    assert [p.id for p in search({"query": 'description~"wool"'}).data] == [socks.id]
    assert {p.id for p in search({"query": 'name~"SOCK" OR name~"knit"'}).data} == {socks.id, course.id}
    sdk.client.v1.products.update(course.id, {"active": False})
    assert [p.id for p in search({"query": "active:false"}).data] == [course.id]
