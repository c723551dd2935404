"""POST /v1/invoices/create_preview through stripe-python: the upcoming invoice of a customer or a
subscription, and its lines, with nothing written (every row count and object unchanged)."""

from __future__ import annotations

import pytest
import stripe
from sqlalchemy import create_engine, func, select

from bulkbill.storage.tables import Discount, Invoice, InvoiceItem
from tests.helpers.sdk import SdkTenant

pytestmark = pytest.mark.sdk


def _counts(sdk: SdkTenant) -> dict[str, int]:
    """Rows of the tenant in every table a preview makes rows in."""
    engine = create_engine(sdk.server.database_url)
    try:
        with engine.connect() as connection:
            return {
                table.__tablename__: connection.scalar(
                    select(func.count()).select_from(table).where(table.tenant_id == sdk.tenant.id)
                )
                or 0
                for table in (Invoice, InvoiceItem, Discount)
            }
    finally:
        engine.dispose()


def _events(sdk: SdkTenant) -> list[str]:
    response = sdk.raw_session.get(sdk.server.stripe_base + "/v1/events?limit=100", auth=(sdk.key, ""))
    return [event["id"] for event in response.json()["data"]]


def test_a_customers_upcoming_invoice_holds_its_pending_items_and_writes_nothing(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    pending = sdk.pending_item(customer.id, 700)
    sdk.pending_item(customer.id, 300)
    coupon = sdk.client.v1.coupons.create({"amount_off": 100, "currency": "usd", "duration": "once"})
    before = _counts(sdk)
    events = _events(sdk)
    preview = sdk.client.v1.invoices.create_preview(
        {
            "customer": customer.id,
            "invoice_items": [
                {"amount": 250, "currency": "usd", "description": "Extra"},
                {"invoiceitem": pending.id, "amount": 800},
            ],
            "discounts": [{"coupon": coupon.id}],
        }
    )
    assert preview.id == f"upcoming_{customer.id}" and preview.status == "draft" and preview.number is None
    assert sorted(line.amount for line in preview.lines.data) == [250, 300, 800]
    assert preview.subtotal == 1350 and preview.total == 1250
    assert all(line.id.startswith("il_tmp_") and line.invoice == preview.id for line in preview.lines.data)
    assert _counts(sdk) == before
    assert _events(sdk) == events
    assert sdk.client.v1.invoice_items.retrieve(pending.id).amount == 700
    assert sdk.client.v1.invoices.list({"customer": customer.id}).data == []
    # Its lines, paged by their temporary ids (the preview without the call's own items).
    first = sdk.client.v1.invoices.line_items.list(preview.id, {"limit": 1})
    assert (len(first.data), first.has_more) == (1, True)
    rest = sdk.client.v1.invoices.line_items.list(preview.id, {"starting_after": first.data[0].id})
    assert [line.amount for line in [*first.data, *rest.data]] == [300, 700] and rest.has_more is False
    assert _counts(sdk) == before


def test_a_subscriptions_upcoming_invoice_is_its_next_renewal(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    price = sdk.price(1200, recurring={"interval": "month"})
    body = {"customer": customer.id, "items[0][price]": price.id, "items[0][quantity]": "2"}
    response = sdk.raw_session.post(sdk.server.stripe_base + "/v1/subscriptions", data=body, auth=(sdk.key, ""))
    sub = response.json()
    sdk.pending_item(customer.id, 500)
    before = _counts(sdk)
    for params in ({"subscription": sub["id"]}, {"customer": customer.id}):
        preview = sdk.client.v1.invoices.create_preview(params)  # type: ignore[arg-type]
        assert preview.id == f"upcoming_{sub['id']}" and preview.billing_reason == "upcoming"
        assert sorted(line.amount for line in preview.lines.data) == [500, 2400]
        assert preview.period_start == sub["items"]["data"][0]["current_period_start"]
        renewal = next(line for line in preview.lines.data if line.amount == 2400)
        assert renewal.period.start == sub["items"]["data"][0]["current_period_end"]
        _totals_are_the_lines(preview)
    assert _counts(sdk) == before
    lines = sdk.client.v1.invoices.line_items.list(f"upcoming_{sub['id']}")
    assert sorted(line.amount for line in lines.data) == [500, 2400]
    assert _counts(sdk) == before


def _totals_are_the_lines(preview: stripe.Invoice) -> None:
    assert preview.subtotal == sum(line.amount for line in preview.lines.data) == preview.total


def test_preview_refusals(sdk: SdkTenant) -> None:
    for params, param in (
        ({}, "customer"),
        ({"subscription": "sub_missing"}, "subscription"),
        ({"customer": sdk.customer().id, "invoice_items": [{"amount": -1, "currency": "usd", "quantity": 2}]}, None),
    ):
        with pytest.raises(stripe.InvalidRequestError) as error:
            sdk.client.v1.invoices.create_preview(params)  # type: ignore[arg-type]
        assert error.value.http_status == 400
        if param is not None:
            assert error.value.param == param
        else:
            assert str(error.value.param).startswith("invoice_items[0]")
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.client.v1.invoices.line_items.list("upcoming_cus_missing")
    assert error.value.http_status == 404


def test_a_customer_with_nothing_upcoming_is_refused_as_stripe_does(sdk: SdkTenant) -> None:
    """No live subscription and no pending item: 404 invoice_upcoming_none, as Stripe answers."""
    customer = sdk.customer()
    before = _counts(sdk)
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.client.v1.invoices.create_preview({"customer": customer.id})
    assert (error.value.http_status, error.value.code) == (404, "invoice_upcoming_none")
    assert error.value.user_message == f"No upcoming invoices for customer: {customer.id}"
    assert _counts(sdk) == before
    # Items given with the call are something to preview; so is an item left pending.
    given = sdk.client.v1.invoices.create_preview(
        {"customer": customer.id, "invoice_items": [{"amount": 250, "currency": "usd"}]}
    )
    assert [line.amount for line in given.lines.data] == [250]
    sdk.pending_item(customer.id, 400)
    assert [line.amount for line in sdk.client.v1.invoices.create_preview({"customer": customer.id}).lines.data] == [
        400
    ]
