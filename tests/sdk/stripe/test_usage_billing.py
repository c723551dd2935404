"""Usage-based billing through stripe-python 16.1.0: billing meters, meter events, metered prices billed in arrears
at renewal, usage thresholds, and subscription items' price_data. Every response is validated by the subscriptions
client: Stripe's schemas for prices, invoices, lines and errors; stripe-python's declared attributes for meters,
meter events and summaries, subscriptions and items (no schema copy holds them: tests/data/README.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import stripe

from tests.helpers.sdk import SdkTenant
from tests.sdk.stripe.test_prorations import at
from tests.sdk.stripe.test_subscriptions import billing, monthly

__all__ = ["billing"]

pytestmark = pytest.mark.sdk

JAN1, FEB1, MAR1 = at(2025, 1, 1), at(2025, 2, 1), at(2025, 3, 1)


def _refused(call: Any, status: int = 400) -> stripe.StripeError:
    with pytest.raises(stripe.StripeError) as error:
        call()
    assert error.value.http_status == status
    return error.value


def _param(error: stripe.StripeError) -> str | None:
    return error.error.param if error.error is not None else None


def _meter(sdk: SdkTenant, event_name: str, formula: str = "sum", **more: Any) -> stripe.billing.Meter:
    return sdk.client.v1.billing.meters.create(
        {"display_name": event_name, "event_name": event_name, "default_aggregation": {"formula": formula}, **more}
    )


def _metered(sdk: SdkTenant, meter: stripe.billing.Meter, name: str, **pricing: Any) -> stripe.Price:
    product = sdk.client.v1.products.create({"name": name})
    return sdk.client.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
            **(pricing or {"unit_amount": 10}),
        }
    )


def _event(sdk: SdkTenant, name: str, customer: str, value: int | None, at_time: int, **more: Any) -> Any:
    payload = {"stripe_customer_id": customer, **({"value": str(value)} if value is not None else {})}
    return sdk.client.v1.billing.meter_events.create(
        {"event_name": name, "payload": payload, "timestamp": at_time, **more}
    )


def _clocked_customer(sdk: SdkTenant, start: int) -> tuple[str, str]:
    clock = sdk.client.v1.test_helpers.test_clocks.create({"frozen_time": start})
    return clock.id, sdk.client.v1.customers.create({"name": "Ada", "test_clock": clock.id}).id


def test_a_meter_is_created_read_renamed_listed_and_moves_between_active_and_inactive(billing: SdkTenant) -> None:
    meters = billing.client.v1.billing.meters
    meter = _meter(billing, "api_calls", "count", event_time_window="hour")
    assert (meter.status, meter.default_aggregation.formula, meter.event_time_window) == ("active", "count", "hour")
    assert (meter.customer_mapping.event_payload_key, meter.value_settings.event_payload_key) == (
        "stripe_customer_id",
        "value",
    )
    other = _meter(billing, "tokens", value_settings={"event_payload_key": "tokens"})
    assert meters.retrieve(meter.id).event_name == "api_calls"
    assert meters.update(meter.id, {"display_name": "API calls"}).display_name == "API calls"
    off = meters.deactivate(meter.id)
    assert (off.status, off.status_transitions.deactivated_at is not None) == ("inactive", True)
    assert [m.id for m in meters.list({"status": "inactive"}).data] == [meter.id]
    assert {m.id for m in meters.list().data} == {meter.id, other.id}
    again = _refused(lambda: meters.deactivate(meter.id))
    assert "already inactive" in str(again.user_message)
    on = meters.reactivate(meter.id)
    assert (on.status, on.status_transitions.deactivated_at) == ("active", None)
    assert _refused(lambda: meters.retrieve("mtr_missing"), 404).code == "resource_missing"
    bad = _refused(
        lambda: meters.create({"display_name": "x", "event_name": "x", "default_aggregation": {"formula": "max"}})
    )
    assert _param(bad) == "default_aggregation[formula]"


def test_meter_events_are_checked_when_sent_and_nothing_is_kept_from_a_refused_one(billing: SdkTenant) -> None:
    meter = _meter(billing, "api_calls")
    clock, customer = _clocked_customer(billing, JAN1)
    events = billing.client.v1.billing.meter_events
    sent = _event(billing, "api_calls", customer, 5, JAN1, identifier="evt-1")
    assert (sent.identifier, sent.timestamp, sent.payload["value"]) == ("evt-1", JAN1, "5")
    cases = [
        ({"event_name": "nope", "payload": {"stripe_customer_id": customer, "value": "1"}}, "event_name", 400),
        ({"event_name": "api_calls", "payload": {"value": "1"}}, "payload[stripe_customer_id]", 400),
        ({"event_name": "api_calls", "payload": {"stripe_customer_id": "cus_nope", "value": "1"}}, None, 400),
        (
            {"event_name": "api_calls", "payload": {"stripe_customer_id": customer, "value": "1.5"}},
            "payload[value]",
            400,
        ),
        ({"event_name": "api_calls", "payload": {"stripe_customer_id": customer}}, "payload[value]", 400),
        (
            {
                "event_name": "api_calls",
                "payload": {"stripe_customer_id": customer, "value": "1"},
                "identifier": "evt-1",
            },
            "identifier",
            400,
        ),
        (
            {
                "event_name": "api_calls",
                "payload": {"stripe_customer_id": customer, "value": "1"},
                "timestamp": JAN1 - 36 * 86400,
            },
            "timestamp",
            400,
        ),
    ]
    for params, param, status in cases:
        error = _refused(lambda params=params: events.create(params), status)
        if param is not None:
            assert _param(error) == param, params
        else:  # an id in the body that names nothing: 400 resource_missing, as Stripe answers it
            assert (_param(error), error.code) == ("payload[stripe_customer_id]", "resource_missing")
    summary = billing.client.v1.billing.meters.event_summaries.list(
        meter.id, {"customer": customer, "start_time": JAN1, "end_time": JAN1 + 3600}
    )
    assert [s.aggregated_value for s in summary.data] == [5]  # the refused events left nothing behind
    assert clock


def test_summaries_aggregate_by_the_meters_formula_per_window(billing: SdkTenant) -> None:
    _, customer = _clocked_customer(billing, JAN1 + 2 * 86400)
    meters = {f: _meter(billing, "requests", f) for f in ("sum", "count", "last")}
    for value, stamp in ((4, JAN1 + 7200), (9, JAN1 + 3600), (2, JAN1 + 90000)):
        _event(billing, "requests", customer, value, stamp)
    whole = {
        f: billing.client.v1.billing.meters.event_summaries.list(
            m.id, {"customer": customer, "start_time": JAN1, "end_time": JAN1 + 86400}
        )
        .data[0]
        .aggregated_value
        for f, m in meters.items()
    }
    # the first day holds 4 (at 02:00) and 9 (at 01:00): last is the latest timestamp's, not the latest sent
    assert whole == {"sum": 13, "count": 2, "last": 4}
    daily = billing.client.v1.billing.meters.event_summaries.list(
        meters["sum"].id,
        {"customer": customer, "start_time": JAN1, "end_time": JAN1 + 2 * 86400, "value_grouping_window": "day"},
    )
    assert [(s.start_time, s.aggregated_value) for s in daily.data] == [(JAN1 + 86400, 2), (JAN1, 13)]


def test_a_metered_item_bills_the_ended_periods_usage_at_each_renewal_priced_by_its_tiers(billing: SdkTenant) -> None:
    client = billing.client
    meter = _meter(billing, "api_calls")
    # graduated: the first 10 calls at 100 each, the rest at 20, plus a flat 500 once any call reaches tier 2
    api = _metered(
        billing,
        meter,
        "API",
        billing_scheme="tiered",
        tiers_mode="graduated",
        tiers=[{"up_to": 10, "unit_amount": 100}, {"up_to": "inf", "unit_amount": 20, "flat_amount": 500}],
    )
    seat = monthly(billing, 1500, "Seat")
    clock, customer = _clocked_customer(billing, JAN1)
    sub = client.v1.subscriptions.create({"customer": customer, "items": [{"price": seat.id}, {"price": api.id}]})
    metered_item = next(i for i in sub["items"].data if i.price.id == api.id)
    assert "quantity" not in metered_item  # Stripe sends none: the usage is the meter's
    first = client.v1.invoices.retrieve(sub.latest_invoice)
    assert [(line.amount, line.description) for line in first.lines.data] == [(1500, "1 × Seat (at $15.00 / month)")]
    client.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": at(2025, 1, 25)})
    for value, day in ((5, 3), (7, 10), (10, 20), (3, 25)):  # sent late, stamped when they happened
        _event(billing, "api_calls", customer, value, at(2025, 1, day))
    client.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": FEB1})
    renewal = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    lines = {line.pricing.price_details.price: line for line in renewal.lines.data}
    usage = lines[api.id]
    # 25 calls: 10 × 100 + 15 × 20 + 500 = 1800, for January, in arrears
    assert (usage.quantity, usage.amount, usage.period.start, usage.period.end) == (25, 1800, JAN1, FEB1)
    assert (lines[seat.id].amount, lines[seat.id].period.start) == (1500, FEB1)
    assert renewal.total == 3300
    client.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": at(2025, 2, 20)})
    _event(billing, "api_calls", customer, 4, at(2025, 2, 2))
    client.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": MAR1})
    march = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    usage = next(line for line in march.lines.data if line.pricing.price_details.price == api.id)
    assert (usage.quantity, usage.amount, usage.period.start) == (4, 400, FEB1)  # February's 4 calls only


def test_a_usage_threshold_invoices_the_usage_at_once_and_the_renewal_bills_only_what_came_after(
    billing: SdkTenant,
) -> None:
    client = billing.client
    meter = _meter(billing, "gigabytes")
    storage = _metered(billing, meter, "Storage", unit_amount=25)
    clock, customer = _clocked_customer(billing, JAN1)
    sub = client.v1.subscriptions.create(
        {"customer": customer, "items": [{"price": storage.id, "billing_thresholds": {"usage_gte": 100}}]}
    )
    assert sub["items"].data[0].billing_thresholds.usage_gte == 100
    client.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": at(2025, 1, 10)})
    _event(billing, "gigabytes", customer, 60, at(2025, 1, 9))
    assert client.v1.subscriptions.retrieve(sub.id).latest_invoice == sub.latest_invoice  # 60 < 100: nothing yet
    _event(billing, "gigabytes", customer, 50, at(2025, 1, 10))
    threshold = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert (threshold.billing_reason, threshold.status, threshold.total) == ("subscription_threshold", "open", 2750)
    assert [line.quantity for line in threshold.lines.data] == [110]
    client.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": at(2025, 1, 12)})
    _event(billing, "gigabytes", customer, 8, at(2025, 1, 12))
    client.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": FEB1})
    renewal = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert renewal.billing_reason == "subscription_cycle"
    assert [(line.quantity, line.amount, line.period.start) for line in renewal.lines.data] == [
        (8, 200, at(2025, 1, 10) + 1)
    ]
    cleared = client.v1.subscription_items.update(sub["items"].data[0].id, {"billing_thresholds": ""})
    assert cleared.billing_thresholds is None


def test_an_amount_threshold_on_the_subscription_invoices_metered_usage_once_it_bills_that_much(
    billing: SdkTenant,
) -> None:
    client = billing.client
    meter = _meter(billing, "minutes")
    calls = _metered(billing, meter, "Calls", unit_amount=50)
    clock, customer = _clocked_customer(billing, JAN1)
    sub = client.v1.subscriptions.create(
        {"customer": customer, "items": [{"price": calls.id}], "billing_thresholds": {"amount_gte": 1000}}
    )
    _event(billing, "minutes", customer, 19, JAN1)  # 950 < 1000
    assert client.v1.subscriptions.retrieve(sub.id).latest_invoice == sub.latest_invoice
    _event(billing, "minutes", customer, 1, JAN1)  # 1000
    invoice = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert (invoice.billing_reason, invoice.total) == ("subscription_threshold", 1000)
    assert clock


def test_metered_prices_need_an_active_meter_and_metered_items_take_no_quantity(billing: SdkTenant) -> None:
    client = billing.client
    meter = _meter(billing, "api_calls")
    product = client.v1.products.create({"name": "API"})
    base = {"product": product.id, "currency": "usd", "unit_amount": 5}
    no_meter = _refused(
        lambda: client.v1.prices.create({**base, "recurring": {"interval": "month", "usage_type": "metered"}})
    )
    assert _param(no_meter) == "recurring[meter]"
    licensed = _refused(
        lambda: client.v1.prices.create({**base, "recurring": {"interval": "month", "meter": meter.id}})
    )
    assert _param(licensed) == "recurring[meter]"
    client.v1.billing.meters.deactivate(meter.id)
    inactive = _refused(
        lambda: client.v1.prices.create(
            {**base, "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id}}
        )
    )
    assert _param(inactive) == "recurring[meter]"
    client.v1.billing.meters.reactivate(meter.id)
    price = _metered(billing, meter, "API2")
    assert (price.recurring.usage_type, price.recurring.meter) == ("metered", meter.id)
    listed = client.v1.prices.list({"recurring": {"usage_type": "metered"}}).data
    assert [p.id for p in listed] == [price.id]
    customer = client.v1.customers.create({"name": "Ada"})
    quantity = _refused(
        lambda: client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id, "quantity": 2}]})
    )
    assert _param(quantity) == "items[0][quantity]"
    seat = monthly(billing, 100, "Seat")
    threshold = _refused(
        lambda: client.v1.subscriptions.create(
            {"customer": customer.id, "items": [{"price": seat.id, "billing_thresholds": {"usage_gte": 5}}]}
        )
    )
    assert _param(threshold) == "items[0][billing_thresholds][usage_gte]"
    assert client.v1.subscriptions.list({"customer": customer.id}).data == []


def test_items_price_data_makes_an_inactive_price_and_refusals_name_the_items_parameter(billing: SdkTenant) -> None:
    client = billing.client
    product = client.v1.products.create({"name": "Widget"})
    customer = client.v1.customers.create({"name": "Ada"})
    data = {"currency": "usd", "product": product.id, "unit_amount": 1200, "recurring": {"interval": "month"}}
    sub = client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price_data": {**data, "tax_behavior": "exclusive"}, "quantity": 2}]}
    )
    item = sub["items"].data[0]
    assert (item.price.active, item.price.unit_amount, item.price.product, item.quantity) == (
        False,
        1200,
        product.id,
        2,
    )
    assert item.price.tax_behavior == "exclusive"
    assert client.v1.invoices.retrieve(sub.latest_invoice).total == 2400
    added = client.v1.subscription_items.create(
        {
            "subscription": sub.id,
            "price_data": {**{k: v for k, v in data.items() if k != "unit_amount"}, "unit_amount_decimal": "250.5"},
            "proration_behavior": "none",
        }
    )
    assert (added.price.active, added.price.unit_amount_decimal) == (False, Decimal("250.5"))
    changed = client.v1.subscription_items.update(
        added.id, {"price_data": {**data, "unit_amount": 300}, "proration_behavior": "none"}
    )
    assert (changed.price.unit_amount, changed.price.id != added.price.id) == (300, True)
    before = client.v1.prices.list({"limit": 100}).data
    cases = [
        ({"items": [{"price": item.price.id, "price_data": data}]}, "items[0][price_data]", 400),
        ({"items": [{"price_data": {**data, "product": "prod_nope"}}]}, "items[0][price_data][product]", 400),
        ({"items": [{"price_data": {**data, "currency": "eur"}}]}, "items[0][price]", 400),
        (
            {"items": [{"price_data": data, "current_trial": {"trial_offer": "to_nope"}}]},
            "items[0][current_trial][trial_offer]",
            400,
        ),
    ]
    for params, param, status in cases:
        error = _refused(lambda params=params: client.v1.subscriptions.update(sub.id, params), status)
        assert _param(error) == param, params
    after = client.v1.prices.list({"limit": 100}).data
    assert [p.id for p in after] == [p.id for p in before]  # a refused call makes no price
    trial = _refused(
        lambda: client.v1.subscription_items.create(
            {"subscription": sub.id, "price_data": data, "current_trial": {"trial_offer": "to_nope"}}
        )
    )
    assert _param(trial) == "current_trial[trial_offer]"


def test_a_preview_with_items_price_data_prices_the_line_and_makes_no_price(billing: SdkTenant) -> None:
    client = billing.client
    product = client.v1.products.create({"name": "Widget"})
    customer = client.v1.customers.create({"name": "Ada"})
    data = {"currency": "usd", "product": product.id, "unit_amount": 700, "recurring": {"interval": "month"}}
    preview = client.v1.invoices.create_preview(
        {"customer": customer.id, "subscription_details": {"items": [{"price_data": data, "quantity": 3}]}}
    )
    assert [line.amount for line in preview.lines.data] == [2100]
    assert client.v1.prices.list().data == []  # the preview's price went with its savepoint
    refused = _refused(
        lambda: client.v1.invoices.create_preview(
            {"customer": customer.id, "subscription_details": {"items": [{"price_data": {**data, "product": "p_x"}}]}}
        )
    )
    assert _param(refused) == "subscription_details[items][0][price_data][product]"


def test_the_upcoming_renewal_shows_the_usage_so_far(billing: SdkTenant) -> None:
    client = billing.client
    meter = _meter(billing, "api_calls")
    api = _metered(billing, meter, "API", unit_amount=3)
    clock, customer = _clocked_customer(billing, JAN1)
    sub = client.v1.subscriptions.create({"customer": customer, "items": [{"price": api.id}]})
    client.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": at(2025, 1, 15)})
    _event(billing, "api_calls", customer, 40, at(2025, 1, 14))
    upcoming = client.v1.invoices.create_preview({"subscription": sub.id})
    assert [(line.quantity, line.amount, line.period.start) for line in upcoming.lines.data] == [(40, 120, JAN1)]
    client.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": FEB1})
    renewal = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert [(line.quantity, line.amount) for line in renewal.lines.data] == [(40, 120)]  # the preview wrote nothing


def test_summaries_page_through_the_windows_newest_first(billing: SdkTenant) -> None:
    _, customer = _clocked_customer(billing, JAN1 + 5 * 86400)
    meter = _meter(billing, "requests")
    for day in range(5):
        _event(billing, "requests", customer, day + 1, JAN1 + day * 86400 + 60)
    summaries = billing.client.v1.billing.meters.event_summaries
    query = {"customer": customer, "start_time": JAN1, "end_time": JAN1 + 5 * 86400, "value_grouping_window": "day"}
    first = summaries.list(meter.id, {**query, "limit": 2})
    assert ([s.aggregated_value for s in first.data], first.has_more) == ([5, 4], True)
    second = summaries.list(meter.id, {**query, "limit": 2, "starting_after": first.data[-1].id})
    assert ([s.aggregated_value for s in second.data], second.has_more) == ([3, 2], True)
    back = summaries.list(meter.id, {**query, "limit": 2, "ending_before": second.data[0].id})
    assert [s.aggregated_value for s in back.data] == [5, 4]
    last = summaries.list(meter.id, {**query, "limit": 2, "starting_after": second.data[-1].id})
    assert ([s.aggregated_value for s in last.data], last.has_more) == ([1], False)
    # a whole year by the hour is counted, not listed: one page of the newest hours
    year = summaries.list(
        meter.id,
        {
            "customer": customer,
            "start_time": JAN1 - 365 * 86400,
            "end_time": JAN1 + 5 * 86400,
            "value_grouping_window": "hour",
            "limit": 1,
        },
    )
    assert (year.data[0].start_time, year.has_more) == (JAN1 + 5 * 86400 - 3600, True)
    bad = _refused(lambda: summaries.list(meter.id, {**query, "starting_after": "mtrusg_nope"}))
    assert _param(bad) == "starting_after"
