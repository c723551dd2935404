"""/v1/test_helpers/test_clocks and what advancing one does: renewal drafts, the hour to edit them, finalization.

On SQLite and PostgreSQL. The subscription lines of a renewal draft take only tax_rates, discounts
and metadata (spec Decision 6) while invoice-item lines on the same invoice keep every right, in
one all-or-nothing update_lines call.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import StripeClient
from tests.helpers.schema import assert_stripe_schema
from tests.helpers.stripe import (
    DAY,
    FEB1,
    MAR1,
    T0,
    advance,
    assert_invoice,
    coupon,
    invoice,
    invoices_of,
    new_clock,
    new_customer,
    recurring_price,
    subscribe,
    tax_rate,
    ts,
    world,
)

HOUR = 3600


def latest_invoice(stripe: StripeClient, sub_id: str) -> dict[str, Any]:
    return invoice(stripe, stripe.ok("GET", f"/v1/subscriptions/{sub_id}")["latest_invoice"])


class TestClockObject:
    def test_create_retrieve_list_delete(self, stripe: StripeClient) -> None:
        first = new_clock(stripe, T0)
        second = new_clock(stripe, FEB1)
        body = stripe.ok("GET", f"/v1/test_helpers/test_clocks/{first}")
        assert_stripe_schema(body, "test_helpers.test_clock")
        assert (body["frozen_time"], body["name"], body["status"], body["livemode"]) == (T0, "billing", "ready", False)
        assert body["deletes_after"] == body["created"] + 30 * DAY
        listed = stripe.ok("GET", "/v1/test_helpers/test_clocks")
        assert [c["id"] for c in listed["data"]] == [second, first]
        assert listed["url"] == "/v1/test_helpers/test_clocks"
        deleted = stripe.ok("DELETE", f"/v1/test_helpers/test_clocks/{first}")
        assert deleted == {"id": first, "object": "test_helpers.test_clock", "deleted": True}
        assert stripe.error("GET", f"/v1/test_helpers/test_clocks/{first}", status=404)["code"] == "resource_missing"
        assert [c["id"] for c in stripe.ok("GET", "/v1/test_helpers/test_clocks")["data"]] == [second]

    def test_bad_input(self, stripe: StripeClient, other_stripe: StripeClient) -> None:
        assert stripe.error("POST", "/v1/test_helpers/test_clocks", {})["param"] == "frozen_time"
        assert stripe.error("POST", "/v1/test_helpers/test_clocks", {"frozen_time": "soon"})["param"] == "frozen_time"
        clock = new_clock(stripe)
        assert other_stripe.error("GET", f"/v1/test_helpers/test_clocks/{clock}", status=404)["code"] == (
            "resource_missing"
        )
        error = other_stripe.error(
            "POST", f"/v1/test_helpers/test_clocks/{clock}/advance", {"frozen_time": FEB1}, status=404
        )
        assert error["code"] == "resource_missing"
        error = stripe.error("POST", "/v1/customers", {"test_clock": "clock_nope"})
        assert (error["param"], error["code"]) == ("test_clock", "resource_missing")
        # test_clock is fixed at creation
        customer = new_customer(stripe, clock)
        assert stripe.error("POST", f"/v1/customers/{customer}", {"test_clock": clock})["code"] == "parameter_unknown"

    def test_deleting_a_clock_deletes_its_customers_and_ends_their_subscriptions(self, stripe: StripeClient) -> None:
        w = world(stripe)
        stripe.ok("DELETE", f"/v1/test_helpers/test_clocks/{w['clock']}")
        assert stripe.ok("GET", f"/v1/customers/{w['customer']}")["deleted"] is True
        sub = stripe.ok("GET", f"/v1/subscriptions/{w['sub']['id']}")
        assert (sub["status"], sub["ended_at"]) == ("canceled", T0)
        assert invoice(stripe, w["sub"]["latest_invoice"])["status"] == "open"  # invoices stay


class TestAdvanceRules:
    def test_only_forward_and_at_most_two_intervals(self, stripe: StripeClient) -> None:
        w = world(stripe)
        path = f"/v1/test_helpers/test_clocks/{w['clock']}/advance"
        assert stripe.error("POST", path, {"frozen_time": T0 - 1})["param"] == "frozen_time"
        assert stripe.error("POST", path, {"frozen_time": MAR1 + 1})["param"] == "frozen_time"
        assert stripe.error("POST", path, {})["param"] == "frozen_time"
        # the same time again changes nothing
        advance(stripe, w["clock"], T0)
        assert len(invoices_of(stripe, w["customer"])) == 1

    def test_a_clock_without_subscriptions_moves_freely(self, stripe: StripeClient) -> None:
        clock = new_clock(stripe)
        advance(stripe, clock, ts(2030, 1, 1))

    def test_replayed_advance_bills_once(self, stripe: StripeClient) -> None:
        w = world(stripe)
        path = f"/v1/test_helpers/test_clocks/{w['clock']}/advance"
        first = stripe.post(path, {"frozen_time": FEB1}, headers={"Idempotency-Key": "adv-1"})
        again = stripe.post(path, {"frozen_time": FEB1}, headers={"Idempotency-Key": "adv-1"})
        assert first.status_code == again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
        assert first.json() == again.json()
        # a plain repeat without a key is harmless too
        advance(stripe, w["clock"], FEB1)
        assert len(invoices_of(stripe, w["customer"])) == 2

    def test_a_failure_anywhere_changes_nothing(
        self, stripe: StripeClient, monkeypatch: pytest.MonkeyPatch, client: TestClient
    ) -> None:
        # given: advancing over one renewal and its finalization
        w = world(stripe)
        before = invoices_of(stripe, w["customer"])

        def broken(*_args: Any, **_kw: Any) -> None:
            raise RuntimeError("finalization failed")

        monkeypatch.setattr("bulkbill.services.subscriptions.subscriptions.finalize_invoice", broken)
        # when
        response = stripe.post(f"/v1/test_helpers/test_clocks/{w['clock']}/advance", {"frozen_time": FEB1 + HOUR})
        # then: the renewal made before the failure is gone too
        assert response.status_code == 500
        monkeypatch.undo()
        assert stripe.ok("GET", f"/v1/test_helpers/test_clocks/{w['clock']}")["frozen_time"] == T0
        assert invoices_of(stripe, w["customer"]) == before
        sub = stripe.ok("GET", f"/v1/subscriptions/{w['sub']['id']}")
        assert sub["items"]["data"][0]["current_period_end"] == FEB1
        # and the same advance then works
        advance(stripe, w["clock"], FEB1 + HOUR)
        assert latest_invoice(stripe, w["sub"]["id"])["status"] == "open"


class TestRenewal:
    def test_draft_for_an_hour_with_pending_items_then_finalized(self, stripe: StripeClient) -> None:
        # given: a subscription and a pending item added mid-period
        w = world(stripe)
        sub_id = w["sub"]["id"]
        advance(stripe, w["clock"], T0 + 10 * DAY)
        pending = stripe.ok(
            "POST",
            "/v1/invoiceitems",
            {"customer": w["customer"], "amount": 700, "currency": "usd", "description": "Setup"},
        )
        # when: the period ends
        advance(stripe, w["clock"], FEB1)
        # then: a draft renewal with the pending item first, then one line per item for the next period
        renewal = latest_invoice(stripe, sub_id)
        assert renewal["id"] != w["sub"]["latest_invoice"]
        assert (renewal["status"], renewal["billing_reason"], renewal["auto_advance"]) == (
            "draft",
            "subscription_cycle",
            True,
        )
        assert (renewal["created"], renewal["automatically_finalizes_at"]) == (FEB1, FEB1 + HOUR)
        assert (renewal["period_start"], renewal["period_end"]) == (T0, FEB1)
        assert renewal["number"] is None and renewal["total"] == 4200
        assert renewal["test_clock"] == w["clock"]
        assert renewal["parent"]["subscription_details"]["subscription"] == sub_id
        lines = renewal["lines"]["data"]
        assert [ln["parent"]["type"] for ln in lines] == [
            "invoice_item_details",
            "subscription_item_details",
            "subscription_item_details",
        ]
        assert lines[0]["parent"]["invoice_item_details"]["invoice_item"] == pending["id"]
        items = w["sub"]["items"]["data"]
        for line, item in zip(lines[1:], items, strict=True):
            assert line["parent"]["subscription_item_details"]["subscription_item"] == item["id"]
            assert line["subscription"] == sub_id
            assert line["period"] == {"start": FEB1, "end": MAR1}
        assert stripe.ok("GET", "/v1/invoiceitems", {"customer": w["customer"], "pending": True})["data"] == []
        # a subscription's draft cannot be deleted: its period would never be billed
        refused = stripe.error("DELETE", f"/v1/invoices/{renewal['id']}")
        assert "only be voided" in refused["message"]
        sub = stripe.ok("GET", f"/v1/subscriptions/{sub_id}")
        assert all((i["current_period_start"], i["current_period_end"]) == (FEB1, MAR1) for i in sub["items"]["data"])
        # half an hour later it is still a draft
        advance(stripe, w["clock"], FEB1 + HOUR // 2)
        assert latest_invoice(stripe, sub_id)["status"] == "draft"
        # one hour after creation it is finalized
        advance(stripe, w["clock"], FEB1 + HOUR)
        final = latest_invoice(stripe, sub_id)
        assert (final["status"], final["status_transitions"]["finalized_at"]) == ("open", FEB1 + HOUR)
        assert final["number"] is not None and final["automatically_finalizes_at"] is None

    def test_auto_advance_off_keeps_the_draft(self, stripe: StripeClient) -> None:
        w = world(stripe)
        advance(stripe, w["clock"], FEB1)
        draft = latest_invoice(stripe, w["sub"]["id"])
        stripe.ok("POST", f"/v1/invoices/{draft['id']}", {"auto_advance": False})
        advance(stripe, w["clock"], FEB1 + 2 * HOUR)
        assert invoice(stripe, draft["id"])["status"] == "draft"
        assert invoice(stripe, draft["id"])["automatically_finalizes_at"] is None

    def test_several_periods_in_one_advance_keep_the_month_end_anchor(self, stripe: StripeClient) -> None:
        # given: a subscription started on January 31st
        jan31 = ts(2025, 1, 31, 12)
        clock = new_clock(stripe, jan31)
        customer = new_customer(stripe, clock)
        sub = subscribe(stripe, customer, [{"price": recurring_price(stripe, 1000)}])
        # when: two months at once
        advance(stripe, clock, ts(2025, 3, 31, 12))
        # then: renewals on Feb 28 and Mar 31; the first one's hour has passed
        renewals = [i for i in invoices_of(stripe, customer) if i["billing_reason"] == "subscription_cycle"]
        assert [(i["created"], i["status"]) for i in renewals] == [
            (ts(2025, 2, 28, 12), "open"),
            (ts(2025, 3, 31, 12), "draft"),
        ]
        assert [i["lines"]["data"][0]["period"] for i in renewals] == [
            {"start": ts(2025, 2, 28, 12), "end": ts(2025, 3, 31, 12)},
            {"start": ts(2025, 3, 31, 12), "end": ts(2025, 4, 30, 12)},
        ]
        assert renewals[0]["status_transitions"]["finalized_at"] == ts(2025, 2, 28, 13)
        body = stripe.ok("GET", f"/v1/subscriptions/{sub['id']}")
        assert body["items"]["data"][0]["current_period_end"] == ts(2025, 4, 30, 12)

    def test_a_deleted_customers_subscription_ends_instead_of_renewing(self, stripe: StripeClient) -> None:
        w = world(stripe)
        stripe.ok("DELETE", f"/v1/customers/{w['customer']}")
        advance(stripe, w["clock"], FEB1)
        sub = stripe.ok("GET", f"/v1/subscriptions/{w['sub']['id']}")
        assert (sub["status"], sub["ended_at"], sub["latest_invoice"]) == ("canceled", FEB1, w["sub"]["latest_invoice"])
        advance(stripe, w["clock"], MAR1)

    def test_only_the_clocks_customers_renew(self, stripe: StripeClient) -> None:
        w = world(stripe)
        elsewhere = new_clock(stripe)
        other = new_customer(stripe, elsewhere)
        subscribe(stripe, other, [{"price": w["seat"]}])
        advance(stripe, w["clock"], FEB1)
        assert len(invoices_of(stripe, w["customer"])) == 2
        assert len(invoices_of(stripe, other)) == 1


class TestEditingTheRenewalDraft:
    """The hour Stripe leaves a renewal a draft is when teams edit it with update_lines."""

    def setup_draft(self, stripe: StripeClient) -> dict[str, Any]:
        w = world(stripe)
        advance(stripe, w["clock"], T0 + 3 * DAY)
        stripe.ok("POST", "/v1/invoiceitems", {"customer": w["customer"], "amount": 700, "currency": "usd"})
        advance(stripe, w["clock"], FEB1)
        draft = latest_invoice(stripe, w["sub"]["id"])
        lines = draft["lines"]["data"]
        w.update(
            draft=draft,
            item_line=lines[0]["id"],
            seat_line=lines[1]["id"],
            support_line=lines[2]["id"],
            vat=tax_rate(stripe, "20"),
            ten=coupon(stripe, percent_off="10"),
        )
        return w

    def test_mixed_update_then_finalized_with_the_edited_totals(self, stripe: StripeClient) -> None:
        # given: a renewal draft of 700 (invoice item) + 3000 (2 seats) + 500 (support)
        w = self.setup_draft(stripe)
        draft_id = w["draft"]["id"]
        # when: tax, coupon and metadata on the subscription lines, everything on the invoice-item line
        edited = stripe.ok(
            "POST",
            f"/v1/invoices/{draft_id}/update_lines",
            {
                "lines": [
                    {"id": w["seat_line"], "tax_rates": [w["vat"]], "metadata": {"cost_center": "eng"}},
                    {"id": w["support_line"], "discounts": [{"coupon": w["ten"]}]},
                    {"id": w["item_line"], "amount": 900, "description": "Setup (revised)", "tax_rates": [w["vat"]]},
                ]
            },
        )
        # then: totals follow: 3000 + 600 VAT; 500 - 50; 900 + 180 VAT
        assert_invoice(edited)
        assert (edited["subtotal"], edited["total"]) == (4350, 4350 + 600 + 180)
        by_id = {ln["id"]: ln for ln in edited["lines"]["data"]}
        assert by_id[w["seat_line"]]["metadata"] == {"cost_center": "eng"}  # replaced, not merged
        assert by_id[w["seat_line"]]["taxes"][0]["amount"] == 600
        assert by_id[w["support_line"]]["discount_amounts"][0]["amount"] == 50
        assert (by_id[w["item_line"]]["amount"], by_id[w["item_line"]]["description"]) == (900, "Setup (revised)")
        # when the hour is over, it is finalized with those totals
        advance(stripe, w["clock"], FEB1 + HOUR)
        final = invoice(stripe, draft_id)
        assert (final["status"], final["total"], final["amount_due"]) == ("open", 5130, 5130)

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("quantity", 3),
            ("amount", 100),
            ("description", "cheaper"),
            ("price", "price_x"),
            ("pricing", {"price": "price_x"}),
            ("period", {"start": FEB1, "end": MAR1}),
            ("discountable", False),
        ],
    )
    def test_other_fields_refused_on_subscription_lines_and_nothing_changes(
        self, stripe: StripeClient, field: str, value: Any
    ) -> None:
        w = self.setup_draft(stripe)
        draft_id = w["draft"]["id"]
        before = invoice(stripe, draft_id)
        error = stripe.error(
            "POST",
            f"/v1/invoices/{draft_id}/update_lines",
            {
                "lines": [
                    {"id": w["item_line"], "amount": 900},
                    {"id": w["seat_line"], "tax_rates": [w["vat"]], field: value},
                ]
            },
        )
        assert error["param"] == f"lines[1][{field}]", error
        assert error["message"] == "Only tax_rates, discounts and metadata can be updated on subscription line items."
        assert invoice(stripe, draft_id) == before

    def test_subscription_lines_cannot_be_removed_invoice_item_lines_can(self, stripe: StripeClient) -> None:
        w = self.setup_draft(stripe)
        draft_id = w["draft"]["id"]
        before = invoice(stripe, draft_id)
        error = stripe.error(
            "POST",
            f"/v1/invoices/{draft_id}/remove_lines",
            {"lines": [{"id": w["item_line"], "behavior": "unassign"}, {"id": w["seat_line"], "behavior": "delete"}]},
        )
        assert error["param"] == "lines[1][id]"
        assert invoice(stripe, draft_id) == before
        after = stripe.ok(
            "POST", f"/v1/invoices/{draft_id}/remove_lines", {"lines": [{"id": w["item_line"], "behavior": "unassign"}]}
        )
        assert [ln["id"] for ln in after["lines"]["data"]] == [w["seat_line"], w["support_line"]]
        assert after["total"] == 3500

    def test_subscription_metadata_replaced_and_cleared(self, stripe: StripeClient) -> None:
        w = self.setup_draft(stripe)
        path = f"/v1/invoices/{w['draft']['id']}/update_lines"
        stripe.ok("POST", path, {"lines": [{"id": w["seat_line"], "metadata": {"a": "1", "b": "2"}}]})
        body = stripe.ok("POST", path, {"lines": [{"id": w["seat_line"], "metadata": {"b": "3"}}]})
        assert body["lines"]["data"][1]["metadata"] == {"b": "3"}
        body = stripe.ok("POST", path, {"lines": [{"id": w["seat_line"], "metadata": "", "tax_rates": ""}]})
        assert body["lines"]["data"][1]["metadata"] == {}

    def test_finalized_renewals_are_no_longer_editable(self, stripe: StripeClient) -> None:
        w = self.setup_draft(stripe)
        advance(stripe, w["clock"], FEB1 + HOUR)
        error = stripe.error(
            "POST",
            f"/v1/invoices/{w['draft']['id']}/update_lines",
            {"lines": [{"id": w["seat_line"], "tax_rates": [w["vat"]]}]},
        )
        assert error["code"] == "invoice_not_editable"
