"""Invoice lifecycle, numbering, pending items, discounts and taxes at invoice level."""

from __future__ import annotations

from tests.helpers import StripeClient
from tests.helpers.stripe import coupon, pending_item, setup_invoice, tax_rate


class TestCreate:
    def test_defaults_and_shape(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        assert invoice["object"] == "invoice" and invoice["id"].startswith("in_")
        assert invoice["status"] == "draft" and invoice["number"] is None
        assert invoice["collection_method"] == "charge_automatically" and invoice["auto_advance"] is False
        assert invoice["lines"] == {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/invoices/{invoice['id']}/lines",
        }
        assert invoice["total"] == 0 and invoice["amount_due"] == 0

    def test_pending_items_behavior(self, stripe: StripeClient) -> None:
        customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
        first = pending_item(stripe, customer, 100)
        second = pending_item(stripe, customer, 200)
        pending_item(stripe, customer, 999, currency="eur")
        excluded = stripe.ok("POST", "/v1/invoices", {"customer": customer, "currency": "usd"})
        assert excluded["lines"]["data"] == []
        included = stripe.ok(
            "POST",
            "/v1/invoices",
            {"customer": customer, "currency": "usd", "pending_invoice_items_behavior": "include"},
        )
        # pending items join newest first, and only those in the invoice currency
        assert [ln["parent"]["invoice_item_details"]["invoice_item"] for ln in included["lines"]["data"]] == [
            second,
            first,
        ]
        assert included["total"] == 300

    def test_send_invoice_needs_terms(self, stripe: StripeClient) -> None:
        customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
        error = stripe.error("POST", "/v1/invoices", {"customer": customer, "days_until_due": 30})
        assert error["param"] == "days_until_due"
        invoice = stripe.ok(
            "POST", "/v1/invoices", {"customer": customer, "collection_method": "send_invoice", "days_until_due": 30}
        )
        assert invoice["collection_method"] == "send_invoice"

    def test_unknown_customer_is_a_param_error(self, stripe: StripeClient) -> None:
        error = stripe.error("POST", "/v1/invoices", {"customer": "cus_nope"})
        assert error["code"] == "resource_missing" and error["param"] == "customer"
        assert stripe.error("POST", "/v1/invoices", {})["param"] == "customer"

    def test_invoice_discounts_and_default_tax_rates(self, stripe: StripeClient) -> None:
        five_off = coupon(stripe, amount_off=500, currency="usd")
        incl = tax_rate(stripe, "25", inclusive=True)
        invoice = setup_invoice(stripe, **{"discounts[0][coupon]": five_off, "default_tax_rates[0]": incl})
        assert invoice["default_tax_rates"][0]["id"] == incl and invoice["discounts"][0].startswith("di_")
        result = stripe.ok(
            "POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 1000}, {"amount": 3000}]}
        )
        # 500 off spread 125/375 by weight; inclusive 25 % tax inside what remains
        assert [d["amount"] for ln in result["lines"]["data"] for d in ln["discount_amounts"]] == [125, 375]
        assert result["total"] == 3500
        tax = result["total_taxes"][0]
        assert tax["tax_behavior"] == "inclusive" and tax["amount"] == 700 and tax["taxable_amount"] == 2800
        assert result["total_excluding_tax"] == 2800

    def test_amount_off_coupon_in_other_currency_is_refused(self, stripe: StripeClient) -> None:
        euros = coupon(stripe, amount_off=500, currency="eur")
        customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
        error = stripe.error(
            "POST", "/v1/invoices", {"customer": customer, "currency": "usd", "discounts": [{"coupon": euros}]}
        )
        assert error["param"] == "discounts[0][coupon]"


class TestLifecycle:
    def test_finalize_numbers_are_gapless_per_customer(self, stripe: StripeClient) -> None:
        customer = stripe.ok("POST", "/v1/customers", {"name": "Ada", "invoice_prefix": "ADA1"})["id"]
        numbers = []
        for amount in (100, 200, 0):
            invoice = stripe.ok("POST", "/v1/invoices", {"customer": customer, "currency": "usd"})
            if amount:
                stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": amount}]})
            final = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/finalize")
            numbers.append(final["number"])
            assert final["status"] == ("paid" if amount == 0 else "open")
            assert final["status_transitions"]["finalized_at"] is not None
        assert numbers == ["ADA1-0001", "ADA1-0002", "ADA1-0003"]
        assert stripe.ok("GET", f"/v1/customers/{customer}")["next_invoice_sequence"] == 4

    def test_pay_void_uncollectible(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        iid = invoice["id"]
        stripe.ok("POST", f"/v1/invoices/{iid}/add_lines", {"lines": [{"amount": 700}]})
        assert stripe.error("POST", f"/v1/invoices/{iid}/pay", {"paid_out_of_band": True})["message"]
        stripe.ok("POST", f"/v1/invoices/{iid}/finalize")
        assert stripe.error("POST", f"/v1/invoices/{iid}/pay")["param"] == "paid_out_of_band"
        unc = stripe.ok("POST", f"/v1/invoices/{iid}/mark_uncollectible")
        assert unc["status"] == "uncollectible"
        paid = stripe.ok("POST", f"/v1/invoices/{iid}/pay", {"paid_out_of_band": True})
        assert (paid["status"], paid["amount_paid"], paid["amount_remaining"], paid["amount_paid_off_stripe"]) == (
            "paid",
            700,
            0,
            700,
        )
        assert stripe.error("POST", f"/v1/invoices/{iid}/void")["message"]
        other = setup_invoice(stripe)
        stripe.ok("POST", f"/v1/invoices/{other['id']}/add_lines", {"lines": [{"amount": 5}]})
        stripe.ok("POST", f"/v1/invoices/{other['id']}/finalize")
        voided = stripe.ok("POST", f"/v1/invoices/{other['id']}/void")
        assert voided["status"] == "void" and voided["status_transitions"]["voided_at"]

    def test_customer_credit_balance_applies_at_finalization(self, stripe: StripeClient) -> None:
        customer = stripe.ok("POST", "/v1/customers", {"name": "Ada", "balance": -300})["id"]
        invoice = stripe.ok("POST", "/v1/invoices", {"customer": customer, "currency": "usd"})
        stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 1000}]})
        final = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/finalize")
        assert (final["starting_balance"], final["amount_due"], final["ending_balance"]) == (-300, 700, 0)
        assert stripe.ok("GET", f"/v1/customers/{customer}")["balance"] == 0

    def test_delete_draft_returns_items_to_pending(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        added = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 100}]})
        item = added["lines"]["data"][0]["parent"]["invoice_item_details"]["invoice_item"]
        assert stripe.ok("DELETE", f"/v1/invoices/{invoice['id']}") == {
            "id": invoice["id"],
            "object": "invoice",
            "deleted": True,
        }
        assert stripe.error("GET", f"/v1/invoices/{invoice['id']}", status=404)["code"] == "resource_missing"
        assert stripe.ok("GET", f"/v1/invoiceitems/{item}")["invoice"] is None
        final = setup_invoice(stripe)
        stripe.ok("POST", f"/v1/invoices/{final['id']}/finalize")
        assert stripe.error("DELETE", f"/v1/invoices/{final['id']}")["message"]

    def test_finalized_invoice_accepts_only_metadata_like_fields(self, stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        stripe.ok("POST", f"/v1/invoices/{invoice['id']}/finalize")
        updated = stripe.ok("POST", f"/v1/invoices/{invoice['id']}", {"metadata": {"a": "b"}, "description": "d"})
        assert updated["metadata"] == {"a": "b"} and updated["description"] == "d"
        error = stripe.error(
            "POST", f"/v1/invoices/{invoice['id']}", {"collection_method": "send_invoice", "days_until_due": 3}
        )
        assert error["code"] == "invoice_not_editable"


class TestListAndIsolation:
    def test_list_filters(self, stripe: StripeClient) -> None:
        a = setup_invoice(stripe)
        b = setup_invoice(stripe)
        stripe.ok("POST", f"/v1/invoices/{b['id']}/finalize")
        drafts = stripe.ok("GET", "/v1/invoices", {"status": "draft"})
        assert [i["id"] for i in drafts["data"]] == [a["id"]]
        by_customer = stripe.ok("GET", "/v1/invoices", {"customer": b["customer"]})
        assert [i["id"] for i in by_customer["data"]] == [b["id"]]

    def test_other_tenant_sees_nothing(self, stripe: StripeClient, other_stripe: StripeClient) -> None:
        invoice = setup_invoice(stripe)
        added = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 100}]})
        line = added["lines"]["data"][0]
        item = line["parent"]["invoice_item_details"]["invoice_item"]
        for method, path, data in (
            ("GET", f"/v1/invoices/{invoice['id']}", None),
            ("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 1}]}),
            ("POST", f"/v1/invoices/{invoice['id']}/finalize", None),
            ("GET", f"/v1/invoices/{invoice['id']}/lines", None),
            ("GET", f"/v1/invoiceitems/{item}", None),
            ("DELETE", f"/v1/invoiceitems/{item}", None),
        ):
            error = other_stripe.error(method, path, data, status=404)
            assert error["code"] == "resource_missing"
        assert other_stripe.ok("GET", "/v1/invoices")["data"] == []
        # and nothing changed for the owner
        assert stripe.ok("GET", f"/v1/invoices/{invoice['id']}")["total"] == 100


class TestSend:
    def test_send_finalizes_a_draft_and_needs_send_invoice(self, stripe: StripeClient) -> None:
        auto = setup_invoice(stripe)
        assert stripe.error("POST", f"/v1/invoices/{auto['id']}/send")["message"].startswith("You can only manually")
        manual = setup_invoice(stripe, collection_method="send_invoice", days_until_due=30)
        stripe.ok("POST", f"/v1/invoices/{manual['id']}/add_lines", {"lines": [{"amount": 100}]})
        sent = stripe.ok("POST", f"/v1/invoices/{manual['id']}/send")
        assert sent["status"] == "open" and sent["number"]
        assert sent["due_date"] == sent["status_transitions"]["finalized_at"] + 30 * 86400
        again = stripe.ok("POST", f"/v1/invoices/{manual['id']}/send")
        assert again["number"] == sent["number"]
        stripe.ok("POST", f"/v1/invoices/{manual['id']}/void")
        assert stripe.error("POST", f"/v1/invoices/{manual['id']}/send")["message"]


def test_an_invoice_statement_descriptor_follows_the_rule_products_follow(stripe: StripeClient) -> None:
    invoice = setup_invoice(stripe)
    for bad in ("12345", 'ACME "X"', "A*B"):
        error = stripe.error("POST", f"/v1/invoices/{invoice['id']}", {"statement_descriptor": bad})
        assert error["param"] == "statement_descriptor"
    assert stripe.ok("GET", f"/v1/invoices/{invoice['id']}")["statement_descriptor"] is None  # nothing changed
    ok = stripe.ok("POST", f"/v1/invoices/{invoice['id']}", {"statement_descriptor": "ACME 42"})
    assert ok["statement_descriptor"] == "ACME 42"
