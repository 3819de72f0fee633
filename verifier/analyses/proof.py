"""Why an outcome is impossible: the axioms a Never rests on, and what each forbids.

A `Never` is Z3's UNSAT on the whole model.  To say *why*, each check of the model (its
`acyclic`/`irreflexive`/`empty` axioms, flags aside) is taken out in turn: if the outcome
becomes reachable, the Never rests on that axiom.  Then the smallest sets of checks whose
removal makes it reachable are searched, by size; for the first found, the execution the
other checks allow is read back, and each removed check's relation is evaluated in it: the
cycle it has (acyclic), the pair relating an event to itself (irreflexive), or the pair it
holds (empty).  That is the proof a reviewer checks by hand: `happens-before: e2 -po-> e3
-fre-> e4 -po-> e5 -fre-> e2`.

Every query is exact (recursive definitions iterated to their least fixpoint), so the
relation read is the model's, not a solver-chosen over-approximation.  An empty smallest set
means no check is needed: no candidate execution reaches the outcome at all (the program's
values and control flow forbid it).  Past the deadline the proof is `unknown`: the verdict
stands, only its explanation is missing.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

import z3

from verifier.analyses.check import Witness, extract_witness
from verifier.analyses.observe import prop_term
from verifier.analyses.registry import ModelSpec
from verifier.errors import Pos
from verifier.events.build import build_events
from verifier.program.ast import Litmus
from verifier.smt.encode import encode_execution
from verifier.smt.fixpoint import OutOfTime
from verifier.smt.model import constrain
from verifier.smt.terms import F, T
from verifier.wmm import program as p

ProofStatus = Literal["proved", "unknown"]
# Larger sets are not searched: past it the smallest set is not claimed.
MAX_SET = 3


@dataclass(frozen=True)
class Step:
    """One edge of a violation: `src` -label-> `dst` (event ids, as witnesses number them)."""

    src: int
    label: str
    dst: int


@dataclass(frozen=True)
class Violation:
    """What check `axiom` forbids in the execution the other checks allow: a cycle of its
    relation (acyclic), a pair (a, a) (irreflexive), a pair (empty); `relation` is the name
    the check gives its relation."""

    axiom: str
    kind: str
    relation: str
    steps: tuple[Step, ...]

    def text(self, names: dict[int, str]) -> str:
        if not self.steps:
            return f"{self.axiom}: {self.kind} {self.relation} fails (no pair to show)"
        chain = names.get(self.steps[0].src, f"e{self.steps[0].src}")
        for s in self.steps:
            chain += f" -{s.label}-> {names.get(s.dst, f'e{s.dst}')}"
        return f"{self.axiom} ({self.kind} {self.relation}): {chain}"


@dataclass(frozen=True)
class Proof:
    """`axioms`: the model's checks by name; `alone`: those whose removal alone makes the
    outcome reachable; `smallest`: a smallest set whose removal does (empty: no check is
    needed; None: none found within MAX_SET or the deadline); `violations`: for `smallest`,
    what each of its checks forbids in `witness`, the execution the others allow."""

    status: ProofStatus
    axioms: tuple[str, ...]
    alone: tuple[str, ...] = ()
    smallest: tuple[str, ...] | None = None
    violations: tuple[Violation, ...] = ()
    witness: Witness | None = None
    seconds: float = 0.0


def _checks(prog: p.RelProgram) -> list[tuple[int, p.Axiom, str]]:
    """The forbidding checks: (step index, axiom, name)."""
    out = []
    for i, s in enumerate(prog.steps):
        if isinstance(s, p.Axiom) and s.flag is None and not s.probe:
            out.append((i, s, s.label or f"{s.kind} at line {s.pos.line}"))
    return out


def _relation_name(prog: p.RelProgram, a: p.Axiom) -> str:
    e = a.expr
    if isinstance(e, p.Ref):
        return prog.defs[e.index].name
    return a.label or a.kind


def prove(test: Litmus, spec: ModelSpec, *, timeout: float | None = 30.0, unroll: int | None = None) -> Proof:
    """The axioms the test's unreachable condition rests on (call it on a Never)."""
    start = time.monotonic()
    deadline = None if timeout is None else start + timeout
    prog = spec.program
    checks = _checks(prog)
    names = tuple(n for _, _, n in checks)
    graph = build_events(test, spec.mapping_for(test.arch, Pos(test.path, 1, 1)), unroll)

    def reachable(dropped: tuple[int, ...]) -> tuple[str, Witness | None, list[Violation]]:
        steps: list[p.Step] = []
        for i, s in enumerate(prog.steps):
            if i in dropped:
                assert isinstance(s, p.Axiom)
                steps.append(dataclasses.replace(s, probe=True))
            else:
                steps.append(s)
        relaxed = dataclasses.replace(prog, steps=tuple(steps))
        ex = encode_execution(graph)
        try:
            model = constrain(relaxed, ex, spec.tags, deadline, exact=True)
        except OutOfTime:
            return "unknown", None, []
        if test.filter is not None:
            ex.script.add(prop_term(ex, test.filter, test))
        cond = prop_term(ex, test.condition.prop, test)
        if cond == F:
            return "unsat", None, []
        solver = z3.Solver()
        solver.from_string(ex.script.text())
        if cond != T:
            solver.from_string(f"(assert {cond})")
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return "unknown", None, []
            solver.set("timeout", max(1, int(left * 1000)))
        r = solver.check()
        if r != z3.sat:
            return ("unsat" if r == z3.unsat else "unknown"), None, []
        m = solver.model()
        witness = extract_witness(ex, m)
        return "sat", witness, [_violation(prog, a, terms, m, witness) for a, terms in model.probes]

    # What is explained is a Never: the condition's proposition is reachable in no execution.
    alone: list[str] = []
    unknown = False
    for i, _, name in checks:
        answer, _, _ = reachable((i,))
        if answer == "sat":
            alone.append(name)
        unknown = unknown or answer == "unknown"
    if unknown:
        return Proof("unknown", names, tuple(alone), seconds=time.monotonic() - start)
    answer, witness, violations = reachable(tuple(i for i, _, _ in checks))
    if answer == "unsat":  # no check needed: nothing reaches the outcome
        return Proof("proved", names, tuple(alone), (), seconds=time.monotonic() - start)
    if answer == "unknown":
        return Proof("unknown", names, tuple(alone), seconds=time.monotonic() - start)
    for size in range(1, min(MAX_SET, len(checks)) + 1):
        for subset in itertools.combinations(checks, size):
            if size == 1 and subset[0][2] not in alone:
                continue
            answer, witness, violations = reachable(tuple(i for i, _, _ in subset))
            if answer == "unknown":
                return Proof("unknown", names, tuple(alone), seconds=time.monotonic() - start)
            if answer == "sat":
                return Proof("proved", names, tuple(alone), tuple(n for _, _, n in subset), tuple(violations),
                             witness, time.monotonic() - start)
    return Proof("proved", names, tuple(alone), None, seconds=time.monotonic() - start)


def _violation(prog: p.RelProgram, a: p.Axiom, terms: dict[object, str], m: z3.ModelRef, w: Witness) -> Violation:
    """What check `a` forbids in `w`: its relation's pairs read from the model `m`."""
    pairs = {q for q, t in terms.items() if t == T or (t != F and z3.is_true(m.eval(z3.Bool(t), True)))}
    name = a.label or f"{a.kind} at line {a.pos.line}"
    rel = _relation_name(prog, a)
    edges = {q for q in pairs if isinstance(q, tuple) and len(q) == 2}
    if a.kind == "acyclic":
        found = _cycle(edges)
    elif a.kind == "irreflexive":
        found = next(([q] for q in sorted(edges) if q[0] == q[1]), [])
    else:
        found = sorted(edges)[:1]
    return Violation(name, a.kind, rel, tuple(Step(x, _label(w, x, y, rel), y) for x, y in found))


def _cycle(edges: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """A shortest cycle of `edges` (breadth first from each event), as its edges."""
    succ: dict[int, list[int]] = {}
    for a, b in sorted(edges):
        succ.setdefault(a, []).append(b)
    best: list[tuple[int, int]] = []
    for root in sorted(succ):
        parent: dict[int, int] = {}
        queue = deque([root])
        seen = {root}
        while queue:
            x = queue.popleft()
            for y in succ.get(x, ()):
                if y == root:
                    path = [(x, root)]
                    while x != root:
                        path.append((parent[x], x))
                        x = parent[x]
                    path.reverse()
                    if not best or len(path) < len(best):
                        best = path
                    queue.clear()
                    break
                if y not in seen:
                    seen.add(y)
                    parent[y] = x
                    queue.append(y)
        if len(best) == 1:
            break
    return best


def _label(w: Witness, a: int, b: int, rel: str) -> str:
    """The most basic relation of the execution that relates a to b: rf, co, fr (internal or
    external), po; else the check's own relation."""
    by_id = {e.eid: e for e in w.events}
    ea, eb = by_id.get(a), by_id.get(b)
    if ea is None or eb is None:
        return rel
    same = ea.tid == eb.tid
    if (a, b) in set(w.rf):
        return "rfi" if same else "rfe"
    co_rank = {eid: (loc, k) for loc, order in w.co for k, eid in enumerate(order)}
    if a in co_rank and b in co_rank and co_rank[a][0] == co_rank[b][0] and co_rank[a][1] < co_rank[b][1]:
        return "coi" if same else "coe"
    if ea.kind == "R" and eb.kind == "W":
        source = next((s for s, r in w.rf if r == a), None)
        if source is not None and source in co_rank and b in co_rank and co_rank[source][0] == co_rank[b][0] \
                and co_rank[source][1] < co_rank[b][1]:
            return "fri" if same else "fre"
    # a derived relation's pair between po-ordered events: the relation, saying they are
    # po-related (hb does not contain po; the pair is in hb for a reason the model gives)
    return f"{rel}(po)" if same and ea.tid >= 0 and a < b and rel != "po" else rel
