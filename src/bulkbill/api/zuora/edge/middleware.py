"""Every Zuora-dialect response carries a Zuora-Request-Id; nothing escapes as a bare 500."""

from __future__ import annotations

import uuid
from functools import partial

from starlette.types import ASGIApp

from bulkbill.api.envelope import NulRefusal, RateRefusal, RequestEnvelope
from bulkbill.api.zuora.edge.errors import internal_error


def ZuoraEnvelope(app: ASGIApp, *, refuse_rate: RateRefusal, refuse_nul: NulRefusal) -> RequestEnvelope:  # noqa: N802 - used as a middleware class
    return RequestEnvelope(
        app,
        header="Zuora-Request-Id",
        new_id=lambda: str(uuid.uuid4()),
        internal_error=partial(internal_error, legacy_status=False),
        refuse_rate=refuse_rate,
        refuse_nul=refuse_nul,
        content_type="application/json; charset=utf-8",
    )
