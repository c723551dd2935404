"""Prorations of subscription changes and previews of changes, through stripe-python 16.1.0 on test clocks.

Every figure below is worked out by hand from Stripe's classic rule (core.subscriptions.prorations): a change
at `t` in the period [start, end) credits the old state's full-period amount × (end - t) / (end - start) and
charges the new state's the same way, each rounded once, half away from zero. Every response is validated
against Stripe's schemas (invoices, lines, invoice items) and stripe-python's attributes (subscriptions).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import stripe
from sqlalchemy import create_engine, func, select

from bulkbill.storage.tables import Customer, CustomerTaxId, Discount, Invoice, InvoiceItem
from bulkbill.storage.tables_subscriptions import Subscription, SubscriptionItem
from tests.helpers.sdk import SdkTenant
from tests.sdk.stripe.test_subscriptions import billing, monthly

__all__ = ["billing"]

pytestmark = pytest.mark.sdk


def at(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp())


class Story:
    """A clock, a customer on it, and a subscription to one monthly price."""

    def __init__(self, sdk: SdkTenant, start: int, amount: int, quantity: int = 1, **sub: Any) -> None:
        self.sdk, self.client = sdk, sdk.client
        self.clock = self.client.v1.test_helpers.test_clocks.create({"frozen_time": start})
        self.customer = self.client.v1.customers.create({"name": "Ada", "test_clock": self.clock.id})
        self.price = monthly(sdk, amount, "Seat")
        self.sub = self.client.v1.subscriptions.create(
            {"customer": self.customer.id, "items": [{"price": self.price.id, "quantity": quantity}], **sub}
        )
        self.item = self.sub["items"].data[0].id

    def advance(self, to: int) -> None:
        self.client.v1.test_helpers.test_clocks.advance(self.clock.id, {"frozen_time": to})

    def update(self, **params: Any) -> stripe.Subscription:
        return self.client.v1.subscriptions.update(self.sub.id, params)  # type: ignore[arg-type]

    def pending(self) -> list[stripe.InvoiceItem]:
        items = self.client.v1.invoice_items.list({"customer": self.customer.id, "pending": True}).data
        return sorted(items, key=lambda i: i.amount)

    def latest(self) -> stripe.Invoice:
        latest = self.client.v1.subscriptions.retrieve(self.sub.id).latest_invoice
        assert isinstance(latest, str)
        return self.client.v1.invoices.retrieve(latest)

    def preview(self, **params: Any) -> stripe.Invoice:
        return self.client.v1.invoices.create_preview({"subscription": self.sub.id, **params})  # type: ignore[arg-type]


def _amounts(invoice: stripe.Invoice) -> list[int]:
    return sorted(line.amount for line in invoice.lines.data)


def _prorations(invoice: stripe.Invoice) -> list[stripe.InvoiceLineItem]:
    lines = [
        line
        for line in invoice.lines.data
        if line.parent is not None
        and line.parent.subscription_item_details is not None
        and line.parent.subscription_item_details.proration
    ]
    return sorted(lines, key=lambda line: line.amount)


def _events(sdk: SdkTenant, kind: str) -> list[dict[str, Any]]:
    """The objects the events of that type (any type: "") carry; raw, the validating client knows no event schema."""
    url = f"{sdk.server.stripe_base}/v1/events?limit=100" + (f"&type={kind}" if kind else "")
    response = sdk.raw_session.get(url, auth=(sdk.key, ""))
    return [event["data"]["object"] for event in response.json()["data"]]


def _rows(sdk: SdkTenant) -> dict[str, Any]:
    """Every row of the tenant a preview could write, as it is."""
    engine = create_engine(sdk.server.database_url)
    try:
        with engine.connect() as connection:
            counts: dict[str, Any] = {
                table.__tablename__: connection.scalar(
                    select(func.count()).select_from(table).where(table.tenant_id == sdk.tenant.id)
                )
                for table in (Invoice, InvoiceItem, Discount, Subscription, SubscriptionItem, Customer, CustomerTaxId)
            }
            counts["subscriptions"] = sorted(
                tuple(row)
                for row in connection.execute(
                    select(Subscription.id, Subscription.status, Subscription.latest_invoice_id).where(
                        Subscription.tenant_id == sdk.tenant.id
                    )
                )
            )
            counts["customers"] = sorted(
                tuple(str(v) for v in row)
                for row in connection.execute(
                    select(Customer.id, Customer.tax_exempt, Customer.details).where(
                        Customer.tenant_id == sdk.tenant.id
                    )
                )
            )
            return counts
    finally:
        engine.dispose()


# --- prorations on update --------------------------------------------------------------------


def test_an_upgrade_credits_the_unused_time_and_charges_the_rest_on_the_next_invoice(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 1, 1), 1000)
    first = story.latest()
    premium = monthly(billing, 2000, "Premium")
    story.advance(at(2025, 1, 16))
    # Stripe's default on update is create_prorations: 16 of January's 31 days are left.
    story.update(items=[{"id": story.item, "price": premium.id}])
    credit, charge = story.pending()
    # 1000 × 16/31 = 516.13 → -516; 2000 × 16/31 = 1032.26 → 1032
    assert (credit.amount, charge.amount) == (-516, 1032)
    assert credit.description == "Unused time on 1 × Seat after 16 Jan 2025"
    assert charge.description == "Remaining time on 1 × Premium after 16 Jan 2025"
    for item in (credit, charge):
        assert item.proration is True and item.invoice is None
        assert (item.period.start, item.period.end) == (at(2025, 1, 16), at(2025, 2, 1))
        assert item.parent is not None and item.parent.subscription_details is not None
        assert (item.parent.subscription_details.subscription, item.parent.subscription_details.subscription_item) == (
            story.sub.id,
            story.item,
        )
    assert credit.pricing is not None and credit.pricing.price_details is not None
    assert (credit.pricing.price_details.price, charge.pricing.price_details.price) == (  # type: ignore[union-attr]
        story.price.id,
        premium.id,
    )
    # The credit names the line that billed January.
    credited = credit.proration_details.credited_items  # type: ignore[union-attr]
    assert credited is not None and credited.invoice_line_item_details is not None
    assert credited.invoice_line_item_details.invoice == first.id
    assert credited.invoice_line_item_details.invoice_line_items == [first.lines.data[0].id]
    assert story.latest().id == first.id  # nothing invoiced now
    told = _events(billing, "invoiceitem.created")
    assert {o["id"]: o["proration"] for o in told} == {credit.id: True, charge.id: True}
    # February's renewal takes both and bills the new price.
    story.advance(at(2025, 2, 1))
    renewal = story.latest()
    assert renewal.billing_reason == "subscription_cycle"
    assert _amounts(renewal) == [-516, 1032, 2000] and renewal.total == 2516
    assert [line.amount for line in _prorations(renewal)] == [-516, 1032]
    assert story.pending() == []


def test_always_invoice_bills_a_quantity_change_at_once_and_halves_round_away_from_zero(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 4, 1), 1001)
    story.advance(at(2025, 4, 20))
    # proration_date: April 16, half of April's 30 days left.
    sub = story.update(
        items=[{"id": story.item, "quantity": 3}],
        proration_behavior="always_invoice",
        proration_date=at(2025, 4, 16),
    )
    now = story.client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert now.billing_reason == "subscription_update" and now.status != "draft"
    # 1001 × 1/2 = 500.5 → -501; 3003 × 1/2 = 1501.5 → 1502 (half away from zero, once per line)
    assert _amounts(now) == [-501, 1502] and now.total == 1001
    assert [line.description for line in _prorations(now)] == [
        "Unused time on 1 × Seat after 16 Apr 2025",
        "Remaining time on 3 × Seat after 16 Apr 2025",
    ]
    assert all(line.period.start == at(2025, 4, 16) for line in now.lines.data)
    assert story.pending() == []
    story.advance(at(2025, 5, 1))
    assert _amounts(story.latest()) == [3003]


def test_proration_behavior_none_changes_from_the_next_period_and_bad_dates_are_refused(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 1, 1), 1000)
    story.advance(at(2025, 1, 10))
    for params, param in (
        ({"proration_date": at(2025, 2, 2)}, "proration_date"),
        ({"proration_date": at(2024, 12, 31)}, "proration_date"),
        ({"proration_behavior": "later"}, "proration_behavior"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as error:
            story.update(items=[{"id": story.item, "quantity": 2}], **params)
        assert (error.value.http_status, error.value.param) == (400, param)
    assert story.pending() == [] and story.client.v1.subscriptions.retrieve(story.sub.id)["items"].data[0].quantity == 1
    story.update(items=[{"id": story.item, "quantity": 2}], proration_behavior="none")
    assert story.pending() == []
    # A change that leaves price and quantity as they are prorates nothing.
    story.update(items=[{"id": story.item, "quantity": 2}])
    story.update(metadata={"plan": "team"})
    assert story.pending() == []


def test_a_deleted_item_is_credited_and_a_new_one_charged(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 1, 1), 1500, quantity=2)
    support = monthly(billing, 310, "Support")
    story.advance(at(2025, 1, 21))  # 11 of 31 days left
    story.update(items=[{"id": story.item, "deleted": True}, {"price": support.id, "quantity": 3}])
    # 3000 × 11/31 = 1064.52 → -1065; 930 × 11/31 = 330 exactly
    assert [(i.amount, i.description) for i in story.pending()] == [
        (-1065, "Unused time on 2 × Seat after 21 Jan 2025"),
        (330, "Remaining time on 3 × Support after 21 Jan 2025"),
    ]


# --- prorations on cancel --------------------------------------------------------------------


def test_cancel_with_prorate_leaves_the_credit_pending_and_a_plain_cancel_drops_pending_prorations(
    billing: SdkTenant,
) -> None:
    story = Story(billing, at(2025, 1, 1), 3100)
    story.advance(at(2025, 1, 11))  # 21 of 31 days left
    canceled = story.client.v1.subscriptions.cancel(story.sub.id, {"prorate": True})
    assert canceled.status == "canceled" and canceled.latest_invoice == story.sub.latest_invoice
    # 3100 × 21/31 = 2100
    [credit] = story.pending()
    assert (credit.amount, credit.proration, credit.description) == (
        -2100,
        True,
        "Unused time on 1 × Seat after 11 Jan 2025",
    )
    other = Story(billing, at(2025, 1, 1), 1000)
    other.advance(at(2025, 1, 11))
    other.update(items=[{"id": other.item, "quantity": 2}])
    assert len(other.pending()) == 2
    dropped = {i.id for i in other.pending()}
    other.client.v1.subscriptions.cancel(other.sub.id)
    assert other.pending() == []
    assert {o["id"] for o in _events(billing, "invoiceitem.deleted")} == dropped


# --- previews of changes ---------------------------------------------------------------------


def test_a_preview_of_an_update_shows_the_prorations_the_update_then_makes_and_writes_nothing(
    billing: SdkTenant,
) -> None:
    story = Story(billing, at(2025, 1, 1), 1000, quantity=2)
    premium = monthly(billing, 2500, "Premium")
    story.advance(at(2025, 1, 11, 12))
    change = {"items": [{"id": story.item, "price": premium.id}], "proration_date": at(2025, 1, 11, 12)}
    before, told = _rows(billing), _events(billing, "")
    preview = story.preview(subscription_details=change)
    # 20.5 of 31 days left: 2000 × 20.5/31 = 1322.58 → -1323; 5000 × 20.5/31 = 3306.45 → 3306
    assert _amounts(preview) == [-1323, 3306, 5000] and preview.total == 6983
    assert preview.id == f"upcoming_{story.sub.id}" and preview.billing_reason == "upcoming"
    assert [line.amount for line in _prorations(preview)] == [-1323, 3306]
    assert all(line.id.startswith("il_tmp_") for line in preview.lines.data)
    assert _rows(billing) == before
    assert story.client.v1.subscriptions.retrieve(story.sub.id)["items"].data[0].price.id == story.price.id
    # always_invoice previews the invoice the change makes at once.
    now = story.preview(subscription_details={**change, "proration_behavior": "always_invoice"})
    assert _amounts(now) == [-1323, 3306] and now.total == 1983
    assert _rows(billing) == before and _events(billing, "") == told
    # The update itself, with the same proration date, bills what the preview showed.
    story.update(**change)
    story.advance(at(2025, 2, 1))
    assert _amounts(story.latest()) == [-1323, 3306, 5000]


def test_a_preview_of_cancel_now_shows_the_final_credit(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 1, 1), 3100)
    story.advance(at(2025, 1, 21))
    before = _rows(billing)
    final = story.preview(subscription_details={"cancel_now": True})
    assert _amounts(final) == [-1100]  # 3100 × 11/31
    assert _amounts(story.preview(subscription_details={"cancel_now": True, "proration_behavior": "none"})) == []
    assert _rows(billing) == before
    assert story.client.v1.subscriptions.retrieve(story.sub.id).status == "active"


def test_a_preview_of_a_new_subscription_is_its_first_invoice(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 1, 1), 1000)
    extra = monthly(billing, 700, "Extra")
    before = _rows(billing)
    preview = story.client.v1.invoices.create_preview(
        {"customer": story.customer.id, "subscription_details": {"items": [{"price": extra.id, "quantity": 2}]}}
    )
    assert _amounts(preview) == [1400] and preview.status == "draft"
    assert _rows(billing) == before
    # A customer not yet made: customer_details describe it.
    rate = billing.tax_rate(10.0)
    nobody = story.client.v1.invoices.create_preview(
        {
            "customer_details": {"address": {"country": "DE", "city": "Berlin"}},
            "subscription_details": {"items": [{"price": extra.id, "tax_rates": [rate.id]}]},
        }
    )
    assert (nobody.subtotal, nobody.total) == (700, 770)
    assert nobody.customer_address is not None and nobody.customer_address.city == "Berlin"
    assert _rows(billing) == before  # (tax rates are not among the rows compared)
    assert [s.id for s in story.client.v1.subscriptions.list({"customer": story.customer.id}).data] == [story.sub.id]


def test_customer_details_act_on_taxes_as_the_customers_would(billing: SdkTenant) -> None:
    rate = billing.tax_rate(20.0)
    story = Story(billing, at(2025, 1, 1), 1000, default_tax_rates=[rate.id])
    before = _rows(billing)
    plain = story.preview()
    assert (plain.subtotal, plain.total) == (1000, 1200)
    address = {"line1": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "FR"}
    exempt = story.preview(
        customer_details={
            "tax_exempt": "exempt",
            "address": address,
            "tax_ids": [{"type": "eu_vat", "value": "FR40303265045"}],
        }
    )
    assert (exempt.subtotal, exempt.total, exempt.customer_tax_exempt) == (1000, 1000, "exempt")
    assert exempt.customer_address is not None and exempt.customer_address.city == "Paris"
    reverse = story.preview(customer_details={"tax_exempt": "reverse"})
    assert reverse.total == 1000
    assert _rows(billing) == before
    assert story.client.v1.customers.retrieve(story.customer.id).tax_exempt == "none"


DETAILS = "subscription_details"


def test_preview_refusals_name_the_parameter_and_write_nothing(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 1, 1), 1000)
    before = _rows(billing)
    for params, param in (
        ({"schedule_details": {"end_behavior": "renew"}}, "schedule_details[end_behavior]"),
        ({"schedule_details": {"pause_schedules": [{"key": "k"}]}}, "schedule_details[pause_schedules]"),
        ({"schedule_details": {"proration_behavior": "none"}}, "subscription"),  # a schedule's or a subscription's
        ({"subscription_details": {"items": [{"id": "si_nope", "quantity": 2}]}}, "subscription_details[items][0][id]"),
        ({"subscription_details": {"proration_date": at(2025, 3, 1)}}, "subscription_details[proration_date]"),
        ({"subscription_details": {"proration_behavior": "later"}}, "subscription_details[proration_behavior]"),
        ({"subscription_details": {"billing_cycle_anchor": at(2025, 1, 5)}}, f"{DETAILS}[billing_cycle_anchor]"),
        ({"subscription_details": {"resume_at": "now"}}, "subscription_details[resume_at]"),
        ({"customer_details": {"tax_exempt": "sometimes"}}, "customer_details[tax_exempt]"),
        ({"customer_details": {"tax_ids": [{"type": "eu_vat"}]}}, "customer_details[tax_ids][0][value]"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as error:
            story.preview(**params)
        assert (error.value.http_status, error.value.param) == (400, param), params
        assert error.value.code != "parameter_unknown"
    assert _rows(billing) == before


# --- other changes that end the period early ----------------------------------------------------


def test_resetting_the_cycle_credits_the_unused_time_on_the_invoice_of_the_new_cycle(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 1, 1), 3100)
    story.advance(at(2025, 1, 21))  # 11 of 31 days left: 3100 × 11/31 = 1100
    sub = story.update(billing_cycle_anchor="now")
    assert sub.billing_cycle_anchor == at(2025, 1, 21)
    renewal = story.latest()
    assert _amounts(renewal) == [-1100, 3100] and renewal.total == 2000
    assert [line.description for line in _prorations(renewal)] == ["Unused time on 1 × Seat after 21 Jan 2025"]
    other = Story(billing, at(2025, 1, 1), 3100)
    other.advance(at(2025, 1, 21))
    other.update(billing_cycle_anchor="now", proration_behavior="none")
    assert _amounts(other.latest()) == [3100]


def test_a_trial_started_or_an_earlier_cancel_at_credits_the_time_they_take_back(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 1, 1), 3100)
    story.advance(at(2025, 1, 21))
    story.update(trial_end=at(2025, 2, 10))
    assert [(i.amount, i.period.start) for i in story.pending()] == [(-1100, at(2025, 1, 21))]
    other = Story(billing, at(2025, 1, 1), 3100)
    other.advance(at(2025, 1, 11))
    other.update(cancel_at=at(2025, 1, 21))  # the 11 days after cancel_at were billed: credited
    assert [(i.amount, i.description) for i in other.pending()] == [
        (-1100, "Unused time on 1 × Seat after 21 Jan 2025")
    ]


def _yearly(sdk: SdkTenant, amount: int) -> stripe.Price:
    product = sdk.client.v1.products.create({"name": "Seat (yearly)"})
    return sdk.client.v1.prices.create(
        {"product": product.id, "currency": "usd", "unit_amount": amount, "recurring": {"interval": "year"}}
    )


def test_moving_every_item_to_another_billing_period_restarts_the_cycle_and_invoices_at_once(
    billing: SdkTenant,
) -> None:
    """Stripe's "changing the billing period": anchor now, unused time credited, the new period charged at once."""
    story = Story(billing, at(2025, 1, 1), 3100)
    yearly = _yearly(billing, 36500)
    story.advance(at(2025, 1, 21))  # 11 of 31 days left: 3100 × 11/31 = 1100 credited
    first = story.latest().id
    preview = story.preview(subscription_details={"items": [{"id": story.item, "price": yearly.id}]})
    assert _amounts(preview) == [-1100, 36500] and preview.total == 35400
    sub = story.update(items=[{"id": story.item, "price": yearly.id}])
    assert sub.billing_cycle_anchor == at(2025, 1, 21)
    item = sub["items"].data[0]
    assert (item.price.id, item.price.recurring.interval) == (yearly.id, "year")  # type: ignore[union-attr]
    assert (item.current_period_start, item.current_period_end) == (at(2025, 1, 21), at(2026, 1, 21))
    invoice = story.latest()
    assert invoice.id != first and _amounts(invoice) == [-1100, 36500] and invoice.total == 35400
    assert [line.description for line in _prorations(invoice)] == ["Unused time on 1 × Seat after 21 Jan 2025"]
    assert story.pending() == []
    # The next renewal is a year on, at the yearly price.
    story.advance(at(2026, 1, 21, 2))
    assert _amounts(story.latest()) == [36500]


def test_a_billing_period_change_without_proration_and_mixed_periods_refused(billing: SdkTenant) -> None:
    story = Story(billing, at(2025, 1, 1), 3100)
    yearly = _yearly(billing, 36500)
    story.advance(at(2025, 1, 21))
    story.update(items=[{"id": story.item, "price": yearly.id}], proration_behavior="none")
    assert _amounts(story.latest()) == [36500]
    # Items that would mix periods stay refused, on the update and on its preview; nothing changes.
    other = Story(billing, at(2025, 1, 1), 3100)
    yearly_too = _yearly(billing, 12000)
    before = _rows(billing)
    for call, param in (
        (lambda: other.update(items=[{"price": yearly_too.id}]), "items[0][price]"),
        (
            lambda: other.preview(subscription_details={"items": [{"price": yearly_too.id}]}),
            "subscription_details[items][0][price]",
        ),
    ):
        with pytest.raises(stripe.InvalidRequestError) as error:
            call()
        assert error.value.user_message == (
            "All prices on a subscription must have the same recurring interval and interval_count."
        )
        assert error.value.param == param
    assert _rows(billing) == before


def test_a_billing_period_change_in_the_subscriptions_first_second_bills_both_periods(billing: SdkTenant) -> None:
    """The new period starts at the instant the first one did: both are billed, each once (no 409)."""
    story = Story(billing, at(2025, 1, 1), 3100)  # the clock stays at the subscription's start
    first = story.latest().id
    yearly = _yearly(billing, 36500)
    preview = story.preview(subscription_details={"items": [{"id": story.item, "price": yearly.id}]})
    assert _amounts(preview) == [-3100, 36500]
    sub = story.update(items=[{"id": story.item, "price": yearly.id}])
    item = sub["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (at(2025, 1, 1), at(2026, 1, 1))
    invoice = story.latest()
    assert invoice.id != first and _amounts(invoice) == [-3100, 36500] and invoice.total == 33400
    # Resetting the anchor again in that same second bills the yearly period once more, credited in full.
    story.update(billing_cycle_anchor="now")
    assert _amounts(story.latest()) == [-36500, 36500]
    story.advance(at(2026, 1, 1, 2))
    assert _amounts(story.latest()) == [36500]
