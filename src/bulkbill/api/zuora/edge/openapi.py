"""The Zuora dialect's OpenAPI document (GET /zuora/openapi.json), accurate for what the routes read.

Routes read their body, query and headers through the `zuora_request` dependency (so handlers stay
synchronous and every error keeps Zuora's envelope), which FastAPI cannot see. Each route therefore
declares what it reads with `openapi_extra` built here: `json_body(Model)` names the pydantic model
the handler validates the body with, `query(...)` its query parameters, `responds(...)` its success
shape. `zuora_openapi` then adds the models' JSON schemas, the request headers every operation
reads, the error envelope (every 4xx/5xx, and errors at HTTP 200 for Zuora-Version < 2024-05-20),
and the bearer security scheme. FastAPI's own 422 is dropped: validation errors answer 400 in
Zuora's envelope. Every route is in the document; a route that reads a body but declares none is
caught by tests/reliability_input/test_zuora_schemathesis.py.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

SCHEMAS = "#/components/schemas/"
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
    {
        "name": "Zuora-Version",
        "in": "header",
        "required": False,
        "description": "Versions before 2024-05-20 (and 2xx.x versions) answer errors with HTTP 200.",
        "schema": {"type": "string"},
    },
    {
        "name": "Zuora-Track-Id",
        "in": "header",
        "required": False,
        "description": "Echoed back; at most 64 US-ASCII characters without : ; \" '.",
        "schema": {"type": "string", "maxLength": 64, "pattern": TRACK_ID_PATTERN},
    },
    {
        "name": "Zuora-Entity-Ids",
        "in": "header",
        "required": False,
        "description": "The tenant's id or OAuth client id; anything else is 403.",
        "schema": {"type": "string"},
    },
    {
        "name": "Zuora-Org-Ids",
        "in": "header",
        "required": False,
        "description": "Comma-separated org labels the call is scoped to; an unknown org is 403.",
        "schema": {"type": "string"},
    },
]
IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "The first response (success or failure) is replayed for 24 h; another body with it is 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


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


def form_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}}


def query(*params: tuple[str, dict[str, Any], str]) -> dict[str, Any]:
    """Query parameters as (name, schema, description); arrays are repeated (`expand[]=a&expand[]=b`)."""
    out = []
    for name, schema, description in params:
        param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
        if description:
            param["description"] = description
        if schema.get("type") == "array":
            param.update(style="form", explode=True)
        out.append(param)
    return {"parameters": out}


def responds(schema: dict[str, Any]) -> dict[str, Any]:
    return {"responses": {"200": {"description": "Success", "content": {"application/json": {"schema": schema}}}}}


def no_body() -> dict[str, Any]:
    """A POST or PUT whose action is its path: it reads no body (the document says so, checked by tests)."""
    return {"x-no-request-body": True}


def public() -> dict[str, Any]:
    """An operation that needs no bearer token."""
    return {"security": []}


def doc(*parts: dict[str, Any]) -> dict[str, Any]:
    """Several openapi_extra fragments as one."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, list):
                out.setdefault(key, []).extend(value)
            elif isinstance(value, dict):
                out.setdefault(key, {}).update(value)
            else:
                out[key] = value
    return out


BOOLEAN_FLAG: dict[str, Any] = {"type": "string", "enum": ["true", "false"]}


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
    """The document: FastAPI's paths with each route's declarations, then the shared parts."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes, servers=app.servers
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(_request_schemas())
    schemas["ErrorResponse"] = ERROR_ENVELOPE
    schemas["SuccessResponse"] = SUCCESS
    schemas["TokenResponse"] = TOKEN
    components["securitySchemes"] = {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from POST /oauth/token (client credentials); it expires after an hour.",
        }
    }
    document["security"] = [{"bearerAuth": []}]
    error = {"description": "Error", "content": {"application/json": {"schema": {"$ref": SCHEMAS + "ErrorResponse"}}}}
    for method_ops in document.get("paths", {}).values():
        for method, operation in method_ops.items():
            _complete(method, operation, error)
    app.openapi_schema = document
    return document


def _complete(method: str, operation: dict[str, Any], error: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    ok = responses.setdefault("200", {"description": "Success"})
    content = ok.setdefault("content", {}).setdefault("application/json", {})
    schema = content.get("schema") or {"$ref": SCHEMAS + "SuccessResponse"}
    # Zuora-Version < 2024-05-20 answers errors with HTTP 200 (Decision 1).
    content["schema"] = {"anyOf": [schema, {"$ref": SCHEMAS + "ErrorResponse"}]}
    responses["4XX"] = error
    responses["5XX"] = error
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
