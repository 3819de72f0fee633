"""The demand half of the relation analysis: derived terms no check reaches never reach the
solver (`Script.text`), and dropping them changes no answer."""

from __future__ import annotations

from pathlib import Path

import pytest
import z3

from verifier.analyses.observe import prop_term
from verifier.analyses.registry import resolve_model
from verifier.errors import Pos
from verifier.events.build import build_events
from verifier.frontends import parse_file
from verifier.smt.encode import encode_execution
from verifier.smt.model import constrain
from verifier.smt.terms import Script, not_

ROOT = Path(__file__).resolve().parents[1]


def test_unreached_derived_definitions_are_dropped() -> None:
    s = Script()
    s.declare("x", "Bool")
    s.declare("y", "Bool")
    a = s.derive("seq", "(and x y)")
    b = s.derive("seq", f"(or {a} x)")  # uses a
    c = s.derive("tc", "(and x (not y))")  # nothing uses c
    s.add(f"(not {b})")
    text = s.text()
    assert f"(declare-const {a} Bool)" in text and f"(declare-const {b} Bool)" in text
    assert c not in text
    # A root kept for a later query keeps what it names; a root for one text only, too.
    assert c in s.text(c) and c not in s.text()
    s.keep(f"(not {c})")
    assert c in s.text()


def test_atoms_and_named_bools_are_not_derived() -> None:
    s = Script()
    s.declare("x", "Bool")
    assert s.derive("seq", "x") == "x"
    n = s.name_bool("g", "(not x)")  # the encoding's own names always stay
    assert n in s.text()


def _scripts(file: Path, model: str) -> tuple[list[str], str, str]:
    """The full script and the kept one, and the test's condition."""
    test = parse_file(str(file))
    spec = resolve_model(model)
    graph = build_events(test, spec.mapping_for(test.arch, Pos(test.path, 1, 1)))
    ex = encode_execution(graph)
    constrain(spec.program, ex, spec.tags)
    return list(ex.script.lines), ex.script.text(), prop_term(ex, test.condition.prop, test)


@pytest.mark.parametrize("model", ["sc", "x86-tso", "armv8"])
@pytest.mark.parametrize("name", ["C-RCU-span.litmus", "C-RCU-span+mb.litmus", "C-MP+locks.litmus"])
def test_dropping_changes_no_answer(name: str, model: str) -> None:
    """The full script and the kept one give the same answer to the condition and to its
    negation: the dropped definitions only name terms nothing else mentions."""
    lines, kept, cond = _scripts(ROOT / "litmus" / "classic" / name, model)
    assert kept.count("(declare-const") < sum(1 for x in lines if x.startswith("(declare-const"))
    for query in (cond, not_(cond)):
        answers = []
        for text in ("\n".join(lines), kept):
            solver = z3.Solver()
            solver.from_string(text + f"\n(assert {query})")
            answers.append(solver.check())
        assert answers[0] == answers[1], (name, model, query)
