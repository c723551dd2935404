"""docs/configuration.md, generated from the settings class so the reference cannot drift from the code.

    python -m bulkbill.devtools.config_doc > docs/configuration.md

Each setting's meaning is its `Field(description=...)` in bulkbill/config.py; a setting without one
is an error here (and so fails the test that compares the file with this output).
"""

from __future__ import annotations

import sys
import types
import typing
from typing import Any

from pydantic.fields import FieldInfo

from bulkbill.config import Settings

COMMAND = "python -m bulkbill.devtools.config_doc > docs/configuration.md"
HEADER = f"""# Configuration

bulkbill reads its settings from environment variables named `BULKBILL_` + the setting's name in
capitals. Every one has a default: an unset variable means the default. Booleans accept `true`/`false`
(or `1`/`0`); a value that is not of the setting's type stops every command with one line naming it.

<!-- Generated from src/bulkbill/config.py by `{COMMAND}`; edit the descriptions there, not here. -->

| Variable | Type | Default | Meaning |
|---|---|---|---|
"""


TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean"}


class UndescribedSetting(Exception):
    """A setting whose meaning is not written down in its Field(description=...)."""


def type_name(annotation: Any) -> str:
    """How a setting's type reads to an operator: string, integer, number, boolean, listed values, or optional."""
    if typing.get_origin(annotation) is typing.Literal:
        return " or ".join(f"`{value}`" for value in typing.get_args(annotation))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return " or ".join(type_name(arg) for arg in args) + " (optional)"
    return TYPE_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def default_text(field: FieldInfo) -> str:
    """The default as one would write it in the environment variable."""
    default = field.get_default(call_default_factory=True)
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if default == "":
        return '`""` (empty)'
    return f"`{default}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown(settings: type[Settings] = Settings) -> str:
    """The whole of docs/configuration.md."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    rows = []
    for name, field in settings.model_fields.items():
        if not field.description:
            raise UndescribedSetting(
                f"{settings.__name__}.{name} has no description: declare it with Field(..., description=...)"
            )
        cells = (f"`{prefix}{name.upper()}`", type_name(field.annotation), default_text(field), field.description)
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return HEADER + "\n".join(rows) + "\n"


def main() -> None:
    sys.stdout.write(markdown())


if __name__ == "__main__":
    main()
