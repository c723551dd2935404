"""POST /oauth/token: client credentials for a bearer token (form-encoded, no Authorization needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from bulkbill.api.access_log import note_tenant
from bulkbill.api.text_input import refuse_nul
from bulkbill.api.zuora.edge.call import ZuoraRequest, execute, zuora_request
from bulkbill.api.zuora.edge.openapi import SCHEMAS, doc, form_body, public, responds
from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput
from bulkbill.services.platform.oauth import issue_token
from bulkbill.services.platform.uow import UnitOfWork

router = APIRouter()
TOKEN_REQUEST = {
    "type": "object",
    "required": ["client_id", "client_secret", "grant_type"],
    "properties": {
        "client_id": {"type": "string", "minLength": 1},
        "client_secret": {"type": "string", "minLength": 1},
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
    },
}
TOKEN_RESPONSE = {"$ref": SCHEMAS + "TokenResponse"}


@router.post("/oauth/token", openapi_extra=doc(public(), form_body(TOKEN_REQUEST), responds(TOKEN_RESPONSE)))
def create_token(call: ZuoraRequest = Depends(zuora_request)) -> Response:
    def run(uow: UnitOfWork, c: ZuoraRequest) -> dict[str, Any]:
        form = c.form or {}
        refuse_nul(form)
        missing = [n for n in ("client_id", "client_secret", "grant_type") if not form.get(n)]
        if missing:
            raise InvalidInput([FieldError((n,), ErrorCode.PARAMETER_MISSING, "is required") for n in missing])
        if form["grant_type"] != "client_credentials":
            raise InvalidInput([FieldError(("grant_type",), ErrorCode.INVALID_VALUE, "must be client_credentials")])
        token = issue_token(uow, form["client_id"], form["client_secret"])
        note_tenant(token.tenant_id)
        return {
            "access_token": token.access_token,
            "expires_in": token.expires_in,
            "jti": token.access_token,
            "scope": f"entity.{token.tenant_id} tenant.{token.tenant_id}",
            "token_type": "bearer",
        }

    # Errors also carry top-level code and message (CommonErrorResponse, spec §1.2 and §10 #13).
    return execute(call, run, authenticated=False, common_error=True)
