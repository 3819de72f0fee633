"""One encoding of a test with candidate changes, asked under assumptions.

The program from `knobs.superset` holds every combination of knobs; `Choices.ask(on)` asks
whether the test's bad outcome is reachable with exactly the knobs in `on` made (or at least
those, the solver free to make more).  The encoding, the model's interpretation and the
solver are built once; each question is one `check` under assumptions on the `pick<k>`
Booleans, so a synthesis loop of hundreds of questions costs milliseconds each.

The bad outcome is the condition for `exists` and `~exists` tests (made unreachable, the
first answers `Never`, the second holds) and its negation for `forall` tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import z3

from verifier.analyses.check import Witness, extract_witness, refuse_mixed_sizes
from verifier.analyses.knobs import Knob, superset
from verifier.analyses.observe import prop_term
from verifier.analyses.registry import ModelSpec
from verifier.errors import Pos
from verifier.events.build import build_events
from verifier.events.graph import EventGraph
from verifier.program.ast import Litmus
from verifier.smt.encode import encode_execution, pick_name
from verifier.smt.model import constrain
from verifier.smt.terms import not_

Status = Literal["sat", "unsat", "unknown"]


class OutOfTime(Exception):
    """Z3 gave up (timeout or memory): the analysis answers Unknown, never a guess."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Probe:
    """One answer: reachable ("sat") with its execution and the knobs that execution has on."""

    status: Status
    witness: Witness | None = None
    on: frozenset[int] = frozenset()


def bad_outcome(test: Litmus) -> str:
    return "the condition" if test.condition.kind != "forall" else "the negated condition"


class Choices:
    def __init__(
        self,
        test: Litmus,
        spec: ModelSpec,
        knobs: tuple[Knob, ...],
        deadline: float | None,
        edit: Callable[[EventGraph], tuple[EventGraph, tuple[Knob, ...]]] | None = None,
    ) -> None:
        """`edit` changes the event graph of the superset program before it is encoded and
        returns the knobs that live there, not in the program (explain's dependencies); their
        indices follow those of `knobs`."""
        self.test = test
        self.knobs = knobs
        self.deadline = deadline
        self.queries = 0
        program = superset(test, knobs)
        graph = build_events(program, spec.mapping_for(test.arch, Pos(test.path, 1, 1)))
        if edit is not None:
            graph, extra = edit(graph)
            self.knobs = knobs + extra
        self.graph = graph
        ex = encode_execution(graph)
        refuse_mixed_sizes(ex, deadline)
        constrain(spec.program, ex, spec.tags)
        if test.filter is not None:
            ex.script.add(prop_term(ex, test.filter, test))
        cond = prop_term(ex, test.condition.prop, test)
        self.ex = ex
        self.solver = z3.Solver()
        self.solver.from_string(ex.script.text())
        self.solver.from_string(f"(assert {cond if test.condition.kind != 'forall' else not_(cond)})")
        self.pick = {k.index: z3.Bool(pick_name(k.index)) for k in self.knobs}

    def ask(
        self,
        on: set[int] | frozenset[int],
        *,
        free: bool = False,
        witness: bool = True,
        universe: frozenset[int] | None = None,
    ) -> Probe:
        """Is the bad outcome reachable with the knobs in `on` made and (unless `free`) no other?
        Knobs outside `universe` (if given) are never made, free or not."""

        def lit(k: int, p: z3.BoolRef) -> z3.BoolRef | None:
            if k in on:
                return p
            if free and (universe is None or k in universe):
                return None
            return z3.Not(p)

        lits = [x for k, p in self.pick.items() if (x := lit(k, p)) is not None]
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise OutOfTime("timeout")
            self.solver.set("timeout", max(1, int(left * 1000)))
        self.queries += 1
        r = self.solver.check(*lits)
        if r == z3.unknown:
            why = self.solver.reason_unknown()
            raise OutOfTime("memory" if "memory" in why else ("timeout" if self.deadline else why))
        if r == z3.unsat:
            return Probe("unsat")
        m = self.solver.model()
        made = frozenset(k for k, p in self.pick.items() if z3.is_true(m.eval(p, model_completion=True)))
        return Probe("sat", extract_witness(self.ex, m) if witness else None, made)
