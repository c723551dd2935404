"""How much of what stripe-python declares bulkbill recognises, per operation it serves.

Reads every service method of the installed `stripe` package (its HTTP method, path template and
params TypedDict) and compares the TypedDict's top-level keys with the parameters the operation
declares in bulkbill's own `/stripe/openapi.json` (generated from the specs the handlers check, so
a parameter listed there is one the handler reads). The first nested level is compared too: the keys
of a parameter that is a TypedDict (or a list of them), `product_data[statement_descriptor]`, against the
properties of the parameter's schema (or of its items'), for the top-level parameters bulkbill recognises.
Prints one row per served operation and the totals (top-level and nested);
`python -m bulkbill.devtools.stripe_coverage [--missing]`.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
import tempfile
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# `params: Optional["CustomerCreateParams"]` ... `"post",` `"/v1/customers/{customer}"...`
_METHOD = re.compile(
    r'params: (?:Optional\[\s*)?"(?P<params>\w+)"'  # the params class, optional or not
    r"(?:(?!\n    (?:async )?def ).)*?"  # within the same method
    r'self\._request\(\s*"(?P<verb>\w+)",\s*"(?P<path>[^"]+)"',
    re.S,
)


@dataclass(frozen=True)
class Operation:
    verb: str
    path: str  # with {name} placeholders as the SDK writes them
    params: str  # the TypedDict's name in stripe.params


@dataclass(frozen=True)
class Coverage:
    operation: Operation
    declared: frozenset[str]
    recognised: frozenset[str]
    # The first nested level, as `parent[key]`, of the top-level parameters recognised.
    nested_declared: frozenset[str] = frozenset()
    nested_recognised: frozenset[str] = frozenset()

    @property
    def nested_refused(self) -> frozenset[str]:
        """Nested parameters refused by design (their own name is on the list: `invoice_settings[issuer]`)."""
        from bulkbill.api.stripe.edge.no_money import MOVES_MONEY

        return frozenset(
            n for n in self.nested_declared - self.nested_recognised if n.rsplit("[", 1)[1].rstrip("]") in MOVES_MONEY
        )

    @property
    def nested_missing(self) -> frozenset[str]:
        return self.nested_declared - self.nested_recognised - self.nested_refused

    @property
    def refused(self) -> frozenset[str]:
        """Declared parameters bulkbill refuses by design (it moves no money: api/stripe/edge/no_money.py)."""
        from bulkbill.api.stripe.edge.no_money import MOVES_MONEY

        return frozenset(n for n in self.declared - self.recognised if n in MOVES_MONEY)

    @property
    def missing(self) -> frozenset[str]:
        return self.declared - self.recognised - self.refused


def sdk_operations() -> Iterator[Operation]:
    """Every (verb, path, params class) the SDK's services call, read from their source."""
    import stripe

    seen: set[tuple[str, str]] = set()
    for module in pkgutil.walk_packages(stripe.__path__, "stripe."):
        if not module.name.rsplit(".", 1)[-1].endswith("_service"):
            continue
        spec = importlib.util.find_spec(module.name)
        if spec is None or spec.origin is None:
            continue
        with open(spec.origin, encoding="utf-8") as source:
            text = source.read()
        for match in _METHOD.finditer(text):
            key = (match["verb"], match["path"])
            if key not in seen:
                seen.add(key)
                yield Operation(match["verb"], match["path"], match["params"])


def _params_class(params: str) -> Any:
    import stripe.params
    import stripe.params.billing
    import stripe.params.entitlements
    import stripe.params.test_helpers

    return next(
        (
            found
            for module in (stripe.params, stripe.params.test_helpers, stripe.params.billing, stripe.params.entitlements)
            if (found := getattr(module, params, None)) is not None
        ),
        None,
    )


def declared_keys(params: str) -> frozenset[str]:
    """The top-level keys of one stripe.params TypedDict, less the request options every one carries."""
    import stripe

    cls = _params_class(params)
    options: Any = stripe.RequestOptions
    keys = frozenset(getattr(cls, "__annotations__", {})) if cls is not None else frozenset()
    return keys - frozenset(options.__annotations__)


def declared_nested(params: str) -> dict[str, frozenset[str]]:
    """Top-level key → the keys of the TypedDict it takes (itself, in a list, or among a union's choices)."""
    cls = _params_class(params)
    if cls is None:
        return {}
    module = sys.modules[cls.__module__]
    nested: dict[str, frozenset[str]] = {}
    for key in declared_keys(params):
        inner = _typed_dicts(cls.__annotations__[key], module)
        names = frozenset(k for d in inner for k in d.__annotations__)
        if names:
            nested[key] = names
    return nested


def _is_typed_dict(annotation: Any) -> bool:
    """typing's or typing_extensions' TypedDict (stripe-python uses the latter)."""
    import typing_extensions

    return typing.is_typeddict(annotation) or typing_extensions.is_typeddict(annotation)


def _typed_dicts(annotation: Any, module: Any) -> list[Any]:
    """The TypedDicts an annotation names: through NotRequired, Optional, Union, List and forward references."""
    if isinstance(annotation, typing.ForwardRef):
        import stripe.params

        name = annotation.__forward_arg__
        annotation = getattr(module, name, None) or getattr(stripe.params, name, None)
        if annotation is None:
            return []
    if isinstance(annotation, str) or typing.get_origin(annotation) is typing.Literal:
        return []  # a Literal's values (`Literal[""]`, which unsets), not a type
    if _is_typed_dict(annotation):
        return [annotation]
    return [d for arg in typing.get_args(annotation) for d in _typed_dicts(arg, module)]


def served_parameters() -> dict[tuple[str, str], dict[str, frozenset[str]]]:
    """(verb, path with {} placeholders) → the parameters bulkbill's Stripe dialect reads, each with the keys it
    reads inside (an object's properties, or its items'; empty for a scalar)."""
    from fastapi.testclient import TestClient

    from bulkbill.api.app import create_app
    from bulkbill.config import Settings

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Settings(database_url=f"sqlite:///{folder}/coverage.db"))
        with TestClient(app) as client:
            document = client.get("/stripe/openapi.json").json()
    served: dict[tuple[str, str], dict[str, frozenset[str]]] = {}
    for path, operations in document["paths"].items():
        for verb, operation in operations.items():
            names = {
                p["name"]: _inner_keys(p.get("schema", {}))
                for p in operation.get("parameters", [])
                if p.get("in") == "query"
            }
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                properties = media.get("schema", {}).get("properties", {})
                names.update({name: _inner_keys(schema) for name, schema in properties.items()})
            served[(verb, _shape(path))] = names
    return served


def _inner_keys(schema: dict[str, Any]) -> frozenset[str]:
    """The keys a parameter's schema reads inside it: its properties, its items' or any choice's."""
    if str(schema.get("description", "")).startswith("Refused:"):
        return frozenset()  # refused whole: nothing inside is read
    keys = set(schema.get("properties", {}))
    if isinstance(schema.get("items"), dict):
        keys |= _inner_keys(schema["items"])
    for choice in schema.get("anyOf", ()):
        keys |= _inner_keys(choice)
    return frozenset(keys)


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def coverage() -> list[Coverage]:
    """One row per SDK operation bulkbill serves."""
    served = served_parameters()
    rows = []
    for op in sdk_operations():
        route = served.get((op.verb, _shape(op.path)))
        if route is None:
            continue
        declared = declared_keys(op.params)
        nested_declared: set[str] = set()
        nested_recognised: set[str] = set()
        for key, inner in declared_nested(op.params).items():
            if key not in route or str(key) in _refused_whole(route, key):
                continue
            nested_declared |= {f"{key}[{name}]" for name in inner}
            nested_recognised |= {f"{key}[{name}]" for name in inner & route[key]}
        rows.append(
            Coverage(
                op, declared, declared & frozenset(route), frozenset(nested_declared), frozenset(nested_recognised)
            )
        )
    return sorted(rows, key=lambda r: (r.operation.path, r.operation.verb))


def _refused_whole(route: dict[str, frozenset[str]], key: str) -> frozenset[str]:
    """A recognised parameter read as a whole (a scalar, or refused whole) has no nested level to count."""
    return frozenset({key}) if not route[key] else frozenset()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--missing", action="store_true", help="list the parameters not recognised")
    args = parser.parse_args(argv)
    rows = coverage()
    print(f"{'operation':58} {'declared':>9} {'recognised':>11} {'refused':>8}")
    for r in rows:
        name = r.operation.verb.upper() + " " + r.operation.path
        print(f"{name:58} {len(r.declared):>9} {len(r.recognised):>11} {len(r.refused):>8}")
        if args.missing and r.missing:
            print("    missing: " + ", ".join(sorted(r.missing)))
        if args.missing and r.nested_missing:
            print("    nested missing: " + ", ".join(sorted(r.nested_missing)))
    print(summary(rows))
    print(nested_summary(rows))


def summary(rows: Sequence[Coverage]) -> str:
    """The figures: recognised share of the declared parameters, and with those refused by design."""
    figures = _figures(
        sum(len(r.declared) for r in rows), sum(len(r.recognised) for r in rows), sum(len(r.refused) for r in rows)
    )
    return f"operations={len(rows)} {figures}"


def nested_summary(rows: Sequence[Coverage]) -> str:
    """The same figures for the first nested level (`parent[key]`)."""
    declared = sum(len(r.nested_declared) for r in rows)
    return "nested: " + _figures(
        declared, sum(len(r.nested_recognised) for r in rows), sum(len(r.nested_refused) for r in rows)
    )


def _figures(declared: int, recognised: int, refused: int) -> str:
    share = 100 * recognised / declared if declared else 100.0
    accounted = 100 * (recognised + refused) / declared if declared else 100.0
    return (
        f"declared={declared} recognised={recognised} refused_by_design={refused} "
        f"coverage={share:.1f}% recognised_or_refused={accounted:.1f}%"
    )


if __name__ == "__main__":
    main()
