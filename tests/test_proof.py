"""Why a Never holds (analyses/proof.py): the axioms it rests on and what each forbids."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifier.analyses.check import check
from verifier.analyses.proof import Proof, prove
from verifier.analyses.registry import resolve_model
from verifier.frontends import parse_file, parse_text

ROOT = Path(__file__).resolve().parents[1]
CLASSIC = ROOT / "litmus" / "classic"


def _prove(name: str, model: str) -> Proof:
    return prove(parse_file(str(CLASSIC / name)), resolve_model(model))


def test_sb_with_fences_rests_on_the_order_axiom_with_the_classic_cycle() -> None:
    pr = _prove("X86-SB+mfences.litmus", "x86-tso")
    assert pr.status == "proved" and pr.alone == ("tso",) and pr.smallest == ("tso",)
    (v,) = pr.violations
    assert [s.label for s in v.steps] == ["ghb(po)", "fre", "ghb(po)", "fre"]
    assert v.steps[0].src == v.steps[-1].dst  # a cycle
    pr = _prove("C-SB+mbs.litmus", "sc")
    assert pr.alone == ("sc",) and [s.label for s in pr.violations[0].steps] == ["sc(po)", "fre", "sc(po)", "fre"]


def test_two_axioms_each_enough_on_its_own() -> None:
    """MP with smp_mb() on both sides: hb and pb each forbid it; only without both is it
    reachable, and the execution found then has a cycle in each."""
    pr = _prove("C-MP+mbs.litmus", "lkmm")
    assert pr.alone == () and pr.smallest == ("happens-before", "propagation")
    assert {v.axiom for v in pr.violations} == {"happens-before", "propagation"}
    assert all(v.steps and v.steps[0].src == v.steps[-1].dst for v in pr.violations)
    assert pr.witness is not None and dict(pr.witness.final)["1:r1"] == "0"


def test_an_outcome_no_execution_has_rests_on_no_axiom() -> None:
    test = parse_text("""C values
{}
P0(int *x) { int r0; WRITE_ONCE(*x, 1); r0 = READ_ONCE(*x); }
exists (0:r0=2)
""", "values.litmus")
    assert check(test, resolve_model("lkmm")).observation == "Never"
    pr = prove(test, resolve_model("lkmm"))
    assert pr.status == "proved" and pr.smallest == () and pr.alone == ()


# sc and armv8 are the same code paths (a model's checks, its witness); the two kept cover
# a kernel model with recursive definitions and a hardware one (the suite's time is budgeted)
@pytest.mark.parametrize("model", ["x86-tso", "lkmm"])
def test_every_classic_never_is_explained_consistently(model: str) -> None:
    """For every Never of litmus/classic: each edge label is true of the execution shown
    (rf, co, fr, po as the witness has them), and each needed axiom is in the smallest set."""
    spec = resolve_model(model)
    for f in sorted(CLASSIC.glob("*.litmus")):
        test = parse_file(str(f))
        if not spec.applies_to(test.arch) or check(test, spec).observation != "Never":
            continue
        pr = prove(test, spec)
        assert pr.status == "proved", f.name
        if not pr.smallest:
            continue
        assert set(pr.alone) <= set(pr.smallest) or len(pr.smallest) == 1, f.name
        w = pr.witness
        assert w is not None
        rf = set(w.rf)
        tid = {e.eid: e.tid for e in w.events}
        for v in pr.violations:
            for s in v.steps:
                if s.label in ("rfe", "rfi"):
                    assert (s.src, s.dst) in rf, (f.name, s)
                if s.label.endswith("(po)") or s.label == "po":
                    assert tid[s.src] == tid[s.dst] and s.src < s.dst, (f.name, s)
