"""Linters as tests, so the README's one test command covers them (configured in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_ruff_is_clean() -> None:
    r = subprocess.run(["ruff", "check", "verifier", "tests", "bench"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_is_clean() -> None:
    pytest.importorskip("mypy")
    r = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_imports_go_one_way() -> None:
    """The pipeline's stages import only earlier stages (the package layout is the design)."""
    order = ["errors", "program", "frontends", "events", "cat", "wmm", "smt", "analyses", "reports", "runner", "cli",
             "api"]
    # frontends and events both depend on program only; cat depends on nothing but errors.
    allowed = {
        "errors": set(),
        "program": {"errors"},
        "frontends": {"errors", "program"},
        "events": {"errors", "program"},
        "cat": {"errors"},
        # wmm: the cat syntax compiled to a relation program, once per model.
        "wmm": {"errors", "cat"},
        "smt": {"errors", "program", "events", "cat", "wmm"},
        "analyses": {"errors", "program", "frontends", "events", "cat", "wmm", "smt"},
        # reports render rows (plain data); runner runs analyses in workers and streams rows.
        "reports": {"errors", "program", "analyses"},
        "runner": {"errors", "program", "frontends", "analyses", "reports"},
        "cli": set(order) - {"api"},
        # api: the library's front door (verifier/api.py), beside the command line
        "api": set(order),
    }
    import re

    for path in (ROOT / "verifier").rglob("*.py"):
        rel = path.relative_to(ROOT / "verifier")
        stage = rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem
        if stage not in allowed:
            continue
        for m in re.finditer(r"^\s*(?:from|import) verifier\.(\w+)", path.read_text(), re.M):
            target = m.group(1)
            assert target == stage or target in allowed[stage], f"{rel} imports verifier.{target}"


def test_every_subpackage_is_installed() -> None:
    """pyproject.toml lists the packages explicitly (encodings/ is mapped in as package data)."""
    text = (ROOT / "pyproject.toml").read_text()
    for init in (ROOT / "verifier").rglob("__init__.py"):
        name = ".".join(init.parent.relative_to(ROOT).parts)
        assert f'"{name}"' in text, f"{name} is missing from [tool.setuptools] packages"


def test_every_stage_is_a_regular_package_and_every_data_file_is_shipped() -> None:
    """A folder of modules without __init__.py is a namespace package, which the explicit
    list misses (a non-editable install then lacks it); every file under encodings/ must
    match a package-data pattern, or an installed copy lacks that model."""
    import fnmatch
    import tomllib

    for folder in (ROOT / "verifier").iterdir():
        if folder.is_dir() and any(folder.glob("*.py")):
            assert (folder / "__init__.py").is_file(), f"{folder.name} has no __init__.py"
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["verifier.encodings"]
    for f in (ROOT / "encodings").rglob("*"):
        if f.is_file():
            rel = f.relative_to(ROOT / "encodings").as_posix()
            assert any(fnmatch.fnmatch(rel, p) and rel.count("/") == p.count("/") for p in patterns), rel
