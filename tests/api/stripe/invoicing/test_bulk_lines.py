"""add_lines / update_lines / remove_lines: every rule of spec §1, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import StripeClient
from tests.helpers.stripe import all_lines, coupon, pending_item, price, setup_invoice, tax_rate


def assert_totals_match_lines(stripe: StripeClient, invoice: dict[str, Any]) -> None:
    """Every invoice total equals the sum of what its lines show."""
    lines = all_lines(stripe, invoice["id"])
    item_discounts = sum(
        d["amount"]
        for ln in lines
        for d in ln["discount_amounts"]
        if d["discount"] in {x for y in lines for x in y["discounts"]}
    )
    all_discounts = sum(d["amount"] for ln in lines for d in ln["discount_amounts"])
    exclusive = sum(t["amount"] for ln in lines for t in ln["taxes"] if t["tax_behavior"] == "exclusive")
    inclusive = sum(t["amount"] for ln in lines for t in ln["taxes"] if t["tax_behavior"] == "inclusive")
    assert invoice["subtotal"] == sum(ln["amount"] for ln in lines) - item_discounts
    assert sum(d["amount"] for d in invoice["total_discount_amounts"]) == all_discounts
    assert sum(t["amount"] for t in invoice["total_taxes"]) == exclusive + inclusive
    assert invoice["total"] == sum(ln["amount"] for ln in lines) - all_discounts + exclusive
    assert invoice["total_excluding_tax"] == invoice["total"] - exclusive - inclusive
    assert invoice["amount_due"] == max(0, invoice["total"])
    assert invoice["amount_remaining"] == invoice["amount_due"] - invoice["amount_paid"]


class TestWorkedExample:
    def test_spec_3_5_example_to_the_cent(self, stripe: StripeClient) -> None:
        # given: USD, 7500 + 2 × 1500 with 20 % exclusive VAT, 10 % invoice coupon
        ten = coupon(stripe, percent_off="10")
        invoice = setup_invoice(stripe, **{"discounts[0][coupon]": ten})
        vat = tax_rate(stripe)
        widget = price(stripe)
        # when
        invoice = stripe.ok(
            "POST",
            f"/v1/invoices/{invoice['id']}/add_lines",
            {
                "lines": [
                    {"amount": 7500, "description": "Setup fee"},
                    {"pricing": {"price": widget}, "quantity": 2, "tax_rates": [vat]},
                ]
            },
        )
        # then
        assert invoice["subtotal"] == 10500
        assert [d["amount"] for d in invoice["total_discount_amounts"]] == [1050]
        assert [(t["amount"], t["taxable_amount"]) for t in invoice["total_taxes"]] == [(540, 2700)]
        assert invoice["total"] == 9990
        assert invoice["total_excluding_tax"] == 9450
        assert invoice["amount_due"] == 9990
        assert_totals_match_lines(stripe, invoice)
        line_a = invoice["lines"]["data"][0]["id"]
        after = stripe.ok(
            "POST", f"/v1/invoices/{invoice['id']}/remove_lines", {"lines": [{"id": line_a, "behavior": "delete"}]}
        )
        assert (after["subtotal"], sum(d["amount"] for d in after["total_discount_amounts"]), after["total"]) == (
            3000,
            300,
            3240,
        )


def count_rows(stripe: StripeClient, invoice_id: str) -> tuple[int, int, dict[str, Any]]:
    invoice = stripe.ok("GET", f"/v1/invoices/{invoice_id}")
    items = stripe.ok("GET", "/v1/invoiceitems", {"limit": 100})["data"]
    return len(all_lines(stripe, invoice_id)), len(items), invoice


class TestAddLines:
    def test_seed_002_example_raw_form(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        widget = price(stripe)
        item = pending_item(stripe, invoice["customer"])
        body = (
            f"lines[0][amount]=7500&lines[0][currency]=usd&lines[1][price]={widget}"
            f"&lines[1][description]=New+line+item&lines[2][invoice_item]={item}"
        )
        result = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", body)
        lines = result["lines"]["data"]
        assert [ln["amount"] for ln in lines] == [7500, 1500, 500]
        assert lines[1]["description"] == "New line item"
        assert lines[1]["pricing"]["price_details"]["price"] == widget
        assert lines[2]["parent"]["invoice_item_details"]["invoice_item"] == item
        assert stripe.ok("GET", f"/v1/invoiceitems/{item}")["invoice"] == invoice["id"]
        # every new line is backed by its own new invoice item
        backing = {ln["parent"]["invoice_item_details"]["invoice_item"] for ln in lines}
        assert len(backing) == 3 and all(i.startswith("ii_") for i in backing)
        assert_totals_match_lines(stripe, result)

    def test_line_id_as_invoice_item_is_resource_missing(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        invoice = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 100}]})
        line_id = invoice["lines"]["data"][0]["id"]
        error = stripe.error(
            "POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 5}, {"invoice_item": line_id}]}
        )
        assert error["code"] == "resource_missing"
        assert error["param"] == "lines[1][invoice_item]"
        assert error["message"] == f"No such invoiceitem: '{line_id}'"

    def test_currency_must_equal_invoice_currency(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        ok = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 1, "currency": "USD"}]})
        assert ok["total"] == 1
        error = stripe.error(
            "POST",
            f"/v1/invoices/{invoice['id']}/add_lines",
            {"lines": [{"amount": 1}, {"amount": 1, "currency": "eur"}]},
        )
        assert error["param"] == "lines[1][currency]"

    def test_both_price_spellings_mean_the_same(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        widget = price(stripe, 250)
        result = stripe.ok(
            "POST",
            f"/v1/invoices/{invoice['id']}/add_lines",
            f"lines[0][price]={widget}&lines[0][quantity]=2&lines[1][pricing][price]={widget}&lines[1][quantity]=2",
        )
        assert [ln["amount"] for ln in result["lines"]["data"]] == [500, 500]
        error = stripe.error(
            "POST",
            f"/v1/invoices/{invoice['id']}/add_lines",
            f"lines[0][price]={widget}&lines[0][pricing][price]={widget}",
        )
        assert error["code"] == "parameters_exclusive"
        missing = stripe.error("POST", f"/v1/invoices/{invoice['id']}/add_lines", "lines[0][price]=price_nope")
        assert missing["code"] == "resource_missing" and missing["param"] == "lines[0][price]"
        missing = stripe.error("POST", f"/v1/invoices/{invoice['id']}/add_lines", "lines[0][pricing][price]=price_nope")
        assert missing["param"] == "lines[0][pricing][price]"

    def test_price_data_and_decimal_quantities(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        product = stripe.ok("POST", "/v1/products", {"name": "Gadget"})["id"]
        result = stripe.ok(
            "POST",
            f"/v1/invoices/{invoice['id']}/add_lines",
            {
                "lines": [
                    {
                        "price_data": {"currency": "usd", "product": product, "unit_amount_decimal": "12.345"},
                        "quantity_decimal": "1.5",
                    },
                    {
                        "price_data": {"currency": "usd", "product_data": {"name": "Inline"}, "unit_amount": 99},
                        "quantity": 3,
                    },
                ]
            },
        )
        first, second = result["lines"]["data"]
        assert first["amount"] == 19  # 12.345 × 1.5 = 18.5175 → 19 (half up, once per line)
        assert first["pricing"]["unit_amount_decimal"] == "12.345"
        assert (first["quantity"], first["quantity_decimal"]) == (1, "1.5")
        assert second["amount"] == 297

    def test_invoice_item_must_be_pending_same_customer_same_currency(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        other = stripe.ok("POST", "/v1/customers", {"name": "Bob"})["id"]
        foreign = pending_item(stripe, other)
        euro = pending_item(stripe, invoice["customer"], currency="eur")
        error = stripe.error("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"invoice_item": foreign}]})
        assert error["code"] == "resource_missing" and error["param"] == "lines[0][invoice_item]"
        error = stripe.error("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"invoice_item": euro}]})
        assert error["param"] == "lines[0][invoice_item]"
        mine = pending_item(stripe, invoice["customer"])
        stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"invoice_item": mine}]})
        second = stripe.ok("POST", "/v1/invoices", {"customer": invoice["customer"], "currency": "usd"})
        error = stripe.error("POST", f"/v1/invoices/{second['id']}/add_lines", {"lines": [{"invoice_item": mine}]})
        assert error["param"] == "lines[0][invoice_item]"

    def test_all_or_nothing_when_one_line_is_bad(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 100}]})
        before = count_rows(stripe, invoice["id"])
        lines: list[dict[str, Any]] = [{"amount": 10 * i} for i in range(20)]
        lines[3] = {"amount": "abc"}
        lines[17] = {"amount": 5, "tax_rates": ["txr_missing"]}
        error = stripe.error(
            "POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": lines, "invoice_metadata": {"batch": "x"}}
        )
        assert error["param"] == "lines[3][amount]" and error["code"] == "parameter_invalid_integer"
        lines[3] = {"amount": 1}
        error = stripe.error("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": lines})
        assert error["param"] == "lines[17][tax_rates][0]" and error["code"] == "resource_missing"
        assert count_rows(stripe, invoice["id"]) == before

    def test_at_most_50_lines_per_call(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        error = stripe.error("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 1}] * 51})
        assert error["param"] == "lines" and "50" in error["message"]
        assert (
            stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 1}] * 50})["total"] == 50
        )

    def test_lines_are_required(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        error = stripe.error("POST", f"/v1/invoices/{invoice['id']}/add_lines", "")
        assert error == {**error, "code": "parameter_missing", "param": "lines"}
        assert error["message"] == "Missing required param: lines."

    def test_only_drafts(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 100}]})
        stripe.ok("POST", f"/v1/invoices/{invoice['id']}/finalize")
        for endpoint, line in (
            ("add_lines", {"amount": 1}),
            ("update_lines", {"id": "il_x", "amount": 1}),
            ("remove_lines", {"id": "il_x", "behavior": "delete"}),
        ):
            error = stripe.error("POST", f"/v1/invoices/{invoice['id']}/{endpoint}", {"lines": [line]})
            assert error["code"] == "invoice_not_editable"

    def test_unknown_invoice_is_404(self, stripe: StripeClient) -> None:
        error = stripe.error("POST", "/v1/invoices/in_nope/add_lines", {"lines": [{"amount": 1}]}, status=404)
        assert error["code"] == "resource_missing" and error["message"] == "No such invoice: 'in_nope'"

    def test_unknown_line_parameter(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        error = stripe.error("POST", f"/v1/invoices/{invoice['id']}/add_lines", "lines[0][unit_amount]=5")
        assert error["code"] == "parameter_unknown" and error["param"] == "lines[0][unit_amount]"

    def test_amount_with_quantity_is_refused(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        error = stripe.error(
            "POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 5, "quantity": 2}]}
        )
        assert error["code"] == "parameters_exclusive" and error["param"] == "lines[0][quantity]"


class TestUpdateLines:
    def test_seed_example_updates_three_lines(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        widget = price(stripe, 1500)
        invoice = stripe.ok(
            "POST",
            f"/v1/invoices/{invoice['id']}/add_lines",
            {
                "lines": [
                    {"amount": 100, "metadata": {"keep": "1", "key": "old"}},
                    {"amount": 200},
                    {"amount": -300, "description": "credit"},
                ]
            },
        )
        l1, l2, l3 = (ln["id"] for ln in invoice["lines"]["data"])
        assert invoice["lines"]["data"][2]["discountable"] is False
        result = stripe.ok(
            "POST",
            f"/v1/invoices/{invoice['id']}/update_lines",
            f"lines[0][id]={l1}&lines[0][description]=New+description&lines[0][metadata][key]=new+value"
            f"&lines[1][id]={l2}&lines[1][price]={widget}&lines[2][id]={l3}&lines[2][discountable]=true",
        )
        first, second, third = result["lines"]["data"]
        assert first["description"] == "New description"
        assert first["metadata"] == {"keep": "1", "key": "new value"}
        assert second["amount"] == 1500 and second["pricing"]["price_details"]["price"] == widget
        assert third["discountable"] is True
        # changes reach the invoice item behind the line
        item = second["parent"]["invoice_item_details"]["invoice_item"]
        assert stripe.ok("GET", f"/v1/invoiceitems/{item}")["amount"] == 1500
        assert_totals_match_lines(stripe, result)

    def test_invoice_metadata_seed_example_is_refused_whole(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        invoice = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 100}]})
        l1 = invoice["lines"]["data"][0]["id"]
        error = stripe.error(
            "POST",
            f"/v1/invoices/{invoice['id']}/update_lines",
            f"lines[0][id]={l1}&lines[0][description]=New+description&lines[1][id]={l1}"
            "&lines[2][description]=Another+description&invoice_metadata[is_processed]=true",
        )
        assert error["code"] == "parameter_missing" and error["param"] == "lines[2][id]"
        after = stripe.ok("GET", f"/v1/invoices/{invoice['id']}")
        assert after["metadata"] == {} and after["lines"]["data"][0]["description"] is None

    def test_repeated_id_applies_in_order_and_invoice_metadata_merges(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe, **{"metadata[old]": "1", "metadata[gone]": "x"})
        invoice = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 100}]})
        l1 = invoice["lines"]["data"][0]["id"]
        result = stripe.ok(
            "POST",
            f"/v1/invoices/{invoice['id']}/update_lines",
            f"lines[0][id]={l1}&lines[0][description]=first&lines[1][id]={l1}"
            "&lines[1][metadata][k]=v&invoice_metadata[is_processed]=true&invoice_metadata[gone]=",
        )
        assert result["metadata"] == {"old": "1", "is_processed": "true"}
        assert result["lines"]["data"][0]["description"] == "first"
        assert result["lines"]["data"][0]["metadata"] == {"k": "v"}
        cleared = stripe.ok(
            "POST",
            f"/v1/invoices/{invoice['id']}/update_lines",
            f"lines[0][id]={l1}&lines[0][metadata]=&invoice_metadata=",
        )
        assert cleared["metadata"] == {} and cleared["lines"]["data"][0]["metadata"] == {}

    def test_unknown_and_old_style_line_ids(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        error = stripe.error("POST", f"/v1/invoices/{invoice['id']}/update_lines", {"lines": [{"id": "il_nope"}]})
        assert error["code"] == "resource_missing" and error["param"] == "lines[0][id]"
        error = stripe.error("POST", f"/v1/invoices/{invoice['id']}/update_lines", {"lines": [{"id": "ii_nope"}]})
        assert error["param"] == "lines[0][id]" and "Old `id` values" in error["message"]

    def test_tax_rates_and_discounts_can_be_unset(self, stripe: StripeClient) -> None:
        vat = tax_rate(stripe, "10")
        default_vat = tax_rate(stripe, "5")
        half = coupon(stripe, percent_off="50")
        invoice = setup_invoice(stripe, **{"default_tax_rates[0]": default_vat})
        invoice = stripe.ok(
            "POST",
            f"/v1/invoices/{invoice['id']}/add_lines",
            {"lines": [{"amount": 1000, "tax_rates": [vat], "discounts": [{"coupon": half}]}]},
        )
        assert invoice["total"] == 550  # 1000 − 500, +10 % tax on 500
        line = invoice["lines"]["data"][0]["id"]
        result = stripe.ok(
            "POST",
            f"/v1/invoices/{invoice['id']}/update_lines",
            f"lines[0][id]={line}&lines[0][tax_rates]=&lines[0][discounts]=",
        )
        assert result["total"] == 1050  # back on the invoice's default 5 %
        assert result["lines"]["data"][0]["discounts"] == []


class TestRemoveLines:
    def test_delete_and_unassign(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        invoice = stripe.ok(
            "POST",
            f"/v1/invoices/{invoice['id']}/add_lines",
            {"lines": [{"amount": 100}, {"amount": 200}, {"amount": 300}]},
        )
        l1, l2, _ = (ln["id"] for ln in invoice["lines"]["data"])
        i1, i2 = (ln["parent"]["invoice_item_details"]["invoice_item"] for ln in invoice["lines"]["data"][:2])
        result = stripe.ok(
            "POST",
            f"/v1/invoices/{invoice['id']}/remove_lines",
            f"lines[0][id]={l1}&lines[0][behavior]=delete&lines[1][id]={l2}&lines[1][behavior]=unassign",
        )
        assert [ln["amount"] for ln in result["lines"]["data"]] == [300] and result["total"] == 300
        assert stripe.error("GET", f"/v1/invoiceitems/{i1}", status=404)["code"] == "resource_missing"
        unassigned = stripe.ok("GET", f"/v1/invoiceitems/{i2}")
        assert unassigned["invoice"] is None
        pending = stripe.ok("GET", "/v1/invoiceitems", {"pending": True, "customer": invoice["customer"]})
        assert [i["id"] for i in pending["data"]] == [i2]
        other = stripe.ok("POST", "/v1/invoices", {"customer": invoice["customer"], "currency": "usd"})
        moved = stripe.ok("POST", f"/v1/invoices/{other['id']}/add_lines", {"lines": [{"invoice_item": i2}]})
        assert moved["total"] == 200

    def test_behavior_is_required_and_checked(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        invoice = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 100}]})
        line = invoice["lines"]["data"][0]["id"]
        error = stripe.error("POST", f"/v1/invoices/{invoice['id']}/remove_lines", {"lines": [{"id": line}]})
        assert error["param"] == "lines[0][behavior]" and error["code"] == "parameter_missing"
        error = stripe.error(
            "POST", f"/v1/invoices/{invoice['id']}/remove_lines", {"lines": [{"id": line, "behavior": "destroy"}]}
        )
        assert error["param"] == "lines[0][behavior]" and "delete or unassign" in error["message"]

    def test_removing_the_same_line_twice_changes_nothing(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        invoice = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 100}]})
        line = invoice["lines"]["data"][0]["id"]
        error = stripe.error(
            "POST",
            f"/v1/invoices/{invoice['id']}/remove_lines",
            {"lines": [{"id": line, "behavior": "delete"}, {"id": line, "behavior": "delete"}]},
        )
        assert error["param"] == "lines[1][id]"
        assert len(all_lines(stripe, invoice["id"])) == 1


class TestExpand:
    def test_expand_customer_and_line_discounts(self, stripe: StripeClient) -> None:
        half = coupon(stripe, percent_off="50")
        invoice = setup_invoice(stripe)
        result = stripe.ok(
            "POST",
            f"/v1/invoices/{invoice['id']}/add_lines",
            {
                "lines": [{"amount": 100, "discounts": [{"coupon": half}]}],
                "expand": ["customer", "lines.data.discounts"],
            },
        )
        assert result["customer"]["object"] == "customer"
        discount = result["lines"]["data"][0]["discounts"][0]
        assert discount["object"] == "discount" and discount["source"]["coupon"] == half
        error = stripe.error(
            "POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 1}], "expand": ["nonsense"]}
        )
        assert error["message"] == "This property cannot be expanded (nonsense)."


@pytest.mark.parametrize(
    "body",
    [
        "lines[0][amount]=99999999999999999999999",
        "lines[0][amount]=1e5",
        "lines[0][quantity_decimal]=NaN&lines[0][amount]=1",
        "lines=x",
        "lines[0]=x",
        "lines[0][metadata]=x",
        "%ff%fe=1",
        "lines" + "[a]" * 30 + "=1",
        "lines[0][period][start]=1",
    ],
)
def test_malformed_bodies_are_4xx(stripe: StripeClient, body: str) -> None:
    invoice = setup_invoice(stripe)
    response = stripe.post(f"/v1/invoices/{invoice['id']}/add_lines", body)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"


class TestEmptyStrings:
    @pytest.mark.parametrize("field", ["description", "quantity", "quantity_decimal", "discountable"])
    def test_a_field_that_cannot_be_unset(self, stripe: StripeClient, field: str) -> None:
        invoice = setup_invoice(stripe)
        error = stripe.error(
            "POST", f"/v1/invoices/{invoice['id']}/add_lines", f"lines[0][amount]=100&lines[0][{field}]="
        )
        assert (error["code"], error["param"]) == ("parameter_invalid_empty", f"lines[0][{field}]"), error
        assert f"'lines[0][{field}]' cannot be unset" in error["message"]
        assert all_lines(stripe, invoice["id"]) == []
