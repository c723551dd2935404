"""Every field of every route, found by walking what the routes declare, never listed by hand.

Stripe: each route's parameter spec (api/stripe/edge/params.py) is recorded by calling the route
once with a parameter no spec knows, while `parse` is watched; the spec tree is then walked for its
leaves (integers, times, decimals, strings, metadata). Zuora: the request bodies and query parameters
of the dialect's own OpenAPI document (GET /zuora/openapi.json) are walked the same way. For each leaf
the walkers build the smallest request that holds a chosen value there (with every required field on
the way filled with a valid sample, for Stripe), so that a refusal can only be about that field.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

import bulkbill.api.stripe.edge.params as params
from bulkbill.api.docs import DOCS_PATHS
from bulkbill.api.stripe.catalog.price_params import CurrencyMap
from bulkbill.api.stripe.edge.filters import Range
from bulkbill.api.stripe.edge.params import (
    Array,
    Bool,
    Currency,
    Dec,
    Enum,
    Int,
    Metadata,
    Obj,
    Off,
    OrWord,
    Spec,
    Str,
    StrMap,
    Time,
    Unsettable,
)
from bulkbill.core.time_range import MAX_ANCHOR_TIMESTAMP
from tests.helpers import app_routes, form
from tests.reliability_input.world import World, own_path

Path = tuple[str | int, ...]
# Sent to record a route's spec: every spec refuses it, so nothing runs past `parse`.
PROBE = "zz_spec_walk_probe"
# Stripe reads the parameters of these from the query string only.
QUERY_METHODS = frozenset({"GET", "DELETE"})


@dataclass(frozen=True)
class Leaf:
    path: Path
    spec: Spec


def leaves(spec: Spec, path: Path = ()) -> Iterator[Leaf]:
    """Every leaf of a spec tree; arrays are entered at index 0."""
    if isinstance(spec, Obj):
        for name, sub in spec.fields.items():
            yield from leaves(sub, (*path, name))
    elif isinstance(spec, Array):
        yield from leaves(spec.item, (*path, 0))
    elif isinstance(spec, Unsettable | OrWord):
        yield from leaves(spec.inner, path)
    elif isinstance(spec, CurrencyMap):
        yield from leaves(spec.inner, (*path, "eur"))
    elif isinstance(spec, Range):  # a time, or a hash of time bounds
        yield Leaf(path, Time())
        yield from leaves(spec.bounds, path)
    else:
        yield Leaf(path, spec)


def sample(spec: Spec) -> Any:
    """A value the spec accepts (form values are strings)."""
    if isinstance(spec, Unsettable | OrWord):
        return sample(spec.inner)
    if isinstance(spec, Obj):
        return {name: sample(spec.fields[name]) for name in sorted(spec.required)}
    if isinstance(spec, Array):
        item = sample(spec.item)
        if item == {} and isinstance(spec.item, Obj):  # an array of empty objects sends nothing: fill one field
            name, first = next(iter(spec.item.fields.items()))
            item = {name: sample(first)}
        return [item]
    if isinstance(spec, CurrencyMap):
        return {}
    if isinstance(spec, Time):
        return str(min(spec.maximum, MAX_ANCHOR_TIMESTAMP // 200))
    if isinstance(spec, Int):
        return str(min(max(1, spec.minimum), spec.maximum))
    if isinstance(spec, Dec):
        return str(min(max(Decimal(1), spec.minimum), spec.maximum))
    if isinstance(spec, Enum):
        return spec.values[0]
    if isinstance(spec, Off):
        return "false"
    if isinstance(spec, Bool):
        return "true"
    if isinstance(spec, Currency):
        return "usd"
    if isinstance(spec, Metadata | StrMap):
        return {"k": "v"}
    assert isinstance(spec, Str), f"no sample for {spec!r}"
    return "x"


def body_with(root: Spec, path: Path, value: Any) -> Any:
    """A request holding `value` at `path`, each object on the way with its required fields filled."""
    if not path:
        return value
    if isinstance(root, Unsettable | OrWord):
        return body_with(root.inner, path, value)
    if isinstance(root, Range):
        return body_with(root.bounds, path, value)
    head, *rest = path
    if isinstance(root, CurrencyMap):
        return {head: body_with(root.inner, tuple(rest), value)}
    if isinstance(root, Array):
        return [body_with(root.item, tuple(rest), value)]
    assert isinstance(root, Obj) and isinstance(head, str), (root, path)
    out = {name: sample(root.fields[name]) for name in sorted(root.required) if name != head}
    out[head] = body_with(root.fields[head], tuple(rest), value)
    return out


# The API description and its docs pages: public, and they read no parameters.
PUBLIC_PATHS = frozenset({"/openapi.json", *DOCS_PATHS})


def past_bounds(spec: Int | Dec) -> list[str]:
    """Values just past each bound: one unit for integers, one last decimal place for decimals."""
    if isinstance(spec, Int):
        return [str(spec.maximum + 1), str(spec.minimum - 1)]
    step = Decimal(1).scaleb(-spec.max_places)
    return [format(spec.maximum + step, "f"), format(spec.minimum - step, "f")]


def stripe_route_specs(client: TestClient, world: World, headers: dict[str, str]) -> dict[tuple[str, str], list[Obj]]:
    """(method, path template) → the specs its handler parses, recorded by calling each Stripe route once."""
    recorded: list[Obj] = []
    real_parse = params.parse

    def recording(spec: Obj, values: Any) -> dict[str, Any]:
        recorded.append(spec)
        return real_parse(spec, values)

    out: dict[tuple[str, str], list[Obj]] = {}
    with pytest.MonkeyPatch.context() as patch:  # its own: undoing it leaves the test's other patches
        for name, module in list(sys.modules.items()):
            if name.startswith("bulkbill.api.stripe.") and getattr(module, "parse", None) is real_parse:
                patch.setattr(module, "parse", recording)
        for method, template in app_routes(client.app):
            if not template.startswith("/stripe/") or template.removeprefix("/stripe") in PUBLIC_PATHS:
                continue
            recorded.clear()
            url = own_path(template, world)
            if method in QUERY_METHODS:
                response = client.request(method, f"{url}?{PROBE}=1", headers=headers)
            else:
                response = client.request(method, url, content=f"{PROBE}=1", headers=headers)
            assert response.status_code == 400 and recorded, (method, template, response.text[:300])
            out[(method, template)] = list(recorded)
    return out


def stripe_request(method: str, url: str, body: Any, send: Callable[..., Any], headers: dict[str, str]) -> Any:
    """Send a decoded body the way stripe-python does: in the query string for GET and DELETE, else a form."""
    encoded = form(body)
    if method in QUERY_METHODS:
        return send(method, f"{url}?{encoded}", headers=headers)
    return send(method, url, content=encoded.encode(), headers=headers)


# --- Zuora: the OpenAPI document -------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaLeaf:
    path: Path
    kind: str  # "number", "date" or "string"
    schema: dict[str, Any]


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def schema_leaves(doc: dict[str, Any], schema: dict[str, Any], path: Path = (), depth: int = 0) -> Iterator[SchemaLeaf]:
    """Every number, date and string field a JSON schema describes (each branch of anyOf); arrays at index 0."""
    schema = _resolve(doc, schema)
    if depth > 8:
        return
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from schema_leaves(doc, branch, path, depth + 1)
    kind = schema.get("type")
    if kind == "object":
        for name, sub in schema.get("properties", {}).items():
            yield from schema_leaves(doc, sub, (*path, name), depth + 1)
    elif kind == "array" and "items" in schema:
        yield from schema_leaves(doc, schema["items"], (*path, 0), depth + 1)
    elif kind in ("number", "integer"):
        yield SchemaLeaf(path, "number", schema)
    elif kind == "string":
        yield SchemaLeaf(path, "date" if schema.get("format") == "date" else "string", schema)


def json_with(path: Path, value: Any) -> Any:
    """The JSON document holding `value` at `path` and nothing else."""
    if not path:
        return value
    head, *rest = path
    inner = json_with(tuple(rest), value)
    return [inner] if isinstance(head, int) else {head: inner}


def zuora_operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path template under /zuora, operation) for every operation of the document."""
    for template, item in doc["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), "/zuora" + template, operation


def json_body_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return schema if isinstance(schema, dict) else None


__all__ = [
    "PROBE",
    "Leaf",
    "SchemaLeaf",
    "body_with",
    "json_body_schema",
    "json_with",
    "leaves",
    "own_path",
    "past_bounds",
    "sample",
    "schema_leaves",
    "stripe_request",
    "stripe_route_specs",
    "zuora_operations",
]
