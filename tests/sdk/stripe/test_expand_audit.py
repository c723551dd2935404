"""`expand[]` audited against Stripe's own schemas: every expandable field of every object served is accepted.

The expandable fields are read from the copied OpenAPI schemas (tests/data/stripe_schemas.json): Stripe types an
expandable reference `anyOf [string (the id), the object]`, the shape its `x-expandableFields` /
`x-expansionResources` marks (the copy drops `x-*` keys, the `anyOf` stays). Subscriptions, their items and
balance transactions have no schema in the copy; stripe-python 16.1's models stand in (`ExpandableField[...]` is
the same mark). The "includable" fields (left out unless expanded) carry no such mark: Stripe's reference names
them, listed here.
Paths are followed as Stripe does: through sub-objects and arrays, into lists as `data.X`, and one expansion
deeper (`tax_ids.data.customer`, `lines.data.taxes.tax_rate_details.tax_rate`). Fields of payments and Connect
keep their refusal. Every response is schema-checked (tests/helpers/sdk.py).
"""

from __future__ import annotations

import json
import time
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import stripe

from bulkbill.testing.server import BulkbillServer
from bulkbill.testing.tenant import Tenant
from tests.helpers.schema import assert_stripe_schema
from tests.helpers.sdk import DELETED_SCHEMAS, OBJECT_SCHEMAS, SdkTenant
from tests.sdk.stripe.test_subscriptions import CLOCK, SDK_SHAPES, SubscriptionsHTTPClient

pytestmark = pytest.mark.sdk

SCHEMAS: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "data" / "stripe_schemas.json").read_text(encoding="utf-8")
)["components"]["schemas"]
# Fields left out unless expanded (Stripe's API reference: "This field is not included by default").
INCLUDABLE = {
    "customer": {
        "cash_balance": "",
        "invoice_credit_balance": "",
        "sources": "",
        "subscriptions": "subscription",
        "tax": "",
        "tax_ids": "tax_id",
    },
    "price": {"currency_options": "", "tiers": ""},
    "coupon": {"applies_to": "", "currency_options": ""},
}
# Payments and Connect (bulkbill moves no money), and objects it does not model: their expansions stay refused.
NOT_MODELLED = frozenset(
    {
        "account",
        "application",
        "billing_schedules",
        "checkout_session",
        "cash_balance",
        "charge",
        "credit_balance_transaction",
        "default_payment_method",
        "default_source",
        "invoice_credit_balance",
        "on_behalf_of",
        "payment_intent",
        "payment_method",
        "payment_record",
        "payments",
        "pending_setup_intent",
        "refund",
        "schedule",
        "setup_intent",
        "shipping_rate",
        "sources",
        "tax_code",
        "destination",
    }
)
# Objects the schema copy prunes: stripe-python 16.1's models are read instead.
SDK_MODELS: dict[str, type] = {
    "subscription": stripe.Subscription,
    "subscription_item": stripe.SubscriptionItem,
    "customer_balance_transaction": stripe.CustomerBalanceTransaction,
}
# SDK class name → the object type it expands to (for the two objects read from the SDK's models).
SDK_KIND = {
    "TestClock": "test_helpers.test_clock",
    "Customer": "customer",
    "Invoice": "invoice",
    "Discount": "discount",
    "Price": "price",
    "Product": "product",
    "TaxRate": "tax_rate",
    "CreditNote": "credit_note",
}


def validate(node: Any, where: str = "$") -> None:
    """Every object in a response, wherever an expansion put it, checked by its own type: Stripe's schema, or
    stripe-python's declared attributes for the objects the schema copy prunes (subscriptions and their items)."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            validate(item, f"{where}[{i}]")
        return
    if not isinstance(node, dict):
        return
    kind = node.get("object")
    if node.get("deleted") is True and kind in DELETED_SCHEMAS:
        assert_stripe_schema(node, f"deleted_{kind}")
    elif kind in SDK_SHAPES:
        missing = SDK_SHAPES[kind] - set(node)
        assert not missing, f"{where} ({kind} {node.get('id')}): missing {sorted(missing)}"
    elif kind in ("list", "search_result"):
        assert isinstance(node.get("has_more"), bool) and node["url"].startswith("/v1/"), f"{where}: bad list"
        assert all(isinstance(x, dict) and x.get("id") for x in node["data"]), f"{where}: item without id"
    elif kind == CLOCK or kind in OBJECT_SCHEMAS:
        assert_stripe_schema(node, kind)
    else:
        assert kind is None, f"{where}: no schema for object type {kind!r}"
    for key, value in node.items():
        validate(value, f"{where}.{key}")


class ExpandHTTPClient(SubscriptionsHTTPClient):
    """The validating client, with every object checked by its own type (validate above)."""

    check = staticmethod(validate)


@pytest.fixture
def sdk(bulkbill_server: BulkbillServer, bulkbill_tenant: Tenant) -> Iterator[SdkTenant]:
    """The SDK tenant whose client also checks subscriptions (against stripe-python's models)."""
    tenant = SdkTenant(bulkbill_server, bulkbill_tenant, http=ExpandHTTPClient())
    yield tenant
    tenant.close()


def _options(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in node.get("anyOf", [node]) if o != {"type": "null"}]


def _reference(node: dict[str, Any]) -> str | None:
    """The schema an `anyOf [string, object]` field expands to; None for any other field."""
    options = _options(node)
    if len(options) < 2 or not any(o.get("type") == "string" for o in options):
        return None
    for option in options:
        if "$ref" in option:
            return str(option["$ref"]).rsplit("/", 1)[1]
        if option.get("type") == "object":
            return "?"  # pruned in the copy (an object bulkbill does not serve)
    return None


def schema_paths(kind: str, depth: int = 2, prefix: str = "") -> list[str]:
    """Expandable paths of a schema: its references, through sub-objects and lists, `depth` expansions deep."""
    if kind in SDK_MODELS:
        return _walk_model(SDK_MODELS[kind], depth, prefix) if depth else []
    found: list[str] = []
    if kind not in SCHEMAS or depth == 0:
        return found
    for name, target in INCLUDABLE.get(kind, {}).items():
        found.append(prefix + name)
        if target and depth > 1:
            found += schema_paths(target, depth - 1, f"{prefix}{name}.data.")
    for name, raw in SCHEMAS[kind].get("properties", {}).items():
        if name in INCLUDABLE.get(kind, {}):
            continue  # an expansion of its own (above)
        node = _options(raw)[0] if len(_options(raw)) == 1 else raw
        path = prefix + name
        target = _reference(node) or (_reference(node.get("items", {})) if node.get("type") == "array" else None)
        if target:
            found.append(path)
            if target != "?":
                found += schema_paths(target, depth - 1, path + ".")
            continue
        inner = node.get("items", node) if node.get("type") == "array" else node
        ref = str(inner.get("$ref", "")).rsplit("/", 1)[-1]
        if ref in SCHEMAS:
            listed = SCHEMAS[ref].get("properties", {}).get("object", {}).get("enum") == ["list"]
            if listed:
                item = str(SCHEMAS[ref]["properties"]["data"]["items"].get("$ref", "")).rsplit("/", 1)[-1]
                found += schema_paths(item, depth, path + ".data.") if item else []
            elif "object" not in SCHEMAS[ref].get("properties", {}) or ref in ("discount",):
                found += schema_paths(ref, depth, path + ".")
        elif inner.get("properties", {}).get("object", {}).get("enum") == ["list"]:
            item = str(inner["properties"]["data"]["items"].get("$ref", "")).rsplit("/", 1)[-1]
            found += schema_paths(item, depth, path + ".data.") if item else []
    return found


def _walk_model(cls: type, depth: int, prefix: str) -> list[str]:
    found: list[str] = []
    for name, annotation in vars(cls).get("__annotations__", {}).items():
        if name.startswith("_") or name in ("object", "OBJECT_NAME"):
            continue
        path = prefix + name
        args = [a for a in _flat(annotation) if a is not type(None)]
        refs = [a.__forward_arg__ for a in args if isinstance(a, typing.ForwardRef)]
        if str in args and refs:
            found.append(path)
            target = SDK_KIND.get(refs[0])
            if target and depth > 1:
                found += schema_paths(target, depth - 1, path + ".")
            continue
        for arg in args:
            origin = getattr(arg, "__origin__", None)
            if (
                isinstance(arg, type)
                and issubclass(arg, stripe.StripeObject)
                and arg.__qualname__.startswith(cls.__qualname__ + ".")
            ):
                found += _walk_model(arg, depth, path + ".")
            elif origin is stripe.ListObject:
                (item,) = typing.get_args(arg)
                if isinstance(item, type) and issubclass(item, stripe.StripeObject):
                    found += _walk_model(item, depth, path + ".data.")
            elif isinstance(arg, type) and issubclass(arg, stripe.StripeObject) and arg is stripe.Price:
                found += schema_paths("price", depth, path + ".")
    return sorted(set(found))


def _flat(annotation: Any) -> list[Any]:
    """The members of a Union/Optional/List annotation, flattened."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list):
        return [x for a in typing.get_args(annotation) for x in _flat(a)]
    return [annotation]


def _refused_by_design(path: str) -> bool:
    return any(segment in NOT_MODELLED for segment in path.split("."))


def _leaves(node: Any, segments: list[str]) -> list[Any]:
    """The values a path ends on, through sub-objects, arrays and list objects."""
    if not segments:
        return [node]
    if isinstance(node, list):
        return [leaf for x in node for leaf in _leaves(x, segments)]
    if not isinstance(node, dict) or segments[0] not in node:
        return []
    return _leaves(node[segments[0]], segments[1:])


def _get(sdk: SdkTenant, url: str, expand: list[str]) -> tuple[int, dict[str, Any]]:
    query = urlencode([("expand[]", e) for e in expand])
    for attempt in range(50):
        response = sdk.raw_session.get(
            f"{sdk.server.stripe_base}{url}{'&' if '?' in url else '?'}{query}", auth=(sdk.key, ""), timeout=30
        )
        if response.status_code != 429:
            break
        # Hundreds of reads from one key can pass the server's rate limit on a fast machine: wait, as
        # stripe-python's retries would (Retry-After), instead of failing on what the limiter rightly says.
        time.sleep(float(response.headers.get("Retry-After") or 0.2) + 0.05 * attempt)
    body = response.json()
    if response.status_code >= 400:
        assert_stripe_schema(body, "error")
    else:
        validate(body, url)
    return response.status_code, body


def _world(sdk: SdkTenant) -> dict[str, tuple[str, str | None]]:
    """One of each object, as richly linked as bulkbill makes them: kind → (retrieve URL, list URL)."""
    clock = sdk.client.v1.test_helpers.test_clocks.create({"frozen_time": 1_767_225_600})
    product = sdk.client.v1.products.create(
        {"name": "Seat", "default_price_data": {"currency": "usd", "unit_amount": 1000}}
    )
    coupon = sdk.client.v1.coupons.create(
        {"percent_off": 10.0, "duration": "forever", "applies_to": {"products": [product.id]}}
    )
    customer = sdk.customer(test_clock=clock.id, tax_id_data=[{"type": "eu_vat", "value": "FR12345678901"}])
    promo = sdk.client.v1.promotion_codes.create(
        {"promotion": {"type": "coupon", "coupon": coupon.id}, "customer": customer.id}
    )
    rate = sdk.tax_rate(20.0)
    price = sdk.client.v1.prices.create(
        {"product": product.id, "currency": "usd", "unit_amount": 1000, "recurring": {"interval": "month"}}
    )
    sub = sdk.client.v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [{"price": price.id, "discounts": [{"coupon": coupon.id}]}],
            "discounts": [{"promotion_code": promo.id}],
            "default_tax_rates": [rate.id],
        }
    )
    assert isinstance(sub.latest_invoice, str)
    invoice = (
        sdk.client.v1.invoices.finalize_invoice(sub.latest_invoice)
        if sdk.client.v1.invoices.retrieve(sub.latest_invoice).status == "draft"
        else sdk.client.v1.invoices.retrieve(sub.latest_invoice)
    )
    item = sdk.pending_item(customer.id, 300, discounts=[{"coupon": coupon.id}])
    note = sdk.client.v1.credit_notes.create({"invoice": invoice.id, "amount": 100})
    tax_id = sdk.client.v1.customers.tax_ids.list(customer.id).data[0]
    txn = sdk.client.v1.customers.balance_transactions.create(customer.id, {"amount": -50, "currency": "usd"})
    return {
        "customer": (f"/v1/customers/{customer.id}", "/v1/customers"),
        "tax_id": (f"/v1/customers/{customer.id}/tax_ids/{tax_id.id}", f"/v1/customers/{customer.id}/tax_ids"),
        "subscription": (f"/v1/subscriptions/{sub.id}", "/v1/subscriptions"),
        "subscription_item": (
            f"/v1/subscription_items/{sub['items'].data[0].id}",
            f"/v1/subscription_items?subscription={sub.id}",
        ),
        "invoice": (f"/v1/invoices/{invoice.id}", "/v1/invoices"),
        "line_item": (f"/v1/invoices/{invoice.id}/lines", None),
        "invoiceitem": (f"/v1/invoiceitems/{item.id}", "/v1/invoiceitems"),
        "price": (f"/v1/prices/{price.id}", "/v1/prices"),
        "product": (f"/v1/products/{product.id}", "/v1/products"),
        "coupon": (f"/v1/coupons/{coupon.id}", "/v1/coupons"),
        "promotion_code": (f"/v1/promotion_codes/{promo.id}", "/v1/promotion_codes"),
        "credit_note": (f"/v1/credit_notes/{note.id}", "/v1/credit_notes"),
        "customer_balance_transaction": (
            f"/v1/customers/{customer.id}/balance_transactions/{txn.id}",
            f"/v1/customers/{customer.id}/balance_transactions",
        ),
        "tax_rate": (f"/v1/tax_rates/{rate.id}", "/v1/tax_rates"),
        "test_helpers.test_clock": (f"/v1/test_helpers/test_clocks/{clock.id}", "/v1/test_helpers/test_clocks"),
    }


def test_every_expandable_field_of_every_object_served_expands(sdk: SdkTenant) -> None:
    world = _world(sdk)
    checked: dict[str, int] = {}
    refused: list[str] = []
    expanded_leaves = 0
    for kind, (url, list_url) in world.items():
        status, plain = _get(sdk, url, [])
        assert status == 200
        sample = plain["data"][0] if plain.get("object") == "list" else plain
        prefix = "data." if plain.get("object") == "list" else ""
        paths = sorted({p for p in schema_paths(kind) if not _refused_by_design(p)})
        # Fields of other API versions than the one served (absent from what bulkbill renders) are not checked.
        paths = [p for p in paths if p.split(".")[0] in sample or p.split(".")[0] in INCLUDABLE.get(kind, {})]
        for path in paths:
            status, body = _get(sdk, url, [prefix + path])
            if status != 200:
                refused.append(f"{kind}: {path}")
                continue
            target = body["data"][0] if prefix else body
            leaves = _leaves(target, path.split("."))
            flat = [x for leaf in leaves for x in (leaf if isinstance(leaf, list) else [leaf])]
            # An expanded path holds objects (or null where there is nothing to point to): never an id left.
            assert not any(isinstance(x, str) for x in flat), (kind, path, flat)
            expanded_leaves += sum(isinstance(x, dict) for x in flat)
        if list_url is not None:
            top = sorted({p for p in paths if "." not in p})
            if top:
                status, body = _get(sdk, list_url, [f"data.{p}" for p in top])
                assert status == 200, (kind, top, body)
        checked[kind] = len(paths)
    print(
        f"expand[] audit: {sum(checked.values())} paths over {len(checked)} object types, "
        f"{expanded_leaves} objects expanded: {checked}"
    )
    assert checked["invoice"] > 30 and checked["customer"] >= 8 and expanded_leaves > 100


def test_the_expansions_the_issue_names(sdk: SdkTenant) -> None:
    customer = sdk.customer(tax_id_data=[{"type": "eu_vat", "value": "FR12345678901"}])
    price = sdk.price(900, recurring={"interval": "month"})
    first = sdk.client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    second = sdk.client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    shown = sdk.client.v1.customers.retrieve(customer.id, {"expand": ["subscriptions", "tax_ids.data.customer"]})
    assert shown.subscriptions is not None and shown.subscriptions.url == f"/v1/customers/{customer.id}/subscriptions"
    assert {s.id for s in shown.subscriptions.data} == {first.id, second.id}
    assert shown.subscriptions.has_more is False
    assert shown.tax_ids is not None and shown.tax_ids.data[0].customer.id == customer.id  # type: ignore[union-attr]
    sdk.client.v1.subscriptions.cancel(second.id)
    again = sdk.client.v1.customers.retrieve(customer.id, {"expand": ["subscriptions"]})
    assert again.subscriptions is not None and [s.id for s in again.subscriptions.data] == [first.id]
    made = sdk.client.v1.customers.tax_ids.create(
        customer.id, {"type": "eu_vat", "value": "DE123456789", "expand": ["customer"]}
    )
    assert isinstance(made.customer, stripe.Customer) and made.customer.id == customer.id
    rate = sdk.tax_rate(10.0)
    invoice = sdk.invoice(customer.id)
    sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 1000, "tax_rates": [rate.id]}]})
    taxed = sdk.client.v1.invoices.retrieve(invoice.id, {"expand": ["lines.data.taxes.tax_rate_details.tax_rate"]})
    details = taxed.lines.data[0].taxes[0].tax_rate_details  # type: ignore[index]
    assert details is not None and details["tax_rate"]["id"] == rate.id
    assert details["tax_rate"]["object"] == "tax_rate"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/v1/subscriptions/{sub}", "items"),  # Stripe refuses it: items are always there
        ("/v1/invoices/{invoice}", "lines"),
        ("/v1/customers/{customer}", "default_source"),  # payments
        ("/v1/customers/{customer}", "invoice_settings.default_payment_method"),
        ("/v1/customers/{customer}", "address"),
        ("/v1/customers/{customer}", "tax_ids.data.customer.tax_ids.data.customer"),  # too deep
        ("/v1/invoices/{invoice}", "nothing"),
    ],
)
def test_what_is_not_expandable_stays_refused(sdk: SdkTenant, url: str, path: str) -> None:
    customer = sdk.customer()
    price = sdk.price(900, recurring={"interval": "month"})
    sub = sdk.client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    status, body = _get(sdk, url.format(sub=sub.id, invoice=sub.latest_invoice, customer=customer.id), [path])
    assert status == 400 and body["error"]["param"] == "expand"
    assert body["error"]["message"] == f"This property cannot be expanded ({path})."


def test_a_preview_expands_what_it_made_before_rolling_it_back(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    price = sdk.price(900, recurring={"interval": "month"})
    preview = sdk.client.v1.invoices.create_preview(
        {
            "customer": customer.id,
            "subscription_details": {"items": [{"price": price.id}]},
            "expand": ["customer", "lines.data.subscription.latest_invoice", "lines.data.pricing.price_details.price"],
        }
    )
    assert isinstance(preview.customer, stripe.Customer) and preview.customer.id == customer.id
    line = preview.lines.data[0]
    assert line.pricing is not None and line.pricing.price_details is not None
    assert isinstance(line.pricing.price_details.price, stripe.Price)
    subscription = line.subscription
    assert isinstance(subscription, stripe.Subscription)
    # The new subscription and its first invoice exist only in the preview's savepoint: expanded in it.
    assert isinstance(subscription.latest_invoice, stripe.Invoice)
    assert sdk.client.v1.subscriptions.list({"customer": customer.id}).data == []
