"""Issue 13, batch side: every discovered file gets one row per requested model, a folder
that cannot be listed is an error row, and output paths are refused before any work."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from verifier.cli.main import main

X86 = "X86 SB\n{ x=0; y=0; }\n P0 | P1 ;\n MOV [x],$1 | MOV [y],$1 ;\n MOV EAX,[y] | MOV EAX,[x] ;\nexists (0:EAX=0 /\\ 1:EAX=0)\n"
A64 = ("AArch64 SB\n{ 0:X1=x; 0:X3=y; 1:X1=y; 1:X3=x; }\n P0 | P1 ;\n MOV W0,#1 | MOV W0,#1 ;\n"
       " STR W0,[X1] | STR W0,[X1] ;\n LDR W2,[X3] | LDR W2,[X3] ;\nexists (0:X2=0 /\\ 1:X2=0)\n")


def _tree(tmp_path: Path) -> Path:
    d = tmp_path / "tests"
    d.mkdir()
    (d / "sb-x86.litmus").write_text(X86)
    (d / "sb-a64.litmus").write_text(A64)
    return d


def _rows(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_model_that_does_not_apply_gets_a_skipped_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """x86-tso and an AArch64 test: a `skipped` row naming why (it used to be only a count),
    in the JSON rows and the JUnit file; a skipped pair does not fail the batch."""
    d = _tree(tmp_path)
    out, junit = tmp_path / "rows.jsonl", tmp_path / "out.xml"
    assert main(["batch", str(d), "--model", "x86-tso,armv8", "-j", "1", "--json", str(out), "--junit", str(junit)]) == 0
    rows = {(Path(r["file"]).name, r["model"]): r for r in _rows(out)}
    assert len(rows) == 4
    assert rows[("sb-a64.litmus", "x86-tso")]["outcome"] == "skipped"
    assert rows[("sb-a64.litmus", "x86-tso")]["note"] == "the model x86-tso does not apply to AArch64 tests"
    assert rows[("sb-x86.litmus", "armv8")]["outcome"] == "skipped"
    assert {rows[("sb-x86.litmus", "x86-tso")]["observation"], rows[("sb-a64.litmus", "armv8")]["observation"]} == {"Sometimes"}
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert len(cases) == 4 and sum(c.find("skipped") is not None for c in cases) == 2
    assert "skipped 2" in capsys.readouterr().out


def test_a_resumed_batch_does_not_redo_skipped_pairs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = _tree(tmp_path)
    out = tmp_path / "rows.jsonl"
    assert main(["batch", str(d), "--model", "x86-tso", "-j", "1", "--json", str(out)]) == 0
    assert main(["batch", str(d), "--model", "x86-tso", "-j", "1", "--resume", str(out)]) == 0
    assert len(_rows(out)) == 2 and "2 from the resumed file" in capsys.readouterr().out


def test_a_folder_that_cannot_be_listed_is_an_error_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Its tests would vanish from a run that still passes (a permission problem: faked here,
    as the tests may run as root, whom permissions do not stop)."""
    d = _tree(tmp_path)
    locked = d / "locked"
    locked.mkdir()
    (locked / "hidden.litmus").write_text(X86)
    for name in ("scandir", "listdir"):  # whichever the walk uses
        real = getattr(os, name)

        def refusing(path: object = ".", real: object = real) -> object:
            if Path(str(path)) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)  # type: ignore[operator]

        monkeypatch.setattr(os, name, refusing)
    out = tmp_path / "rows.jsonl"
    assert main(["batch", str(d), "--model", "x86-tso", "-j", "1", "--json", str(out)]) == 1
    errors = [r for r in _rows(out) if r["outcome"] == "error"]
    assert [r["file"] for r in errors] == [str(locked)]
    assert errors[0]["note"] == f"{locked}: cannot list the folder: Permission denied"
    assert "cannot list the folder" in capsys.readouterr().out


@pytest.mark.parametrize("option", ["--junit", "--json"])
def test_an_output_path_is_refused_before_any_work(option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = _tree(tmp_path)
    bad = tmp_path / "no-such-folder" / "out"
    assert main(["batch", str(d), "-j", "1", option, str(bad)]) == 2
    captured = capsys.readouterr()
    assert f"cannot write {bad} ({option}): No such file or directory" in captured.err
    assert "batch:" not in captured.out  # nothing was run
    assert main(["batch", str(d), "-j", "1", option, str(tmp_path)]) == 2
    assert "it is a folder" in capsys.readouterr().err or option == "--json"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_json_file_that_cannot_be_written_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Python's own error for a failed write names no file ("cannot write None")."""
    assert main(["batch", str(_tree(tmp_path)), "-j", "1", "--json", "/dev/full"]) == 2
    assert "cannot write /dev/full (--json): No space left on device" in capsys.readouterr().err


def test_a_resume_path_is_read_as_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--resume FOLDER` used to say `cannot write` while it was reading."""
    assert main(["batch", str(_tree(tmp_path)), "-j", "1", "--resume", str(tmp_path)]) == 2
    assert f"cannot read {tmp_path} (--resume): Is a directory" in capsys.readouterr().err


@pytest.mark.parametrize(("row", "problem"), [
    ({"file": 1, "model": "sc", "outcome": "pass"}, "the row's 'file' is a number"),
    ({"file": "a.litmus", "model": "sc"}, "a row needs 'outcome'"),
    ({"file": "a.litmus", "model": "sc", "outcome": "great"}, "the row's outcome 'great' is none of"),
    ({"file": "a.litmus", "model": "sc", "outcome": "pass", "seconds": "1"}, "the row's 'seconds' is a string"),
    ([1, 2], "a row is a JSON object"),
])
def test_resumed_rows_of_the_wrong_type_are_refused(row: object, problem: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    resume = tmp_path / "rows.jsonl"
    resume.write_text(json.dumps({"file": "b.litmus", "model": "sc", "outcome": "pass"}) + "\n" + json.dumps(row) + "\n")
    assert main(["batch", str(_tree(tmp_path)), "-j", "1", "--resume", str(resume)]) == 2
    assert f"{resume}:2:1: {problem}" in capsys.readouterr().err


def test_one_bad_yaml_file_does_not_stop_the_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A YAML test with a 5,000-digit number used to be parsed whole in the parent: a
    traceback, no rows, no JSON.  Now it is that file's error row and the others run."""
    import re

    d = _tree(tmp_path)
    source = sorted((Path(__file__).parent.parent / "litmus" / "gup").glob("*.litmus.yaml"))[0].read_text()
    bad = re.sub(r"((?:exists|forall)[^\n]*?=\s*)\d+", lambda m: m.group(1) + "9" * 5000, source, count=1)
    assert bad != source
    (d / "huge.litmus.yaml").write_text(bad)
    out = tmp_path / "rows.jsonl"
    assert main(["batch", str(d), "--model", "x86-tso", "-j", "1", "--json", str(out)]) == 1
    rows = {Path(r["file"]).name: r for r in _rows(out)}
    assert set(rows) == {"huge.litmus.yaml", "sb-x86.litmus", "sb-a64.litmus"}
    assert rows["huge.litmus.yaml"]["outcome"] == "error"
    assert re.search(r"huge\.litmus\.yaml:\d+:\d+: a number of 5000 digits", rows["huge.litmus.yaml"]["note"])
    assert "Traceback" not in capsys.readouterr().err
