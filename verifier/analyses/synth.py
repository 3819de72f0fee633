"""`fences`: the cheapest set of candidate changes that makes a test's bad outcome unreachable.

Implicit hitting sets, counterexample-guided (the MaxHS scheme), not enumeration of subsets:

1. An optimizer proposes the cheapest set H of knobs that hits every core found so far
   (at first: the empty set).
2. The encoding is asked whether the bad outcome is reachable with exactly H made.  No: H is
   a minimum-cost solution, because every cheaper set misses a core.
3. Yes: the witness execution is grown into a maximal set G (H and every knob that keeps the
   outcome reachable; the solver may make more knobs in one step).  No solution lies inside G:
   fences and upgrades only remove executions (the models are monotone in them), so any set
   within G still reaches the outcome.  The new core is every knob outside G.  Back to 1.

The proof of optimality is the list of cores, each with the set G it complements and the
execution that reaches the outcome under G: any set of lower cost lies inside one such G.
The answer is then checked again from scratch: the changes are made to the program and an
ordinary `check` must say the outcome is unreachable.  If the outcome is reachable under SC,
or with every candidate made, no set of changes can help; the witness says why.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import z3

from verifier.analyses.check import Verdict, Witness, check
from verifier.analyses.choices import Choices, OutOfTime, Probe
from verifier.analyses.knobs import Knob, Menu, apply, candidates
from verifier.analyses.registry import ModelSpec, resolve_model
from verifier.program.ast import Litmus

Status = Literal["fixed", "already", "sc-reachable", "no-fix", "unknown"]


@dataclass(frozen=True)
class Core:
    """Every solution makes one of `knobs`; `reachable_with` (the complement) reaches the
    bad outcome, as `witness` shows."""

    knobs: tuple[int, ...]
    reachable_with: tuple[int, ...]
    witness: Witness | None


@dataclass(frozen=True)
class Synthesis:
    test: Litmus
    model: str
    status: Status
    knobs: tuple[Knob, ...]
    chosen: tuple[int, ...] = ()
    cost: int = 0
    alternatives: tuple[tuple[int, ...], ...] = ()
    cores: tuple[Core, ...] = ()
    witness: Witness | None = None  # why nothing helps (sc-reachable, no-fix)
    recheck: Verdict | None = None  # the fresh check of the fenced program
    queries: int = 0
    seconds: float = 0.0
    unknown_reason: str | None = None
    notes: tuple[str, ...] = field(default=())

    def chosen_knobs(self) -> list[Knob]:
        return [self.knobs[i] for i in self.chosen]


def unreachable(test: Litmus, v: Verdict) -> bool:
    """Whether a verdict says the bad outcome cannot happen."""
    return v.observation == ("Always" if test.condition.kind == "forall" else "Never")


def synthesize(
    test: Litmus,
    spec: ModelSpec,
    menu: Menu,
    *,
    sites: list[tuple[int, int]] | None = None,
    all_solutions: bool = False,
    timeout: float | None = None,
    allow: Callable[[Knob], bool] | None = None,
) -> Synthesis:
    """`allow` keeps only some candidates (the command line: those it can write as text)."""
    start = time.monotonic()
    deadline = None if timeout is None else start + timeout
    knobs = candidates(test, menu, sites)
    if allow is not None:
        knobs = tuple(dataclasses.replace(k, index=i) for i, k in enumerate(k for k in knobs if allow(k)))

    base = Synthesis(test, spec.name, "unknown", knobs)

    def done(result: Synthesis) -> Synthesis:
        return dataclasses.replace(result, seconds=time.monotonic() - start)

    sc = check(test, resolve_model("sc"), timeout=timeout)
    if sc.observation == "Unknown":
        return done(dataclasses.replace(base, unknown_reason=sc.unknown_reason))
    if not unreachable(test, sc):
        return done(dataclasses.replace(base, status="sc-reachable", witness=sc.witness))
    choices = Choices(test, spec, knobs, deadline)
    try:
        result = _search(base, spec, choices, all_solutions)
    except OutOfTime as e:
        result = dataclasses.replace(base, unknown_reason=e.reason)
    return done(dataclasses.replace(result, queries=choices.queries))


def _search(base: Synthesis, spec: ModelSpec, choices: Choices, all_solutions: bool) -> Synthesis:
    """The answer once SC has not reached the outcome: already unreachable, not fixable with
    every candidate made, or the minimum-cost sets."""
    test, knobs = base.test, base.knobs
    everything = frozenset(k.index for k in knobs)
    if choices.ask(set(), witness=False).status == "unsat":
        return dataclasses.replace(base, status="already", recheck=_recheck(test, spec, knobs, ()))
    top = choices.ask(everything)
    if top.status == "sat":
        return dataclasses.replace(base, status="no-fix", witness=top.witness)
    found = min_cost_sets(choices, everything, all_solutions)
    return dataclasses.replace(
        base,
        status="fixed",
        chosen=found.solutions[0],
        cost=found.cost,
        alternatives=found.solutions,
        cores=found.cores,
        recheck=_recheck(test, spec, knobs, found.solutions[0]),
    )


@dataclass(frozen=True)
class Found:
    solutions: tuple[tuple[int, ...], ...]
    cost: int
    cores: tuple[Core, ...]


def min_cost_sets(choices: Choices, universe: frozenset[int], all_solutions: bool) -> Found:
    """The cheapest sets of knobs from `universe` (the others never made) under which the bad
    outcome is unreachable; the caller has checked that `universe` itself is one."""
    opt = _Optimizer([choices.knobs[k] for k in sorted(universe)])
    cores: list[Core] = []
    solutions: list[tuple[int, ...]] = []
    best: int | None = None
    while True:
        pick = opt.cheapest(best if all_solutions and best is not None else None)
        if pick is None:
            break  # every minimum-cost set found (only with all_solutions)
        on, cost = pick
        probe = choices.ask(on, universe=universe, witness=False)
        if probe.status == "sat":
            grown = _grow(choices, probe, universe)
            core = tuple(sorted(universe - grown.on))
            cores.append(Core(core, tuple(sorted(grown.on & universe)), grown.witness))
            opt.add_core(core)
            continue
        solutions.append(tuple(sorted(on)))
        best = cost
        if not all_solutions:
            break
        opt.block(on)
    return Found(tuple(solutions), best or 0, tuple(cores))


def _grow(choices: Choices, probe: Probe, universe: frozenset[int]) -> Probe:
    """A maximal set of knobs under which the outcome stays reachable, from `probe`'s.
    Dearer knobs are tried first: a core of cheap knobs steers the optimizer best."""
    current = probe
    order = sorted(universe - probe.on, key=lambda k: (-choices.knobs[k].cost, k))
    for k in order:
        if k in current.on:
            continue
        # No witness while growing: reading one back costs more than the question.
        p = choices.ask(current.on | {k}, free=True, universe=universe, witness=False)
        if p.status == "sat":
            current = p
    # The execution that refutes every set within the grown one, for the proof.
    return choices.ask(current.on, universe=universe)


def _recheck(test: Litmus, spec: ModelSpec, knobs: tuple[Knob, ...], chosen: tuple[int, ...]) -> Verdict:
    """The fenced program, made for real and checked from scratch."""
    return check(apply(test, knobs, set(chosen)), spec)


class _Optimizer:
    """Minimum-cost hitting sets of the cores (z3's MaxSMT; ties go to fewer changes, then
    to lower knob indices, i.e. fences before upgrades and earlier threads first)."""

    def __init__(self, knobs: list[Knob]) -> None:
        self.knobs = {k.index: k for k in knobs}
        self.var = {k.index: z3.Bool(f"h{k.index}") for k in knobs}
        self.cores: list[z3.BoolRef] = []
        self.blocked: list[z3.BoolRef] = []

    def add_core(self, core: tuple[int, ...]) -> None:
        self.cores.append(z3.Or([self.var[k] for k in core]))

    def block(self, on: frozenset[int] | set[int]) -> None:
        self.blocked.append(z3.Or([z3.Not(self.var[k]) for k in on]) if on else z3.BoolVal(False))

    def cost_term(self) -> z3.ArithRef:
        return z3.Sum([z3.If(self.var[k], kn.cost, 0) for k, kn in self.knobs.items()]) if self.knobs else z3.IntVal(0)

    def cheapest(self, exactly: int | None) -> tuple[frozenset[int], int] | None:
        o = z3.Optimize()
        o.add(*self.cores, *self.blocked)
        cost = self.cost_term()
        if exactly is not None:
            o.add(cost == exactly)
        o.minimize(cost)
        o.minimize(z3.Sum([z3.If(v, 1, 0) for v in self.var.values()]) if self.var else z3.IntVal(0))
        o.minimize(z3.Sum([z3.If(v, k, 0) for k, v in self.var.items()]) if self.var else z3.IntVal(0))
        if o.check() != z3.sat:
            return None
        m = o.model()
        on = frozenset(k for k, v in self.var.items() if z3.is_true(m.eval(v, model_completion=True)))
        return on, sum(self.knobs[k].cost for k in on)
