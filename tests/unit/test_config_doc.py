"""docs/configuration.md is exactly what the settings class generates."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field

from bulkbill.config import Settings
from bulkbill.devtools.config_doc import COMMAND, UndescribedSetting, markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_configuration_reference_is_up_to_date() -> None:
    assert DOC.read_text() == markdown(), f"docs/configuration.md is out of date: regenerate it with `{COMMAND}`"


def test_every_setting_has_a_row_named_as_its_environment_variable() -> None:
    rows = [line for line in markdown().splitlines() if line.startswith("| `BULKBILL_")]
    assert [row.split("`")[1] for row in rows] == [f"BULKBILL_{name.upper()}" for name in Settings.model_fields]


def test_listed_and_optional_types_and_their_defaults_read_plainly() -> None:
    class More(Settings):
        log_format: Literal["plain", "json"] = Field("plain", description="How log lines look.")
        owner: str | None = Field(None, description="Who | runs it.")
        empty: str = Field("", description="Nothing by default.")

    rows = markdown(More).splitlines()
    assert "| `BULKBILL_LOG_FORMAT` | `plain` or `json` | `plain` | How log lines look. |" in rows
    assert "| `BULKBILL_OWNER` | string (optional) | unset | Who \\| runs it. |" in rows
    assert '| `BULKBILL_EMPTY` | string | `""` (empty) | Nothing by default. |' in rows


def test_a_setting_without_a_description_is_refused() -> None:
    class Undescribed(Settings):
        new_limit: int = 3

    with pytest.raises(UndescribedSetting, match=r"Undescribed\.new_limit has no description"):
        markdown(Undescribed)
