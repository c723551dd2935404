"""The `bulkbill` command: serve, migrate, tenants, worker, bill-run. A stable contract for outside harnesses."""

from __future__ import annotations

import datetime as dt
import json
import time
from importlib import metadata
from pathlib import Path
from typing import Annotated

import typer

from bulkbill.cli import bill_runs as bill_run_commands
from bulkbill.cli import documents as document_commands
from bulkbill.cli import events as event_commands
from bulkbill.cli.options import DatabaseUrl, fail, open_database, settings_for, tenant_id_for
from bulkbill.core.documents.branding import BrandingRefused
from bulkbill.services.platform.branding import BrandingChange, set_branding
from bulkbill.services.platform.tenants import (
    TenantNameRefused,
    check_zuora_version,
    create_tenant,
    list_tenants,
    set_zuora_default_version,
)
from bulkbill.storage.db import make_sessionmaker, read_only

app = typer.Typer(help="bulkbill: a self-hostable billing engine.", no_args_is_help=True, add_completion=False)
tenants = typer.Typer(help="Manage tenants.", no_args_is_help=True)
app.add_typer(tenants, name="tenants")
app.add_typer(bill_run_commands.app, name="bill-run")
app.add_typer(event_commands.app, name="events")
app.command("listen")(event_commands.listen)
app.add_typer(document_commands.app, name="documents")

_settings = settings_for


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"bulkbill {metadata.version('bulkbill')}")
        raise typer.Exit()


@app.callback()
def _bulkbill(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """bulkbill: a self-hostable billing engine."""
    from bulkbill.api.stripe.events.renderers import register

    register()  # events written by any command carry their objects as the Stripe dialect renders them


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    database_url: DatabaseUrl = None,
    log_format: Annotated[
        str | None, typer.Option("--log-format", help="plain or json; default $BULKBILL_LOG_FORMAT or plain.")
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option("--log-level", help="debug, info, warning or error; default $BULKBILL_LOG_LEVEL or info."),
    ] = None,
    fd: Annotated[
        int | None,
        typer.Option(help="Serve on this inherited, already bound socket instead of --host/--port (a harness's)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Server processes sharing the socket; default $BULKBILL_SERVE_WORKERS, else one per core on "
            "PostgreSQL and 1 on SQLite.",
        ),
    ] = None,
    production: Annotated[
        bool,
        typer.Option(
            "--production",
            help="Refuse webhook URLs that resolve to loopback, private or link-local addresses (SSRF).",
        ),
    ] = False,
) -> None:
    """Migrate the database, then serve the Stripe (/stripe) and Zuora (/zuora) APIs.

    Interactive API docs: /stripe/docs and /zuora/docs.
    """
    from bulkbill.cli import serve as serving

    settings = serving.with_log_options(_settings(database_url), log_format, log_level)
    if production:
        settings = settings.model_copy(update={"webhook_allow_private_urls": False})
    open_database(settings).dispose()
    serving.run(settings, host, port, fd, workers)


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Bring the database schema up to date."""
    open_database(_settings(database_url)).dispose()
    typer.echo("database is up to date")


ZuoraVersion = Annotated[
    str | None,
    typer.Option(
        "--zuora-version",
        help="Answer Zuora requests without a Zuora-Version header as this version does (e.g. 196.0: errors with "
        "HTTP 200). Default: the current behaviour.",
    ),
]


def _valid_version(version: str | None) -> None:
    try:
        check_zuora_version(version)
    except ValueError as exc:
        fail(str(exc))


@tenants.command("create")
def tenants_create(
    name: Annotated[str, typer.Argument(help="Tenant name.")],
    database_url: DatabaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    zuora_version: ZuoraVersion = None,
) -> None:
    """Create a tenant and print its credentials (shown once; only hashes are stored)."""
    _valid_version(zuora_version)
    engine = open_database(_settings(database_url))
    try:
        with make_sessionmaker(engine).begin() as session:
            tenant = create_tenant(session, name, now=int(time.time()), zuora_default_version=zuora_version)
    except TenantNameRefused as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    data = {
        "id": tenant.id,
        "name": tenant.name,
        "stripe_secret_key": tenant.stripe_secret_key,
        "zuora_client_id": tenant.zuora_client_id,
        "zuora_client_secret": tenant.zuora_client_secret,
    }
    if as_json:
        typer.echo(json.dumps(data))
    else:
        for key, value in data.items():
            typer.echo(f"{key}: {value}")


@app.command()
def worker(
    database_url: DatabaseUrl = None,
    processes: Annotated[int, typer.Option("--processes", "-p", min=1, help="Worker processes to run.")] = 1,
    once: Annotated[bool, typer.Option("--once", help="Exit when no chunk is left to claim.")] = False,
    poll_interval: Annotated[
        float | None, typer.Option("--poll-interval", help="Seconds between looks for work when idle.")
    ] = None,
) -> None:
    """Bill bill-run chunks from the database until stopped (SIGTERM/Ctrl-C finish the chunk in hand).

    Run as many as you like, on as many machines: each chunk is claimed with FOR UPDATE SKIP LOCKED
    and billed in one transaction, so no chunk is billed twice.
    """
    import logging

    from bulkbill.jobs.worker import run_workers

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = _settings(database_url)
    if poll_interval is not None:
        settings = settings.model_copy(update={"worker_poll_seconds": poll_interval})
    open_database(settings).dispose()
    from bulkbill.api.stripe.events.renderers import register

    raise typer.Exit(run_workers(settings, processes, once=once, setup=register))


def main() -> None:
    app()


@tenants.command("update")
def tenants_update(
    tenant: Annotated[str, typer.Argument(help="Tenant id or name.")],
    zuora_version: Annotated[
        str | None,
        typer.Option(
            "--zuora-version",
            help="The tenant's default Zuora-Version (e.g. 196.0 or 2025-08-12); 'current' for the current behaviour.",
        ),
    ] = None,
    business_name: Annotated[
        str | None, typer.Option("--business-name", help="Name on documents (default: the tenant's name).")
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="Business address on documents ('\\n' ends a line).")
    ] = None,
    tax_id: Annotated[str | None, typer.Option("--tax-id", help="Tax id shown under the address.")] = None,
    logo: Annotated[
        Path | None, typer.Option("--logo", help="PNG, JPEG or SVG file, at most 512 KiB; '' removes it.")
    ] = None,
    accent: Annotated[str | None, typer.Option("--accent", help="Accent colour, #rgb or #rrggbb.")] = None,
    footer: Annotated[str | None, typer.Option("--footer", help="Footer text of every document.")] = None,
    locale: Annotated[
        str | None,
        typer.Option("--locale", help="Language of documents whose customer names none (fr, fr-CA, ja); '' = English."),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Change a tenant's settings: its default Zuora-Version, and the branding of its documents."""
    version = None if zuora_version == "current" else zuora_version
    if zuora_version is not None:
        _valid_version(version)
    change = BrandingChange(
        business_name=business_name,
        address=address.replace("\\n", "\n") if address is not None else None,
        tax_id=tax_id,
        accent=accent,
        footer=footer,
        logo=_read_logo(logo),
        locale=locale,
    )
    if zuora_version is None and change.is_empty():
        fail("nothing to change: give --zuora-version or a branding option (see --help)")
    engine = open_database(_settings(database_url))
    try:
        with make_sessionmaker(engine).begin() as session:
            tenant_id = tenant_id_for(session, tenant)
            if zuora_version is not None:
                set_zuora_default_version(session, tenant_id, version)
            if not change.is_empty():
                set_branding(session, tenant_id, change)
    except BrandingRefused as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    if zuora_version is not None:
        typer.echo(f"tenant {tenant_id}: Zuora-Version default {version or 'current'}")
    if not change.is_empty():
        typer.echo(f"tenant {tenant_id}: branding updated")


def _read_logo(path: Path | None) -> bytes | None:
    if path is None:
        return None
    if str(path) in ("", "."):
        return b""
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read the logo {str(path)!r}: {exc.strerror}")


@tenants.command("list")
def tenants_list(
    database_url: DatabaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
) -> None:
    """List the tenants (id, name, created), oldest first."""
    engine = open_database(_settings(database_url))
    try:
        with make_sessionmaker(engine).begin() as session:
            read_only(session)
            rows = [(t.id, t.name, t.created) for t in list_tenants(session)]
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps([{"id": i, "name": n, "created": c} for i, n, c in rows]))
        return
    table = [("ID", "NAME", "CREATED")] + [(i, n, _utc(c)) for i, n, c in rows]
    widths = [max(len(row[column]) for row in table) for column in range(2)]
    for tenant_id, name, created in table:
        typer.echo(f"{tenant_id:<{widths[0]}}  {name:<{widths[1]}}  {created}")


def _utc(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
