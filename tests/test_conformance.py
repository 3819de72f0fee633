"""Conformance with herd7: same observation and same set of final states, for every
(test, model) the project supports, read from ../shared/reference/verdicts.jsonl.

Known gaps are listed explicitly below (strict expected failures, each with its reason):
a gap that starts passing fails the suite, so the list only ever shrinks.  The agreement
count is printed at the end of the run (see conftest.py).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AGREEMENT
from verifier.analyses.check import check
from verifier.analyses.registry import resolve_model
from verifier.frontends import parse_file
from verifier.reports.herd import herd_block
from verifier.reports.rows import verdict_json

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
VERDICTS = REFERENCE / "verdicts.jsonl"
HERD_OUT = REFERENCE / "herd-out"

# (file, model) -> why we do not agree with herd7 yet.
KNOWN_GAPS: dict[tuple[str, str], str] = {}

RCU_WORDS = ("rcu_", "srcu_", "synchronize_rcu")


def _uses_rcu(path: Path) -> bool:
    text = path.read_text()
    return any(w in text for w in RCU_WORDS)


@cache
def _records() -> list[dict[str, Any]]:
    if not VERDICTS.is_file():
        return []
    return [json.loads(line) for line in VERDICTS.read_text().splitlines() if line.strip()]


def _supported(rec: dict[str, Any]) -> bool:
    if rec["arch"] in ("X86", "X86_64"):
        return rec["model"] in ("sc", "x86-tso")
    if rec["arch"] == "AArch64":
        return rec["model"] in ("sc", "armv8")
    if rec["arch"] == "C":
        # herd7's sc model knows no RCU, ours does (encodings/rcu.cat)
        return rec["model"] == "lkmm" or (rec["model"] == "sc" and not _uses_rcu(REFERENCE / rec["file"]))
    return False


def _cases() -> list[Any]:
    out = []
    for rec in _records():
        if not _supported(rec):
            continue
        key = (rec["file"], rec["model"])
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[key])] if key in KNOWN_GAPS else []
        out.append(pytest.param(rec, id=f"{rec['model']}:{rec['file']}", marks=marks))
    return out


@pytest.mark.skipif(not VERDICTS.is_file(), reason="../shared/reference is not present")
@pytest.mark.parametrize("rec", _cases())
def test_agrees_with_herd(rec: dict[str, Any]) -> None:
    key = f"{rec['model']}:{rec['file']}"
    AGREEMENT["total"] += 1
    test = parse_file(str(REFERENCE / rec["file"]))
    verdict = check(test, resolve_model(rec["model"]), want_states=True)
    ours = sorted(tuple(sorted(s)) for s in (verdict.states or ()))
    herds = sorted(tuple(sorted(s.items())) for s in rec["states"])
    assert verdict.observation == rec["observation"], f"{key}: observation {verdict.observation}, herd7 {rec['observation']}"
    assert ours == herds, f"{key}: states differ\n ours: {ours}\n herd7: {herds}"
    assert list(verdict.flags) == sorted(rec.get("flags", [])), f"{key}: flags {verdict.flags}, herd7 {rec['flags']}"
    recorded = HERD_OUT / rec["model"] / f"{rec['file']}.out"
    if recorded.is_file():  # herd7's output, line for line (verifier-herd7 prints this block)
        ours_out, herds_out = herd_lines(herd_block(verdict_json(verdict))), herd_lines(recorded.read_text())
        assert ours_out == herds_out, f"{key}: herd7's output differs\n ours: {ours_out}\n herd7: {herds_out}"
    AGREEMENT["agree"] += 1


def herd_lines(text: str) -> list[str]:
    """The lines of herd7's block that say what the answer is: Test, States and each state in
    herd7's order, Ok/No, Flag, Condition, and Observation without its counts (herd7 counts
    executions, we count final states; docs/herd7-dropin.md).  Time and Hash are left out."""
    out = []
    for line in text.splitlines():
        if line.startswith(("Time ", "Hash=", "Positive: ")) or not line.strip():
            continue
        out.append(" ".join(line.split()[:3]) if line.startswith("Observation ") else line)
    return out


def _c_files() -> list[str]:
    files = sorted({r["file"] for r in _records() if r["arch"] == "C"})
    # RCU has a meaning on every model now (encodings/rcu.cat); only SRCU is still refused.
    return [f for f in files if "srcu" not in (REFERENCE / f).read_text()]


def _herd(file: str, model: str) -> dict[str, Any] | None:
    return next((r for r in _records() if r["file"] == file and r["model"] == model), None)


@pytest.mark.skipif(not VERDICTS.is_file(), reason="../shared/reference is not present")
@pytest.mark.parametrize("model", ["x86-tso", "armv8"])
@pytest.mark.parametrize("file", _c_files())
def test_c_on_hardware_is_between_sc_and_lkmm(file: str, model: str) -> None:
    """A kernel C test compiled for x86-64 or arm64 allows whatever SC allows, and forbids
    whatever the kernel memory model forbids (the kernel's mappings implement LKMM)."""
    test = parse_file(str(REFERENCE / file))
    verdict = check(test, resolve_model(model))
    sc = _herd(file, "sc")
    lkmm = _herd(file, "lkmm")
    if sc is not None and sc["observation"] in ("Sometimes", "Always"):
        assert verdict.observation in ("Sometimes", "Always"), f"{file}: SC reaches it, our {model} says Never"
    if lkmm is not None and lkmm["observation"] == "Never" and not lkmm["flags"]:
        assert verdict.observation == "Never", f"{file}: LKMM forbids it, our {model} says {verdict.observation}"


LARGE = REFERENCE / "large.jsonl"


def _large_never() -> list[Any]:
    """The large kernel tests (5 to 19 threads) LKMM forbids without a flag, by file."""
    if not LARGE.is_file():
        return []
    rows = [json.loads(line) for line in LARGE.read_text().splitlines() if line.strip()]
    return sorted({r["file"] for r in rows if r["model"] == "lkmm" and r["observation"] == "Never"
                   and not r.get("flags") and "srcu" not in (REFERENCE / r["file"]).read_text()})


# At most 3 s each since the derived terms no check reaches are dropped (x86-tso took 5 to
# 60 s before, and ran with --slow only).
@pytest.mark.skipif(not LARGE.is_file(), reason="../shared/reference is not present")
@pytest.mark.parametrize("model", ["armv8", "x86-tso"])
@pytest.mark.parametrize("file", _large_never())
def test_large_tests_lkmm_forbids_are_forbidden_on_hardware(file: str, model: str) -> None:
    """Among them the RCU tests with several grace periods, which rcu.cat's counting law
    (let rec rcu-order) forbids: armv8 used to answer Sometimes there."""
    verdict = check(parse_file(str(REFERENCE / file)), resolve_model(model), timeout=300)
    assert verdict.observation == "Never", f"{file}: LKMM forbids it, our {model} says {verdict.observation}"
