"""Stripe hosted invoice pages and PDFs (issue 14): the figures the API shows, for finalized invoices only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from bulkbill.core.documents.formatting import Formatter
from bulkbill.storage.tables import Invoice
from tests.helpers import StripeClient
from tests.helpers.documents import finalized_invoice, path_of, pdf_text
from tests.helpers.stripe import all_lines, setup_invoice


def test_a_draft_has_no_document(stripe: StripeClient) -> None:
    invoice = setup_invoice(stripe)
    assert invoice["hosted_invoice_url"] is None
    assert invoice["invoice_pdf"] is None


def test_the_pdf_holds_every_line_and_total_the_api_shows(stripe: StripeClient, client: TestClient) -> None:
    invoice = finalized_invoice(stripe)
    # Absolute links to this server (BULKBILL_PUBLIC_URL unset: the host the request went to).
    assert invoice["hosted_invoice_url"].startswith("http://testserver/documents/")
    assert invoice["invoice_pdf"] == invoice["hosted_invoice_url"] + "/pdf"
    response = client.get(path_of(invoice["invoice_pdf"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content)
    money = Formatter("usd").money
    for line in all_lines(stripe, invoice["id"]):
        assert line["description"] in text
        assert money(line["amount"]) in text
    figures = [invoice["subtotal"], invoice["total"], invoice["amount_due"]]
    figures += [-d["amount"] for d in invoice["total_discount_amounts"]]
    figures += [t["amount"] for t in invoice["total_taxes"]]
    for figure in figures:
        assert money(figure) in text, figure
    assert invoice["number"] in text


def test_the_hosted_page_shows_the_figures_and_the_state(stripe: StripeClient, client: TestClient) -> None:
    invoice = finalized_invoice(stripe)
    page = client.get(path_of(invoice["hosted_invoice_url"]))
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    # User text is escaped, never markup.
    assert "&lt;w&gt;" in page.text and "<w>" not in page.text
    assert Formatter("usd").money(invoice["amount_due"]) in page.text
    assert 'data-state="void"' not in page.text
    voided = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/void")
    assert voided["hosted_invoice_url"] == invoice["hosted_invoice_url"]
    page = client.get(path_of(invoice["hosted_invoice_url"]))
    assert 'data-state="void"' in page.text
    assert "VOID" in pdf_text(client.get(path_of(invoice["invoice_pdf"])).content)


def test_a_changed_document_renders_a_new_version_and_an_unchanged_one_is_served_from_the_cache(
    stripe: StripeClient, client: TestClient
) -> None:
    invoice = finalized_invoice(stripe)
    first = client.get(path_of(invoice["invoice_pdf"])).content
    assert client.get(path_of(invoice["invoice_pdf"])).content == first  # byte for byte: the stored file
    stripe.ok("POST", f"/v1/invoices/{invoice['id']}/pay", {"paid_out_of_band": True})
    paid = client.get(path_of(invoice["invoice_pdf"])).content
    assert paid != first
    assert "PAID" in pdf_text(paid)


def test_urls_are_unguessable_and_name_one_tenant_s_document(
    stripe: StripeClient, other_stripe: StripeClient, client: TestClient
) -> None:
    mine = finalized_invoice(stripe)
    theirs = finalized_invoice(other_stripe)
    token = path_of(mine["hosted_invoice_url"]).rsplit("/", 1)[1]
    assert len(token) >= 32
    assert path_of(mine["hosted_invoice_url"]) != path_of(theirs["hosted_invoice_url"])
    # Another tenant's key cannot reach my invoice, and a token altered by one character answers 404.
    assert other_stripe.get(f"/v1/invoices/{mine['id']}").status_code == 404
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for path in (f"/documents/{altered}", f"/documents/{altered}/pdf", "/documents/" + "x" * 500):
        assert client.get(path).status_code == 404
    # A draft has its token from creation, but the token shows nothing until it is finalized.
    draft = setup_invoice(stripe)
    assert draft["hosted_invoice_url"] is None
    with client.app.state.bulkbill.sessions() as session:  # type: ignore[attr-defined]
        draft_token = session.scalar(select(Invoice.document_token).where(Invoice.id == draft["id"]))
    assert draft_token
    for path in (f"/documents/{draft_token}", f"/documents/{draft_token}/pdf"):
        assert client.get(path).status_code == 404


def test_a_customer_s_preferred_locale_and_address_are_on_the_document(
    stripe: StripeClient, client: TestClient
) -> None:
    customer = stripe.ok(
        "POST",
        "/v1/customers",
        {
            "name": "Erika Muster",
            "preferred_locales": ["de-DE"],
            "address": {"line1": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
        },
    )
    invoice = stripe.ok("POST", "/v1/invoices", {"customer": customer["id"], "currency": "eur"})
    stripe.ok(
        "POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 123456, "description": "Miete"}]}
    )
    invoice = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/finalize")
    text = pdf_text(client.get(path_of(invoice["invoice_pdf"])).content)
    assert "Rechnung" in text and "10115 Berlin" in text
    assert " ".join(Formatter("eur", "de_DE").money(invoice["amount_due"]).split()) in text
    assert "1.234,56" in text


def test_the_invoice_s_custom_fields_are_on_the_document(stripe: StripeClient, client: TestClient) -> None:
    invoice = setup_invoice(stripe, **{"custom_fields[0][name]": "PO number", "custom_fields[0][value]": "PO-4711"})
    stripe.ok("POST", f"/v1/invoices/{invoice['id']}/add_lines", {"lines": [{"amount": 500, "description": "x"}]})
    invoice = stripe.ok("POST", f"/v1/invoices/{invoice['id']}/finalize")
    text = pdf_text(client.get(path_of(invoice["invoice_pdf"])).content)
    assert "PO number PO-4711" in text
    assert "PO-4711" in client.get(path_of(invoice["hosted_invoice_url"])).text
