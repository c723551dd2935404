"""`bulkbill tenants update T --business-name --address --logo --accent --footer --locale`: documents carry the
branding, and read in the tenant's locale when the customer names none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typst
from typer.testing import CliRunner

from bulkbill.cli.main import app
from bulkbill.storage.db import make_sessionmaker
from bulkbill.storage.migrate import open_migrated
from bulkbill.storage.tables import Tenant

runner = CliRunner()


def a_png(tmp_path: Path) -> Path:
    """A real PNG (typst draws one): a coloured square."""
    path = tmp_path / "logo.png"
    path.write_bytes(typst.compile(b"#set page(width: 2cm, height: 1cm)\n#rect(fill: red)", format="png", ppi=30))
    return path


def new_tenant(url: str) -> str:
    result = runner.invoke(app, ["tenants", "create", "acme", "--json", "--database-url", url])
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["id"])


def stored(url: str, tenant_id: str) -> Tenant:
    engine = open_migrated(url)
    with make_sessionmaker(engine)() as session:
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        session.expunge(tenant)
    engine.dispose()
    return tenant


def test_branding_is_stored_checked_and_normalized(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    tenant_id = new_tenant(url)
    logo = a_png(tmp_path)
    args = ["tenants", "update", "acme", "--business-name", "Acme GmbH", "--address", "Hauptstr. 1\\n10115 Berlin"]
    args += [
        "--logo",
        str(logo),
        "--accent",
        "#0a7",
        "--footer",
        "IBAN DE00",
        "--tax-id",
        "DE123",
        "--database-url",
        url,
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    tenant = stored(url, tenant_id)
    assert (tenant.business_name, tenant.business_address, tenant.tax_id) == (
        "Acme GmbH",
        "Hauptstr. 1\n10115 Berlin",
        "DE123",
    )
    assert (tenant.accent, tenant.invoice_footer, tenant.logo_type) == ("#00aa77", "IBAN DE00", "image/png")
    assert tenant.logo == logo.read_bytes()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--accent", "teal", "accent must be a colour"),
        ("--accent", "#12345", "accent must be a colour"),
        ("--logo", "not-an-image.txt", "PNG, JPEG or SVG"),
        ("--logo", "fake.png", "cannot be read"),
        ("--logo", "huge.png", "at most 524288"),
        ("--locale", "klingon", "locale must be a language tag"),
    ],
)
def test_bad_branding_is_one_error_line_and_changes_nothing(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    tenant_id = new_tenant(url)
    (tmp_path / "not-an-image.txt").write_text("hello")
    (tmp_path / "fake.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    (tmp_path / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 600_000)
    if option == "--logo":
        value = str(tmp_path / value)
    result = runner.invoke(
        app, ["tenants", "update", "acme", "--business-name", "New", option, value, "--database-url", url]
    )
    assert result.exit_code == 2
    assert message in result.stderr
    assert stored(url, tenant_id).business_name is None


def test_an_update_with_nothing_to_change_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    new_tenant(url)
    result = runner.invoke(app, ["tenants", "update", "acme", "--database-url", url])
    assert result.exit_code == 2 and "nothing to change" in result.stderr


def test_the_tenant_s_locale_is_stored_as_babel_names_it_and_cleared_by_an_empty_value(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    tenant_id = new_tenant(url)
    result = runner.invoke(app, ["tenants", "update", "acme", "--locale", "fr-CA", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert stored(url, tenant_id).default_locale == "fr_CA"
    result = runner.invoke(app, ["tenants", "update", "acme", "--locale", "", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert stored(url, tenant_id).default_locale is None
