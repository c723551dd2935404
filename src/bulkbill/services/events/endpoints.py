"""Webhook endpoints: a URL, the events it wants, and the secret its deliveries are signed with."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select, update

from bulkbill.core.errors import ErrorCode, InputCollector, NotFound
from bulkbill.core.events.retries import DeliveryStatus
from bulkbill.core.events.signature import new_signing_secret
from bulkbill.core.events.types import is_known_selector
from bulkbill.core.metadata import MetadataUpdate, check_metadata, merge_metadata
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables_events import WebhookDelivery, WebhookEndpoint

ENABLED, DISABLED = "enabled", "disabled"


@dataclass(frozen=True)
class EndpointFields:
    url: str | None = None
    enabled_events: list[str] | None = None
    description: str | None = None
    metadata: MetadataUpdate | None = None
    disabled: bool | None = None
    api_version: str | None = None


def _check(fields: EndpointFields, errors: InputCollector) -> None:
    if fields.url is not None:
        parts = urlsplit(fields.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errors.add(("url",), ErrorCode.PARAMETER_INVALID, f"Invalid URL: {fields.url}: must be an http(s) URL.")
    if fields.enabled_events is not None:
        if not fields.enabled_events:
            errors.add(("enabled_events",), ErrorCode.PARAMETER_INVALID_EMPTY, "enabled_events cannot be empty.")
        for i, selector in enumerate(fields.enabled_events):
            if not is_known_selector(selector):
                errors.add(("enabled_events", i), ErrorCode.PARAMETER_INVALID, f"Invalid event type: {selector}")
    check_metadata(fields.metadata, ("metadata",), errors)


def create_endpoint(uow: UnitOfWork, fields: EndpointFields) -> WebhookEndpoint:
    """A new enabled endpoint with a fresh `whsec_` secret (the caller shows it this once)."""
    errors = InputCollector()
    if fields.url is None:
        errors.missing(("url",))
    if fields.enabled_events is None:
        errors.missing(("enabled_events",))
    _check(fields, errors)
    metadata = merge_metadata({}, fields.metadata, ("metadata",), errors)
    errors.raise_if_any()
    assert fields.url is not None and fields.enabled_events is not None
    endpoint = WebhookEndpoint(
        tenant_id=uow.tenant_id,
        id=new_id("we_"),
        url=fields.url,
        description=fields.description or None,
        enabled_events=list(dict.fromkeys(fields.enabled_events)),
        metadata_=metadata,
        status=DISABLED if fields.disabled else ENABLED,
        secret=new_signing_secret(),
        api_version=fields.api_version,
        created=uow.now,
        failure_streak=0,
        deleted=False,
    )
    uow.session.add(endpoint)
    uow.session.flush()
    return endpoint


def get_endpoint(uow: UnitOfWork, endpoint_id: str, *, lock: bool = False) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.tenant_id == uow.tenant_id,
        WebhookEndpoint.id == endpoint_id,
        WebhookEndpoint.deleted.is_(False),
    )
    endpoint = uow.session.scalars(query.with_for_update() if lock else query).first()
    if endpoint is None:
        raise NotFound("webhook endpoint", endpoint_id)
    return endpoint


def update_endpoint(uow: UnitOfWork, endpoint_id: str, fields: EndpointFields) -> WebhookEndpoint:
    """Change what was given; re-enabling an endpoint clears its run of failures."""
    endpoint = get_endpoint(uow, endpoint_id, lock=True)
    errors = InputCollector()
    _check(fields, errors)
    metadata = merge_metadata(endpoint.metadata_, fields.metadata, ("metadata",), errors)
    errors.raise_if_any()
    if fields.url is not None:
        endpoint.url = fields.url
    if fields.enabled_events is not None:
        endpoint.enabled_events = list(dict.fromkeys(fields.enabled_events))
    if fields.description is not None:
        endpoint.description = fields.description or None
    endpoint.metadata_ = metadata
    if fields.disabled is not None:
        endpoint.status = DISABLED if fields.disabled else ENABLED
        if not fields.disabled:
            endpoint.failure_streak = 0
    uow.session.flush()
    return endpoint


def delete_endpoint(uow: UnitOfWork, endpoint_id: str) -> WebhookEndpoint:
    """Deleted endpoints receive nothing more: their pending deliveries are given up (the log stays)."""
    endpoint = get_endpoint(uow, endpoint_id, lock=True)
    endpoint.deleted = True
    uow.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.tenant_id == uow.tenant_id,
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
        )
        .values(status=DeliveryStatus.FAILED.value, error="endpoint deleted")
    )
    uow.session.flush()
    return endpoint


def list_endpoints(uow: UnitOfWork, cursor: Cursor) -> Page[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.tenant_id == uow.tenant_id, WebhookEndpoint.deleted.is_(False)
    )
    return paginate(uow, query, WebhookEndpoint, cursor)
