"""An invoice's `rendering` through stripe-python (issue 14): stored, rendered back as Stripe's schema has it,
and acting on the document: the PDF's page size and whether line amounts show their inclusive tax.
Every response is checked against Stripe's published schemas (tests/helpers/sdk.py)."""

from __future__ import annotations

import io

import pypdf
import pytest
import requests
import stripe

from bulkbill.core.documents.formatting import Formatter
from tests.helpers.documents import pdf_text
from tests.helpers.sdk import SdkTenant

pytestmark = pytest.mark.sdk

# PDF page sizes in points (1/72 in): A4 is 210 × 297 mm, US Letter 8.5 × 11 in.
A4 = (595, 842)
LETTER = (612, 792)


def _pdf(invoice: stripe.Invoice) -> bytes:
    assert invoice.invoice_pdf is not None
    response = requests.get(invoice.invoice_pdf, timeout=30)
    assert response.status_code == 200
    return response.content


def _page_size(pdf: bytes) -> tuple[int, int]:
    box = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return round(float(box.width)), round(float(box.height))


def _finalized(sdk: SdkTenant, customer: str | None = None, **params: object) -> stripe.Invoice:
    invoice = sdk.invoice(customer, **params)
    sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 12000, "description": "Consulting"}]})
    return sdk.client.v1.invoices.finalize_invoice(invoice.id)


def test_rendering_is_stored_rendered_back_and_merged(sdk: SdkTenant) -> None:
    assert sdk.invoice().rendering is None  # nothing set: null, as Stripe
    invoice = sdk.invoice(rendering={"amount_tax_display": "exclude_tax", "pdf": {"page_size": "letter"}})
    assert invoice.rendering is not None
    assert invoice.rendering.to_dict() == {
        "amount_tax_display": "exclude_tax",
        "pdf": {"page_size": "letter"},
        "template": None,
        "template_version": None,
    }
    # A change merges: the page size stays while the tax display is unset ("").
    updated = sdk.client.v1.invoices.update(invoice.id, {"rendering": {"amount_tax_display": ""}})
    assert updated.rendering is not None and updated.rendering.amount_tax_display is None
    assert updated.rendering.pdf is not None and updated.rendering.pdf.page_size == "letter"
    assert sdk.client.v1.invoices.retrieve(invoice.id).rendering == updated.rendering


@pytest.mark.parametrize(
    ("rendering", "param"),
    [
        ({"amount_tax_display": "include_all_tax"}, "rendering[amount_tax_display]"),
        ({"pdf": {"page_size": "a3"}}, "rendering[pdf][page_size]"),
        ({"pdf": {"orientation": "landscape"}}, "rendering[pdf][orientation]"),
        ({"template": "inrtem_123"}, "rendering[template]"),
        ({"template_version": 2}, "rendering[template_version]"),
    ],
)
def test_bad_rendering_is_refused_and_nothing_changes(sdk: SdkTenant, rendering: dict[str, object], param: str) -> None:
    invoice = sdk.invoice(rendering={"pdf": {"page_size": "a4"}})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.invoices.update(invoice.id, {"rendering": rendering})  # type: ignore[typeddict-item]
    assert caught.value.param == param and caught.value.http_status == 400
    if "template" in param:
        assert "no invoice rendering templates" in str(caught.value.user_message)
    assert sdk.client.v1.invoices.retrieve(invoice.id).rendering == invoice.rendering


def test_the_page_size_acts_on_the_pdf(sdk: SdkTenant) -> None:
    assert _page_size(_pdf(_finalized(sdk))) == A4  # unset: A4 (bulkbill's default)
    assert _page_size(_pdf(_finalized(sdk, rendering={"pdf": {"page_size": "letter"}}))) == LETTER
    # auto: A4 for a Japanese customer, US Letter for any other (Stripe's rule)
    assert _page_size(_pdf(_finalized(sdk, rendering={"pdf": {"page_size": "auto"}}))) == LETTER
    japanese = sdk.customer(preferred_locales=["ja-JP"]).id
    auto = _finalized(sdk, japanese, currency="jpy", rendering={"pdf": {"page_size": "auto"}})
    assert _page_size(_pdf(auto)) == A4
    # A finalized invoice's page size can still change: the next PDF is a new version on the new paper.
    changed = sdk.client.v1.invoices.update(auto.id, {"rendering": {"pdf": {"page_size": "letter"}}})
    assert _page_size(_pdf(changed)) == LETTER


def test_the_tax_display_decides_whether_line_amounts_show_their_inclusive_tax(sdk: SdkTenant) -> None:
    vat = sdk.tax_rate(20.0, inclusive=True)
    money = Formatter("usd").money
    shown = {}
    for display in ("include_inclusive_tax", "exclude_tax"):
        invoice = _finalized(sdk, default_tax_rates=[vat.id], rendering={"amount_tax_display": display})
        # The figures the API shows do not change: only the document does.
        assert (invoice.subtotal, invoice.total, invoice.subtotal_excluding_tax) == (12000, 12000, 10000)
        shown[display] = pdf_text(_pdf(invoice))
        assert money(invoice.total) in shown[display] and money(2000) in shown[display]
    # As priced: the line and the subtotal are $120.00, the VAT marked as included.
    assert "Consulting 1 $120.00 $120.00" in shown["include_inclusive_tax"]
    assert "Subtotal $120.00" in shown["include_inclusive_tax"] and "(incl.)" in shown["include_inclusive_tax"]
    # Without tax: the line and the subtotal are $100.00, the VAT added below them.
    assert "Consulting 1 $100.00 $100.00" in shown["exclude_tax"]
    assert "Subtotal $100.00" in shown["exclude_tax"] and "(incl.)" not in shown["exclude_tax"]


def test_a_new_invoice_takes_the_customer_s_tax_display(sdk: SdkTenant) -> None:
    customer = sdk.customer(invoice_settings={"rendering_options": {"amount_tax_display": "exclude_tax"}})
    invoice = sdk.invoice(customer.id)
    assert invoice.rendering is not None and invoice.rendering.amount_tax_display == "exclude_tax"
    own = sdk.invoice(customer.id, rendering={"amount_tax_display": "include_inclusive_tax"})
    assert own.rendering is not None and own.rendering.amount_tax_display == "include_inclusive_tax"


def test_a_customer_s_rendering_template_is_refused_too(sdk: SdkTenant) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.customer(invoice_settings={"rendering_options": {"template": "inrtem_123"}})
    assert caught.value.param == "invoice_settings[rendering_options][template]"
    assert "no invoice rendering templates" in str(caught.value.user_message)
