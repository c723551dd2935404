"""Zuora-only invariants that the Stripe dialect could break (issue 12, defect 6, and its class).

Items that belong to another item (core.applied_items): a Zuora discount item applies to one charge
item. Before the fix, Stripe's remove_lines of the charge left its discount items behind, pointing
at nothing, and Stripe's update_lines could turn a discount item positive; Zuora itself let a
discount item be deleted or made positive when it was sent as an item of its own. Also: Zuora
credit memos stay invisible to Stripe's /v1/invoiceitems, and a Zuora document dated in a closed
accounting period is not posted by a Stripe finalization either.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from bulkbill.services.platform.tenants import NewTenant
from tests.helpers import StripeClient, ZuoraClient
from tests.helpers.zuora import (
    bulk,
    closed_period,
    codes,
    dec,
    get,
    item,
    items_of,
    new_account,
    returned_line_id,
    standalone,
    to_billing,
)


def discounted(zuora: ZuoraClient, stripe: StripeClient) -> tuple[str, dict[str, str], dict[str, str]]:
    """A standalone draft: a charge of 100 with discount items of -10 and -5, and a plain item of 50.

    Returns the invoice id and, by role ("charge", "d1", "d2", "plain"), its item ids and line ids.
    """
    invoice = standalone(
        zuora, items=[item(100, discountItems=[{"amount": -10}, {"amount": -5}]), item(50, chargeName="Plain")]
    )
    charge, d1, d2, plain = items_of(zuora, invoice["id"])
    assert d1["appliedToItemId"] == d2["appliedToItemId"] == charge["id"]
    items = {"charge": charge["id"], "d1": d1["id"], "d2": d2["id"], "plain": plain["id"]}
    by_item = {
        line["parent"]["invoice_item_details"]["invoice_item"]: line["id"]
        for line in stripe.ok("GET", f"/v1/invoices/{invoice['id']}/lines")["data"]
    }
    return invoice["id"], items, {role: by_item[item_id] for role, item_id in items.items()}


def state(zuora: ZuoraClient, stripe: StripeClient, invoice_id: str) -> tuple[list[str], int, int]:
    """What both dialects show: the Zuora item ids, the Stripe total and the number of Stripe lines."""
    lines = stripe.ok("GET", f"/v1/invoices/{invoice_id}/lines")["data"]
    return (
        [i["id"] for i in items_of(zuora, invoice_id)],
        stripe.ok("GET", f"/v1/invoices/{invoice_id}")["total"],
        len(lines),
    )


def stripe_refused(stripe: StripeClient, path: str, params: dict[str, Any], param: str | None) -> None:
    error = stripe.error("POST", path, params)
    assert error["param"] == param if param is not None else "param" not in error, error


class TestStripeRemoveLines:
    def test_deleting_a_charge_deletes_its_discount_items(self, zuora: ZuoraClient, stripe: StripeClient) -> None:
        invoice_id, items, lines = discounted(zuora, stripe)
        stripe.ok(
            "POST",
            f"/v1/invoices/{invoice_id}/remove_lines",
            {"lines": [{"id": lines["charge"], "behavior": "delete"}]},
        )
        assert state(zuora, stripe, invoice_id) == ([items["plain"]], 5000, 1)
        assert dec(get(zuora, invoice_id)["amount"]) == 50
        for gone in ("charge", "d1", "d2"):
            assert stripe.get(f"/v1/invoiceitems/{items[gone]}").status_code == 404

    def test_a_charge_and_its_discounts_named_together(self, zuora: ZuoraClient, stripe: StripeClient) -> None:
        invoice_id, items, lines = discounted(zuora, stripe)
        removes = [{"id": lines[r], "behavior": "delete"} for r in ("d2", "charge", "d1")]
        stripe.ok("POST", f"/v1/invoices/{invoice_id}/remove_lines", {"lines": removes})
        assert state(zuora, stripe, invoice_id) == ([items["plain"]], 5000, 1)

    def test_a_discount_item_never_goes_alone_nor_is_unassigned(self, zuora: ZuoraClient, stripe: StripeClient) -> None:
        invoice_id, _, lines = discounted(zuora, stripe)
        before = state(zuora, stripe, invoice_id)
        path = f"/v1/invoices/{invoice_id}/remove_lines"
        plain = {"id": lines["plain"], "behavior": "delete"}
        for removes, param in (
            ([plain, {"id": lines["d1"], "behavior": "delete"}], "lines[1][id]"),
            ([{"id": lines["charge"], "behavior": "unassign"}], "lines[0][id]"),
            (
                [{"id": lines["charge"], "behavior": "delete"}, {"id": lines["d2"], "behavior": "unassign"}],
                "lines[1][id]",
            ),
        ):
            stripe_refused(stripe, path, {"lines": removes}, param)
            assert state(zuora, stripe, invoice_id) == before


class TestStripeUpdateLines:
    def test_a_discount_line_never_turns_positive(self, zuora: ZuoraClient, stripe: StripeClient) -> None:
        invoice_id, _, lines = discounted(zuora, stripe)
        before = state(zuora, stripe, invoice_id)
        path = f"/v1/invoices/{invoice_id}/update_lines"
        for change, param in (
            ({"amount": 500}, "lines[0][amount]"),
            (
                {"price_data": {"currency": "usd", "unit_amount": 300, "product_data": {"name": "x"}}},
                "lines[0][price_data]",
            ),
        ):
            stripe_refused(stripe, path, {"lines": [{"id": lines["d1"], **change}]}, param)
            assert state(zuora, stripe, invoice_id) == before
        # The last change of a line counts; other lines and a negative amount are fine.
        updates = [
            {"id": lines["d1"], "amount": 500},
            {"id": lines["d1"], "amount": -2000},
            {"id": lines["charge"], "amount": 20000},
        ]
        assert stripe.ok("POST", path, {"lines": updates})["total"] == 20000 - 2000 - 500 + 5000
        assert [dec(i["chargeAmount"]) for i in items_of(zuora, invoice_id)] == [200, -20, -5, 50]


class TestStripeInvoiceItems:
    def test_update_and_delete_follow_the_same_rule(self, zuora: ZuoraClient, stripe: StripeClient) -> None:
        invoice_id, items, _ = discounted(zuora, stripe)
        before = state(zuora, stripe, invoice_id)
        stripe_refused(stripe, f"/v1/invoiceitems/{items['d1']}", {"amount": 100}, "amount")
        stripe_refused(
            stripe,
            f"/v1/invoiceitems/{items['d1']}",
            {"quantity": 1, "unit_amount_decimal": "7"},
            "unit_amount_decimal",
        )
        response = stripe.delete(f"/v1/invoiceitems/{items['d2']}")
        assert response.status_code == 400 and "param" not in response.json()["error"], response.text
        assert state(zuora, stripe, invoice_id) == before
        assert stripe.ok("POST", f"/v1/invoiceitems/{items['d1']}", {"amount": -300})["amount"] == -300
        assert stripe.delete(f"/v1/invoiceitems/{items['charge']}").status_code == 200
        assert state(zuora, stripe, invoice_id) == ([items["plain"]], 5000, 1)

    def test_credit_memo_items_are_not_stripe_invoice_items(
        self, client: TestClient, tenant: NewTenant, zuora: ZuoraClient, stripe: StripeClient
    ) -> None:
        account = new_account(client, tenant)
        ret = returned_line_id(zuora, account)
        [memo] = bulk(zuora, to_billing(ret), runBilling=True)["creditMemos"]
        [memo_item] = zuora.ok("GET", f"/v1/credit-memos/{memo['creditMemoNumber']}/items")["items"]
        assert stripe.get(f"/v1/invoiceitems/{memo_item['id']}").status_code == 404
        assert stripe.post(f"/v1/invoiceitems/{memo_item['id']}", {"amount": 1}).status_code == 404
        assert stripe.delete(f"/v1/invoiceitems/{memo_item['id']}").status_code == 404
        listed = stripe.ok("GET", "/v1/invoiceitems", {"limit": 100})["data"]
        assert memo_item["id"] not in {i["id"] for i in listed}
        assert zuora.ok("GET", f"/v1/credit-memos/{memo['creditMemoNumber']}/items")["items"] == [memo_item]


class TestZuoraItemsOfTheirOwn:
    """The same rule when Zuora's PUT /v1/invoices names a discount item as an item of its own."""

    def edit(self, zuora: ZuoraClient, invoice_id: str, entries: list[dict[str, Any]], status: int) -> dict[str, Any]:
        body = {"invoices": [{"id": invoice_id, "invoiceItems": entries}]}
        if status == 200:
            return zuora.ok("PUT", "/v1/invoices", body)
        return zuora.fail("PUT", "/v1/invoices", body, status=status)

    def test_refused(self, zuora: ZuoraClient, stripe: StripeClient) -> None:
        invoice_id, items, _ = discounted(zuora, stripe)
        before = state(zuora, stripe, invoice_id)
        for entries in (
            [{"id": items["d1"], "delete": True}],
            [{"id": items["d1"], "amount": 4}],
            [{"id": items["charge"], "delete": True, "discountItems": [{"amount": -1}]}],
            [{"id": items["d1"], "discountItems": [{"amount": -1}]}],
            [{"id": items["charge"], "discountItems": [{"id": items["d1"], "delete": True}]}],
        ):
            failed = self.edit(zuora, invoice_id, entries, 400)
            assert codes(failed) == [50000020], (entries, failed)
            assert state(zuora, stripe, invoice_id) == before

    def test_accepted(self, zuora: ZuoraClient, stripe: StripeClient) -> None:
        invoice_id, items, _ = discounted(zuora, stripe)
        self.edit(zuora, invoice_id, [{"id": items["d1"], "amount": -7}], 200)
        assert [dec(i["chargeAmount"]) for i in items_of(zuora, invoice_id)] == [100, -7, -5, 50]
        both = [{"id": items["charge"], "delete": True}, {"id": items["d2"], "delete": True}]
        self.edit(zuora, invoice_id, both, 200)
        assert state(zuora, stripe, invoice_id) == ([items["plain"]], 5000, 1)


def test_a_closed_period_holds_for_a_stripe_finalization(zuora: ZuoraClient, stripe: StripeClient) -> None:
    draft = standalone(zuora, invoiceDate="2024-08-11")
    closed_period(zuora, "2024-08-01", "2024-08-31", "Aug")
    assert codes(zuora.fail("PUT", f"/v1/invoices/{draft['id']}/post", {}, status=400)) == [50000030]
    error = stripe.error("POST", f"/v1/invoices/{draft['id']}/finalize")
    assert "closed accounting period" in error["message"], error
    assert get(zuora, draft["id"])["status"] == "Draft"
    assert stripe.ok("GET", f"/v1/invoices/{draft['id']}")["status"] == "draft"
