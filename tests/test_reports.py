"""Reports for other tools: herd7's output format (read back by an independent parser, as
herd-reading scripts would) and JUnit XML (parsed, as CI systems would)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.herd_output import parse_herd
from verifier.analyses.check import check
from verifier.analyses.registry import resolve_model
from verifier.frontends import parse_file
from verifier.reports.herd import herd_block
from verifier.reports.junit import junit_xml
from verifier.reports.rows import Row, problem_row, verdict_json
from verifier.reports.text import witness_lines

ROOT = Path(__file__).resolve().parents[1]
KINDS = {"exists": "Allowed", "~exists": "Forbidden", "forall": "Required"}


def sb(condition: str, *, comment: str = "", extra: str = "") -> str:
    """The C store-buffering test with the given final condition (and optional comment/filter)."""
    return f"""C SB
(* {comment} *)
{{}}
P0(int *x, int *y)
{{
	int r0;
	WRITE_ONCE(*x, 1);
	r0 = READ_ONCE(*y);
}}
P1(int *x, int *y)
{{
	int r0;
	WRITE_ONCE(*y, 1);
	r0 = READ_ONCE(*x);
}}
{extra}
{condition}
"""


def row_of(tmp_path: Path, text: str, *, states: bool = True, name: str = "SB.litmus") -> Row:
    path = tmp_path / name
    path.write_text(text)
    # A timeout keeps Z3 off a slow path: with none set, enumerating LLSC-inc's states can
    # stall after other checks ran in the same process (Z3's global context state).
    return verdict_json(check(parse_file(str(path)), resolve_model("sc"), want_states=states, timeout=120))


@pytest.fixture(scope="module")
def sc_rows() -> list[Row]:
    files = sorted((ROOT / "litmus" / "classic").glob("*.litmus"))
    assert len(files) >= 60
    rows = [verdict_json(check(parse_file(str(f)), resolve_model("sc"), want_states=True, timeout=120))
            for f in files]
    assert all(r["observation"] != "Unknown" for r in rows)
    return rows


def test_herd_blocks_read_back_as_the_rows_say(sc_rows: list[Row]) -> None:
    # A problem row between blocks must not disturb the reader (herd's warnings don't either).
    noise = herd_block(problem_row("broken.litmus", "sc", "error", "syntax error\nat line 3"))
    assert noise == "!!! error broken.litmus: syntax error at line 3\n"
    text = noise.join(herd_block(r) for r in sc_rows)
    assert text.endswith("\n\n")
    blocks = parse_herd(text)
    assert [b["test"] for b in blocks] == [r["test"] for r in sc_rows]
    for b, r in zip(blocks, sc_rows, strict=True):
        assert b["observation"] == r["observation"]
        assert b["states"] == r["states"]
        assert b["condition"] == r["condition"]
        assert b["result"] == r["result"]
        assert b["kind"] == KINDS[r["condition"].split(" ", 1)[0]]
        assert (b["obs_pos"], b["obs_neg"]) == (r["positive"], r["negative"])
        assert b["obs_pos"] + b["obs_neg"] == len(b["states"])
        assert b["time"] == pytest.approx(r["seconds"], abs=0.006)
    # judgelitmus.sh greps `^Observation`: exactly one per test.
    assert len(re.findall(r"^Observation ", text, re.M)) == len(sc_rows)


def test_not_exists_swaps_witness_counts_only(tmp_path: Path) -> None:
    # Both registers 1 holds in 1 of SB's 3 final states under SC.
    row = row_of(tmp_path, sb("~exists (0:r0=1 /\\ 1:r0=1)"))
    assert (row["observation"], row["positive"], row["negative"]) == ("Sometimes", 1, 2)
    (b,) = parse_herd(herd_block(row))
    assert (b["kind"], b["result"]) == ("Forbidden", "No")
    assert (b["positive"], b["negative"]) == (2, 1)  # Witnesses: swapped for ~exists
    assert (b["obs_pos"], b["obs_neg"]) == (1, 2)  # Observation: never swapped
    assert b["condition"] == "~exists (0:r0=1 /\\ 1:r0=1)"
    assert "Observation SB Sometimes 1 2\n" in herd_block(row)


@pytest.mark.parametrize("condition, kind, result, observation, witnesses, obs", [
    ("forall (0:r0=1 /\\ 1:r0=1)", "Required", "No", "Sometimes", (1, 2), (1, 2)),
    ("forall (0:r0=1 \\/ 1:r0=1)", "Required", "Ok", "Always", (3, 0), (3, 0)),
    ("exists (0:r0=1 \\/ 1:r0=1)", "Allowed", "Ok", "Always", (3, 0), (3, 0)),
    ("~exists (0:r0=0 /\\ 1:r0=0)", "Forbidden", "Ok", "Never", (3, 0), (0, 3)),
])
def test_condition_kinds(tmp_path: Path, condition: str, kind: str, result: str, observation: str,
                         witnesses: tuple[int, int], obs: tuple[int, int]) -> None:
    """SB's 3 final states under SC, read against each kind of condition."""
    (b,) = parse_herd(herd_block(row_of(tmp_path, sb(condition))))
    assert (b["kind"], b["result"], b["observation"], b["condition"]) == (kind, result, observation, condition)
    assert ((b["positive"], b["negative"]), (b["obs_pos"], b["obs_neg"])) == (witnesses, obs)
    assert len(b["states"]) == 3


def test_deadlock_prints_never_0_0(tmp_path: Path) -> None:
    """No execution passes the filter: judgelitmus.sh reads `Never 0 0` as DEADLOCK."""
    text = sb("exists (0:r0=0)", comment="Result: DEADLOCK", extra="filter (0:r0=2)")
    for states in (True, False):
        row = row_of(tmp_path, text, states=states)
        assert row["executions"] is False and row["outcome"] == "pass"
        block = herd_block(row)
        assert re.search(r"^Observation SB Never 0 0$", block, re.M), block
        assert "\nStates 0\n" in block
        assert parse_herd(block)[0]["states"] == []


def test_counts_without_states_follow_the_observation(sc_rows: list[Row]) -> None:
    base = {k: v for k, v in sc_rows[0].items() if k not in ("states", "positive", "negative")}
    cases = [("Never", True, "0 1"), ("Never", None, "0 1"), ("Never", False, "0 0"),
             ("Sometimes", True, "1 1"), ("Always", True, "1 0")]
    for observation, executions, counts in cases:
        row = {**base, "observation": observation, "executions": executions}
        (b,) = parse_herd(herd_block(row))
        assert b["states"] == []
        assert f"Observation {b['test']} {observation} {counts}\n" in herd_block(row)


def test_rows_without_verdict_have_no_observation_line() -> None:
    for outcome in ("error", "unsupported", "unknown"):
        block = herd_block(problem_row("a/b.litmus", "sc", outcome, "why", test="B"))
        assert block == f"!!! {outcome} a/b.litmus: why\n"
        assert parse_herd(block) == []


def junit_rows(tmp_path: Path, sc_rows: list[Row]) -> tuple[list[Row], Row]:
    failing = row_of(tmp_path, sb("exists (0:r0=1 /\\ 1:r0=1)", comment="Result(sc): Never"), name="fail.litmus")
    assert failing["outcome"] == "fail" and "witness" in failing
    problems = [
        problem_row("bad/one.litmus", "sc", "error", "unexpected '<' & \"so\"\non line 2 \x01"),
        problem_row("bad/two.litmus", "x86-tso", "unsupported", "asm goto"),
        problem_row("bad/three.litmus", "sc", "unknown", "timeout", seconds=5.0),
    ]
    lenient = [{**sc_rows[0], "outcome": "forgiven", "note": "stronger"},
               {**sc_rows[1], "outcome": "unjudged", "note": "no expectation recorded"}]
    return [*sc_rows[2:], failing, *problems, *lenient], failing


def test_junit_counts_and_elements(tmp_path: Path, sc_rows: list[Row]) -> None:
    rows, failing = junit_rows(tmp_path, sc_rows)
    xml = junit_xml(rows, seconds=12.5)
    root = ET.fromstring(xml)
    assert root.tag == "testsuites" and root.get("time") == "12.500"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["sc", "x86-tso"]
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites.values():
        cases = suite.findall("testcase")
        seen = {"tests": len(cases), "failures": len(suite.findall("testcase/failure")),
                "errors": len(suite.findall("testcase/error")), "skipped": len(suite.findall("testcase/skipped"))}
        assert {k: int(suite.get(k, "-1")) for k in seen} == seen
        assert float(suite.get("time", "-1")) == pytest.approx(
            sum(float(c.get("time", "0")) for c in cases), abs=0.001 * len(cases) + 0.001)
        total = {k: total[k] + v for k, v in seen.items()}
    assert {k: int(root.get(k, "-1")) for k in total} == total
    assert total == {"tests": len(rows), "failures": 1, "errors": 2, "skipped": 1}
    # The failing case shows its witness, so the report alone explains the failure.
    (case,) = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert case.get("name") == "SB [sc]" and case.get("file") == failing["file"]
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "mismatch" and failure.get("message") == failing["note"]
    for line in witness_lines(failing["witness"]):
        assert line in (failure.text or "")
    errors = {c.get("file"): c.find("error") for c in root.iter("testcase") if c.find("error") is not None}
    assert {f: e.get("type") for f, e in errors.items() if e is not None} == {
        "bad/one.litmus": "error", "bad/two.litmus": "unsupported"}
    outs = [c.findtext("system-out", "") for c in root.iter("testcase") if c.find("system-out") is not None]
    assert sorted(outs) == ["forgiven: stronger", "unjudged: no expectation recorded"]


def test_junit_escapes_and_names(tmp_path: Path, sc_rows: list[Row]) -> None:
    rows, _ = junit_rows(tmp_path, sc_rows)
    root = ET.fromstring(junit_xml(rows))
    cases = {c.get("file"): c for c in root.iter("testcase")}
    error = cases["bad/one.litmus"].find("error")
    assert error is not None
    # Markup is escaped; a control character XML cannot hold becomes U+FFFD.
    assert error.get("message") == "unexpected '<' & \"so\"\non line 2 \ufffd"
    assert cases["bad/one.litmus"].get("name") == "one.litmus [sc]"
    assert cases["bad/one.litmus"].get("classname") == "bad"
    classic = [c for f, c in cases.items() if f is not None and f.endswith("classic/C-SB+mbs.litmus")]
    assert classic and classic[0].get("classname", "").endswith("litmus.classic")
    assert classic[0].get("name") == "SB+mbs [sc]"
    # Same rows, any order: the same document.
    assert junit_xml(list(reversed(rows))) == junit_xml(rows)
