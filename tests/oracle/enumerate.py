"""Brute-force reachable final states of a litmus test under a cat model (the test oracle).

1. `traces.thread_traces` runs each thread concretely into traces of tagged events;
2. one trace per thread plus one initial write per location form the events; every rf (same
   location, same value, not from the read's own instruction) and every co (all orders of each
   location's writes, the initial write first) is tried; the built-in relations are plain sets
   of pairs (dependencies: only those inside one RMW instruction, see traces.py; refused when a
   trace has others) and the model is evaluated concretely by `cat_eval`;
3. a final state (the observed registers and locations, keyed and printed as
   `Verdict.states`) is reachable iff some candidate execution passes every check.

The only shortcut: once a state is known reachable, other executions with the same final
state are not evaluated (they cannot add anything).  Independent of the engine's
`verifier/events` (except the mapping table reader), `verifier/smt` and `analyses/check.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import permutations, product

from tests.oracle.cat_eval import ERel, ESet, Evaluator, Pair, Unsupported, Value, compose
from tests.oracle.traces import Ptr, Trace, Val, thread_traces
from verifier.analyses.registry import ModelSpec
from verifier.cat.syntax import CatModel, Check
from verifier.errors import Pos
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
    observed_of,
)

State = tuple[tuple[str, str], ...]
Co = dict[str, tuple[int, ...]]  # location -> its writes in coherence order


@dataclass(frozen=True)
class Event:
    eid: int
    tid: int | None  # None: an initial write (in no thread)
    kind: str  # "R", "W", "F" or "L" (a herd7 lock event: a location, no value)
    loc: str | None
    value: Val | None
    tags: frozenset[str]


@dataclass(frozen=True)
class Result:
    states: frozenset[State]
    observation: str  # Never / Sometimes / Always, as herd7 prints it
    candidates: int  # candidate executions whose model was evaluated
    flags: frozenset[str] = frozenset()  # flags some allowed execution raises


def reachable_states(test: Litmus, spec: ModelSpec) -> Result:
    mapping = spec.mapping_for(test.arch, Pos(test.path, 1, 1))
    per_thread, inits = thread_traces(test, mapping)
    tids = [th.tid for th in sorted(test.threads, key=lambda th: th.tid)]
    observed = observed_of(test)
    models = (*spec.prelude, spec.cat)
    tags = spec.tags
    found: dict[State, bool] = {}  # state -> does the condition hold in it
    evaluated = 0
    # With flags every allowed execution counts, not one per state.
    flagged = any(isinstance(s, Check) and s.flag for m in models for s in m.stmts)
    flags: set[str] = set()
    for combo in product(*per_thread):
        cand = Candidate(combo, tids, inits)
        rf_choices = cand.rf_choices()
        if rf_choices is None:
            continue  # some read's value is written by nobody
        for co in cand.co_orders():
            value = cand.observer(co)
            if test.filter is not None and not holds(test.filter, value):
                continue
            state = tuple((str(o), format_value(value(o))) for o in observed)
            if state in found and not flagged:
                continue
            for rf in product(*rf_choices):
                evaluated += 1
                raised = cand.judge(models, frozenset(rf), co, tags)
                if raised is not None:
                    found[state] = holds(test.condition.prop, value)
                    flags |= raised
                    if not flagged:
                        break
    return Result(frozenset(found), observation(found.values()), evaluated, frozenset(flags))


def observation(truths: Iterable[bool]) -> str:
    values = list(truths)
    if not any(values):
        return "Never"
    return "Always" if all(values) else "Sometimes"


def format_value(v: Val) -> str:
    return v.name if isinstance(v, Ptr) else str(v)


def holds(p: Prop, value: Callable[[Observable], Val]) -> bool:
    if isinstance(p, Atom):
        want = Ptr(p.value) if isinstance(p.value, str) else p.value
        return value(p.obs) == want
    if isinstance(p, PTrue):
        return True
    if isinstance(p, PFalse):
        return False
    if isinstance(p, PNot):
        return not holds(p.arg, value)
    if isinstance(p, PAnd):
        return all(holds(a, value) for a in p.args)
    if isinstance(p, POr):
        return any(holds(a, value) for a in p.args)
    if isinstance(p, PImplies):
        return not holds(p.left, value) or holds(p.right, value)
    raise Unsupported(f"proposition {p!r}")


class Candidate:
    """The events of one choice of trace per thread, and what does not depend on rf/co."""

    def __init__(self, combo: Sequence[Trace], tids: Sequence[int], inits: dict[str, Val]) -> None:
        self.combo = dict(zip(tids, combo, strict=True))
        # Locations reached only through pointers still get an initial write of 0.
        locs = dict(inits)
        for t in combo:
            for e in t.events:
                for v in (Ptr(e.loc) if e.loc else None, e.value):
                    if isinstance(v, Ptr):
                        locs.setdefault(v.name, 0)
        events = [Event(i, None, "W", name, v, frozenset()) for i, (name, v) in enumerate(locs.items())]
        self.locations = list(locs)
        self.rmw: set[Pair] = set()
        self.iico: set[Pair] = set()
        self.data: set[Pair] = set()
        po: set[Pair] = set()
        for tid, t in self.combo.items():
            base = len(events)
            events += [Event(base + k, tid, e.kind, e.loc, e.value, e.tags) for k, e in enumerate(t.events)]
            po |= {(base + i, base + j) for i in range(len(t.events)) for j in range(i + 1, len(t.events))}
            self.rmw |= {(base + r, base + w) for r, w in t.rmw}
            self.iico |= {(base + r, base + w) for r, w in t.iico}
            self.data |= {(base + r, base + w) for r, w in t.data}
        # The read and write of one instruction are ordered by iico, not by po (herd7).
        po -= self.iico
        self.dependent = next((t.dependent for t in combo if t.dependent is not None), None)
        self.events = events
        self.po = frozenset(po)
        self.universe = frozenset(e.eid for e in events)
        self.writes = [e for e in events if e.kind == "W"]
        self._static: dict[str, ESet | ERel] = {}
        self._memo: dict[tuple[int, str], Value | None] = {}

    def rf_choices(self) -> list[list[Pair]] | None:
        """For each read, the writes it may read from (same location, same value; not the
        write of the read's own instruction: values flow forward inside an instruction)."""
        out = []
        for r in self.events:
            if r.kind == "R":
                ws = [
                    (w.eid, r.eid)
                    for w in self.writes
                    if w.loc == r.loc and w.value == r.value and (r.eid, w.eid) not in self.iico
                ]
                if not ws:
                    return None
                out.append(ws)
        return out

    def co_orders(self) -> Iterator[Co]:
        per_loc = []
        for loc in self.locations:
            init = [w.eid for w in self.writes if w.loc == loc and w.tid is None]
            rest = [w.eid for w in self.writes if w.loc == loc and w.tid is not None]
            per_loc.append([tuple(init) + p for p in permutations(rest)])
        for choice in product(*per_loc):
            yield dict(zip(self.locations, choice, strict=True))

    def observer(self, co: Co) -> Callable[[Observable], Val]:
        def value(o: Observable) -> Val:
            if isinstance(o, MemObs):
                if o.loc not in co:
                    raise Unsupported(f"unknown location {o.loc}")
                v = self.events[co[o.loc][-1]].value
                assert v is not None
                return v
            if o.tid not in self.combo:
                raise Unsupported(f"unknown thread {o.tid}")
            return self.combo[o.tid].env.get(o.reg, 0)  # a register never written is 0

        return value

    def allowed(self, models: Sequence[CatModel], rf: frozenset[Pair], co: Co, tags: frozenset[str]) -> bool:
        return self.judge(models, rf, co, tags) is not None

    def judge(self, models: Sequence[CatModel], rf: frozenset[Pair], co: Co,
              tags: frozenset[str]) -> frozenset[str] | None:
        """None if the models forbid the execution, else the flags it raises."""
        co_pairs = frozenset((o[i], o[j]) for o in co.values() for i in range(len(o)) for j in range(i + 1, len(o)))
        table: dict[str, Callable[[], ESet | ERel]] = {
            # herd: a location no thread writes has no final write (its final rf is "Init")
            "FW": lambda: ESet(frozenset(o[-1] for o in co.values() if self.events[o[-1]].tid is not None)),
            "rf": lambda: ERel(rf),
            "co": lambda: ERel(co_pairs),
            "fr": lambda: ERel(compose(frozenset((r, w) for w, r in rf), co_pairs)),
        }
        static = self.static_names(tags)
        for name in static:
            table[name] = lambda name=name: self.static(name)  # type: ignore[misc]
        # The lets that depend only on the events are computed once per candidate.
        ev = Evaluator(self.universe, table, frozenset(static), self._memo)
        return frozenset(ev.raised) if ev.allowed(models) else None

    def static_names(self, tags: frozenset[str]) -> set[str]:
        builtins = {"R", "W", "F", "M", "_", "IW", "po", "rmw", "iico", "loc", "int", "ext", "id", "sm"}
        return builtins | {"addr", "data", "ctrl", "pick-addr", "pick-data"} | tags | {
            t for e in self.events for t in e.tags
        }

    def static(self, name: str) -> ESet | ERel:
        """A built-in that depends only on the events (not on rf or co), computed once."""
        if name not in self._static:
            self._static[name] = self._compute_static(name)
        return self._static[name]

    def _compute_static(self, name: str) -> ESet | ERel:
        evs = self.events

        def same_thread(a: Event, b: Event) -> bool:
            return a.tid is not None and a.tid == b.tid

        def rel(pred: Callable[[Event, Event], bool]) -> ERel:
            return ERel(frozenset((a.eid, b.eid) for a in evs for b in evs if pred(a, b)))

        kinds = {"R": "R", "W": "W", "F": "F", "M": "RW", "_": "RWFL"}
        if name in kinds:
            return ESet(frozenset(e.eid for e in evs if e.kind in kinds[name]))
        if name == "IW":
            return ESet(frozenset(e.eid for e in evs if e.tid is None))
        if name == "po":
            return ERel(self.po)
        if name == "rmw":
            return ERel(frozenset(self.rmw))
        if name == "loc":
            return rel(lambda a, b: a.loc is not None and a.loc == b.loc)
        if name == "int":
            return rel(same_thread)
        if name == "sm":  # herd's same single-copy-atomic access: without mixed sizes, each access alone
            return rel(lambda a, b: a.eid == b.eid and a.kind in "RW")
        if name == "ext":
            return rel(lambda a, b: not same_thread(a, b))
        if name == "id":
            return rel(lambda a, b: a.eid == b.eid)
        if name == "iico":
            return ERel(frozenset(self.iico))
        if name in ("addr", "data", "ctrl", "pick-addr", "pick-data"):
            # Only the dependencies inside an RMW instruction are computed (traces.py); a trace
            # with any other is refused rather than given a silently incomplete relation.
            if self.dependent is not None:
                raise Unsupported(f"the oracle does not compute {name} ({self.dependent})")
            return ERel(frozenset(self.data) if name == "data" else frozenset())
        return ESet(frozenset(e.eid for e in evs if name in e.tags))  # a tag
