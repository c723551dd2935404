"""Invoice fields beyond the lines (issue 15 item 5) through stripe-python: chosen number, effective date,
statement descriptor, shipping, account tax ids, scheduled finalization, invoices for a subscription, and
revisions. Every response is checked against Stripe's published schemas (tests/helpers/sdk.py)."""

from __future__ import annotations

import time

import pytest
import stripe

from tests.helpers.schema import assert_stripe_schema
from tests.helpers.sdk import SdkTenant, assert_totals_match_lines

pytestmark = pytest.mark.sdk

SHIPPING = {"name": "Ada", "address": {"line1": "1 rue de Rivoli", "city": "Paris", "country": "FR"}, "phone": "+33 1"}


def _rate(amount: int, currency: str = "usd", **more: object) -> dict[str, object]:
    return {
        "shipping_rate_data": {"display_name": "Post", "fixed_amount": {"amount": amount, "currency": currency}, **more}
    }


def test_a_chosen_number_is_kept_at_finalization_and_refused_when_taken(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    first = sdk.invoice(customer.id, number="SHOP-2026-001")
    assert first.number == "SHOP-2026-001"
    sdk.client.v1.invoice_items.create(
        {"customer": customer.id, "invoice": first.id, "amount": 1000, "currency": "usd"}
    )
    assert sdk.client.v1.invoices.finalize_invoice(first.id).number == "SHOP-2026-001"
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.invoice(customer.id, number="SHOP-2026-001")
    assert (error.value.http_status, error.value.param, error.value.code) == (400, "number", "resource_already_exists")
    draft = sdk.invoice(customer.id)
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.client.v1.invoices.update(draft.id, {"number": "SHOP-2026-001"})
    assert error.value.param == "number"
    assert sdk.client.v1.invoices.update(draft.id, {"number": "SHOP-2026-002"}).number == "SHOP-2026-002"
    assert sdk.client.v1.invoices.update(draft.id, {"number": ""}).number is None
    # Finalized: the customer's sequence numbers it; a finalized invoice's number is not editable.
    finalized = sdk.client.v1.invoices.finalize_invoice(draft.id)
    assert finalized.number is not None and finalized.number.endswith("-0001")
    with pytest.raises(stripe.InvalidRequestError):
        sdk.client.v1.invoices.update(finalized.id, {"number": "SHOP-2026-003"})


def test_effective_at_is_chosen_on_a_draft_and_is_the_finalization_time_otherwise(sdk: SdkTenant) -> None:
    chosen = sdk.invoice(effective_at=1735689600)
    assert chosen.effective_at == 1735689600
    finalized = sdk.client.v1.invoices.finalize_invoice(chosen.id)
    assert finalized.effective_at == 1735689600
    assert (
        finalized.status_transitions.finalized_at is not None and finalized.status_transitions.finalized_at > 1735689600
    )
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.client.v1.invoices.update(chosen.id, {"effective_at": 1735689601})
    assert error.value.http_status == 400
    plain = sdk.invoice()
    assert plain.effective_at is None
    plain = sdk.client.v1.invoices.finalize_invoice(plain.id)
    assert plain.effective_at == plain.status_transitions.finalized_at


def test_statement_descriptor_shipping_details_and_account_tax_ids_are_stored_and_unset(sdk: SdkTenant) -> None:
    invoice = sdk.invoice(
        statement_descriptor="ACME WIDGETS",
        shipping_details=SHIPPING,
        account_tax_ids=["txi_123abc", "txi_456def"],
    )
    assert invoice.statement_descriptor == "ACME WIDGETS"
    assert invoice.shipping_details is not None and invoice.shipping_details.name == "Ada"
    assert invoice.shipping_details.address.city == "Paris" and invoice.shipping_details.phone == "+33 1"
    assert invoice.account_tax_ids == ["txi_123abc", "txi_456def"]
    updated = sdk.client.v1.invoices.update(
        invoice.id, {"statement_descriptor": "", "shipping_details": "", "account_tax_ids": ""}
    )
    assert (updated.statement_descriptor, updated.shipping_details, updated.account_tax_ids) == (None, None, None)
    for params, param in (
        ({"statement_descriptor": "X" * 23}, "statement_descriptor"),
        ({"account_tax_ids": ["tax_1"]}, "account_tax_ids[0]"),
        ({"shipping_details": {"name": "Ada"}}, "shipping_details[address]"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as error:
            sdk.client.v1.invoices.update(invoice.id, params)
        assert (error.value.http_status, error.value.param) == (400, param)
    # Not money: the descriptor and the shipping address stay editable once finalized.
    finalized = sdk.client.v1.invoices.finalize_invoice(invoice.id)
    finalized = sdk.client.v1.invoices.update(
        finalized.id, {"statement_descriptor": "ACME", "shipping_details": SHIPPING}
    )
    assert finalized.statement_descriptor == "ACME" and finalized.shipping_details is not None
    with pytest.raises(stripe.InvalidRequestError):
        sdk.client.v1.invoices.update(finalized.id, {"account_tax_ids": ["txi_1"]})


def test_shipping_cost_adds_its_exact_amount_to_the_totals_and_amount_due(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    rate = sdk.tax_rate(20)
    invoice = sdk.invoice(customer.id, shipping_cost=_rate(499, tax_behavior="exclusive"))
    sdk.client.v1.invoice_items.create(
        {"customer": customer.id, "invoice": invoice.id, "amount": 1000, "currency": "usd", "tax_rates": [rate.id]}
    )
    invoice = sdk.client.v1.invoices.retrieve(invoice.id)
    assert invoice.shipping_cost is not None
    assert (invoice.shipping_cost.amount_subtotal, invoice.shipping_cost.amount_tax) == (499, 0)
    assert (invoice.amount_shipping, invoice.subtotal, invoice.total) == (499, 1000, 1000 + 200 + 499)
    assert invoice.amount_due == invoice.total
    assert_totals_match_lines(sdk, invoice)
    # Another currency's option; then unset.
    eur = sdk.client.v1.invoices.update(
        invoice.id,
        {
            "shipping_cost": {
                "shipping_rate_data": {
                    "display_name": "Post",
                    "fixed_amount": {"amount": 700, "currency": "eur", "currency_options": {"usd": {"amount": 650}}},
                }
            }
        },
    )
    assert (eur.amount_shipping, eur.total) == (650, 1000 + 200 + 650)
    cleared = sdk.client.v1.invoices.update(invoice.id, {"shipping_cost": ""})
    assert (cleared.shipping_cost, cleared.amount_shipping, cleared.total) == (None, 0, 1200)
    finalized = sdk.client.v1.invoices.finalize_invoice(
        sdk.client.v1.invoices.update(invoice.id, {"shipping_cost": _rate(1)}).id
    )
    assert (finalized.amount_due, finalized.amount_shipping) == (1201, 1)


def test_shipping_cost_refusals_name_the_parameter(sdk: SdkTenant) -> None:
    invoice = sdk.invoice()
    for shipping_cost, param in (
        ({"shipping_rate": "shr_123"}, "shipping_cost[shipping_rate]"),
        (_rate(100, "eur"), "shipping_cost[shipping_rate_data][fixed_amount][currency]"),
        ({"shipping_rate_data": {"display_name": "Post"}}, "shipping_cost[shipping_rate_data][fixed_amount]"),
        (_rate(-1), "shipping_cost[shipping_rate_data][fixed_amount][amount]"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as error:
            sdk.client.v1.invoices.update(invoice.id, {"shipping_cost": shipping_cost})
        assert (error.value.http_status, error.value.param) == (400, param), shipping_cost
    assert sdk.client.v1.invoices.retrieve(invoice.id).shipping_cost is None


def test_automatically_finalizes_at_is_scheduled_and_checked(sdk: SdkTenant) -> None:
    at = int(time.time()) + 7 * 86400
    invoice = sdk.invoice(automatically_finalizes_at=at)
    assert (invoice.automatically_finalizes_at, invoice.auto_advance) == (at, True)
    off = sdk.client.v1.invoices.update(invoice.id, {"auto_advance": False})
    assert off.automatically_finalizes_at is None
    for when in (int(time.time()) - 60, int(time.time()) + 6 * 366 * 86400):
        with pytest.raises(stripe.InvalidRequestError) as error:
            sdk.client.v1.invoices.update(invoice.id, {"automatically_finalizes_at": when})
        assert error.value.param == "automatically_finalizes_at"
    assert sdk.client.v1.invoices.finalize_invoice(invoice.id).automatically_finalizes_at is None


def _subscription(sdk: SdkTenant, customer: str, price: str) -> stripe.Subscription:
    # Straight over HTTP: this module's schema copy covers invoices, not subscriptions (test_subscriptions.py does).
    body = {"customer": customer, "items[0][price]": price}
    response = sdk.raw_session.post(sdk.server.stripe_base + "/v1/subscriptions", data=body, auth=(sdk.key, ""))
    assert response.status_code == 200, response.text
    return stripe.Subscription.construct_from(response.json(), sdk.key)


def test_an_invoice_for_a_subscription_takes_only_that_subscriptions_pending_items(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    price = sdk.price(1200, recurring={"interval": "month"})
    sub = _subscription(sdk, customer.id, price.id)
    mine = sdk.pending_item(customer.id, 300, subscription=sub.id)
    other = sdk.pending_item(customer.id, 700)
    assert mine.parent is not None and mine.parent.subscription_details is not None
    assert mine.parent.subscription_details.subscription == sub.id
    invoice = sdk.invoice(customer.id, subscription=sub.id, pending_invoice_items_behavior="include")
    assert invoice.parent is not None and invoice.parent.subscription_details is not None
    assert invoice.parent.subscription_details.subscription == sub.id
    assert [line.amount for line in invoice.lines.data] == [300] and invoice.total == 300
    assert invoice.lines.data[0].subscription == sub.id
    assert sdk.client.v1.invoice_items.retrieve(other.id).invoice is None
    listed = sdk.client.v1.invoices.list({"subscription": sub.id}).data
    assert invoice.id in [i.id for i in listed]
    stranger = sdk.customer()
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.invoice(stranger.id, subscription=sub.id)
    assert error.value.param == "subscription"
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.pending_item(stranger.id, subscription=sub.id)
    assert error.value.param == "subscription"


def test_a_revision_copies_a_finalized_invoice_and_replaces_it_when_finalized(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    coupon = sdk.client.v1.coupons.create({"percent_off": 10, "duration": "forever"})
    original = sdk.invoice(customer.id, description="March", discounts=[{"coupon": coupon.id}])
    sdk.client.v1.invoice_items.create(
        {"customer": customer.id, "invoice": original.id, "amount": 1000, "currency": "usd", "description": "Seat"}
    )
    original = sdk.client.v1.invoices.finalize_invoice(original.id)
    revision = sdk.client.v1.invoices.create(
        {"from_invoice": {"action": "revision", "invoice": original.id}, "metadata": {"why": "typo"}}
    )
    assert revision.status == "draft" and revision.id != original.id
    assert revision.from_invoice is not None
    assert (revision.from_invoice.action, revision.from_invoice.invoice) == ("revision", original.id)
    assert (revision.description, revision.total, revision.metadata.to_dict()) == ("March", 900, {"why": "typo"})
    assert [line.description for line in revision.lines.data] == ["Seat"]
    assert {line.id for line in revision.lines.data}.isdisjoint({line.id for line in original.lines.data})
    unchanged = sdk.client.v1.invoices.retrieve(original.id)
    assert (unchanged.status, unchanged.latest_revision, unchanged.total) == ("open", None, 900)
    revision = sdk.client.v1.invoices.update(revision.id, {"description": "March (corrected)"})
    revision = sdk.client.v1.invoices.finalize_invoice(revision.id)
    replaced = sdk.client.v1.invoices.retrieve(original.id)
    assert (replaced.status, replaced.latest_revision) == ("void", revision.id)
    assert revision.number != original.number
    # A void or paid invoice, or a draft, is not revised; from_invoice takes nothing else but metadata.
    for source in (original.id, sdk.invoice(customer.id).id):
        with pytest.raises(stripe.InvalidRequestError) as error:
            sdk.client.v1.invoices.create({"from_invoice": {"action": "revision", "invoice": source}})
        assert error.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.client.v1.invoices.create(
            {"from_invoice": {"action": "revision", "invoice": revision.id}, "customer": customer.id}
        )
    assert error.value.param == "customer"
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.client.v1.invoices.create({"from_invoice": {"action": "revision", "invoice": "in_missing"}})
    assert (error.value.code, error.value.param) == ("resource_missing", "from_invoice[invoice]")


def test_invoice_item_tax_behavior_and_tax_code_are_kept_and_behavior_cannot_flip(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    item = sdk.pending_item(customer.id, 500, tax_behavior="exclusive", tax_code="txcd_10000000")
    assert item.amount == 500
    same = sdk.client.v1.invoice_items.update(item.id, {"tax_behavior": "exclusive", "tax_code": "txcd_20030000"})
    assert same.id == item.id
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.client.v1.invoice_items.update(item.id, {"tax_behavior": "inclusive"})
    assert (error.value.http_status, error.value.param) == (400, "tax_behavior")
    assert sdk.client.v1.invoice_items.update(item.id, {"invoicing_rules": ""}).id == item.id
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.client.v1.invoice_items.update(item.id, {"tax_behavior": "sometimes"})  # type: ignore[typeddict-item]
    assert error.value.param == "tax_behavior"


def test_a_lines_tax_amounts_are_its_taxes_exactly_and_add_up_on_the_invoice(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    invoice = sdk.client.v1.invoices.add_lines(
        sdk.invoice(customer.id).id, {"lines": [{"amount": 1000, "description": "A"}, {"amount": 333}]}
    )
    first, second = invoice.lines.data
    vat = {"display_name": "VAT", "inclusive": False, "percentage": 19.6, "country": "FR"}
    line = sdk.client.v1.invoices.line_items.update(
        invoice.id,
        first.id,
        {
            "tax_amounts": [
                {"amount": 196, "taxable_amount": 1000, "tax_rate_data": vat, "taxability_reason": "standard_rated"}
            ]
        },
    )
    assert [(t.amount, t.taxable_amount, t.tax_behavior, t.taxability_reason) for t in line.taxes] == [
        (196, 1000, "exclusive", "standard_rated")
    ]
    rate_id = line.taxes[0].tax_rate_details.tax_rate  # type: ignore[union-attr]
    rate = sdk.client.v1.tax_rates.retrieve(rate_id)
    assert (rate.display_name, rate.percentage, rate.country) == ("VAT", 19.6, "FR")
    # The same terms name the same rate; the amount is taken as given (not 19.6 % of 333 = 65).
    other = sdk.client.v1.invoices.line_items.update(
        invoice.id, second.id, {"tax_amounts": [{"amount": 70, "taxable_amount": 333, "tax_rate_data": vat}]}
    )
    assert [(t.amount, t.tax_rate_details.tax_rate) for t in other.taxes] == [(70, rate_id)]  # type: ignore[union-attr]
    invoice = sdk.client.v1.invoices.retrieve(invoice.id)
    assert (invoice.subtotal, invoice.total) == (1333, 1333 + 196 + 70)
    assert [(t.amount, t.taxable_amount) for t in invoice.total_taxes or []] == [(266, 1333)]
    assert_totals_match_lines(sdk, invoice)
    cleared = sdk.client.v1.invoices.line_items.update(invoice.id, second.id, {"tax_amounts": ""})
    assert cleared.taxes == []
    assert sdk.client.v1.invoices.retrieve(invoice.id).total == 1333 + 196
    # Not beside tax rates: the invoice's defaults or the line's own.
    sdk.client.v1.invoices.update(invoice.id, {"default_tax_rates": [sdk.tax_rate(10).id]})
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.client.v1.invoices.line_items.update(
            invoice.id, second.id, {"tax_amounts": [{"amount": 1, "taxable_amount": 333, "tax_rate_data": vat}]}
        )
    assert (error.value.http_status, error.value.param) == (400, "tax_amounts")
    with pytest.raises(stripe.InvalidRequestError) as error:
        sdk.client.v1.invoices.line_items.update(
            invoice.id,
            second.id,
            {"tax_amounts": [{"amount": 1, "taxable_amount": 333}]},  # type: ignore[typeddict-item]
        )
    assert error.value.param == "tax_amounts[0][tax_rate_data]"


def test_an_invoice_with_every_new_field_set_matches_stripes_invoice_schema(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    original = sdk.invoice(customer.id, number="FULL-1")
    sdk.client.v1.invoice_items.create(
        {"customer": customer.id, "invoice": original.id, "amount": 10, "currency": "usd"}
    )
    sdk.client.v1.invoices.finalize_invoice(original.id)
    revision = sdk.client.v1.invoices.create({"from_invoice": {"action": "revision", "invoice": original.id}})
    fields = {
        "effective_at": 1735689600,
        "statement_descriptor": "FULL",
        "shipping_cost": _rate(5, tax_behavior="inclusive", delivery_estimate={"minimum": {"unit": "day", "value": 1}}),
        "shipping_details": SHIPPING,
        "account_tax_ids": ["txi_1"],
        "automatically_finalizes_at": int(time.time()) + 3600,
    }
    sdk.client.v1.invoices.update(revision.id, fields)  # type: ignore[arg-type]
    sdk.client.v1.invoices.finalize_invoice(revision.id)
    for invoice_id in (original.id, revision.id):
        body = sdk.raw("GET", f"/v1/invoices/{invoice_id}").json()
        assert_stripe_schema(body, "invoice")
        assert body["latest_revision"] or body["from_invoice"]


def test_update_lines_takes_tax_amounts_all_or_nothing(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    invoice = sdk.client.v1.invoices.add_lines(
        sdk.invoice(customer.id).id, {"lines": [{"amount": 1000}, {"amount": 500}, {"amount": 200}]}
    )
    first, second, third = invoice.lines.data
    vat = {"display_name": "VAT", "inclusive": False, "percentage": 20, "country": "FR"}
    invoice = sdk.client.v1.invoices.update_lines(
        invoice.id,
        {
            "lines": [
                {"id": first.id, "tax_amounts": [{"amount": 200, "taxable_amount": 1000, "tax_rate_data": vat}]},
                {
                    "id": second.id,
                    "description": "half",
                    "tax_amounts": [
                        {
                            "amount": 99,
                            "taxable_amount": 500,
                            "tax_rate_data": vat,
                            "taxability_reason": "standard_rated",
                        }
                    ],
                },
            ]
        },
    )
    lines = {ln.id: ln for ln in sdk.lines(invoice.id)}
    assert [(t.amount, t.taxable_amount) for t in lines[first.id].taxes] == [(200, 1000)]
    assert [(t.amount, t.taxability_reason) for t in lines[second.id].taxes] == [(99, "standard_rated")]
    assert lines[second.id].description == "half" and lines[third.id].taxes == []
    # The same as the single-line form: the same terms name the same tax rate.
    rates = {t.tax_rate_details.tax_rate for ln in lines.values() for t in ln.taxes}  # type: ignore[union-attr]
    assert len(rates) == 1
    assert (invoice.subtotal, invoice.total) == (1700, 1700 + 299)
    assert_totals_match_lines(sdk, invoice)
    # Bad input anywhere refuses the whole call: nothing changes, the error names the line.
    before = sdk.raw("GET", f"/v1/invoices/{invoice.id}").json()
    rate = sdk.tax_rate(10).id
    for lines_param, param in (
        (
            [
                {
                    "id": third.id,
                    "description": "changed",
                    "tax_amounts": [{"amount": 1, "taxable_amount": 200, "tax_rate_data": vat}],
                },
                {
                    "id": first.id,
                    "tax_rates": [rate],
                    "tax_amounts": [{"amount": 1, "taxable_amount": 1000, "tax_rate_data": vat}],
                },
            ],
            "lines[1][tax_amounts]",
        ),
        (
            [
                {"id": third.id, "description": "changed"},
                {"id": second.id, "tax_amounts": [{"amount": 1, "taxable_amount": 500}]},
            ],
            "lines[1][tax_amounts][0][tax_rate_data]",
        ),
        (
            [
                {"id": third.id, "tax_amounts": [{"amount": 1, "taxable_amount": 200, "tax_rate_data": vat}]},
                {"id": "il_missing", "description": "x"},
            ],
            "lines[1][id]",
        ),
    ):
        with pytest.raises(stripe.InvalidRequestError) as error:
            sdk.client.v1.invoices.update_lines(invoice.id, {"lines": lines_param})  # type: ignore[typeddict-item]
        assert (error.value.http_status, error.value.param) == (400, param)
        assert sdk.raw("GET", f"/v1/invoices/{invoice.id}").json() == before
    # "" clears a line's amounts: its taxes are computed again (none here).
    cleared = sdk.client.v1.invoices.update_lines(invoice.id, {"lines": [{"id": first.id, "tax_amounts": ""}]})
    assert cleared.total == 1700 + 99
