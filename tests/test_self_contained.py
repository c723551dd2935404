"""Nothing the project runs or tests reads a file outside its own tree: a user's clone has nothing beside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A path that climbs out of the repository, or an absolute path into a workplace folder.
OUTSIDE = re.compile(r"\.\./shared|/work/|parent / \"shared\"|parents\[\d+\] / \"shared\"")


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / name for name in listed.splitlines() if not name.endswith(".md")]


def test_no_tracked_file_reads_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        if path == Path(__file__) or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        lines = enumerate(text.splitlines(), 1)
        offenders += [f"{path.relative_to(ROOT)}:{n}" for n, line in lines if OUTSIDE.search(line)]
    assert not offenders, offenders
