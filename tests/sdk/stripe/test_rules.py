"""The bulk endpoints' restrictions, pagination, idempotency and tenant isolation, through the SDK."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import stripe

from tests.helpers.sdk import SdkTenant

pytestmark = pytest.mark.sdk


def invoice_with_lines(sdk: SdkTenant, *amounts: int, customer: str | None = None) -> stripe.Invoice:
    invoice = sdk.invoice(customer)
    return sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": a} for a in amounts]})


def snapshot(sdk: SdkTenant, invoice_id: str) -> dict[str, Any]:
    """Everything a refused call must leave alone: the invoice, all its lines, the customer's items."""
    invoice = sdk.client.v1.invoices.retrieve(invoice_id).to_dict()
    items = sdk.client.v1.invoice_items.list({"customer": invoice["customer"], "limit": 100}).to_dict()
    return {"invoice": invoice, "lines": [ln.to_dict() for ln in sdk.lines(invoice_id)], "items": items["data"]}


class TestRestrictions:
    def test_finalized_invoice_is_not_editable(self, sdk: SdkTenant) -> None:
        invoice = invoice_with_lines(sdk, 1000)
        line = invoice.lines.data[0].id
        invoice = sdk.client.v1.invoices.finalize_invoice(invoice.id)
        assert invoice.status == "open"
        before = snapshot(sdk, invoice.id)
        calls = [
            lambda: sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 1}]}),
            lambda: sdk.client.v1.invoices.update_lines(invoice.id, {"lines": [{"id": line, "description": "x"}]}),
            lambda: sdk.client.v1.invoices.remove_lines(invoice.id, {"lines": [{"id": line, "behavior": "delete"}]}),
        ]
        for call in calls:
            with pytest.raises(stripe.InvalidRequestError) as caught:
                call()
            assert (caught.value.http_status, caught.value.code) == (400, "invoice_not_editable")
        assert snapshot(sdk, invoice.id) == before

    def test_at_most_50_lines_per_call(self, sdk: SdkTenant) -> None:
        invoice = sdk.invoice()
        invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 1}] * 50})
        assert len(sdk.lines(invoice.id)) == 50 and invoice.total == 50
        line = invoice.lines.data[0].id
        before = snapshot(sdk, invoice.id)
        calls = [
            lambda: sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 1}] * 51}),
            lambda: sdk.client.v1.invoices.update_lines(invoice.id, {"lines": [{"id": line}] * 51}),
            lambda: sdk.client.v1.invoices.remove_lines(
                invoice.id, {"lines": [{"id": line, "behavior": "unassign"}] * 51}
            ),
        ]
        for call in calls:
            with pytest.raises(stripe.InvalidRequestError) as caught:
                call()
            assert (caught.value.http_status, caught.value.param) == (400, "lines")
            assert "50" in caught.value.user_message
        assert snapshot(sdk, invoice.id) == before

    def test_line_id_as_invoice_item(self, sdk: SdkTenant) -> None:
        invoice = invoice_with_lines(sdk, 700)
        line_id = invoice.lines.data[0].id
        before = snapshot(sdk, invoice.id)
        with pytest.raises(stripe.InvalidRequestError) as caught:
            sdk.client.v1.invoices.add_lines(
                invoice.id, {"lines": [{"amount": 1}, {"amount": 2}, {"invoice_item": line_id}]}
            )
        err = caught.value
        assert (err.http_status, err.code, err.param) == (400, "resource_missing", "lines[2][invoice_item]")
        assert err.user_message == f"No such invoiceitem: '{line_id}'"
        assert err.error is not None and err.error.type == "invalid_request_error"
        assert snapshot(sdk, invoice.id) == before

    def test_line_currency_must_match_the_invoice(self, sdk: SdkTenant) -> None:
        invoice = sdk.invoice()
        before = snapshot(sdk, invoice.id)
        with pytest.raises(stripe.InvalidRequestError) as caught:
            sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 7500, "currency": "eur"}]})
        assert (caught.value.http_status, caught.value.param) == (400, "lines[0][currency]")
        assert snapshot(sdk, invoice.id) == before
        # the same currency in capitals is the invoice currency
        invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 7500, "currency": "USD"}]})
        assert invoice.lines.data[0].currency == "usd" and invoice.total == 7500

    def test_unknown_parameter(self, sdk: SdkTenant) -> None:
        invoice = sdk.invoice()
        with pytest.raises(stripe.InvalidRequestError) as caught:
            sdk.client.v1.invoices.add_lines(
                invoice.id,
                {"lines": [{"amount": 1}, {"unit_amount": 500}]},  # type: ignore[typeddict-unknown-key]
            )
        assert (caught.value.code, caught.value.param) == ("parameter_unknown", "lines[1][unit_amount]")
        assert caught.value.user_message == "Received unknown parameter: lines[1][unit_amount]"
        with pytest.raises(stripe.InvalidRequestError) as caught:
            sdk.client.v1.invoices.update_lines(invoice.id, {"lines": [{"id": "il_x"}], "bogus": "1"})  # type: ignore[typeddict-unknown-key]
        assert (caught.value.code, caught.value.param) == ("parameter_unknown", "bogus")
        assert sdk.lines(invoice.id) == []

    def test_missing_lines(self, sdk: SdkTenant) -> None:
        invoice = sdk.invoice()
        with pytest.raises(stripe.InvalidRequestError) as caught:
            sdk.client.v1.invoices.add_lines(invoice.id, {"lines": []})  # the SDK sends nothing for []
        assert (caught.value.code, caught.value.param) == ("parameter_missing", "lines")

    def test_add_lines_is_all_or_nothing(self, sdk: SdkTenant) -> None:
        # given: a draft with two lines and a pending item of the customer
        customer = sdk.customer()
        invoice = invoice_with_lines(sdk, 1000, 2000, customer=customer.id)
        pending = sdk.pending_item(customer.id, 400)
        price = sdk.price(1500)
        before = snapshot(sdk, invoice.id)
        # when: five lines, the third naming a price that does not exist
        with pytest.raises(stripe.InvalidRequestError) as caught:
            sdk.client.v1.invoices.add_lines(
                invoice.id,
                {
                    "lines": [
                        {"amount": 100},
                        {"pricing": {"price": price.id}, "quantity": 2},
                        {"pricing": {"price": "price_does_not_exist"}},
                        {"invoice_item": pending.id},
                        {"amount": 500, "description": "last"},
                    ],
                    "invoice_metadata": {"touched": "yes"},
                },
            )
        # then: the error names the third line and nothing changed anywhere
        assert (caught.value.code, caught.value.param) == ("resource_missing", "lines[2][pricing][price]")
        assert caught.value.user_message == "No such price: 'price_does_not_exist'"
        after = snapshot(sdk, invoice.id)
        assert after == before
        assert len(after["lines"]) == 2 and after["invoice"]["total"] == 3000
        assert sdk.client.v1.invoice_items.retrieve(pending.id).invoice is None

    def test_update_lines_is_all_or_nothing(self, sdk: SdkTenant) -> None:
        invoice = invoice_with_lines(sdk, 1000, 2000, 3000)
        ids = [ln.id for ln in invoice.lines.data]
        before = snapshot(sdk, invoice.id)
        with pytest.raises(stripe.InvalidRequestError) as caught:
            sdk.client.v1.invoices.update_lines(
                invoice.id,
                {
                    "lines": [
                        {"id": ids[0], "amount": 5},
                        {"id": ids[1], "description": "changed"},
                        {"id": ids[2], "currency": "eur"},
                    ],
                    "invoice_metadata": {"touched": "yes"},
                },
            )
        assert caught.value.param == "lines[2][currency]"
        assert snapshot(sdk, invoice.id) == before


class TestPagination:
    def test_35_lines_page_forward_and_back(self, sdk: SdkTenant) -> None:
        # given: 35 lines added in one call
        invoice = sdk.invoice()
        lines_in = [{"amount": 100 * (i + 1), "description": f"line {i:02d}"} for i in range(35)]
        invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": lines_in})
        # then: the embedded list is the first page of 10
        assert len(invoice.lines.data) == 10 and invoice.lines.has_more is True
        assert [ln.description for ln in invoice.lines.data] == [f"line {i:02d}" for i in range(10)]
        assert invoice.total == sum(100 * (i + 1) for i in range(35))
        # pages of 7
        page = sdk.client.v1.invoices.line_items.list(invoice.id, {"limit": 7})
        assert len(page.data) == 7 and page.has_more is True
        assert page.url == f"/v1/invoices/{invoice.id}/lines"
        seen_before = len(sdk.http.seen)
        every = list(page.auto_paging_iter())
        assert [ln.description for ln in every] == [f"line {i:02d}" for i in range(35)]
        assert [ln.amount for ln in every] == [100 * (i + 1) for i in range(35)]
        assert len({ln.id for ln in every}) == 35
        follow_ups = sdk.http.seen[seen_before:]
        assert len(follow_ups) == 4 and all("starting_after=" in url for _, url, _, _ in follow_ups)
        ids = [ln.id for ln in every]
        # the last page
        last = sdk.client.v1.invoices.line_items.list(invoice.id, {"limit": 7, "starting_after": ids[27]})
        assert [ln.id for ln in last.data] == ids[28:] and last.has_more is False
        # ending_before: the page just before a line, then backwards to the start
        back = sdk.client.v1.invoices.line_items.list(invoice.id, {"limit": 7, "ending_before": ids[20]})
        assert [ln.id for ln in back.data] == ids[13:20] and back.has_more is True
        assert [ln.id for ln in back.auto_paging_iter()] == ids[19::-1]
        first = sdk.client.v1.invoices.line_items.list(invoice.id, {"limit": 7, "ending_before": ids[7]})
        assert [ln.id for ln in first.data] == ids[:7] and first.has_more is False

    def test_unknown_cursor(self, sdk: SdkTenant) -> None:
        invoice = invoice_with_lines(sdk, 1)
        with pytest.raises(stripe.InvalidRequestError) as caught:
            sdk.client.v1.invoices.line_items.list(invoice.id, {"starting_after": "il_nope"})
        assert (caught.value.http_status, caught.value.param) == (400, "starting_after")


class TestIdempotency:
    def test_retry_with_the_same_key_replays(self, sdk: SdkTenant) -> None:
        invoice = sdk.invoice()
        key = "add-" + uuid.uuid4().hex
        params: Any = {"lines": [{"amount": 1234, "description": "once"}]}
        first = sdk.client.v1.invoices.add_lines(invoice.id, params, {"idempotency_key": key})
        second = sdk.client.v1.invoices.add_lines(invoice.id, params, {"idempotency_key": key})
        assert first.last_response is not None and second.last_response is not None
        assert first.last_response.headers.get("Idempotent-Replayed") is None
        assert second.last_response.headers.get("Idempotent-Replayed") == "true"
        assert second.last_response.headers.get("Idempotency-Key") == key
        assert second.to_dict() == first.to_dict()
        assert [ln.amount for ln in sdk.lines(invoice.id)] == [1234]
        assert sdk.client.v1.invoices.retrieve(invoice.id).total == 1234
        # same key, other parameters
        with pytest.raises(stripe.IdempotencyError) as caught:
            sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 1}]}, {"idempotency_key": key})
        assert caught.value.http_status == 400 and key in caught.value.user_message
        assert len(sdk.lines(invoice.id)) == 1
        # without a key of our own, the SDK makes a fresh one per call: both calls apply
        sdk.client.v1.invoices.add_lines(invoice.id, params)
        sdk.client.v1.invoices.add_lines(invoice.id, params)
        assert len(sdk.lines(invoice.id)) == 3

    def test_keys_belong_to_their_tenant(self, sdk: SdkTenant, other_sdk: SdkTenant) -> None:
        key = "shared-" + uuid.uuid4().hex
        mine = sdk.invoice()
        theirs = other_sdk.invoice()
        sdk.client.v1.invoices.add_lines(mine.id, {"lines": [{"amount": 5}]}, {"idempotency_key": key})
        result = other_sdk.client.v1.invoices.add_lines(theirs.id, {"lines": [{"amount": 5}]}, {"idempotency_key": key})
        assert result.last_response is not None and result.last_response.headers.get("Idempotent-Replayed") is None
        assert result.id == theirs.id and result.total == 5


class TestTenantIsolation:
    def test_another_tenant_sees_nothing(self, sdk: SdkTenant, other_sdk: SdkTenant) -> None:
        # given: tenant A's customer, invoice with a line, and a pending item
        customer = sdk.customer(name="Secret Name", email="secret@example.com")
        invoice = invoice_with_lines(sdk, 4242, customer=customer.id)
        pending = sdk.pending_item(customer.id, 999)
        line = invoice.lines.data[0].id
        before = snapshot(sdk, invoice.id)
        other = other_sdk.client.v1
        not_found = {
            f"No such invoice: '{invoice.id}'": [
                lambda: other.invoices.retrieve(invoice.id),
                lambda: other.invoices.update(invoice.id, {"metadata": {"x": "1"}}),
                lambda: other.invoices.delete(invoice.id),
                lambda: other.invoices.finalize_invoice(invoice.id),
                lambda: other.invoices.add_lines(invoice.id, {"lines": [{"amount": 1}]}),
                lambda: other.invoices.update_lines(invoice.id, {"lines": [{"id": line, "amount": 1}]}),
                lambda: other.invoices.remove_lines(invoice.id, {"lines": [{"id": line, "behavior": "delete"}]}),
                lambda: other.invoices.line_items.list(invoice.id),
            ],
            f"No such customer: '{customer.id}'": [
                lambda: other.customers.retrieve(customer.id),
                lambda: other.customers.update(customer.id, {"name": "Mallory"}),
                lambda: other.customers.delete(customer.id),
            ],
            f"No such invoiceitem: '{pending.id}'": [
                lambda: other.invoice_items.retrieve(pending.id),
                lambda: other.invoice_items.update(pending.id, {"amount": 1}),
                lambda: other.invoice_items.delete(pending.id),
            ],
        }
        for message, calls in not_found.items():
            for call in calls:
                with pytest.raises(stripe.InvalidRequestError) as caught:
                    call()
                err = caught.value
                assert (err.http_status, err.code, err.user_message) == (404, "resource_missing", message)
                assert "Secret" not in str(err.http_body) and "4242" not in str(err.http_body)
        # referencing A's objects from B's own requests
        with pytest.raises(stripe.InvalidRequestError) as caught:
            other.invoices.create({"customer": customer.id})
        assert (caught.value.code, caught.value.param) == ("resource_missing", "customer")
        own = other_sdk.invoice()
        with pytest.raises(stripe.InvalidRequestError) as caught:
            other.invoices.add_lines(own.id, {"lines": [{"invoice_item": pending.id}]})
        assert (caught.value.http_status, caught.value.param) == (400, "lines[0][invoice_item]")
        assert caught.value.user_message == f"No such invoiceitem: '{pending.id}'"
        # B's lists hold only B's objects
        assert [i.id for i in other.invoices.list().data] == [own.id]
        assert other.invoice_items.list().data == []
        assert [c.id for c in other.customers.list().data] == [own.customer]
        # and A's data is untouched
        assert snapshot(sdk, invoice.id) == before
        assert sdk.client.v1.customers.retrieve(customer.id).name == "Secret Name"
