"""GET /v1/credit_notes/preview/lines through stripe-python: the lines of the credit note a preview would make,
paged, nothing written (schema-checked as every SDK response)."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.helpers.sdk import SdkTenant

pytestmark = pytest.mark.sdk


def _invoice_of(sdk: SdkTenant, count: int) -> tuple[stripe.Invoice, list[str]]:
    invoice = sdk.invoice()
    lines = [{"amount": 100 * (n + 1), "description": f"line {n}"} for n in range(count)]
    invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": lines})  # type: ignore[typeddict-item]
    invoice = sdk.client.v1.invoices.finalize_invoice(invoice.id)
    return invoice, [ln.id for ln in sdk.lines(invoice.id)]


def _crediting(invoice: stripe.Invoice, line_ids: list[str]) -> dict[str, Any]:
    lines: list[dict[str, Any]] = [{"type": "invoice_line_item", "invoice_line_item": i} for i in line_ids]
    lines.append({"type": "custom_line_item", "unit_amount": 50, "quantity": 3, "description": "goodwill"})
    return {"invoice": invoice.id, "lines": lines, "memo": "sorry", "reason": "order_change"}


def test_preview_lines_page_through_every_line_of_the_preview(sdk: SdkTenant) -> None:
    invoice, line_ids = _invoice_of(sdk, 13)
    line_ids = line_ids[:12]  # the 13th leaves room for the custom line
    params = _crediting(invoice, line_ids)
    preview = sdk.client.v1.credit_notes.preview(params)
    assert preview.lines.has_more is True and len(preview.lines.data) == 10
    service = sdk.client.v1.credit_notes.preview_lines
    first = service.list({**params, "limit": 5})
    assert (len(first.data), first.has_more, first.url) == (5, True, "/v1/credit_notes/preview/lines")
    every = list(service.list({**params, "limit": 5}).auto_paging_iter())
    assert [ln.invoice_line_item for ln in every[:12]] == line_ids
    assert [ln.amount for ln in every] == [100 * (n + 1) for n in range(12)] + [150]
    assert (every[12].type, every[12].description) == ("custom_line_item", "goodwill")
    assert sum(ln.amount for ln in every) == preview.total  # the lines are the preview's, all of them
    assert [ln.id for ln in every[:10]] == [ln.id for ln in preview.lines.data]  # the same ids on both
    before = service.list({**params, "ending_before": every[7].id, "limit": 3})
    assert ([ln.id for ln in before.data], before.has_more) == ([ln.id for ln in every[4:7]], True)
    assert sdk.client.v1.credit_notes.list({"invoice": invoice.id}).data == []  # nothing written
    assert sdk.client.v1.invoices.retrieve(invoice.id).amount_remaining == invoice.amount_remaining


def test_preview_lines_of_an_amount_only_preview_and_its_taxes(sdk: SdkTenant) -> None:
    rate = sdk.tax_rate(10)
    invoice = sdk.invoice(default_tax_rates=[rate.id])
    sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 1000, "description": "one"}]})
    invoice = sdk.client.v1.invoices.finalize_invoice(invoice.id)
    [line] = sdk.lines(invoice.id)
    params: dict[str, Any] = {
        "invoice": invoice.id,
        "lines": [{"type": "invoice_line_item", "invoice_line_item": line.id, "amount": 500}],
    }
    [credited] = sdk.client.v1.credit_notes.preview_lines.list(params).data  # type: ignore[arg-type]
    assert (credited.amount, [t.amount for t in credited.tax_amounts]) == (500, [50])


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"invoice": None}, "invoice"),
        ({"starting_after": "cnli_tmp_9999"}, "starting_after"),
        ({"limit": 0}, "limit"),
        ({"lines": [{"type": "custom_line_item", "unit_amount": 10**9, "quantity": 1}]}, "amount"),  # more than is left
    ],
)
def test_a_refused_preview_lines_call_names_the_parameter_and_writes_nothing(
    sdk: SdkTenant, change: dict[str, Any], param: str
) -> None:
    invoice, line_ids = _invoice_of(sdk, 2)
    params = {k: v for k, v in {**_crediting(invoice, line_ids[:1]), **change}.items() if v is not None}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.credit_notes.preview_lines.list(params)  # type: ignore[arg-type]
    assert (caught.value.http_status, caught.value.param) == (400, param)
    assert sdk.client.v1.credit_notes.list({"invoice": invoice.id}).data == []
