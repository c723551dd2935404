"""Zuora document files (issue 14): posted invoices and credit memos have a PDF holding the API's figures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from bulkbill.core.documents.formatting import Formatter
from bulkbill.core.money import major_to_minor
from tests.helpers import StripeClient, ZuoraClient
from tests.helpers.documents import pdf_text
from tests.helpers.zuora import account, get, item, items_of, make_credit_memo, post, standalone


def minor(value: object, currency: str) -> int:
    return int(major_to_minor(Decimal(str(value)), currency))


def posted_invoice(zuora: ZuoraClient) -> dict[str, Any]:
    items = [
        item(120, chargeName="Consulting", description="Consulting, July"),
        item("33.33", chargeName="Hosting", description="Hosting $ # [eu-west] *fast*"),
        item(5, chargeName="Support"),
    ]
    created = standalone(zuora, items=items)
    post(zuora, created["id"])
    return get(zuora, created["id"])


def test_a_draft_has_no_file(zuora: ZuoraClient) -> None:
    draft = standalone(zuora)
    assert zuora.ok("GET", f"/v1/invoices/{draft['id']}/files")["invoiceFiles"] == []


def test_a_posted_invoice_s_pdf_holds_every_item_and_total(zuora: ZuoraClient) -> None:
    invoice = posted_invoice(zuora)
    [file] = zuora.ok("GET", f"/v1/invoices/{invoice['invoiceNumber']}/files")["invoiceFiles"]
    assert file["versionNumber"] == 1 and file["pdfFileUrl"] == f"/v1/files/{file['id']}"
    response = zuora.request("GET", file["pdfFileUrl"])
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content)
    money = Formatter("usd").money
    for entry in items_of(zuora, invoice["id"]):
        assert money(minor(entry["chargeAmount"], "usd")) in text
    for figure in (invoice["amount"], invoice["balance"]):
        assert money(minor(figure, "usd")) in text
    assert "Hosting $ # [eu-west] *fast*" in text
    assert invoice["invoiceNumber"] in text


def test_a_change_bumps_the_version_and_the_old_file_stays(zuora: ZuoraClient, stripe: StripeClient) -> None:
    invoice = posted_invoice(zuora)
    path = f"/v1/invoices/{invoice['id']}/files"
    [first] = zuora.ok("GET", path)["invoiceFiles"]
    assert zuora.ok("GET", path)["invoiceFiles"] == [first]  # unchanged: no new version
    stripe.ok("POST", f"/v1/invoices/{invoice['id']}/void")  # one core: the document is Canceled now
    newest, oldest = zuora.ok("GET", path)["invoiceFiles"]
    assert (newest["versionNumber"], oldest) == (2, first)
    assert "VOID" in pdf_text(zuora.request("GET", newest["pdfFileUrl"]).content)
    assert "VOID" not in pdf_text(zuora.request("GET", oldest["pdfFileUrl"]).content)


def test_a_credit_memo_has_a_file_in_its_currency(zuora: ZuoraClient, client: TestClient) -> None:
    invoice = posted_invoice(zuora)
    make_credit_memo(client, invoice["id"], "CM00000001")
    [file] = zuora.ok("GET", "/v1/credit-memos/CM00000001/files")["creditMemoFiles"]
    # The older reference's spelling lists the same file.
    assert zuora.ok("GET", "/v1/creditmemos/CM00000001/files")["creditMemoFiles"] == [file]
    text = pdf_text(zuora.request("GET", file["pdfFileUrl"]).content)
    assert "Credit memo" in text and "CM00000001" in text
    assert Formatter("usd").money(minor(invoice["amount"], "usd")) in text


def test_files_are_the_tenant_s_own(zuora: ZuoraClient, other_zuora: ZuoraClient) -> None:
    invoice = posted_invoice(zuora)
    [file] = zuora.ok("GET", f"/v1/invoices/{invoice['id']}/files")["invoiceFiles"]
    assert other_zuora.request("GET", file["pdfFileUrl"]).status_code == 404
    assert other_zuora.request("GET", f"/v1/invoices/{invoice['id']}/files").status_code == 404
    body = zuora.fail("GET", "/v1/files/" + "0" * 32, status=404)
    assert body["success"] is False


def test_an_account_s_locale_custom_field_chooses_the_document_s_language(zuora: ZuoraClient) -> None:
    # Zuora accounts carry no language: bulkbill reads the account's Locale__c custom field.
    french = account(zuora, Locale__c="fr-CA", currency="EUR")
    invoice = standalone(zuora, french["accountId"], items=[item(1234.5, chargeName="Conseil")])
    post(zuora, invoice["id"])
    [file] = zuora.ok("GET", f"/v1/invoices/{invoice['id']}/files")["invoiceFiles"]
    text = pdf_text(zuora.request("GET", file["pdfFileUrl"]).content)
    assert "Facture" in text and "Montant dû" in text
    assert " ".join(Formatter("eur", "fr_CA").money(123450).split()) in text
