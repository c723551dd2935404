"""What both dialects' OpenAPI documents share: route declarations and the frame of the document.

Routes read their parameters through a dependency FastAPI cannot see into, so each route declares
what it reads with `openapi_extra` fragments built here (`query`, `form_body`, `responds`, `public`,
`no_body`, combined with `doc`). `build_document` then takes FastAPI's paths (path parameters
included), drops FastAPI's own 422 (validation errors answer 400 in the dialect's envelope), adds
the dialect's schemas and security schemes, and lets the dialect complete each operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

SCHEMAS = "#/components/schemas/"
FORM = "application/x-www-form-urlencoded"
BOOLEAN_FLAG: dict[str, Any] = {"type": "string", "enum": ["true", "false"]}


def form_body(
    schema: dict[str, Any], *, required: bool = True, encoding: dict[str, Any] | None = None
) -> dict[str, Any]:
    """openapi_extra for a route that reads a form-encoded body of this schema."""
    content: dict[str, Any] = {"schema": schema}
    if encoding:
        content["encoding"] = encoding
    return {"requestBody": {"required": required, "content": {FORM: content}}}


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
    """An operation that needs no credentials."""
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


def header(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """An optional request header, as an operation parameter."""
    schema = schema or {"type": "string"}
    return {"name": name, "in": "header", "required": False, "description": description, "schema": schema}


def error_responses(error_schema: str) -> dict[str, Any]:
    """Every 4xx and 5xx answers the dialect's error envelope (a component schema's name)."""
    error = {"description": "Error", "content": {"application/json": {"schema": {"$ref": SCHEMAS + error_schema}}}}
    return {"4XX": error, "5XX": error}


def build_document(
    app: FastAPI,
    *,
    schemas: dict[str, Any],
    security_schemes: dict[str, Any],
    complete: Callable[[str, dict[str, Any]], None],
) -> dict[str, Any]:
    """The app's document (kept as app.openapi_schema): FastAPI's paths, the dialect's schemas, any one of
    its security schemes required by default, and `complete(method, operation)` applied to every operation."""
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes, servers=app.servers
    )
    components = document.setdefault("components", {})
    known = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        known.pop(unused, None)
    known.update(schemas)
    components["securitySchemes"] = security_schemes
    document["security"] = [{name: []} for name in security_schemes]
    for method_ops in document.get("paths", {}).values():
        for method, operation in method_ops.items():
            operation.setdefault("responses", {}).pop("422", None)
            complete(method, operation)
    app.openapi_schema = document
    return document
