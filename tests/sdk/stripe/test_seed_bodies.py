"""The seed guides' curl calls, byte for byte: `curl -u KEY: -d a=b -d c=d` sends Basic auth and the
-d values joined with `&`, unencoded (spaces stay spaces, brackets stay brackets)."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.helpers.sdk import SdkTenant, check_response

pytestmark = pytest.mark.sdk


def curl_body(*pairs: str) -> str:
    """What curl sends for `-d P1 -d P2 ...`: the data as given, joined by '&'."""
    return "&".join(pairs)


def lines_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = body["lines"]["data"]
    return lines


def three_line_invoice(sdk: SdkTenant) -> tuple[stripe.Invoice, list[str]]:
    invoice = sdk.invoice()
    invoice = sdk.client.v1.invoices.add_lines(
        invoice.id, {"lines": [{"amount": 7500}, {"amount": 2000}, {"amount": -300}]}
    )
    return invoice, [ln.id for ln in invoice.lines.data]


def test_seed_add_lines_body(sdk: SdkTenant) -> None:
    customer = sdk.customer()
    invoice = sdk.invoice(customer.id)
    price = sdk.price(1500)
    pending = sdk.pending_item(customer.id, 500)
    body = curl_body(
        "lines[0][amount]=7500",
        "lines[0][currency]=usd",
        f"lines[1][price]={price.id}",
        "lines[1][description]=New line item",
        f"lines[2][invoice_item]={pending.id}",
    )
    response = sdk.raw("POST", f"/v1/invoices/{invoice.id}/add_lines", body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["object"] == "invoice" and result["id"] == invoice.id
    lines = lines_of(result)
    assert [ln["amount"] for ln in lines] == [7500, 1500, 500]
    assert lines[1]["description"] == "New line item"
    assert lines[1]["pricing"]["price_details"]["price"] == price.id
    assert lines[2]["parent"]["invoice_item_details"]["invoice_item"] == pending.id
    assert result["total"] == 9500
    # the SDK sees the same invoice
    assert sdk.client.v1.invoices.retrieve(invoice.id).to_dict(for_json=True)["lines"] == result["lines"]


@pytest.mark.parametrize("seed", ["002", "003"])
def test_seed_update_lines_body(sdk: SdkTenant, seed: str) -> None:
    invoice, (one, two, three) = three_line_invoice(sdk)
    price = sdk.price(2500)
    # seed 002 writes -d "lines[1][price]"={{PRICE_ID}}, seed 003 -d "lines[1][price]={{PRICE_ID}}": same bytes
    price_pair = f"lines[1][price]={price.id}"
    body = curl_body(
        f"lines[0][id]={one}",
        "lines[0][description]=New description",
        "lines[0][metadata][key]=new value",
        f"lines[1][id]={two}",
        price_pair,
        f"lines[2][id]={three}",
        "lines[2][discountable]=true",
    )
    response = sdk.raw("POST", f"/v1/invoices/{invoice.id}/update_lines", body)
    assert response.status_code == 200, response.text
    first, second, third = lines_of(response.json())
    assert (first["id"], first["description"], first["metadata"]) == (one, "New description", {"key": "new value"})
    assert (second["id"], second["amount"]) == (two, 2500)
    assert second["pricing"]["price_details"]["price"] == price.id
    assert (third["id"], third["discountable"]) == (three, True)
    assert response.json()["total"] == 7500 + 2500 - 300


def test_seed_remove_lines_body(sdk: SdkTenant) -> None:
    invoice, (one, two, three) = three_line_invoice(sdk)
    items = [ln.parent.invoice_item_details.invoice_item for ln in invoice.lines.data]
    body = curl_body(
        f"lines[0][id]={one}",
        "lines[0][behavior]=delete",
        f"lines[1][id]={two}",
        "lines[1][behavior]=unassign",
    )
    response = sdk.raw("POST", f"/v1/invoices/{invoice.id}/remove_lines", body)
    assert response.status_code == 200, response.text
    assert [ln["id"] for ln in lines_of(response.json())] == [three]
    assert sdk.raw("GET", f"/v1/invoiceitems/{items[0]}").status_code == 404
    unassigned = sdk.raw("GET", f"/v1/invoiceitems/{items[1]}")
    assert unassigned.status_code == 200 and unassigned.json()["invoice"] is None


def test_seed_invoice_metadata_example_is_refused_whole(sdk: SdkTenant) -> None:
    # The guides' example repeats lines[0][id] in lines[1][id] and sends lines[2][description]
    # without lines[2][id]: a missing required parameter, so nothing at all changes.
    invoice, (one, _two, _three) = three_line_invoice(sdk)
    before = sdk.client.v1.invoices.retrieve(invoice.id).to_dict()
    body = curl_body(
        f"lines[0][id]={one}",
        "lines[0][description]=New description",
        f"lines[1][id]={one}",
        "lines[2][description]=Another description",
        "invoice_metadata[is_processed]=true",
    )
    response = sdk.raw("POST", f"/v1/invoices/{invoice.id}/update_lines", body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "parameter_missing",
        "lines[2][id]",
    )
    after = sdk.client.v1.invoices.retrieve(invoice.id).to_dict()
    assert after == before
    assert after["metadata"] == {} and [ln["description"] for ln in after["lines"]["data"]] == [None, None, None]


def test_seed_invoice_metadata_example_with_the_id_supplied(sdk: SdkTenant) -> None:
    # The same call with lines[2][id] present: the repeated id applies in order, metadata is set.
    invoice, (one, _two, three) = three_line_invoice(sdk)
    body = curl_body(
        f"lines[0][id]={one}",
        "lines[0][description]=New description",
        f"lines[1][id]={one}",
        f"lines[2][id]={three}",
        "lines[2][description]=Another description",
        "invoice_metadata[is_processed]=true",
    )
    response = sdk.raw("POST", f"/v1/invoices/{invoice.id}/update_lines", body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["metadata"] == {"is_processed": "true"}
    assert [ln["description"] for ln in lines_of(result)] == ["New description", None, "Another description"]


def test_bearer_and_percent_encoded_brackets_are_equivalent(sdk: SdkTenant) -> None:
    invoice = sdk.invoice()
    body = "lines%5B0%5D%5Bamount%5D=7500&lines%5B0%5D%5Bdescription%5D=Setup+fee%20%26+co"
    response = sdk.raw("POST", f"/v1/invoices/{invoice.id}/add_lines", body, basic=False)
    assert response.status_code == 200, response.text
    (line,) = lines_of(response.json())
    assert (line["amount"], line["description"]) == (7500, "Setup fee & co")


def test_missing_and_wrong_keys_are_401(sdk: SdkTenant) -> None:
    invoice = sdk.invoice()
    anonymous = sdk.raw_session.post(
        sdk.server.stripe_base + f"/v1/invoices/{invoice.id}/add_lines",
        data=b"lines[0][amount]=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert anonymous.status_code == 401
    error = check_response(anonymous.status_code, anonymous.headers, anonymous.content, "anonymous")["error"]
    assert error["type"] == "invalid_request_error" and "API key" in error["message"]
    wrong = stripe.StripeClient(
        "sk_test_not_a_real_key_0000", base_addresses={"api": sdk.server.stripe_base}, http_client=sdk.http
    )
    with pytest.raises(stripe.AuthenticationError) as caught:
        wrong.v1.invoices.retrieve(invoice.id)
    assert caught.value.http_status == 401
    assert "0000" in caught.value.user_message and "not_a_real" not in caught.value.user_message
    assert len(sdk.lines(invoice.id)) == 0
