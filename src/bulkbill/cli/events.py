"""`bulkbill listen` (forward a tenant's new events to a local URL, like `stripe listen`) and
`bulkbill events resend` (deliver one event to one endpoint again)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from bulkbill.cli.options import DatabaseUrl, fail, open_database, settings_for, tenant_id_for
from bulkbill.core.events.signature import new_signing_secret
from bulkbill.core.events.types import is_known_selector, wants
from bulkbill.services.events.deliveries import Claimed, resend
from bulkbill.services.events.events import events_since
from bulkbill.services.events.sender import new_transport, send
from bulkbill.services.platform.tenants import list_tenants
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.db import make_sessionmaker, read_only

app = typer.Typer(help="Events and webhooks.", no_args_is_help=True)
LOOK_BACK_SECONDS = 5  # an event committed late may carry a second already looked at


def _tenant(session: Session, tenant: str | None) -> str:
    if tenant is not None:
        return tenant_id_for(session, tenant)
    tenants = list_tenants(session)
    if len(tenants) != 1:
        fail("name the tenant with --tenant (there is not exactly one)")
    return tenants[0].id


def listen(
    forward_to: Annotated[str, typer.Option("--forward-to", help="The URL each event is POSTed to, signed.")],
    events: Annotated[
        str | None, typer.Option("--events", help="Comma-separated event types to forward (default: all).")
    ] = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Tenant id or name (default: the only one).")] = None,
    database_url: DatabaseUrl = None,
    poll_interval: Annotated[float, typer.Option("--poll-interval", help="Seconds between looks.")] = 0.25,
    stop_after: Annotated[float | None, typer.Option(hidden=True)] = None,
    stop_after_events: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Forward every new event of a tenant to --forward-to, signed with a secret printed at start (Ctrl-C stops)."""
    settings = settings_for(database_url)
    selectors = [e.strip() for e in events.split(",")] if events else ["*"]
    unknown = [s for s in selectors if not is_known_selector(s)]
    if unknown:
        fail(f"unknown event type {unknown[0]!r}")
    engine = open_database(settings)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        tenant_id = _tenant(session, tenant)
    secret = new_signing_secret()
    typer.echo(f"Ready! Your webhook signing secret is {secret} (^C to quit)")
    transport = new_transport(settings)
    since, seen = int(time.time()), dict[str, int]()  # id -> created of the events already handled
    stop, forwarded = threading.Event(), 0
    ends = None if stop_after is None else time.monotonic() + stop_after
    try:
        while not stop.is_set() and (ends is None or time.monotonic() < ends):
            with sessions.begin() as session:
                read_only(session)
                found = events_since(UnitOfWork(session, settings, tenant_id=tenant_id), since, skip=seen)
            for event in found:
                seen[event.id] = event.created
                if not wants(selectors, event.type):
                    continue
                at = dt.datetime.fromtimestamp(event.created).strftime("%Y-%m-%d %H:%M:%S")
                typer.echo(f"{at}   --> {event.type} [{event.id}]")
                claimed = Claimed(tenant_id, "", event.id, "", forward_to, secret, event.payload, 0, None)
                outcome = send(transport, claimed)
                answer = outcome.response_status if outcome.response_status is not None else outcome.error
                typer.echo(f"{at}  <--  [{answer}] POST {forward_to} [{event.id}]")
                forwarded += 1
                if stop_after_events is not None and forwarded >= stop_after_events:
                    stop.set()
                    break
            if found:
                since = max(since, max(e.created for e in found) - LOOK_BACK_SECONDS)
                seen = {i: created for i, created in seen.items() if created >= since}
            stop.wait(poll_interval)
    except KeyboardInterrupt:
        pass
    finally:
        transport.close()
        engine.dispose()


@app.command("resend")
def resend_command(
    event: Annotated[str, typer.Argument(help="The event id (evt_…).")],
    endpoint: Annotated[str, typer.Option("--endpoint", help="The webhook endpoint id (we_…).")],
    tenant: Annotated[str | None, typer.Option("--tenant", help="Tenant id or name (default: the only one).")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Queue one event for delivery to one endpoint again, now (`serve` or a worker sends it)."""
    from bulkbill.core.errors import NotFound

    settings = settings_for(database_url)
    engine = open_database(settings)
    try:
        with make_sessionmaker(engine).begin() as session:
            uow = UnitOfWork(session, settings, tenant_id=_tenant(session, tenant))
            try:
                delivery = resend(uow, event, endpoint)
            except NotFound as exc:
                fail(str(exc), 1)
        typer.echo(f"queued {delivery}: {event} to {endpoint}")
    finally:
        engine.dispose()
