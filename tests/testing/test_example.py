"""The README's example test file runs as a user runs it: in a project of its own, with bulkbill installed
from the wheel built from this tree (not the source tree), so neither the example nor the packaging can rot.

The wheel is built offline (setuptools from the dev tools, no build isolation) from a copy of the files
a release ships. The fresh virtual environment gets the wheel alone; pytest, the SDKs and bulkbill's
dependencies come from this run's environment through a path file (installing them again would need
the network). bulkbill's own editable install is not reachable from there: a directory named in a
path file is not a site directory, so its `.pth` files (the editable hook among them) are not read.
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "test_billing_with_bulkbill.py"
SHIPPED = ("pyproject.toml", "README.md", "LICENSE", "src")

pytestmark = pytest.mark.sdk


def run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(work: Path) -> Path:
    source = work / "source"
    source.mkdir()
    for name in SHIPPED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(ROOT / name, source / name)
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-index", "--no-build-isolation",
        "-w", work / "dist", source)  # fmt: skip
    (wheel,) = (work / "dist").glob("bulkbill-*.whl")
    return wheel


def fresh_venv(work: Path, wheel: Path) -> Path:
    venv = work / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    outer = [p for p in dict.fromkeys(site.getsitepackages()) if Path(p).is_dir()]
    Path(purelib, "outer_environment.pth").write_text("".join(f"{p}\n" for p in outer))
    # --ignore-installed: the outer environment's bulkbill (visible through the path file) is not this one.
    run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index",
        "--ignore-installed", wheel)  # fmt: skip
    return python


def test_the_readme_shows_the_example_file_as_it_is() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use bulkbill in your tests", 1)[1].split("\n## ", 1)[0]
    assert "```python\n" + EXAMPLE.read_text(encoding="utf-8") + "```" in section


def test_the_example_passes_against_the_installed_wheel(tmp_path: Path) -> None:
    python = fresh_venv(tmp_path, build_wheel(tmp_path))
    project = tmp_path / "project"
    shutil.copytree(EXAMPLE.parent, project, ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "BULKBILL_", "PYTHON"))}
    imported = run(python, "-c", "import bulkbill.testing; print(bulkbill.testing.__file__)", cwd=project, env=env)
    assert Path(imported.strip()).is_relative_to(tmp_path / "venv"), imported

    began = time.monotonic()
    out = run(python, "-m", "pytest", "-p", "no:cacheprovider", "-q", cwd=project, env=env)
    took = time.monotonic() - began

    tests = len(re.findall(r"^def test_", EXAMPLE.read_text(encoding="utf-8"), re.M))
    summary = out.strip().splitlines()[-1]
    assert re.match(rf"{tests} passed in ", summary), out  # and no warning: the SDKs' are filtered out
    print(f"example project from the wheel: {summary} (wall {took:.1f} s)")
