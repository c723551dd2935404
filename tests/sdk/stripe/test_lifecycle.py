"""Invoice lifecycle, discounts and taxes through the SDK; and a check that the validation bites."""

from __future__ import annotations

import re

import pytest
import stripe

from tests.helpers.sdk import SdkTenant, assert_totals_match_lines, validate_tree

pytestmark = pytest.mark.sdk


def open_invoice(sdk: SdkTenant, customer: str, amount: int) -> stripe.Invoice:
    invoice = sdk.invoice(customer)
    sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": amount}]})
    return sdk.client.v1.invoices.finalize_invoice(invoice.id)


class TestLifecycle:
    def test_finalize_numbers_pay_void_uncollectible(self, sdk: SdkTenant) -> None:
        customer = sdk.customer()
        prefix = customer.invoice_prefix
        assert prefix and re.fullmatch(r"[A-Z0-9]{3,12}", prefix)
        # finalize: open, numbered with the customer's prefix
        first = open_invoice(sdk, customer.id, 1000)
        assert (first.status, first.number, first.amount_due, first.amount_remaining) == (
            "open",
            f"{prefix}-0001",
            1000,
            1000,
        )
        assert first.status_transitions.finalized_at is not None and first.status_transitions.paid_at is None
        second = open_invoice(sdk, customer.id, 2000)
        assert second.number == f"{prefix}-0002"
        assert sdk.client.v1.customers.retrieve(customer.id).next_invoice_sequence == 3
        # pay out of band
        paid = sdk.client.v1.invoices.pay(first.id, {"paid_out_of_band": True})
        assert (paid.status, paid.amount_paid, paid.amount_remaining, paid.number) == ("paid", 1000, 0, first.number)
        assert paid.status_transitions.paid_at is not None
        # void an open one
        voided = sdk.client.v1.invoices.void_invoice(second.id)
        assert voided.status == "void" and voided.status_transitions.voided_at is not None
        # uncollectible, then paid after all
        third = open_invoice(sdk, customer.id, 3000)
        assert third.number == f"{prefix}-0003"
        bad = sdk.client.v1.invoices.mark_uncollectible(third.id)
        assert bad.status == "uncollectible" and bad.status_transitions.marked_uncollectible_at is not None
        late = sdk.client.v1.invoices.pay(third.id, {"paid_out_of_band": True})
        assert (late.status, late.amount_paid) == ("paid", 3000)
        # terminal states refuse further moves
        for call in (
            lambda: sdk.client.v1.invoices.void_invoice(first.id),
            lambda: sdk.client.v1.invoices.finalize_invoice(second.id),
            lambda: sdk.client.v1.invoices.pay(second.id, {"paid_out_of_band": True}),
        ):
            with pytest.raises(stripe.InvalidRequestError) as caught:
                call()
            assert caught.value.http_status == 400
        listed = sdk.client.v1.invoices.list({"customer": customer.id, "limit": 10})
        assert {i.id: i.status for i in listed.data} == {first.id: "paid", second.id: "void", third.id: "paid"}

    def test_numbers_are_per_customer(self, sdk: SdkTenant) -> None:
        ada = sdk.customer(invoice_prefix="ADA")
        bob = sdk.customer(invoice_prefix="BOB")
        assert open_invoice(sdk, ada.id, 100).number == "ADA-0001"
        assert open_invoice(sdk, bob.id, 100).number == "BOB-0001"
        assert open_invoice(sdk, ada.id, 100).number == "ADA-0002"

    def test_zero_total_finalizes_as_paid(self, sdk: SdkTenant) -> None:
        invoice = sdk.client.v1.invoices.finalize_invoice(sdk.invoice().id)
        assert (invoice.status, invoice.amount_due) == ("paid", 0)
        assert invoice.number is not None and invoice.number.endswith("-0001")

    def test_delete_a_draft_only(self, sdk: SdkTenant) -> None:
        draft = sdk.invoice()
        sdk.client.v1.invoices.add_lines(draft.id, {"lines": [{"amount": 100}]})
        deleted = sdk.client.v1.invoices.delete(draft.id)
        assert (deleted.id, deleted.object, deleted.deleted) == (draft.id, "invoice", True)
        with pytest.raises(stripe.InvalidRequestError) as caught:
            sdk.client.v1.invoices.retrieve(draft.id)
        assert (caught.value.http_status, caught.value.user_message) == (404, f"No such invoice: '{draft.id}'")
        finalized = open_invoice(sdk, sdk.customer().id, 100)
        with pytest.raises(stripe.InvalidRequestError):
            sdk.client.v1.invoices.delete(finalized.id)
        assert sdk.client.v1.invoices.retrieve(finalized.id).status == "open"

    def test_delete_an_invoice_item(self, sdk: SdkTenant) -> None:
        pending = sdk.pending_item(sdk.customer().id)
        deleted = sdk.client.v1.invoice_items.delete(pending.id)
        assert (deleted.id, deleted.object, deleted.deleted) == (pending.id, "invoiceitem", True)


class TestDiscountsAndTaxes:
    def test_coupons_and_tax_rates_to_the_cent(self, sdk: SdkTenant) -> None:
        # given: a 10 % invoice coupon, a 5.00 line coupon, 20 % exclusive and 10 % inclusive VAT
        ten = sdk.client.v1.coupons.create({"percent_off": 10.0, "duration": "once"})
        five = sdk.client.v1.coupons.create({"amount_off": 500, "currency": "usd"})
        assert (ten.percent_off, five.amount_off, five.currency) == (10, 500, "usd")
        vat = sdk.tax_rate(20.0)
        incl = sdk.tax_rate(10.0, inclusive=True)
        assert (vat.inclusive, incl.inclusive, vat.percentage) == (False, True, 20)
        invoice = sdk.invoice(discounts=[{"coupon": ten.id}])
        price = sdk.price(1500)
        # when
        invoice = sdk.client.v1.invoices.add_lines(
            invoice.id,
            {
                "lines": [
                    {"amount": 7500},
                    {
                        "pricing": {"price": price.id},
                        "quantity": 2,
                        "tax_rates": [vat.id],
                        "discounts": [{"coupon": five.id}],
                    },
                    {"amount": 2200, "tax_rates": [incl.id]},
                    {"amount": 1000, "discountable": False},
                ]
            },
        )
        # then: per line (spec §3.3-3.4): item discount first, then 10 %, then tax on the rest
        a, b, c, d = invoice.lines.data
        invoice_discount = invoice.discounts[0]
        item_discount = b.discounts[0]
        assert isinstance(invoice_discount, str) and invoice_discount.startswith("di_")
        assert isinstance(item_discount, str) and item_discount != invoice_discount
        assert [(x.amount, x.discount) for x in a.discount_amounts] == [(750, invoice_discount)]
        assert sorted((x.amount, x.discount) for x in b.discount_amounts) == sorted(
            [(500, item_discount), (250, invoice_discount)]
        )
        assert [(x.amount, x.discount) for x in c.discount_amounts] == [(220, invoice_discount)]
        assert d.discount_amounts == [] and d.discountable is False
        assert [(t.amount, t.taxable_amount, t.tax_behavior, t.tax_rate_details.tax_rate) for t in b.taxes] == [
            (450, 2250, "exclusive", vat.id)
        ]
        assert [(t.amount, t.taxable_amount, t.tax_behavior) for t in c.taxes] == [(180, 1800, "inclusive")]
        assert a.taxes == [] and d.taxes == []
        # invoice totals (spec §3.5)
        assert invoice.subtotal == 13700 - 500
        assert sorted((x.amount, x.discount) for x in invoice.total_discount_amounts) == sorted(
            [(500, item_discount), (1220, invoice_discount)]
        )
        assert sorted((t.amount, t.tax_behavior) for t in invoice.total_taxes) == [
            (180, "inclusive"),
            (450, "exclusive"),
        ]
        assert invoice.total == 13200 - 1220 + 450
        assert invoice.total_excluding_tax == invoice.total - 450 - 180
        assert invoice.amount_due == invoice.total
        assert_totals_match_lines(sdk, invoice)
        # expanded, the discounts are discount objects naming their coupons
        expanded = sdk.client.v1.invoices.retrieve(
            invoice.id,
            {
                "expand": [
                    "customer",
                    "discounts",
                    "lines.data.discounts",
                    "lines.data.pricing.price_details.price",
                    "total_discount_amounts.discount",
                ]
            },
        )
        assert expanded.discounts[0].source.coupon == ten.id
        assert expanded.lines.data[1].discounts[0].source.coupon == five.id
        assert expanded.lines.data[1].pricing.price_details.price.unit_amount == 1500
        assert expanded.customer.id == invoice.customer
        # when: the taxed, double-discounted line goes, totals follow
        invoice = sdk.client.v1.invoices.remove_lines(invoice.id, {"lines": [{"id": b.id, "behavior": "delete"}]})
        assert (invoice.subtotal, invoice.total) == (10700, 10700 - 970)
        assert [(t.amount, t.tax_behavior) for t in invoice.total_taxes] == [(180, "inclusive")]
        assert_totals_match_lines(sdk, invoice)

    def test_default_tax_rates_and_line_overrides(self, sdk: SdkTenant) -> None:
        vat = sdk.tax_rate(20.0)
        reduced = sdk.tax_rate(5.0)
        invoice = sdk.invoice(default_tax_rates=[vat.id])
        assert [r.id for r in invoice.default_tax_rates] == [vat.id]
        invoice = sdk.client.v1.invoices.add_lines(
            invoice.id, {"lines": [{"amount": 2345}, {"amount": 1000, "tax_rates": [reduced.id]}]}
        )
        first, second = invoice.lines.data
        assert [(t.amount, t.tax_rate_details.tax_rate) for t in first.taxes] == [(469, vat.id)]
        assert [(t.amount, t.tax_rate_details.tax_rate) for t in second.taxes] == [(50, reduced.id)]
        assert invoice.total == 3345 + 469 + 50
        # a line's rates changed with update_lines; "" falls back to the invoice's defaults
        invoice = sdk.client.v1.invoices.update_lines(invoice.id, {"lines": [{"id": second.id, "tax_rates": ""}]})
        assert [(t.amount, t.tax_rate_details.tax_rate) for t in invoice.lines.data[1].taxes] == [(200, vat.id)]
        assert invoice.total == 3345 + 469 + 200
        assert_totals_match_lines(sdk, invoice)

    def test_discountable_toggle_moves_the_discount(self, sdk: SdkTenant) -> None:
        half = sdk.client.v1.coupons.create({"percent_off": 50.0})
        invoice = sdk.invoice(discounts=[{"coupon": half.id}])
        invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 1000}, {"amount": 3000}]})
        assert invoice.total == 2000
        line = invoice.lines.data[1].id
        invoice = sdk.client.v1.invoices.update_lines(invoice.id, {"lines": [{"id": line, "discountable": False}]})
        assert invoice.total == 500 + 3000
        assert_totals_match_lines(sdk, invoice)


def test_validation_rejects_a_broken_object(sdk: SdkTenant) -> None:
    """The central check is live: responses were validated, and a bad object would fail."""
    invoice = sdk.invoice()
    assert sdk.http.seen and all(headers["request-id"].startswith("req_") for *_, headers in sdk.http.seen)
    good = invoice.to_dict(for_json=True)
    assert validate_tree(good) >= 2  # the invoice and its lines list
    broken = {k: v for k, v in good.items() if k != "total"}
    with pytest.raises(AssertionError, match="total"):
        validate_tree({"object": "list", "data": [broken], "has_more": False, "url": "/v1/invoices"})
    with pytest.raises(AssertionError, match="no schema"):
        validate_tree({"object": "mystery", "id": "x"})
