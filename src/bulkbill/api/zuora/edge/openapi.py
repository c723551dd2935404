"""The Zuora dialect's OpenAPI document (GET /zuora/openapi.json), accurate for what the routes read.

Routes read their body, query and headers through the `zuora_request` dependency (so handlers stay
synchronous and every error keeps Zuora's envelope), which FastAPI cannot see. Each route therefore
declares what it reads with `openapi_extra`: `json_body(Model)` (here) names the pydantic model the
handler validates the body with; `query(...)`, `responds(...)` and the rest are shared with the
Stripe dialect (api/openapi.py). `zuora_openapi` then adds the models' JSON schemas, the request headers every operation
reads, the error envelope (every 4xx/5xx, and errors at HTTP 200 for Zuora-Version < 2024-05-20),
and the bearer security scheme. FastAPI's own 422 is dropped: validation errors answer 400 in
Zuora's envelope. Every route is in the document; a route that reads a body but declares none is
caught by tests/reliability_input/test_zuora_schemathesis.py.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bulkbill.api.openapi import (
    BOOLEAN_FLAG,
    SCHEMAS,
    build_document,
    doc,
    error_responses,
    form_body,
    header,
    no_body,
    public,
    query,
    responds,
)

_MODELS: dict[str, type[BaseModel]] = {}

ERROR_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "description": "Zuora's error envelope. `reasons[].code` is a resource code times 100 plus the category.",
    "required": ["success", "processId", "reasons"],
    "properties": {
        "success": {"type": "boolean", "const": False},
        "processId": {"type": "string"},
        "reasons": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
            },
        },
        "code": {"type": "integer", "description": "POST /oauth/token errors only: the first reason's code."},
        "message": {
            "type": "string",
            "description": "Authentication failures, and POST /oauth/token errors (the first reason's message).",
        },
    },
}
SUCCESS: dict[str, Any] = {
    "type": "object",
    "description": "The operation's result; with Zuora-Version < 2024-05-20 an error envelope is answered with 200.",
    "properties": {"success": {"type": "boolean"}},
}
TOKEN: dict[str, Any] = {
    "type": "object",
    "required": ["access_token", "expires_in", "token_type"],
    "properties": {
        "access_token": {"type": "string"},
        "expires_in": {"type": "integer"},
        "jti": {"type": "string"},
        "scope": {"type": "string"},
        "token_type": {"type": "string", "const": "bearer"},
    },
}
TRACK_ID_PATTERN = r"^[\x00-\x21\x23-\x26\x28-\x39\x3c-\x7f]*$"
HEADERS: list[dict[str, Any]] = [
    header("Zuora-Version", "Versions before 2024-05-20 (and 2xx.x versions) answer errors with HTTP 200."),
    header(
        "Zuora-Track-Id",
        "Echoed back; at most 64 US-ASCII characters without : ; \" '.",
        {"type": "string", "maxLength": 64, "pattern": TRACK_ID_PATTERN},
    ),
    header("Zuora-Entity-Ids", "The tenant's id or OAuth client id; anything else is 403."),
    header("Zuora-Org-Ids", "Comma-separated org labels the call is scoped to; an unknown org is 403."),
]
IDEMPOTENCY_KEY = header(
    "Idempotency-Key",
    "The first response (success or failure) is replayed for 24 h; another body with it is 422.",
    {"type": "string", "minLength": 1, "maxLength": 255},
)


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """openapi_extra for a route whose handler validates its JSON body with `model`."""
    known = _MODELS.setdefault(model.__name__, model)
    if known is not model:
        raise RuntimeError(f"two request models are named {model.__name__}: rename one")
    required = any(f.is_required() for f in model.model_fields.values())
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": {"$ref": SCHEMAS + model.__name__}}},
        }
    }


def _request_schemas() -> dict[str, Any]:
    models = list(_MODELS.values())
    refs, top = models_json_schema([(m, "validation") for m in models], ref_template=SCHEMAS + "{model}", by_alias=True)
    for model in models:
        ref = refs[(model, "validation")].get("$ref")
        if ref != SCHEMAS + model.__name__:
            raise RuntimeError(f"{model.__name__}'s schema was published as {ref}")
    definitions: dict[str, Any] = top.get("$defs", {})
    return definitions


def zuora_openapi(app: FastAPI) -> dict[str, Any]:
    """The document: FastAPI's paths with each route's declarations, then Zuora's parts."""
    if app.openapi_schema:
        return app.openapi_schema
    schemas = {
        **_request_schemas(),
        "ErrorResponse": ERROR_ENVELOPE,
        "SuccessResponse": SUCCESS,
        "TokenResponse": TOKEN,
    }
    bearer = {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from POST /oauth/token (client credentials); it expires after an hour.",
    }
    return build_document(app, schemas=schemas, security_schemes={"bearerAuth": bearer}, complete=_complete)


def _complete(method: str, operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    ok = responses.setdefault("200", {"description": "Success"})
    content = ok.setdefault("content", {}).setdefault("application/json", {})
    schema = content.get("schema") or {"$ref": SCHEMAS + "SuccessResponse"}
    # Zuora-Version < 2024-05-20 answers errors with HTTP 200 (Decision 1).
    content["schema"] = {"anyOf": [schema, {"$ref": SCHEMAS + "ErrorResponse"}]}
    responses.update(error_responses("ErrorResponse"))
    parameters = operation.setdefault("parameters", [])
    parameters.extend(HEADERS)
    if method == "post":
        parameters.append(IDEMPOTENCY_KEY)


__all__ = [
    "BOOLEAN_FLAG",
    "SCHEMAS",
    "doc",
    "form_body",
    "json_body",
    "no_body",
    "public",
    "query",
    "responds",
    "zuora_openapi",
]
