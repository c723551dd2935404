"""How much of what stripe-python declares bulkbill recognises, per operation it serves.

Reads every service method of the installed `stripe` package (its HTTP method, path template and
params TypedDict) and compares the TypedDict's top-level keys with the parameters the operation
declares in bulkbill's own `/stripe/openapi.json` (generated from the specs the handlers check, so
a parameter listed there is one the handler reads). Prints one row per served operation and the
total; `python -m bulkbill.devtools.stripe_coverage [--missing]`.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import tempfile
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


def declared_keys(params: str) -> frozenset[str]:
    """The top-level keys of one stripe.params TypedDict, less the request options every one carries."""
    import stripe.params
    import stripe.params.billing
    import stripe.params.test_helpers

    cls: Any = next(
        (
            found
            for module in (stripe.params, stripe.params.test_helpers, stripe.params.billing)
            if (found := getattr(module, params, None)) is not None
        ),
        None,
    )
    options: Any = stripe.RequestOptions
    keys = frozenset(getattr(cls, "__annotations__", {})) if cls is not None else frozenset()
    return keys - frozenset(options.__annotations__)


def served_parameters() -> dict[tuple[str, str], frozenset[str]]:
    """(verb, path with {} placeholders) → the parameters bulkbill's Stripe dialect reads."""
    from fastapi.testclient import TestClient

    from bulkbill.api.app import create_app
    from bulkbill.config import Settings

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Settings(database_url=f"sqlite:///{folder}/coverage.db"))
        with TestClient(app) as client:
            document = client.get("/stripe/openapi.json").json()
    served: dict[tuple[str, str], frozenset[str]] = {}
    for path, operations in document["paths"].items():
        for verb, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                names.update(media.get("schema", {}).get("properties", {}))
            served[(verb, _shape(path))] = frozenset(names)
    return served


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def coverage() -> list[Coverage]:
    """One row per SDK operation bulkbill serves."""
    served = served_parameters()
    rows = []
    for op in sdk_operations():
        recognised = served.get((op.verb, _shape(op.path)))
        if recognised is None:
            continue
        declared = declared_keys(op.params)
        rows.append(Coverage(op, declared, declared & recognised))
    return sorted(rows, key=lambda r: (r.operation.path, r.operation.verb))


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
    print(summary(rows))


def summary(rows: Sequence[Coverage]) -> str:
    """The figures: recognised share of the declared parameters, and with those refused by design."""
    declared = sum(len(r.declared) for r in rows)
    recognised = sum(len(r.recognised) for r in rows)
    refused = sum(len(r.refused) for r in rows)
    share = 100 * recognised / declared if declared else 100.0
    accounted = 100 * (recognised + refused) / declared if declared else 100.0
    return (
        f"operations={len(rows)} declared={declared} recognised={recognised} refused_by_design={refused} "
        f"coverage={share:.1f}% recognised_or_refused={accounted:.1f}%"
    )


if __name__ == "__main__":
    main()
