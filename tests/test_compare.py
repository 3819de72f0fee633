"""`verifier compare`: a row per test, a column per model, cells marked against expectations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifier.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def test_table_over_a_mixed_library(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(ROOT / "litmus/gup/fork-wrprotect-vs-gup-pin.litmus.yaml"), str(ROOT / "litmus/classic/AArch64-MP.litmus")]
    assert main(["compare", *files]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["test", "sc", "x86-tso", "armv8", "lkmm"]
    assert out[2].split() == ["fork-wrprotect-vs-gup-pin", "Never", "Never", "Sometimes", "Sometimes"]
    # x86-tso and lkmm do not apply to AArch64
    assert out[3].split() == ["MP", "Never", "-", "Sometimes", "-"]
    # --model is --models, as in every other command
    assert main(["compare", files[0], "--model", "armv8"]) == 0
    assert capsys.readouterr().out.splitlines()[0].split() == ["test", "armv8"]


def test_marks_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = (ROOT / "litmus/classic/C-SB.litmus").read_text()
    bad = tmp_path / "SB-wrong.litmus"
    bad.write_text(src.replace("Result(x86-tso): Sometimes", "Result(x86-tso): Never"))
    assert "Result(x86-tso): Never" in bad.read_text()
    assert main(["compare", str(bad), "--models", "sc,x86-tso"]) == 1
    text = capsys.readouterr().out
    assert "Sometimes !" in text and "not as expected:" in text
    assert main(["compare", str(bad), "--models", "x86-tso", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    cell = data["rows"][0]["cells"]["x86-tso"]
    assert data["models"] == ["x86-tso"]
    assert (cell["observation"], cell["expected"], cell["outcome"]) == ("Sometimes", "Never", "fail")


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    assert main(["compare", str(tmp_path / "none")]) == 2
    assert main(["compare", str(ROOT / "litmus/gup"), "--models", "nope"]) == 2
