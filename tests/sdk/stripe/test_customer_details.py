"""Customer details real integrations send (address, shipping, tax exemption, locales, invoice settings, tax IDs),
through stripe-python; every response is checked against Stripe's published schemas (tests/helpers/sdk.py)."""

from __future__ import annotations

import pytest
import stripe

from tests.helpers.sdk import SdkTenant

pytestmark = pytest.mark.sdk

ADDRESS = {"line1": "1 rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "FR"}


def test_details_are_stored_rendered_merged_and_unset(sdk: SdkTenant) -> None:
    customer = sdk.customer(
        address=ADDRESS,
        shipping={"name": "Ada", "address": {"country": "FR", "city": "Lyon"}, "phone": "+33 1"},
        preferred_locales=["fr-FR", "en"],
        business_name="Analytical Engines SARL",
        individual_name="Ada Lovelace",
        next_invoice_sequence=7,
        invoice_settings={"footer": "Merci", "custom_fields": [{"name": "PO", "value": "42"}]},
        tax={"ip_address": "192.0.2.1", "validate_location": "deferred"},
        validate=False,
    )
    assert customer.address is not None and customer.address.to_dict() == {**ADDRESS, "line2": None, "state": None}
    assert customer.shipping is not None and customer.shipping.address.city == "Lyon"
    assert customer.shipping.name == "Ada" and customer.shipping.tracking_number is None
    assert customer.preferred_locales == ["fr-FR", "en"] and customer.next_invoice_sequence == 7
    assert (customer.business_name, customer.individual_name) == ("Analytical Engines SARL", "Ada Lovelace")
    assert customer.invoice_settings.footer == "Merci"
    assert [f.to_dict() for f in customer.invoice_settings.custom_fields or []] == [{"name": "PO", "value": "42"}]
    # invoice_settings merge key by key; "" unsets
    updated = sdk.client.v1.customers.update(
        customer.id,
        {
            "invoice_settings": {"rendering_options": {"amount_tax_display": "include_inclusive_tax"}},
            "address": "",
            "preferred_locales": "",
        },
    )
    assert updated.invoice_settings.footer == "Merci"
    assert updated.invoice_settings.rendering_options is not None
    assert updated.invoice_settings.rendering_options.amount_tax_display == "include_inclusive_tax"
    assert (updated.address, updated.preferred_locales) == (None, [])
    updated = sdk.client.v1.customers.update(customer.id, {"invoice_settings": {"footer": "", "custom_fields": ""}})
    assert (updated.invoice_settings.footer, updated.invoice_settings.custom_fields) == (None, None)
    retrieved = sdk.client.v1.customers.retrieve(customer.id, {"expand": ["tax"]})
    assert retrieved.tax is not None and retrieved.tax.ip_address == "192.0.2.1"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.customers.update(customer.id, {"tax_exempt": "sometimes"})  # type: ignore[typeddict-item]
    assert caught.value.param == "tax_exempt"


def test_new_invoices_take_the_customers_footer_custom_fields_and_numbering(sdk: SdkTenant) -> None:
    customer = sdk.customer(
        address=ADDRESS,
        next_invoice_sequence=41,
        invoice_settings={"footer": "Thanks", "custom_fields": [{"name": "VAT", "value": "FR123"}]},
    )
    invoice = sdk.invoice(customer.id)
    assert invoice.footer == "Thanks" and invoice.customer_address is not None
    assert [f.to_dict() for f in invoice.custom_fields or []] == [{"name": "VAT", "value": "FR123"}]
    assert invoice.customer_address.country == "FR" and invoice.customer_tax_exempt == "none"
    own = sdk.invoice(customer.id, footer="Own footer", custom_fields=[{"name": "Ref", "value": "A-1"}])
    assert own.footer == "Own footer" and [f.name for f in own.custom_fields or []] == ["Ref"]
    invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 1000, "description": "x"}]})
    finalized = sdk.client.v1.invoices.finalize_invoice(invoice.id)
    assert finalized.number is not None and finalized.number.endswith("-0041")
    # a finalized invoice's custom fields can still change (Stripe freezes amounts, not these)
    changed = sdk.client.v1.invoices.update(finalized.id, {"custom_fields": [{"name": "PO", "value": "7"}]})
    assert [f.to_dict() for f in changed.custom_fields or []] == [{"name": "PO", "value": "7"}]
    assert sdk.client.v1.invoices.update(finalized.id, {"custom_fields": ""}).custom_fields is None
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.client.v1.invoices.update(own.id, {"custom_fields": [{"name": "n", "value": str(i)} for i in range(5)]})
    assert caught.value.param == "custom_fields"


@pytest.mark.parametrize("status, reason", [("exempt", "customer_exempt"), ("reverse", "reverse_charge")])
def test_exempt_and_reverse_charge_customers_are_taxed_nothing(sdk: SdkTenant, status: str, reason: str) -> None:
    rate = sdk.tax_rate(20.0)
    customer = sdk.customer(tax_exempt=status)
    assert customer.tax_exempt == status
    invoice = sdk.invoice(customer.id, default_tax_rates=[rate.id])
    invoice = sdk.client.v1.invoices.add_lines(invoice.id, {"lines": [{"amount": 1000, "description": "x"}]})
    assert (invoice.subtotal, invoice.total, invoice.customer_tax_exempt) == (1000, 1000, status)
    taxes = invoice.lines.data[0].taxes or []
    assert [(t.amount, t.taxable_amount, t.taxability_reason) for t in taxes] == [(0, 1000, reason)]
    assert [(t.amount, t.taxability_reason) for t in invoice.total_taxes or []] == [(0, reason)]
    # the same customer, no longer exempt: its next invoice is taxed
    sdk.client.v1.customers.update(customer.id, {"tax_exempt": ""})
    taxed = sdk.invoice(customer.id, default_tax_rates=[rate.id])
    taxed = sdk.client.v1.invoices.add_lines(taxed.id, {"lines": [{"amount": 1000, "description": "x"}]})
    assert taxed.total == 1200 and (taxed.lines.data[0].taxes or [])[0].taxability_reason == "standard_rated"


def test_customer_tax_ids(sdk: SdkTenant) -> None:
    customer = sdk.customer(tax_id_data=[{"type": "eu_vat", "value": "DE123456789"}])
    ids = sdk.client.v1.customers.tax_ids
    listed = ids.list(customer.id)
    assert [(t.type, t.value, t.country, t.customer) for t in listed.data] == [
        ("eu_vat", "DE123456789", "DE", customer.id)
    ]
    added = ids.create(customer.id, {"type": "gb_vat", "value": "GB123456789"})
    assert (added.object, added.country, added.owner and added.owner.type) == ("tax_id", "GB", "customer")
    assert ids.retrieve(customer.id, added.id).value == "GB123456789"
    expanded = sdk.client.v1.customers.retrieve(customer.id, {"expand": ["tax_ids"]})
    assert expanded.tax_ids is not None and {t.id for t in expanded.tax_ids.data} == {
        t.id for t in ids.list(customer.id).data
    }
    assert len(ids.list(customer.id, {"limit": 1}).data) == 1
    deleted = ids.delete(customer.id, added.id)
    assert (deleted.id, deleted.deleted) == (added.id, True)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        ids.retrieve(customer.id, added.id)
    assert caught.value.http_status == 404
    other = sdk.customer()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        ids.retrieve(other.id, listed.data[0].id)  # another customer's ID is not found under this one
    assert caught.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as caught:
        ids.create(customer.id, {"type": "xx_nope", "value": "1"})  # type: ignore[typeddict-item]
    assert caught.value.param == "type"
