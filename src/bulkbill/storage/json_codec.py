"""Reading stored JSON fast: orjson, except where it would not read back exactly what was written.

What is written stays json.dumps's text (SQLAlchemy's JSON type, storage/rows.py): stored text is
compared with freshly computed values. Reading is where the time goes (every JSON column of every
row an ORM query loads): orjson parses several times faster, but reads an integer past 64 bits as a
float; a text with a run of 19 or more digits (a number that may not fit) goes to the json module.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_MAYBE_HUGE_INTEGER = re.compile(r"\d{19}")


def loads(text: str | bytes) -> Any:
    """The JSON value of `text`, exact (integers of any size stay integers)."""
    if _MAYBE_HUGE_INTEGER.search(text if isinstance(text, str) else text.decode()):
        return json.loads(text)
    return orjson.loads(text)
