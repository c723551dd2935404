"""Metadata rules: merge on update, an empty value deletes a key, Stripe's size limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulkbill.core.errors import ErrorCode, InputCollector, Path

MAX_KEYS = 50
MAX_KEY_LENGTH = 40
MAX_VALUE_LENGTH = 500


class Clear:
    """The client sent an empty string for a whole field: remove everything it held."""

    _instance: Clear | None = None

    def __new__(cls) -> Clear:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "CLEAR"


CLEAR = Clear()

MetadataUpdate = Mapping[str, str] | Clear


def check_metadata(update: MetadataUpdate | None, path: Path, errors: InputCollector) -> None:
    """Keys are at most 40 characters without brackets, values at most 500 characters."""
    if update is None or isinstance(update, Clear):
        return
    for key, value in update.items():
        if not key or len(key) > MAX_KEY_LENGTH or "[" in key or "]" in key:
            errors.add(
                (*path, key),
                ErrorCode.INVALID_METADATA_KEY,
                f"Metadata keys must be 1 to {MAX_KEY_LENGTH} characters without '[' or ']'.",
            )
        if len(value) > MAX_VALUE_LENGTH:
            errors.add(
                (*path, key),
                ErrorCode.INVALID_METADATA_VALUE,
                f"Metadata values can have up to {MAX_VALUE_LENGTH} characters.",
            )


def merge_metadata(
    current: Mapping[str, str], update: MetadataUpdate | None, path: Path, errors: InputCollector
) -> dict[str, str]:
    """Merge an update into metadata: "" deletes a key, CLEAR empties it, at most 50 keys remain."""
    if update is None:
        return dict(current)
    if isinstance(update, Clear):
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > MAX_KEYS:
        errors.add(path, ErrorCode.INVALID_METADATA, f"Metadata can have up to {MAX_KEYS} keys.")
    return merged


def replace_metadata(
    update: MetadataUpdate | None, current: Mapping[str, str], path: Path, errors: InputCollector
) -> dict[str, str]:
    """Replace metadata wholesale (subscription lines): only non-empty values are kept."""
    if update is None:
        return dict(current)
    if isinstance(update, Clear):
        return {}
    replaced = {k: v for k, v in update.items() if v != ""}
    if len(replaced) > MAX_KEYS:
        errors.add(path, ErrorCode.INVALID_METADATA, f"Metadata can have up to {MAX_KEYS} keys.")
    return replaced


def merge_fields(current: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
    """Sent fields replace stored ones of the same name; a null removes one (Zuora's custom fields and details)."""
    merged = dict(current)
    for key, value in sent.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
