"""`check`: is the test's condition reachable under a model?  herd7's Observation, with proof.

- `Never`: the condition holds in no execution the model allows: Z3 said UNSAT on the full
  encoding (the proof).  `Always`: its negation is UNSAT and some execution exists.
  `Sometimes`: both are satisfiable.  `Unknown`: Z3 gave up (timeout): never a verdict.
- With `states`, every reachable final state of the observed registers and locations is
  enumerated with blocking clauses; the observation then follows from the states.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import z3

from verifier.analyses.judge import Expectation, Outcome, expectation_for, judge
from verifier.analyses.registry import ModelSpec, all_tags, validate_expectations
from verifier.errors import InputError, Pos
from verifier.events.build import build_events
from verifier.events.graph import EventGraph
from verifier.program.ast import (
    Atom,
    Litmus,
    MemObs,
    Observable,
    PAnd,
    PFalse,
    PImplies,
    PNot,
    POr,
    Prop,
    PTrue,
    Value,
    observed_of,
)
from verifier.smt.encode import Execution, encode_execution
from verifier.smt.interpret import interpret
from verifier.smt.terms import F, T, and_, eq, implies, lit_value, not_, num, or_

State = dict[str, str]


@dataclass(frozen=True)
class WitnessEvent:
    eid: int
    tid: int
    kind: str
    loc: str | None
    value: str | None
    tags: tuple[str, ...]
    cls: str
    line: int | None


@dataclass(frozen=True)
class Witness:
    """One execution: its events (those that happen), rf and co edges, and final state."""

    events: tuple[WitnessEvent, ...]
    rf: tuple[tuple[int, int], ...]
    co: tuple[tuple[str, tuple[int, ...]], ...]
    final: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Verdict:
    file: str
    test: str
    model: str
    condition: str
    observation: str  # Never / Sometimes / Always / Unknown
    result: str  # Ok / No / Unknown
    states: tuple[tuple[tuple[str, str], ...], ...] | None
    witness: Witness | None
    seconds: float
    expectation: Expectation | None
    # Whether any execution passes the filter (None: not decided).  No execution at all is
    # what the kernel's `Result: DEADLOCK` means (herd prints `Never 0 0`).
    executions: bool | None
    arch: str = ""
    # With states: how many final states satisfy the condition's proposition, and how many not.
    positive: int | None = None
    negative: int | None = None
    # Why the answer is Unknown: "timeout" or "memory" (Z3's own limits).
    unknown_reason: str | None = None

    @property
    def expected(self) -> str | None:
        return None if self.expectation is None else self.expectation.word

    @property
    def judgement(self) -> tuple[Outcome, str]:
        return judge(self.observation, self.executions, self.expectation)

    @property
    def outcome(self) -> Outcome:
        return self.judgement[0]

    @property
    def matches(self) -> bool | None:
        """Whether the observation agrees with the recorded expectation (None: not judged)."""
        outcome = self.outcome
        return None if outcome in ("unjudged", "unknown") else outcome != "fail"


def check(test: Litmus, spec: ModelSpec, *, want_states: bool = False, timeout: float | None = None) -> Verdict:
    start = time.monotonic()
    validate_expectations(test)
    mapping = spec.mapping_for(test.arch, Pos(test.path, 1, 1))
    graph = build_events(test, mapping)
    ex = encode_execution(graph)
    interpret(spec.cat, list(spec.prelude), ex, all_tags())
    observed = observed_of(test)
    # Each observed register or location gets a named constant: states are read from them.
    obs_names = []
    for i, o in enumerate(observed):
        name = ex.script.declare(f"obs{i}", "Int")
        ex.script.add(eq(name, _obs_term(ex, o, test)))
        obs_names.append(name)
    if test.filter is not None:
        ex.script.add(prop_term(ex, test.filter, test))
    cond = prop_term(ex, test.condition.prop, test)
    solver = z3.Solver()
    solver.from_string(ex.script.text())
    deadline = None if timeout is None else start + timeout
    session = _Session(solver, deadline, ex, obs_names)
    if want_states:
        observation, states, witness, positive = _by_states(session, test, observed, cond)
        executions = None if states is None else bool(states)
    else:
        expectation = expectation_for(test, spec)
        judged = expectation is not None and expectation.word != "Maybe"
        observation, witness, executions = _by_queries(session, test, cond, judged)
        states, positive = None, None
    result = _result(test.condition.kind, observation)
    return Verdict(
        file=test.path,
        test=test.name,
        model=spec.name,
        condition=format_condition(test),
        observation=observation,
        result=result,
        states=states,
        witness=witness,
        seconds=time.monotonic() - start,
        expectation=expectation_for(test, spec),
        executions=executions,
        arch=test.arch,
        positive=positive,
        negative=None if states is None or positive is None else len(states) - positive,
        unknown_reason=session.unknown_reason if observation == "Unknown" else None,
    )


def _result(kind: str, observation: str) -> str:
    if observation == "Unknown":
        return "Unknown"
    if kind == "exists":
        return "Ok" if observation != "Never" else "No"
    if kind == "~exists":
        return "Ok" if observation == "Never" else "No"
    return "Ok" if observation == "Always" else "No"


class _Session:
    """A solver with a deadline; `ask` adds a temporary assertion."""

    def __init__(self, solver: z3.Solver, deadline: float | None, ex: Execution, obs: list[str]) -> None:
        self.solver = solver
        self.deadline = deadline
        self.ex = ex
        self.obs = obs
        self.unknown_reason: str | None = None

    def check(self) -> z3.CheckSatResult:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.unknown_reason = "timeout"
                return z3.unknown
            self.solver.set("timeout", max(1, int(left * 1000)))
        r = self.solver.check()
        if r == z3.unknown:
            why = self.solver.reason_unknown()
            self.unknown_reason = "memory" if "memory" in why else ("timeout" if self.deadline else why)
        return r

    def ask(self, term: str, *, witness: bool = True) -> tuple[str, Witness | None]:
        """Is `term` satisfiable?  Returns ("sat"|"unsat"|"unknown", witness if sat and wanted)."""
        if term == F:
            return "unsat", None
        self.solver.push()
        try:
            self.add(term)
            r = self.check()
            if r == z3.sat:
                return "sat", extract_witness(self.ex, self.solver.model()) if witness else None
            return ("unsat" if r == z3.unsat else "unknown"), None
        finally:
            self.solver.pop()

    def add(self, term: str) -> None:
        if term != T:
            # The solver keeps the script's declarations: the assertion alone is enough.
            self.solver.from_string(f"(assert {term})")


def _decls(ex: Execution) -> str:
    return "\n".join(line for line in ex.script.lines if line.startswith("(declare-const"))


def _by_queries(
    s: _Session, test: Litmus, cond: str, judged: bool
) -> tuple[str, Witness | None, bool | None]:
    pos, wpos = s.ask(cond)
    if pos == "unsat" and not judged:
        return "Never", None, None
    # When an expectation will judge a `Never`, the negation is asked too: it says whether any
    # execution exists at all (the kernel's DEADLOCK, or an unexpected one).
    neg, wneg = s.ask(not_(cond), witness=pos != "unsat")
    executions = True if "sat" in (pos, neg) else (False if (pos, neg) == ("unsat", "unsat") else None)
    if pos == "unsat":
        return "Never", None, executions
    if pos == "unknown" or neg == "unknown":
        return "Unknown", None, executions
    observation = "Always" if neg == "unsat" else "Sometimes"
    witness = wneg if test.condition.kind == "forall" and wneg is not None else wpos
    return observation, witness, executions


def _by_states(
    s: _Session, test: Litmus, observed: tuple[Observable, ...], cond: str
) -> tuple[str, tuple[tuple[tuple[str, str], ...], ...] | None, Witness | None, int | None]:
    keys = [str(o) for o in observed]
    states: list[tuple[tuple[str, str], ...]] = []
    raw: list[list[int]] = []
    witness_pos: Witness | None = None
    witness_neg: Witness | None = None
    positive = 0
    s.solver.push()
    try:
        while True:
            r = s.check()
            if r == z3.unknown:
                return "Unknown", None, None, None
            if r == z3.unsat:
                break
            m = s.solver.model()
            values = [m.eval(z3.Int(n), model_completion=True).as_long() for n in s.obs]
            raw.append(values)
            states.append(tuple(zip(keys, (format_value(s.ex, v) for v in values), strict=True)))
            holds = _eval_prop(test.condition.prop, dict(zip(observed, values, strict=True)), s.ex, test)
            positive += holds
            if holds and witness_pos is None:
                witness_pos = extract_witness(s.ex, m)
            if not holds and witness_neg is None:
                witness_neg = extract_witness(s.ex, m)
            block = or_(*(not_(eq(n, num(v))) for n, v in zip(s.obs, values, strict=True)))
            if block == F:  # nothing observed: one state only
                break
            s.add(block)
    finally:
        s.solver.pop()
    if witness_pos is None:
        observation = "Never"
    else:
        observation = "Always" if witness_neg is None else "Sometimes"
    witness = witness_neg if test.condition.kind == "forall" and witness_neg is not None else witness_pos
    return observation, tuple(sorted(states)), witness, positive


# --------------------------------------------------------------------------- conditions


def _obs_term(ex: Execution, o: Observable, test: Litmus) -> str:
    if isinstance(o, MemObs):
        if o.loc not in ex.final_mem:
            raise InputError(Pos(test.path, 1, 1), f"the condition names unknown location '{o.loc}'")
        return ex.final_mem[o.loc]
    if o.tid not in ex.graph.tids:
        raise InputError(Pos(test.path, 1, 1), f"the condition names thread {o.tid}, which the test does not have")
    value = ex.graph.final_reg(o.tid, o.reg)
    return "0" if value is None else ex.int_of(value)


def _value_code(ex: Execution, v: Value, test: Litmus) -> int:
    if isinstance(v, int):
        return v
    if v not in ex.addr_code:
        raise InputError(Pos(test.path, 1, 1), f"the condition compares with unknown location '{v}'")
    return ex.addr_code[v]


def prop_term(ex: Execution, p: Prop, test: Litmus) -> str:
    if isinstance(p, Atom):
        return eq(_obs_term(ex, p.obs, test), num(_value_code(ex, p.value, test)))
    if isinstance(p, PTrue):
        return T
    if isinstance(p, PFalse):
        return F
    if isinstance(p, PNot):
        return not_(prop_term(ex, p.arg, test))
    if isinstance(p, PAnd):
        return and_(*(prop_term(ex, a, test) for a in p.args))
    if isinstance(p, POr):
        return or_(*(prop_term(ex, a, test) for a in p.args))
    if isinstance(p, PImplies):
        return implies(prop_term(ex, p.left, test), prop_term(ex, p.right, test))
    raise TypeError(p)


def _eval_prop(p: Prop, values: dict[Observable, int], ex: Execution, test: Litmus) -> bool:
    if isinstance(p, Atom):
        return values[p.obs] == _value_code(ex, p.value, test)
    if isinstance(p, PTrue):
        return True
    if isinstance(p, PFalse):
        return False
    if isinstance(p, PNot):
        return not _eval_prop(p.arg, values, ex, test)
    if isinstance(p, PAnd):
        return all(_eval_prop(a, values, ex, test) for a in p.args)
    if isinstance(p, POr):
        return any(_eval_prop(a, values, ex, test) for a in p.args)
    if isinstance(p, PImplies):
        return (not _eval_prop(p.left, values, ex, test)) or _eval_prop(p.right, values, ex, test)
    raise TypeError(p)


def format_value(ex: Execution, v: int) -> str:
    for name, code in ex.addr_code.items():
        if code == v:
            return name
    return str(v)


def format_prop(p: Prop) -> str:
    if isinstance(p, Atom):
        return f"{p.obs}={p.value}"
    if isinstance(p, PTrue):
        return "true"
    if isinstance(p, PFalse):
        return "false"
    if isinstance(p, PNot):
        return f"not ({format_prop(p.arg)})"
    if isinstance(p, PAnd):
        return " /\\ ".join(_paren(a) for a in p.args)
    if isinstance(p, POr):
        return " \\/ ".join(_paren(a) for a in p.args)
    return f"{_paren(p.left)} -> {_paren(p.right)}"


def _paren(p: Prop) -> str:
    return f"({format_prop(p)})" if isinstance(p, (PAnd, POr, PImplies)) else format_prop(p)


def format_condition(test: Litmus) -> str:
    return f"{test.condition.kind} ({format_prop(test.condition.prop)})"


# --------------------------------------------------------------------------- witnesses


def extract_witness(ex: Execution, m: z3.ModelRef) -> Witness:
    values: dict[str, z3.ExprRef] = {d.name(): m[d] for d in m.decls()}

    def boolean(term: str) -> bool:
        if term in (T, F):
            return term == T
        v = values.get(term)
        if v is not None:
            return z3.is_true(v)
        return z3.is_true(m.eval(z3.parse_smt2_string(f"{_decls(ex)}\n(assert {term})")[0], model_completion=True))

    def integer(term: str) -> int:
        lit = lit_value(term)
        if lit is not None:
            return lit
        v = values.get(term)
        if v is not None:
            return v.as_long()  # type: ignore[attr-defined]
        expr = z3.parse_smt2_string(f"{_decls(ex)}\n(declare-const q!! Int)\n(assert (= q!! {term}))")[0]
        return m.eval(expr.arg(1), model_completion=True).as_long()  # type: ignore[attr-defined]

    graph: EventGraph = ex.graph
    code_to_loc = {c: n for n, c in ex.addr_code.items()}
    events: list[WitnessEvent] = []
    for e in graph.events:
        if not boolean(ex.guard[e.eid]):
            continue
        loc = None
        if e.addr is not None:
            a = integer(ex.addr[e.eid])
            loc = code_to_loc.get(a, str(a))
        value = None
        if e.kind in ("R", "W"):
            value = format_value(ex, integer(ex.value[e.eid]))
        tags = tuple(t for t, c in e.tags if boolean(ex.bool_of(c)))
        events.append(WitnessEvent(e.eid, e.tid, e.kind, loc, value, tags, e.cls, e.pos.line if e.pos else None))
    rf = tuple(sorted(p for p, var in ex.rf.items() if boolean(var)))
    co: list[tuple[str, tuple[int, ...]]] = []
    for name in graph.locations:
        ws = [ev for ev in events if ev.kind == "W" and ev.loc == name]
        ws.sort(key=lambda ev: integer(ex.clock[ev.eid]))
        co.append((name, tuple(ev.eid for ev in ws)))
    regs = tuple(
        (f"{tid}:{reg}", format_value(ex, integer(ex.int_of(value))))
        for (tid, reg), value in graph.final_regs
    )
    final = regs + tuple((f"[{n}]", format_value(ex, integer(t))) for n, t in ex.final_mem.items())
    return Witness(tuple(events), rf, tuple(co), final)
