"""`bulkbill documents render --bill-run BR`: a bill run's PDFs rendered ahead of the first request, once each."""

from __future__ import annotations

import json
import random
from pathlib import Path

from sqlalchemy import func, select, update
from typer.testing import CliRunner

from bulkbill.cli.main import app
from bulkbill.storage.db import create_db_engine, make_sessionmaker
from bulkbill.storage.tables import Invoice
from bulkbill.storage.tables_documents import DocumentFile
from tests.scale.data import make_dataset

runner = CliRunner()


def cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_a_bill_run_s_documents_are_pre_rendered_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    tenant_id = json.loads(cli("tenants", "create", "acme", "--database-url", url, "--json"))["id"]
    engine = create_db_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        make_dataset(session, tenant_id, random.Random(5), accounts=4, lines=12)
    common = ("--tenant", "acme", "--database-url", url)
    made = json.loads(cli("bill-run", "create", "--target-date", "2024-06-30", "--json", "--no-progress", *common))
    with sessions.begin() as session:
        # Post all but one: a draft has no document and is not rendered.
        ids = list(session.scalars(select(Invoice.id).where(Invoice.bill_run_id == made["id"]).order_by(Invoice.id)))
        assert len(ids) >= 2
        session.execute(update(Invoice).where(Invoice.id.in_(ids[1:])).values(status="open", finalized_at=1))
    summary = json.loads(cli("documents", "render", "--bill-run", made["billRunNumber"], "--json", *common))
    assert (summary["documents"], summary["rendered"]) == (len(ids) - 1, len(ids) - 1)
    again = json.loads(cli("documents", "render", "--bill-run", made["id"], "--json", *common))
    assert again["rendered"] == 0
    with sessions.begin() as session:
        files = session.scalar(select(func.count()).select_from(DocumentFile))
        drafts = session.scalar(select(func.count()).select_from(DocumentFile).where(DocumentFile.invoice_id == ids[0]))
    engine.dispose()
    assert (files, drafts) == (len(ids) - 1, 0)
    shown = cli("documents", "render", "--bill-run", made["id"], "--progress", *common)
    assert f"0 rendered of {len(ids) - 1} documents" in shown
    cli("documents", "render", "--bill-run", "BR-99999999", *common, code=2)
