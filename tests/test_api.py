"""The library API (verifier/api.py, docs/api.md): the same answers as the command line, as
typed frozen results; the tour in docs/examples runs as written."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

import verifier
from verifier.analyses.check import Verdict

ROOT = Path(__file__).resolve().parents[1]


def test_check_by_path_text_and_litmus_agree() -> None:
    path = ROOT / "litmus" / "classic" / "C-SB.litmus"
    by_path = verifier.check(str(path), states=True)
    by_text = verifier.check(path.read_text(), states=True)
    by_tree = verifier.check(verifier.load(path), model="lkmm", states=True)
    assert isinstance(by_path, Verdict) and dataclasses.is_dataclass(by_path)
    assert by_path.model == "lkmm" and by_path.observation == "Sometimes"
    assert by_path.states == by_text.states == by_tree.states
    with pytest.raises(dataclasses.FrozenInstanceError):
        by_path.observation = "Never"  # type: ignore[misc]


def test_errors_are_exceptions_with_positions() -> None:
    text = (ROOT / "litmus" / "classic" / "C-SB.litmus").read_text().replace("READ_ONCE", "READ_ONC", 1)
    with pytest.raises(verifier.InputError, match=r"^<text>\.litmus:\d+:\d+: unknown primitive 'READ_ONC'"):
        verifier.check(text)
    with pytest.raises(verifier.UsageError, match="unknown model"):
        verifier.check(str(ROOT / "litmus" / "classic" / "C-SB.litmus"), model="nonsense")


def test_the_tour_runs_as_written() -> None:
    r = subprocess.run([sys.executable, "docs/examples/api_tour.py"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert "SB lkmm Sometimes" in r.stdout and "did you mean 'READ_ONCE'" in r.stdout


def test_py_typed_is_shipped() -> None:
    assert (ROOT / "verifier" / "py.typed").is_file()
    assert '"verifier" = ["py.typed"]' in (ROOT / "pyproject.toml").read_text()
