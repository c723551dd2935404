"""Validate response objects against Stripe's published OpenAPI schemas (a copy: tests/data/README.md).

OpenAPI 3.0 `nullable: true` is turned into `anyOf: [schema, {"type": "null"}]` so a plain
Draft 4 validator accepts nulls where Stripe allows them (see the README next to the schemas).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMAS_PATH = Path(__file__).resolve().parents[1] / "data" / "stripe_schemas.json"


def _fix_nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_fix_nullable(x) for x in node]
    if not isinstance(node, dict):
        return node
    fixed = {k: _fix_nullable(v) for k, v in node.items()}
    return {"anyOf": [fixed, {"type": "null"}]} if fixed.pop("nullable", False) else fixed


@cache
def _components() -> dict[str, Any]:
    spec = json.loads(SCHEMAS_PATH.read_text(encoding="utf-8"))
    components: dict[str, Any] = _fix_nullable(spec["components"])
    return components


@cache
def _validator(schema_name: str) -> jsonschema.Draft4Validator:
    components = _components()
    if schema_name not in components["schemas"]:
        raise KeyError(f"no Stripe schema named {schema_name!r} in {SCHEMAS_PATH}")
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": components}
    return jsonschema.Draft4Validator(root)


def assert_stripe_schema(obj: dict[str, Any], schema_name: str) -> None:
    """Fail with every violation listed when `obj` does not match Stripe's `schema_name` schema."""
    errors = sorted(_validator(schema_name).iter_errors(obj), key=lambda e: list(e.absolute_path))
    if errors:
        details = "\n".join(f"  {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors)
        raise AssertionError(f"response does not match Stripe's {schema_name} schema:\n{details}")
