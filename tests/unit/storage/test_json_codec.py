"""Stored JSON reads back exactly what was written, fast or not."""

from __future__ import annotations

import json

import pytest

from bulkbill.storage.json_codec import loads


@pytest.mark.parametrize(
    "value",
    [
        [],
        {"a": "1", "b": [1, 2.5, None, True]},
        {"big": 2**64 + 1, "neg": -(10**30)},  # past 64 bits: an integer still, not a float
        [9223372036854775807, -9223372036854775808],
        {"id": "1234567890123456789012", "n": 1},  # a long digit run in a string
        "é ✓ \u0000",
    ],
)
def test_reads_back_what_json_dumps_wrote(value: object) -> None:
    text = json.dumps(value)
    assert loads(text) == value
    assert loads(text.encode()) == value
    assert json.dumps(loads(text)) == text
