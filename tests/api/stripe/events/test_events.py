"""Events: written with the change they tell, rendered as the API renders the object, listed and filtered."""

from __future__ import annotations

from typing import Any

from tests.helpers import StripeClient
from tests.helpers.stripe import coupon, price, setup_invoice, tax_rate


def events(stripe: StripeClient, **params: Any) -> list[dict[str, Any]]:
    return list(stripe.ok("GET", "/v1/events", {"limit": 100, **params})["data"])


def types_of(stripe: StripeClient, **params: Any) -> list[str]:
    return [e["type"] for e in reversed(events(stripe, **params))]  # oldest first


def test_customer_lifecycle_emits_created_updated_deleted_with_the_rendered_object(stripe: StripeClient) -> None:
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada", "metadata": {"tier": "gold", "x": "1"}})
    updated = stripe.ok("POST", f"/v1/customers/{customer['id']}", {"name": "Ada L", "metadata": {"x": ""}})
    stripe.ok("DELETE", f"/v1/customers/{customer['id']}")
    created_evt, updated_evt, deleted_evt = reversed(events(stripe))
    assert [created_evt["type"], updated_evt["type"], deleted_evt["type"]] == [
        "customer.created",
        "customer.updated",
        "customer.deleted",
    ]
    assert created_evt["data"]["object"] == customer
    assert updated_evt["data"]["object"] == updated
    assert updated_evt["data"]["previous_attributes"] == {"name": "Ada", "metadata": {"x": "1"}}
    assert deleted_evt["data"]["object"]["id"] == customer["id"]
    assert deleted_evt["data"]["object"]["name"] == "Ada L"
    assert created_evt["object"] == "event" and created_evt["id"].startswith("evt_")
    assert created_evt["livemode"] is False and created_evt["api_version"]
    assert created_evt["pending_webhooks"] == 0
    assert stripe.ok("GET", f"/v1/events/{created_evt['id']}") == created_evt


def test_an_update_that_changes_nothing_shown_emits_nothing(stripe: StripeClient) -> None:
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})
    stripe.ok("POST", f"/v1/customers/{customer['id']}", {"name": "Ada"})
    assert types_of(stripe) == ["customer.created"]


def test_a_refused_call_emits_nothing(stripe: StripeClient) -> None:
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})
    stripe.error("POST", f"/v1/customers/{customer['id']}", {"metadata": {"k" * 41: "v"}})
    stripe.error("POST", "/v1/invoices", {"customer": customer["id"], "currency": "nope"})
    assert types_of(stripe) == ["customer.created"]


def test_catalog_objects_emit_their_events(stripe: StripeClient) -> None:
    price_id = price(stripe)
    stripe.ok("POST", f"/v1/prices/{price_id}", {"nickname": "std"})
    coupon_id = coupon(stripe, percent_off=10, duration="once")
    stripe.ok("POST", f"/v1/coupons/{coupon_id}", {"name": "Ten"})
    stripe.ok("DELETE", f"/v1/coupons/{coupon_id}")
    rate = tax_rate(stripe)
    stripe.ok("POST", f"/v1/tax_rates/{rate}", {"description": "vat"})
    product = stripe.ok("POST", "/v1/products", {"name": "Gadget"})
    stripe.ok("POST", f"/v1/products/{product['id']}", {"name": "Gizmo"})
    stripe.ok("DELETE", f"/v1/products/{product['id']}")
    assert types_of(stripe) == [
        "product.created",
        "price.created",
        "price.updated",
        "coupon.created",
        "coupon.updated",
        "coupon.deleted",
        "tax_rate.created",
        "tax_rate.updated",
        "product.created",
        "product.updated",
        "product.deleted",
    ]
    price_updated = events(stripe, type="price.updated")[0]
    assert price_updated["data"]["previous_attributes"] == {"nickname": None}
    assert price_updated["data"]["object"] == stripe.ok("GET", f"/v1/prices/{price_id}")


def test_invoice_lifecycle_and_bulk_lines(stripe: StripeClient) -> None:
    invoice = setup_invoice(stripe)
    added = stripe.ok(
        "POST",
        f"/v1/invoices/{invoice['id']}/add_lines",
        {"lines": [{"amount": 100, "description": f"l{i}"} for i in range(3)]},
    )
    before = types_of(stripe)
    assert before == ["customer.created", "invoice.created", "invoice.updated", *["invoiceitem.created"] * 3]
    line_ids = [line["id"] for line in added["lines"]["data"]]
    removed = stripe.ok(
        "POST", f"/v1/invoices/{invoice['id']}/remove_lines", {"lines": [{"id": line_ids[0], "behavior": "delete"}]}
    )
    assert types_of(stripe)[len(before) :] == ["invoice.updated", "invoiceitem.deleted"]
    upd = events(stripe, type="invoice.updated")[0]
    assert upd["data"]["object"] == removed == stripe.ok("GET", f"/v1/invoices/{invoice['id']}")
    assert upd["data"]["previous_attributes"]["total"] == 300
    assert "lines" not in upd["data"]["previous_attributes"]  # the item events tell the lines
    # An expanded response is not what the event shows: the event renders the object itself.
    expanded = stripe.ok(
        "POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 5}], "expand": ["customer"]}
    )
    assert isinstance(expanded["customer"], dict)
    assert events(stripe, type="invoice.updated")[0]["data"]["object"] == {**expanded, "customer": invoice["customer"]}
    stripe.ok(
        "POST",
        f"/v1/invoices/{invoice['id']}/remove_lines",
        {"lines": [{"id": expanded["lines"]["data"][-1]["id"], "behavior": "delete"}]},
    )
    finalized = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/finalize")
    assert events(stripe, type="invoice.finalized")[0]["data"]["object"] == finalized
    stripe.ok("POST", f"/v1/invoices/{invoice['id']}/pay", {"paid_out_of_band": "true"})
    assert events(stripe, type="invoice.paid")[0]["data"]["object"]["status"] == "paid"
    other = setup_invoice(stripe)
    stripe.ok("POST", f"/v1/invoices/{other['id']}/add_lines", {"lines": [{"amount": 100}]})
    stripe.ok("POST", f"/v1/invoices/{other['id']}/finalize")
    stripe.ok("POST", f"/v1/invoices/{other['id']}/void")
    assert events(stripe, type="invoice.voided")[0]["data"]["object"]["status"] == "void"
    draft = setup_invoice(stripe)
    stripe.ok("DELETE", f"/v1/invoices/{draft['id']}")
    assert events(stripe, type="invoice.deleted")[0]["data"]["object"]["id"] == draft["id"]


def test_list_filters_and_paging(stripe: StripeClient) -> None:
    for name in ("a", "b", "c"):
        stripe.ok("POST", "/v1/customers", {"name": name})
    stripe.ok("POST", "/v1/products", {"name": "p"})
    assert len(events(stripe, type="customer.created")) == 3
    assert len(events(stripe, type="customer.*")) == 3
    assert len(events(stripe, types=["customer.created", "product.created"])) == 4
    first = stripe.ok("GET", "/v1/events", {"limit": 2})
    assert first["has_more"] is True and len(first["data"]) == 2
    rest = stripe.ok("GET", "/v1/events", {"limit": 10, "starting_after": first["data"][-1]["id"]})
    assert [e["id"] for e in first["data"] + rest["data"]] == [e["id"] for e in events(stripe)]
    created = events(stripe)[0]["created"]
    assert len(events(stripe, created={"gt": created})) == 0
    assert len(events(stripe, created={"gte": created - 3600})) == 4
    assert len(events(stripe, delivery_success="true")) == 4


def test_events_of_another_tenant_are_invisible(stripe: StripeClient, other_stripe: StripeClient) -> None:
    stripe.ok("POST", "/v1/customers", {"name": "mine"})
    mine = events(stripe)[0]
    assert events(other_stripe) == []
    other_stripe.error("GET", f"/v1/events/{mine['id']}", status=404)


def test_subscriptions_and_test_clocks_emit_their_events(stripe: StripeClient) -> None:
    from tests.helpers.stripe import FEB1, T0

    clock = stripe.ok("POST", "/v1/test_helpers/test_clocks", {"frozen_time": T0})
    customer = stripe.ok("POST", "/v1/customers", {"name": "Sub", "test_clock": clock["id"]})
    recurring = price(stripe, recurring={"interval": "month"})
    sub = stripe.ok("POST", "/v1/subscriptions", {"customer": customer["id"], "items": [{"price": recurring}]})
    stripe.ok("POST", f"/v1/test_helpers/test_clocks/{clock['id']}/advance", {"frozen_time": FEB1 + 7200})
    renewed = events(stripe, type="customer.subscription.updated")[0]
    assert renewed["data"]["object"]["id"] == sub["id"]
    assert renewed["data"]["previous_attributes"]["latest_invoice"] == sub["latest_invoice"]
    stripe.ok("DELETE", f"/v1/subscriptions/{sub['id']}")
    deleted = events(stripe, type="customer.subscription.deleted")[0]
    assert deleted["data"]["object"]["status"] == "canceled"
    stripe.ok("DELETE", f"/v1/test_helpers/test_clocks/{clock['id']}")
    kinds = types_of(stripe)
    assert kinds[0] == "test_helpers.test_clock.created" and kinds[-1] == "test_helpers.test_clock.deleted"
    assert "customer.subscription.created" in kinds and "test_helpers.test_clock.ready" in kinds
    assert kinds.count("invoice.created") == 2


def test_item_events_of_a_bulk_call_show_each_item_as_get_does(stripe: StripeClient) -> None:
    # The new items' events render from the values the call wrote (not a re-read): every field, the
    # line's discounts (net_amount) and tax rates included, must still be what GET shows.
    invoice_coupon = coupon(stripe, percent_off=10, duration="once")
    line_coupon = coupon(stripe, amount_off=50, currency="usd", duration="once")
    invoice = setup_invoice(stripe, discounts=[{"coupon": invoice_coupon}])
    rate = tax_rate(stripe, percentage="7.5")
    lines = [
        {"pricing": {"price": price(stripe, unit_amount=1234)}, "quantity": 3, "metadata": {"k": "v"}},
        {"amount": 999, "description": "fee", "discounts": [{"coupon": line_coupon}], "tax_rates": [rate]},
        {"amount": 500, "discountable": False, "period": {"start": 1700000000, "end": 1700086400}},
        {"price_data": {"currency": "usd", "product_data": {"name": "Inline"}, "unit_amount_decimal": "12.345"}},
    ]
    stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": lines})
    created = events(stripe, type="invoiceitem.created")
    assert len(created) == len(lines)
    for event in created:
        shown = event["data"]["object"]
        assert shown == stripe.ok("GET", f"/v1/invoiceitems/{shown['id']}")
    assert {e["data"]["object"]["net_amount"] for e in created} != {e["data"]["object"]["amount"] for e in created}
    # Removed, each deleted item's event shows it as it was (read with the lines the call removes).
    shown_before = {e["data"]["object"]["id"]: e["data"]["object"] for e in created}
    line_ids = [line["id"] for line in stripe.ok("GET", f"/v1/invoices/{invoice['id']}/lines")["data"]]
    removes = [{"id": line_id, "behavior": "delete"} for line_id in line_ids]
    stripe.ok("POST", f"/v1/invoices/{invoice['id']}/remove_lines", {"lines": removes})
    deleted = events(stripe, type="invoiceitem.deleted")
    assert {e["data"]["object"]["id"]: e["data"]["object"] for e in deleted} == shown_before
