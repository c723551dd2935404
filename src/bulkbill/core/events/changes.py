"""`data.previous_attributes` of an `*.updated` event: the changed fields, with their values before."""

from __future__ import annotations

from typing import Any


def previous_attributes(
    before: dict[str, Any], after: dict[str, Any], undiffed: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The fields whose value changed, as they were; in a changed hash only its changed keys (a removed key
    reads "" as Stripe shows it, an added one None), lists and scalars whole; `undiffed` fields never."""
    changed: dict[str, Any] = {}
    for key, old in before.items():
        new = after.get(key)
        if old == new or key in undiffed:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and key == "metadata":
            changed[key] = {k: old.get(k, "") for k in set(old) | set(new) if old.get(k) != new.get(k)}
        else:
            changed[key] = old
    for key in after.keys() - before.keys() - undiffed:
        changed[key] = None
    return changed
