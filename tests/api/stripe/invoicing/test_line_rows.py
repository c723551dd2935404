"""Invoices and their lines rendered from plain rows (invoice_views.LineRow) are byte for byte what the
ORM objects (invoice_totals.LoadedLine) render: every field the renderers read, decoded the same way.

The invoices cover what a line can carry: decimal quantities and unit amounts, metadata (key order,
non-ASCII), tax rates (exclusive, inclusive) and discounts (line and invoice coupons), prorations that
credit a line and net their discounts, Zuora items with details in `extras`, and more lines than an
invoice embeds. Each is rendered both ways, with and without expansions, on both databases.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bulkbill.api.stripe.invoicing.invoice_render import _loaded_columns, render_invoice, render_item, render_line
from bulkbill.config import Settings
from bulkbill.core.subscriptions.prorations import CREDITED, PRORATION
from bulkbill.services.invoicing.invoice_totals import load_lines
from bulkbill.services.invoicing.invoice_views import (
    EMBEDDED_LINES,
    InvoiceView,
    first_lines,
    invoice_view,
    invoice_views,
    load_related,
)
from bulkbill.services.platform import compact_json
from bulkbill.services.platform.tenants import NewTenant
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Invoice
from tests.helpers import StripeClient, ZuoraClient
from tests.helpers.stripe import DAY, T0, advance, coupon, price, tax_rate, world
from tests.helpers.zuora import account, item, standalone

EXPANSIONS = {
    "discounts",
    "lines.data.discounts",
    "lines.data.discount_amounts.discount",
    "total_discount_amounts.discount",
    "lines.data.pricing.price_details.price",
}


def _invoices(stripe: StripeClient, zuora: ZuoraClient) -> None:
    """Invoices whose lines carry every kind of value a line renders."""
    vat, included = tax_rate(stripe, "20"), tax_rate(stripe, "7.5", inclusive=True)
    tenth, fixed = coupon(stripe, percent_off=10), coupon(stripe, amount_off=150, currency="usd")
    customer = stripe.ok("POST", "/v1/customers", {"name": "Zoë", "address": {"city": "Köln", "country": "DE"}})["id"]
    widget = price(stripe, 1234)
    fields = {"customer": customer, "discounts": [{"coupon": tenth}], "metadata": {"b": "2", "a": "1"}}
    draft = stripe.ok("POST", "/v1/invoices", fields)["id"]
    lines: list[dict[str, Any]] = [
        {"amount": 1000, "description": "plain"},
        {"amount": 2500, "tax_rates": [vat], "metadata": {"zz": "last", "aa": "first", "ü": "ß"}},
        {"pricing": {"price": widget}, "quantity": 3, "discounts": [{"coupon": fixed}]},
        {
            "price_data": {"currency": "usd", "product_data": {"name": "Decimal"}, "unit_amount_decimal": "12.345"},
            "quantity_decimal": "2.50",
            "tax_rates": [included],
        },
        {"amount": 700, "discountable": False, "period": {"start": T0, "end": T0 + DAY}},
        *({"amount": 100 + k, "description": f"filler {k}"} for k in range(8)),
    ]
    stripe.ok("POST", f"/v1/invoices/{draft}/add_lines", {"lines": lines})
    stripe.ok("POST", "/v1/invoiceitems", {"customer": customer, "amount": 300, "currency": "usd"})
    # A subscription with a coupon, upgraded mid-period: a credit and a charge, discounts netted in.
    w = world(stripe, discounts=[{"coupon": tenth}])
    advance(stripe, w["clock"], T0 + 10 * DAY)
    seat = w["sub"]["items"]["data"][0]["id"]
    stripe.ok(
        "POST",
        f"/v1/subscriptions/{w['sub']['id']}",
        {"items": [{"id": seat, "quantity": 3}], "proration_behavior": "always_invoice"},
    )
    standalone(zuora, account(zuora)["accountId"], [item(10, description="a", sku="SKU-A"), item(20, Project__c="P")])


def _same(old: Any, new: Any) -> None:
    assert compact_json.dumps(new) == compact_json.dumps(old)


def test_invoices_render_the_same_from_rows_as_from_orm_objects(
    stripe: StripeClient, zuora: ZuoraClient, tenant: NewTenant, settings: Settings
) -> None:
    _invoices(stripe, zuora)
    state = stripe.client.app.state.bulkbill  # type: ignore[attr-defined]
    with state.sessions.begin() as session:
        uow = UnitOfWork(session, settings, tenant_id=tenant.id)
        invoices = list(session.scalars(select(Invoice).where(Invoice.tenant_id == tenant.id).order_by(Invoice.id)))
        assert len(invoices) >= 4
        many = {view.invoice.id: view for view in invoice_views(uow, invoices, with_prices=True)}
        prorations = credited = 0
        for inv in invoices:
            loaded = load_lines(uow, inv.id, limit=EMBEDDED_LINES)  # the ORM objects
            rows = first_lines(uow, inv.id)
            assert [r.line_id for r in rows] == [e.line_id for e in loaded]
            old = InvoiceView(inv, loaded, load_related(uow, [inv], [e.item for e in loaded], with_prices=True))
            new = invoice_view(uow, inv, with_prices=True)
            for expand in (set(), EXPANSIONS):
                _same(render_invoice(old, expand), render_invoice(new, expand))
                _same(render_invoice(old, expand), render_invoice(many[inv.id], expand))
            for entry, row in zip(loaded, rows, strict=True):
                _same(render_line(entry, old.related, EXPANSIONS), render_line(row, new.related, EXPANSIONS))
                related = load_related(uow, [], [entry.item], with_item_discounts=True, with_customers=False)
                _same(render_item(entry.item, related), render_item(row.item, related))
                prorations += bool(row.item.extras.get(PRORATION))
                credited += row.item.extras.get(CREDITED) is not None
            has_more = render_invoice(new)["lines"]["has_more"]
            assert has_more == (inv.line_count > EMBEDDED_LINES)
        # The scenario covers what it claims: prorations, one crediting a line, an invoice with more lines.
        assert prorations and credited and any(inv.line_count > EMBEDDED_LINES for inv in invoices)
        session.rollback()


def test_invoices_render_the_same_from_their_loaded_columns_and_lines_inline(
    stripe: StripeClient, zuora: ZuoraClient, tenant: NewTenant, settings: Settings
) -> None:
    """render_invoice reads a fully loaded invoice's columns as plain values, and render_line builds a line
    without expansions inline: both show what the ORM's attributes and the general path show."""
    _invoices(stripe, zuora)
    state = stripe.client.app.state.bulkbill  # type: ignore[attr-defined]
    with state.sessions.begin() as session:
        uow = UnitOfWork(session, settings, tenant_id=tenant.id)
        invoices = list(session.scalars(select(Invoice).where(Invoice.tenant_id == tenant.id).order_by(Invoice.id)))
        for inv in invoices:
            view = invoice_view(uow, inv, with_prices=True)
            assert _loaded_columns(inv) is not inv  # every column loaded: the plain values
            bodies = [render_invoice(view, expand) for expand in (set(), EXPANSIONS)]
            session.expire(inv, ["footer"])
            assert _loaded_columns(inv) is inv  # one expired: through the ORM, which reloads it
            for expand, body in zip((set(), EXPANSIONS), bodies, strict=True):
                _same(render_invoice(view, expand), body)
            for row in view.lines:
                # An expansion of nothing a line shows takes the general path (_pricing) for every field.
                _same(render_line(row, view.related, {"customer"}), render_line(row, view.related, set()))
        session.rollback()
