"""A GET's row read on its own (session_rows.shown_row) holds what the ORM reads, and within a transaction
that already read or wrote, the session's own row (with its changes)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import inspect

from bulkbill.api.stripe.customers.customers import render_customer
from bulkbill.services.platform.compact_json import dumps
from bulkbill.services.platform.session_rows import shown_row
from bulkbill.services.platform.tenants import NewTenant
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer
from tests.helpers import StripeClient


def _customer(stripe: StripeClient) -> str:
    body = stripe.ok(
        "POST",
        "/v1/customers",
        {
            "name": "Ada",
            "metadata": {"plan": "gold", "seats": "3", "città": "Zürich", "a": "last"},
            "address": {"city": "Paris", "country": "FR"},
            "preferred_locales": ["fr"],
        },
    )
    return str(body["id"])


def _uow(client: TestClient, session: Any, tenant: NewTenant) -> UnitOfWork:
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    return UnitOfWork(session, state.settings, tenant_id=tenant.id)


def test_the_row_read_on_its_own_holds_every_attribute_as_the_orm_reads_it(
    client: TestClient, stripe: StripeClient, tenant: NewTenant
) -> None:
    customer_id = _customer(stripe)
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    with state.sessions.begin() as session:
        shown = shown_row(_uow(client, session, tenant), Customer, customer_id)
        assert not isinstance(shown, Customer)  # read on its own: nothing begun in the session
        row = session.get(Customer, (tenant.id, customer_id))
        for attribute in inspect(Customer).column_attrs:
            assert getattr(shown, attribute.key) == getattr(row, attribute.key), attribute.key
        assert dumps(render_customer(shown)) == dumps(render_customer(row))  # the same body, byte for byte
        assert shown_row(_uow(client, session, tenant), Customer, "cus_missing") is None


def test_after_the_session_read_or_wrote_it_shows_the_sessions_own_row(
    client: TestClient, stripe: StripeClient, tenant: NewTenant
) -> None:
    customer_id = _customer(stripe)
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    with state.sessions.begin() as session:
        row = session.get(Customer, (tenant.id, customer_id))
        assert row is not None
        row.name = "Changed, not committed"
        shown = shown_row(_uow(client, session, tenant), Customer, customer_id)
        assert shown is row and shown.name == "Changed, not committed"
        session.rollback()
    assert stripe.ok("GET", f"/v1/customers/{customer_id}")["name"] == "Ada"
