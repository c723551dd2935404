"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient

from bulkbill.api.app import create_app
from bulkbill.config import Settings
from bulkbill.storage.db import create_db_engine
from bulkbill.storage.migrate import alembic_config, upgrade
from bulkbill.storage.tables import Base
from tests.conftest import BACKENDS, new_database_url
from tests.helpers import StripeClient, ZuoraClient, new_tenant, zuora_for
from tests.helpers.stripe import all_lines, coupon, customer_items, pending_item, tax_rate
from tests.helpers.zuora import item, items_of, standalone


def test_models_match_migrations(settings: Settings, client: object) -> None:
    engine = create_db_engine(settings.database_url)
    upgrade(engine)  # idempotent: a second run changes nothing
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    # server defaults and JSON-vs-TEXT reflection aside, no table, column, index or constraint is missing
    assert [d for d in diff if d[0] in ("add_table", "remove_table", "add_column", "remove_column")] == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_duplicate_tenant_names_are_suffixed_when_names_become_unique(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Revision 0006: the oldest tenant keeps a shared name; later ones get the first free "-N" suffix."""
    engine = create_db_engine(new_database_url(backend, request, tmp_path))
    upgrade(engine, to="0005")
    named = {"t1": "acme", "t2": "acme-2", "t3": "acme", "t4": "acme", "t5": "solo"}  # in order of creation
    columns = ("id", "name", "created", "stripe_key_hash", "zuora_client_id", "zuora_secret_hash")
    tenants = sa.table("tenants", *(sa.column(c) for c in columns))
    with engine.begin() as connection:
        for created, (key, name) in enumerate(named.items()):
            row = (key, name, created, f"hash-{key}", f"client-{key}", "x")
            connection.execute(tenants.insert().values(dict(zip(columns, row, strict=True))))
    upgrade(engine)
    with engine.connect() as connection:
        renamed = {key: name for key, name in connection.execute(sa.select(tenants.c.id, tenants.c.name))}
    engine.dispose()
    assert renamed == {"t1": "acme", "t2": "acme-2", "t3": "acme-3", "t4": "acme-4", "t5": "solo"}


def _before_one_row(engine: sa.Engine) -> str:
    """The revision before one row per billed line (items + invoice_lines), whatever the revisions are numbered."""
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    (found,) = [s for s in scripts.walk_revisions() if s.path.endswith("_one_row_per_line.py")]
    assert isinstance(found.down_revision, str)
    return found.down_revision


def _downgrade(engine: sa.Engine, to: str) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, to)


@contextmanager
def _serving(url: str) -> Iterator[TestClient]:
    """The API on the database at `url` (brought to the newest schema, as every start does)."""
    with TestClient(create_app(Settings(database_url=url)), raise_server_exceptions=False) as client:
        yield client


def _billed(stripe: StripeClient, zuora: ZuoraClient) -> dict[str, str]:
    """Lines with discount and tax figures, a gap in positions, pending items, and a Zuora invoice with
    discount items (written in bulk); returns the ids the answers are read from."""
    customer = stripe.ok("POST", "/v1/customers", {"name": "Ada"})["id"]
    rate, off = tax_rate(stripe, "10"), coupon(stripe, percent_off=10, duration="once")
    invoice = stripe.ok(
        "POST",
        "/v1/invoices",
        {"customer": customer, "currency": "usd", "discounts": [{"coupon": off}], "default_tax_rates": [rate]},
    )["id"]
    lines = [{"amount": 1000 + k, "description": f"line {k}"} for k in range(4)]
    added = stripe.ok("POST", f"/v1/invoices/{invoice}/add_lines", {"lines": lines})["lines"]["data"]
    removed = {"id": added[1]["id"], "behavior": "unassign"}  # back to pending: a gap in the positions
    stripe.ok("POST", f"/v1/invoices/{invoice}/remove_lines", {"lines": [removed]})
    pending_item(stripe, customer, 700)
    zuora_invoice = standalone(zuora, items=[item(100, discountItems=[{"amount": -10, "chargeName": "Promo"}])])
    return {"customer": customer, "invoice": invoice, "zuora_invoice": zuora_invoice["id"]}


def _answers(stripe: StripeClient, zuora: ZuoraClient, ids: dict[str, str]) -> dict[str, Any]:
    invoice = ids["invoice"]
    return {
        "invoice": stripe.ok("GET", f"/v1/invoices/{invoice}"),
        "lines": all_lines(stripe, invoice),
        "items": customer_items(stripe, ids["customer"]),
        "zuora_items": items_of(zuora, ids["zuora_invoice"]),
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_billed_lines_answer_the_same_across_one_row_per_line(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Revision 0017: a database's lines (ids, order, figures) and pending items answer the same after the
    schema goes back to two rows per billed line (items + invoice_lines) and forward to one again."""
    url = new_database_url(backend, request, tmp_path)
    with _serving(url) as client:
        tenant = new_tenant(client)
        stripe, zuora = StripeClient(client, tenant.stripe_secret_key), zuora_for(client, tenant)
        ids = _billed(stripe, zuora)
        before = _answers(stripe, zuora, ids)
    engine = create_db_engine(url)
    _downgrade(engine, _before_one_row(engine))
    with engine.connect() as connection:
        two_rows = connection.execute(
            sa.text("SELECT id, item_id FROM invoice_lines WHERE invoice_id = :i ORDER BY position"),
            {"i": ids["invoice"]},
        ).all()
    engine.dispose()
    shown = [(line["id"], line["parent"]["invoice_item_details"]["invoice_item"]) for line in before["lines"]]
    assert [(r.id, r.item_id) for r in two_rows] == shown
    assert len(two_rows) == 3 and len(before["items"]) == 5  # 3 lines, 2 pending items
    assert all(line["discount_amounts"] and line["taxes"] for line in before["lines"])  # figures to move
    with _serving(url) as client:  # upgrades on start
        stripe, zuora = StripeClient(client, tenant.stripe_secret_key), zuora_for(client, tenant)
        after = _answers(stripe, zuora, ids)
    assert after == before
