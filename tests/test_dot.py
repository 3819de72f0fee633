"""Graphviz rendering of witnesses (`verifier/reports/dot.py`), on rows the checker really produces."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from verifier.analyses.check import check
from verifier.analyses.registry import resolve_model
from verifier.frontends import parse_file
from verifier.reports.dot import witness_dot, write_dot
from verifier.reports.rows import Row, verdict_json

CLASSIC = Path(__file__).resolve().parents[1] / "litmus" / "classic"

QUOTED = r'"(?:[^"\\]|\\.)*"'
EDGE = re.compile(r"^\s*(\w+) -> (\w+) \[label=\"(\w+)\"", re.M)
NODE = re.compile(r"^\s*(\w+) \[", re.M)


def row_of(name: str, model: str) -> Row:
    row = verdict_json(check(parse_file(str(CLASSIC / f"{name}.litmus")), resolve_model(model)))
    return json.loads(json.dumps(row))  # exactly what `--json` would carry


def edges(dot: str) -> set[tuple[str, str, str]]:
    return {(a, b, rel) for a, b, rel in EDGE.findall(dot)}


def unquoted(dot: str) -> str:
    """The text with every quoted string removed (what is left must hold no quote at all)."""
    return re.sub(QUOTED, '""', dot)


def expected_comm(w: dict[str, Any]) -> set[tuple[str, str, str]]:
    """rf, co and fr computed straight from the witness, independently of the renderer."""
    out = {(f"e{s}", f"e{r}", "rf") for s, r in w["rf"]}
    for order in w["co"].values():
        out |= {(f"e{a}", f"e{b}", "co") for a, b in zip(order, order[1:], strict=False)}
    loc_of = {e["id"]: e["loc"] for e in w["events"]}
    for s, r in w["rf"]:
        order = w["co"][loc_of[r]]
        out |= {(f"e{r}", f"e{x}", "fr") for x in order[order.index(s) + 1:]}
    return out


def test_sb_under_tso_draws_two_columns_and_the_fr_cycle() -> None:
    row = row_of("X86-SB", "x86-tso")
    assert row["observation"] == "Sometimes"
    w, dot = row["witness"], witness_dot(row, show_init=True)
    assert re.findall(r"subgraph (cluster_\w+)", dot) == ["cluster_P0", "cluster_P1"]
    assert 'label="P0"' in dot and 'label="P1"' in dot
    assert 'Test SB under x86-tso: exists (0:EAX=0 /\\\\ 1:EAX=0) (Sometimes)' in dot
    assert '"a: MOV [x],$1\\nW[plain] x=1 · line 9"' in dot and '"d: MOV EAX,[x]\\nR[plain] x=0 · line 10"' in dot
    got = edges(dot)
    assert {e for e in got if e[2] != "po"} == expected_comm(w)
    # Program order: one edge per thread, between its two events.
    by_thread: dict[int, list[int]] = {}
    for e in w["events"]:
        if e["thread"] >= 0:
            by_thread.setdefault(e["thread"], []).append(e["id"])
    assert {e for e in got if e[2] == "po"} == {(f"e{a}", f"e{b}", "po") for a, b in by_thread.values()}
    # The SB cycle: each read reads the initial value and is fr-before the other thread's write.
    writes = {e["loc"]: e["id"] for e in w["events"] if e["kind"] == "W" and e["thread"] >= 0}
    for e in w["events"]:
        if e["kind"] == "R":
            assert (f"e{e['id']}", f"e{writes[e['loc']]}", "fr") in got
    assert 'color=red' in dot and 'color=blue' in dot and 'color=orange' in dot


def check_well_formed(dot: str) -> None:
    bare = unquoted(dot)
    assert '"' not in bare.replace('""', "")
    assert bare.count("{") == bare.count("}")
    depth = 0
    for ch in bare:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    declared = set(NODE.findall(dot))
    for a, b, _ in edges(dot):
        assert a in declared and b in declared
    # Every label is a properly closed quoted string.
    assert len(re.findall(r"label=", dot)) == len(re.findall(r"label=" + QUOTED, dot))


@pytest.mark.parametrize(("name", "model"), [
    ("X86-SB", "x86-tso"), ("C-IRIW", "armv8"), ("AArch64-SB+swps", "armv8"),
    ("AArch64-MP+dmb.sy+ctrl", "armv8"), ("AArch64-2+2W", "armv8"),
])
def test_real_witnesses_are_well_formed_and_deterministic(name: str, model: str) -> None:
    row = row_of(name, model)
    dot = witness_dot(row, show_init=True, show_rmw_fr=True)
    check_well_formed(dot)
    assert {e for e in edges(dot) if e[2] not in ("po", "rmw")} == expected_comm(row["witness"])
    assert witness_dot(copy.deepcopy(row), show_init=True, show_rmw_fr=True) == dot == witness_dot(
        row_of(name, model), show_init=True, show_rmw_fr=True)


def test_columns_follow_thread_order() -> None:
    dot = witness_dot(row_of("C-IRIW", "armv8"))
    assert re.findall(r"subgraph cluster_P(\d+)", dot) == ["0", "1", "2", "3"]
    xs = [float(x) for x in re.findall(r'P\d+_top \[.*pos="([\d.]+),', dot)]
    assert xs == sorted(xs) and len(set(xs)) == 4


def test_fence_label_and_reads_from_init_absent_from_co() -> None:
    row = row_of("AArch64-MP+dmb.sy+ctrl", "armv8")
    assert '"b: DMB SY\\nF[dmb.sy] · line 16"' in witness_dot(row, show_init=True)
    full = edges(witness_dot(row, show_init=True))
    # The same execution with the initial writes left out of co: same rf, co and fr.
    stripped = copy.deepcopy(row)
    inits = {e["id"] for e in stripped["witness"]["events"] if e["thread"] < 0}
    stripped["witness"]["co"] = {k: [x for x in v if x not in inits] for k, v in stripped["witness"]["co"].items()}
    assert edges(witness_dot(stripped, show_init=True)) == full


def test_read_without_any_initial_write_event_gets_an_init_node() -> None:
    row: Row = {"test": "tiny", "model": "sc", "condition": "exists (0:r0=0)", "observation": "Sometimes",
                "witness": {"events": [
                    {"id": 3, "thread": 0, "kind": "R", "loc": "x", "value": "0", "tags": [],
                     "class": "R.once", "line": 4},
                    {"id": 4, "thread": 1, "kind": "W", "loc": "x", "value": "1", "tags": [],
                     "class": "W.once", "line": 9}],
                    "rf": [], "co": {"x": [4]}, "final": {"0:r0": "0"}}}
    dot = witness_dot(row, show_init=True)
    check_well_formed(dot)
    got = edges(dot)
    init = next(a for a, b, rel in got if rel == "rf")
    assert (init, "e3", "rf") in got and ("e3", "e4", "fr") in got
    assert '"init x"' in dot


def test_quotes_and_backslashes_in_labels_are_escaped() -> None:
    row = row_of("X86-SB", "x86-tso")
    row["test"] = 'S"B\\'
    row["condition"] = 'exists (0:EAX=0 /\\ "1":EAX=0) \\'
    row["witness"]["events"][2]["loc"] = 'x"\\'
    dot = witness_dot(row, show_init=True)
    check_well_formed(dot)
    assert dot.startswith('digraph "S\\"B\\\\" {')
    assert '"Test S\\"B\\\\ under x86-tso: exists (0:EAX=0 /\\\\ \\"1\\":EAX=0) \\\\ (Sometimes)"' in dot
    assert '"a: MOV [x],$1\\nW[plain] x\\"\\\\=1 · line 9"' in dot


def test_write_dot_without_graphviz_writes_only_the_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    out = tmp_path / "sb.dot"
    notes = write_dot(row_of("X86-SB", "x86-tso"), out)
    assert len(notes) == 1 and "'dot' is not installed" in notes[0] and str(out) in notes[0]
    assert out.read_text() == witness_dot(row_of("X86-SB", "x86-tso"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "sb.dot"]


def fake_dot(tmp_path: Path, script: str) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "dot"
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(0o755)


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell for the fake dot")
def test_write_dot_reports_the_first_line_of_a_graphviz_failure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dot(tmp_path, 'echo "Error: syntax error in line 3" >&2\necho "more" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    out = tmp_path / "sb.dot"
    notes = write_dot(row_of("X86-SB", "x86-tso"), out)
    assert len(notes) == 1 and "Error: syntax error in line 3" in notes[0] and "more" not in notes[0]
    assert out.exists() and not out.with_suffix(".svg").exists()


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell for the fake dot")
def test_write_dot_runs_dot_tsvg_on_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dot(tmp_path, 'echo "$@" > "${0%/*}/args"\necho "<svg/>" > "$4"\n')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    out = tmp_path / "sb.dot"
    assert write_dot(row_of("X86-SB", "x86-tso"), out) == []
    assert (tmp_path / "bin" / "args").read_text().split() == ["-Tsvg", str(out), "-o", str(out.with_suffix(".svg"))]
    assert out.with_suffix(".svg").read_text() == "<svg/>\n"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_write_dot_with_real_graphviz_makes_an_svg(tmp_path: Path) -> None:
    out = tmp_path / "iriw.dot"
    assert write_dot(row_of("C-IRIW", "armv8"), out) == []
    svg = out.with_suffix(".svg").read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "cluster_P3" in svg


def test_row_without_witness_gives_a_note_and_writes_nothing(tmp_path: Path) -> None:
    row = row_of("X86-SB+mfences", "x86-tso")
    assert row["observation"] == "Never" and "witness" not in row
    notes = write_dot(row, tmp_path / "never.dot")
    assert len(notes) == 1 and "no witness to draw" in notes[0]
    assert list(tmp_path.iterdir()) == []


def test_by_default_init_writes_and_an_rmws_own_fr_are_left_out_and_rmw_is_drawn() -> None:
    row = row_of("AArch64-SB+swps", "armv8")
    w = row["witness"]
    dot = witness_dot(row)
    inits = {f"e{e['id']}" for e in w["events"] if e["thread"] < 0}
    got = edges(dot)
    assert not any(a in inits or b in inits for a, b, _ in got) and "init " not in dot
    rmw = {(f"e{a}", f"e{b}") for a, b in w["rmw"]}
    assert rmw and {(a, b) for a, b, rel in got if rel == "rmw"} == rmw
    assert not any((a, b) in rmw for a, b, rel in got if rel == "fr")
    assert "color=purple" in dot
    # events are named by the instruction as written
    assert re.search(r'label="\w: SWP ', dot), dot
