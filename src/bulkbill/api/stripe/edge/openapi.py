"""The Stripe dialect's OpenAPI document (GET /stripe/openapi.json), accurate for what the routes read.

Routes read their parameters through the `stripe_request` dependency, which FastAPI cannot see.
Each route therefore declares the parameter spec (api/stripe/edge/params.py) its handler checks:
`body_params(SPEC)` on a POST (a form-encoded body; nested keys in brackets, `lines[0][amount]`,
which OpenAPI calls the deepObject style), `query_params(SPEC)` on a GET or DELETE. The schemas
come from the specs themselves (`Spec.json_schema`), so the document says what the checks accept.
`stripe_openapi` adds the error envelope (every 4xx/5xx), the Stripe-Version and Idempotency-Key
headers, and the two ways to send the secret key (Bearer, or Basic with the key as user name).
Every route is in the document (tests/api/stripe/edge/test_openapi.py checks it against the app's routes
and sends every declared parameter to its route).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from bulkbill.api.openapi import SCHEMAS, build_document, error_responses, form_body, header
from bulkbill.api.stripe.edge.params import Obj

ERROR: dict[str, Any] = {
    "type": "object",
    "description": "Stripe's error envelope; stripe-python picks its exception class by the HTTP status.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "message"],
            "properties": {
                "type": {"type": "string", "enum": ["api_error", "idempotency_error", "invalid_request_error"]},
                "code": {"type": "string"},
                "doc_url": {"type": "string"},
                "message": {"type": "string"},
                "param": {"type": "string", "description": "The parameter at fault, in bracket form (lines[2][id])."},
                "request_log_url": {"type": "string"},
            },
        }
    },
}
OBJECT: dict[str, Any] = {
    "type": "object",
    "description": "A Stripe object (customer, invoice, ...), a deleted object's stub, or a list of objects.",
    "required": ["object"],
    "properties": {"id": {"type": "string"}, "object": {"type": "string"}},
}
SECURITY: dict[str, Any] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "The tenant's secret key (sk_test_...), as stripe-python sends it.",
    },
    "basicAuth": {
        "type": "http",
        "scheme": "basic",
        "description": "The secret key as the user name and an empty password (curl -u sk_test_...:).",
    },
}
STRIPE_VERSION = header(
    "Stripe-Version", "Echoed back when well-formed; the object shapes are those of bulkbill's version either way."
)
IDEMPOTENCY_KEY = header(
    "Idempotency-Key",
    "A successful response is replayed for 24 h; the key with other parameters is refused.",
    {"type": "string", "minLength": 1, "maxLength": 255},
)
REQUEST_ID = {"Request-Id": {"description": "This request's id.", "schema": {"type": "string"}}}
_DEEP = {"style": "deepObject", "explode": True}


def body_params(spec: Obj) -> dict[str, Any]:
    """openapi_extra for a POST whose handler checks its form-encoded body with `spec`."""
    schema = spec.json_schema()
    encoding = {name: _DEEP for name, prop in schema["properties"].items() if _nested(prop)}
    return form_body(schema, required=bool(spec.required), encoding=encoding)


def query_params(spec: Obj) -> dict[str, Any]:
    """openapi_extra for a GET or DELETE whose handler checks its query string with `spec`."""
    parameters = []
    for name, field in spec.fields.items():
        schema = field.json_schema()
        parameter = {"name": name, "in": "query", "required": name in spec.required, "schema": schema}
        if _nested(schema):
            parameter.update(_DEEP)
        parameters.append(parameter)
    return {"parameters": parameters}


def _nested(schema: dict[str, Any]) -> bool:
    """Sent with brackets: an object or an array (or a choice that includes one)."""
    if schema.get("type") in ("object", "array"):
        return True
    return any(_nested(choice) for choice in schema.get("anyOf", ()))


def stripe_openapi(app: FastAPI) -> dict[str, Any]:
    """The document: FastAPI's paths with each route's declarations, then Stripe's parts."""
    if app.openapi_schema:
        return app.openapi_schema
    schemas = {"Error": ERROR, "StripeObject": OBJECT}
    return build_document(app, schemas=schemas, security_schemes=SECURITY, complete=_complete)


def _complete(method: str, operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    ok = responses.setdefault("200", {"description": "Success"})
    content = ok.setdefault("content", {}).setdefault("application/json", {})
    if not content.get("schema"):
        content["schema"] = {"$ref": SCHEMAS + "StripeObject"}
    responses.update(error_responses("Error"))
    for response in responses.values():
        response["headers"] = REQUEST_ID
    parameters = operation.setdefault("parameters", [])
    parameters.append(STRIPE_VERSION)
    if method == "post":
        parameters.append(IDEMPOTENCY_KEY)
