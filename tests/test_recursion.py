"""Recursive definitions (`let rec`) give herd7's answers: a group that is not monotone over
values fixed by the program (the nesting of rcu_read_lock()/rcu_read_unlock()), and a
monotone one over rf/co (a recursive happens-before).  Recorded by tests/data/rec/record.sh."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifier.analyses.check import check
from verifier.analyses.registry import resolve_model
from verifier.errors import Unsupported
from verifier.frontends import parse_file

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "rec"
RECORDED = [json.loads(line) for line in (DATA / "herd.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("model", sorted({r["model"] for r in RECORDED}))
def test_recursive_definitions_agree_with_herd(model: str) -> None:
    spec = resolve_model(str(DATA / f"{model}.cat"))
    rows = [r for r in RECORDED if r["model"] == model]
    for r in rows:
        v = check(parse_file(str(ROOT / r["file"])), spec)
        assert (v.observation, list(v.flags)) == (r["observation"], r["flags"]), r["file"]
    print(f"let rec ({model}): {len(rows)}/{len(rows)} tests agree with herd7")


def test_a_closure_written_recursively_is_the_closure(tmp_path: Path) -> None:
    rec, plus = tmp_path / "rec.cat", tmp_path / "plus.cat"
    rec.write_text("let rec t = po | rf | co | fr | (t ; t)\nirreflexive t as sc\n")
    plus.write_text("irreflexive (po | rf | co | fr)+ as sc\n")
    for f in sorted((ROOT / "litmus" / "classic").glob("X86-*.litmus")):
        test = parse_file(str(f))
        a = check(test, resolve_model(str(rec)), want_states=True)
        b = check(test, resolve_model(str(plus)), want_states=True)
        assert (a.observation, a.states) == (b.observation, b.states), f.name


def test_a_group_that_never_settles_is_refused(tmp_path: Path) -> None:
    """`a = ~a` has no fixpoint: herd7 iterates for ever; we refuse it by name."""
    cat = tmp_path / "flip.cat"
    cat.write_text("let rec a = ~a\nacyclic po | a\n")
    with pytest.raises(Unsupported) as e:
        check(parse_file(str(ROOT / "litmus" / "classic" / "X86-SB.litmus")), resolve_model(str(cat)))
    assert "not monotone and does not settle (a)" in str(e.value)


def test_the_deadline_holds_while_iterating(tmp_path: Path) -> None:
    """A recursive definition is iterated before the solver is asked: the deadline stops it
    (Unknown, reason timeout), as it stops the solver."""
    cat = tmp_path / "rec.cat"
    cat.write_text("let rec t = po | rf | co | fr | (t ; t)\nirreflexive t as sc\n")
    v = check(parse_file(str(ROOT / "litmus" / "classic" / "X86-SB.litmus")), resolve_model(str(cat)), timeout=0)
    assert (v.observation, v.unknown_reason) == ("Unknown", "timeout")
