"""`check`: is the test's condition reachable under a model?  herd7's Observation, with proof.

- `Never`: the condition holds in no execution the model allows: Z3 said UNSAT on the full
  encoding (the proof).  `Always`: its negation is UNSAT and some execution exists.
  `Sometimes`: both are satisfiable.  `Unknown`: Z3 gave up (timeout): never a verdict.
- With `states`, every reachable final state of the observed registers and locations is
  enumerated with blocking clauses; the observation then follows from the states.
- Flags (`flag ~empty r as name`) are one more query each: a flag is raised when some
  execution the model allows (and the filter keeps) raises it, whatever the condition, as
  herd7 reports them (`Flag name`).  A flag query the solver cannot answer is reported as
  such, never dropped: an absent flag is a claim (no data race).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import z3

from verifier.analyses.judge import Expectation, Outcome, expectation_for, judge
from verifier.analyses.observe import (
    Column,
    cells,
    columns,
    eval_prop,
    format_condition,
    format_typed,
    format_value,
    prop_term,
)
from verifier.analyses.registry import ModelSpec, validate_expectations
from verifier.errors import Pos
from verifier.events.build import build_events
from verifier.events.graph import EventGraph
from verifier.program.ast import ArrayObs, Litmus, MemObs, Observable, RegObs, observed_of
from verifier.smt.encode import Execution, encode_execution, misaligned, mixed_size
from verifier.smt.fixpoint import OutOfTime
from verifier.smt.model import Flag, Interpretation, constrain
from verifier.smt.terms import F, T, and_, eq, lit_value, not_, num, or_

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
    source: str = ""  # the instruction as written: how the witness names the event


@dataclass(frozen=True)
class Witness:
    """One execution: its events (those that happen), rf and co edges, and final state."""

    events: tuple[WitnessEvent, ...]
    rf: tuple[tuple[int, int], ...]
    co: tuple[tuple[str, tuple[int, ...]], ...]
    final: tuple[tuple[str, str], ...]
    rmw: tuple[tuple[int, int], ...] = ()  # each RMW's read and write (both happened)


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
    # The test has loops: the bound on backward jumps, and whether some path was cut there
    # (then the answer holds up to the bound, as herd7's `Loop` answers do).
    unroll: int | None = None
    cut: bool = False
    # The flags some allowed execution raises (sorted, as herd7 prints them), and those the
    # solver could not decide (timeout, memory).
    flags: tuple[str, ...] = ()
    flags_unknown: tuple[str, ...] = ()

    @property
    def expected(self) -> str | None:
        return None if self.expectation is None else self.expectation.word

    @property
    def judgement(self) -> tuple[Outcome, str]:
        return judge(self.observation, self.executions, self.expectation, self.flags, self.flags_unknown)

    @property
    def outcome(self) -> Outcome:
        return self.judgement[0]

    @property
    def matches(self) -> bool | None:
        """Whether the observation agrees with the recorded expectation (None: not judged)."""
        outcome = self.outcome
        return None if outcome in ("unjudged", "unknown") else outcome != "fail"


def check(
    test: Litmus, spec: ModelSpec, *, want_states: bool = False, timeout: float | None = None,
    unroll: int | None = None,
) -> Verdict:
    """`unroll`: the bound on backward jumps when the test does not set its own (herd7's 2)."""
    start = time.monotonic()
    validate_expectations(test)
    mapping = spec.mapping_for(test.arch, Pos(test.path, 1, 1))
    graph = build_events(test, mapping, unroll)
    ex = encode_execution(graph)
    deadline = None if timeout is None else start + timeout
    refuse_mixed_sizes(ex, deadline)
    try:
        model = constrain(spec.program, ex, spec.tags, deadline)
    except OutOfTime:
        return _unknown(test, spec, start, graph)
    observed = observed_of(test)
    # Each printed value (a register, a location, an array's cell) gets a named constant:
    # states are read from them.
    cols = columns(ex, test, observed)
    obs_names: list[str] = []
    for col in cols:
        for term in col.terms:
            name = ex.script.declare(f"obs{len(obs_names)}", "Int")
            ex.script.add(eq(name, term))
            obs_names.append(name)
    if test.filter is not None:
        ex.script.add(prop_term(ex, test.filter, test))
    cond = prop_term(ex, test.condition.prop, test)
    solver = z3.Solver()
    solver.from_string(ex.script.text())
    session = _Session(solver, deadline, ex, obs_names)
    if want_states:
        observation, states, witness, positive = _by_states(session, test, observed, cols, cond)
        executions = None if states is None else bool(states)
    else:
        expectation = expectation_for(test, spec)
        judged = expectation is not None and expectation.word != "Maybe"
        observation, witness, executions = _by_queries(session, test, cond, judged)
        states, positive = None, None
    result = _result(test.condition.kind, observation)
    raised: tuple[str, ...] = ()
    undecided: tuple[str, ...] = ()
    if observation != "Unknown":
        flag_session: _Session | None = session
        if model.flags_need_exact():
            flag_session = _exact_flags_session(test, spec, graph, deadline)
        if flag_session is None:
            undecided = tuple(sorted({f.name for f in model.flags}))
        else:
            exact = flag_session.model or model
            raised, undecided = _flags(flag_session, exact.flags)
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
        unroll=graph.unroll,
        cut=graph.cut,
        flags=raised,
        flags_unknown=undecided,
    )


def _exact_flags_session(test: Litmus, spec: ModelSpec, graph: EventGraph, deadline: float | None) -> _Session | None:
    """A second encoding whose flags are exact (`constrain(..., exact_flags=True)`), for the
    flag queries only: the verdict's encoding gave a recursive group a flag depends on a
    pre-fixpoint.  None if its iteration runs out of time."""
    ex = encode_execution(graph)
    try:
        model = constrain(spec.program, ex, spec.tags, deadline, exact_flags=True)
    except OutOfTime:
        return None
    if test.filter is not None:
        ex.script.add(prop_term(ex, test.filter, test))
    solver = z3.Solver()
    solver.from_string(ex.script.text())
    session = _Session(solver, deadline, ex, [])
    session.model = model
    return session


def _unknown(test: Litmus, spec: ModelSpec, start: float, graph: EventGraph) -> Verdict:
    """The deadline passed before the solver was asked (a long recursive definition)."""
    return Verdict(file=test.path, test=test.name, model=spec.name, condition=format_condition(test),
                   observation="Unknown", result="Unknown", states=None, witness=None,
                   seconds=time.monotonic() - start, expectation=expectation_for(test, spec), executions=None,
                   arch=test.arch, unknown_reason="timeout", unroll=graph.unroll, cut=graph.cut)


def _flags(session: _Session, flags: list[Flag]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Which flags some allowed execution raises; those the solver cannot decide apart."""
    by_name: dict[str, list[str]] = {}
    for f in flags:
        by_name.setdefault(f.name, []).append(f.raised)
    raised: list[str] = []
    undecided: list[str] = []
    # Most executions raise no flag (the kernel model has 15): one query first for any of
    # them; only if some allowed execution raises one, a query per flag.
    live = [or_(*ts) for ts in by_name.values() if or_(*ts) != F]
    if len(live) > 1 and session.ask(or_(*live), witness=False)[0] == "unsat":
        return (), ()
    for name in sorted(by_name):
        answer, _ = session.ask(or_(*by_name[name]), witness=False)
        if answer == "sat":
            raised.append(name)
        elif answer == "unknown":
            undecided.append(name)
    return tuple(raised), tuple(undecided)


def refuse_mixed_sizes(ex: Execution, deadline: float | None) -> None:
    """Refuse the test if, in some candidate execution, two accesses of different sizes
    touch one location, or an access falls inside a location without being at its address
    (herd7 refuses both without `-variant mixed`).  Known addresses were checked while
    encoding; this asks the solver about computed ones."""
    if not ex.size_pairs and not ex.loose:
        return
    solver = z3.Solver()
    if deadline is not None:
        solver.set("timeout", max(1, int((deadline - time.monotonic()) * 1000)))
    solver.from_string(ex.script.text())

    def possible(term: str) -> bool:
        solver.push()
        solver.from_string(f"(assert {term})")
        answer = solver.check()
        solver.pop()
        return answer != z3.unsat  # reachable, or unknown: refuse rather than guess

    for a, b in ex.size_pairs:
        if possible(and_(ex.guard[a], ex.guard[b], eq(ex.addr[a], ex.addr[b]))):
            raise mixed_size(ex, ex.graph.event(a), ex.graph.event(b))
    for e in ex.loose:
        if possible(and_(ex.guard[e], ex.misaligned(e))):
            raise misaligned(ex, ex.graph.event(e))


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
        self.model: Interpretation | None = None  # the interpretation behind the script, if kept

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
    s: _Session, test: Litmus, observed: tuple[Observable, ...], cols: list[Column], cond: str
) -> tuple[str, tuple[tuple[tuple[str, str], ...], ...] | None, Witness | None, int | None]:
    states: list[tuple[tuple[str, str], ...]] = []
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
            states.append(_state(s.ex, cols, values))
            holds = eval_prop(test.condition.prop, _items(test, observed, cols, values), s.ex, test)
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


def _items(
    test: Litmus, observed: tuple[Observable, ...], cols: list[Column], values: list[int]
) -> dict[Observable, int]:
    """Each printed item's value, an array's cells one by one."""
    out: dict[Observable, int] = {}
    k = 0
    for o, col in zip(observed, cols, strict=True):
        here = values[k : k + len(col.terms)]
        k += len(col.terms)
        if isinstance(o, ArrayObs):
            out.update(zip(cells(test, o.name), here, strict=True))
        else:
            out[o] = here[0]
    return out


def _state(ex: Execution, cols: list[Column], values: list[int]) -> tuple[tuple[str, str], ...]:
    """A final state as herd7 prints it: `0:X0=-1`, `[x]=t+4`, `t={1,2}`."""
    out: list[tuple[str, str]] = []
    k = 0
    for col in cols:
        vs = [format_value(ex, v) for v in values[k : k + len(col.terms)]]
        k += len(col.terms)
        out.append((col.key, "{" + ",".join(vs) + "}" if col.array else vs[0]))
    return tuple(out)


# --------------------------------------------------------------------------- witnesses


class _Values:
    """A model's constants by name, each evaluated when first asked for: a kernel-model
    encoding declares thousands, a witness reads a few hundred."""

    def __init__(self, m: z3.ModelRef) -> None:
        self.m = m
        self.decls = {d.name(): d for d in m.decls()}
        self.done: dict[str, z3.ExprRef] = {}

    def get(self, name: str) -> z3.ExprRef | None:
        if name not in self.done:
            d = self.decls.get(name)
            if d is None:
                return None
            self.done[name] = self.m[d]
        return self.done[name]


def extract_witness(ex: Execution, m: z3.ModelRef) -> Witness:
    values = _Values(m)

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
        events.append(WitnessEvent(e.eid, e.tid, e.kind, loc, value, tags, e.cls, e.pos.line if e.pos else None,
                                   e.source))
    rf = tuple(sorted(p for p, var in ex.rf.items() if boolean(var)))
    co: list[tuple[str, tuple[int, ...]]] = []
    for name in graph.locations:
        ws = [ev for ev in events if ev.kind == "W" and ev.loc == name]
        ws.sort(key=lambda ev: integer(ex.clock[ev.eid]))
        co.append((name, tuple(ev.eid for ev in ws)))
    test = graph.test
    regs = tuple(
        (f"{tid}:{reg}", format_typed(ex, test, RegObs(tid, reg), integer(ex.int_of(value))))
        for (tid, reg), value in graph.final_regs
    )
    final = regs + tuple(
        (str(MemObs(n)), format_typed(ex, test, MemObs(n), integer(t))) for n, t in ex.final_mem.items()
    )
    happened = {ev.eid for ev in events}
    rmw = tuple(sorted((r, w) for r, w in graph.rmw if r in happened and w in happened))
    return Witness(tuple(events), rf, tuple(co), final, rmw)
