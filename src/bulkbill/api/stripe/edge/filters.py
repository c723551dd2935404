"""Stripe's range filters on lists: `created=T` or `created[gt|gte|lt|lte]=T` (likewise `due_date`, periods)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bulkbill.api.stripe.edge.params import LIST_PARAMS, Obj, Spec, Time
from bulkbill.core.errors import InputCollector, Path
from bulkbill.services.platform.pagination import Bounds

_BOUNDS = Obj({name: Time() for name in ("gt", "gte", "lt", "lte")})


@dataclass(frozen=True)
class Range(Spec):
    """A Unix time, or a hash of bounds; decoded into a services Bounds."""

    @property
    def bounds(self) -> Obj:
        return _BOUNDS

    def json_schema(self) -> dict[str, Any]:
        return {"anyOf": [Time().json_schema(), _BOUNDS.json_schema()]}

    def check(self, value: Any, path: Path, errors: InputCollector) -> Any:
        if isinstance(value, str):
            exact = Time().check(value, path, errors)
            return None if exact is None else Bounds(eq=exact)
        found = _BOUNDS.check(value, path, errors)
        return None if found is None else Bounds(**found)


RANGE = Range()


def bounds(params: dict[str, Any], name: str) -> Bounds | None:
    found = params.get(name)
    return found if isinstance(found, Bounds) else None


# What every list whose objects carry `created` accepts (edge.render.cursor_from reads `created`).
CREATED_LIST_PARAMS = {**LIST_PARAMS, "created": RANGE}
