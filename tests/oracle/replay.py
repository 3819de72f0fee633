"""Replay one of the engine's witnesses through the oracle (the witness self-check).

A `Sometimes`/`Always` answer comes with a witness: the events that happen, rf, co and the
final state, read off Z3's model.  `replay` checks it without the SMT encoding:

1. each thread is run concretely (`traces.thread_traces`); some run must perform exactly the
   witness's events of that thread (kind, location, value, in program order);
2. on those runs, the witness's rf and co (mapped onto the oracle's events) must be a
   candidate execution: every read reads a write of its location and value, co orders each
   location's writes after its initial write;
3. the model, evaluated concretely by `cat_eval` on that execution, must allow it;
4. its final state must be the witness's, and the condition must hold on it exactly when the
   engine says it does (a `forall` test answered `Sometimes` shows a violating execution).

Runs: an AArch64 or X86_64 test is run on its concrete machine (machine.py, x86_machine.py,
from the test's text, with every access width and flag); other dialects on the IR
(traces.py), which has no widths, so a test with sized accesses is not replayed there.

Dependencies: the oracle computes only those inside one RMW instruction (traces.py; the
machine none).  When a run may have others and the model reads them, the model is evaluated
without them (`Replay.without_dependencies`): the models order by dependencies only
positively (inside `acyclic` checks), so an execution allowed with them is allowed without;
the check is then a necessary condition, still able to catch a witness no model allows.

Values: final values compare as the engine prints them (the observable's type,
`analyses.observe.type_of`); an event's value may be printed at the access's width (a 32-bit
read of a 64-bit location shows the low half), so it matches a run's value modulo 2^8, 2^16,
2^32 or 2^64.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import product

from tests.oracle.a64_text import machine_runs
from tests.oracle.cat_eval import Unsupported
from tests.oracle.enumerate import Candidate, format_value, holds
from tests.oracle.traces import Ptr, Trace, thread_traces
from tests.oracle.x86_text import machine_runs as x86_machine_runs
from verifier.analyses.check import Verdict, Witness, WitnessEvent
from verifier.analyses.observe import type_of
from verifier.analyses.registry import ModelSpec, all_tags
from verifier.errors import Pos
from verifier.program.ast import (
    ArrayObs,
    If,
    Instr,
    Litmus,
    Load,
    MemObs,
    Observable,
    Rmw,
    Store,
    observed_of,
)


class Mismatch(AssertionError):
    """The witness is not an execution the oracle can reproduce: an engine bug."""


@dataclass(frozen=True)
class Replay:
    state: tuple[tuple[str, str], ...]
    without_dependencies: bool


def _event_value(v: object, witness_value: str | None, names: dict[int, str]) -> bool:
    if isinstance(v, Ptr):
        return v.name == witness_value
    if isinstance(v, int) and v in names:
        return names[v] == witness_value or names[v].removesuffix("[0]") == witness_value
    try:
        w = int(witness_value or "", 0)
    except ValueError:
        return False
    return isinstance(v, int) and (w == v or (w >= 0 and any(w == v % (1 << k) for k in (8, 16, 32, 64))))


def _typed(test: Litmus, o: Observable, value: Callable[[Observable], object], names: dict[int, str]) -> object:
    """A final value as the condition compares it and the engine prints it: an address as its
    location (herd's `t+8` for a cell), a number cast to the observable's type."""
    if isinstance(o, ArrayObs):
        cells = [MemObs(x.name) for x in test.locations if x.array is not None and x.array[0] == o.name]
        return tuple(_typed(test, c, value, names) for c in cells)
    v = value(o)
    if isinstance(v, int) and v in names:
        return Ptr(names[v])  # the IR's name of the location (`t[1]`)
    if isinstance(v, int) and v >> 64 and names:
        # an address computed from a location's (the machine's are 2^12 apart): `x+4`, `y+-4`
        at, name = min(names.items(), key=lambda kv: abs(v - kv[0]))
        loc = next(x for x in test.locations if x.name == name)
        if loc.array is not None:
            first = f"{loc.array[0]}[0]"
            at = next(a for a, n in names.items() if n == first)
            name = loc.array[0]
        return Ptr(f"{name}+{v - at}")
    t = type_of(test, o)
    return t.cast(v) if isinstance(v, int) and t is not None else v


def _shown(test: Litmus, v: object) -> str:
    """As herd7 prints it: a cell's address as `t` or `t+8`."""
    if not isinstance(v, Ptr):
        return str(v)
    loc = next((x for x in test.locations if x.name == v.name), None)
    if loc is None and "+" in v.name:
        return v.name
    if loc is None or loc.array is None or loc.array[1] == 0:
        return v.name.removesuffix("[0]")
    t = type_of(test, MemObs(loc.name))
    return f"{loc.array[0]}+{loc.array[1] * (t.bits // 8 if t else 4)}"


def _performs(trace: Trace, events: list[WitnessEvent], names: dict[int, str]) -> bool:
    if len(trace.events) != len(events):
        return False
    return all(
        t.kind == w.kind and t.loc == w.loc and (t.kind == "F" or _event_value(t.value, w.value, names))
        for t, w in zip(trace.events, events, strict=True)
    )


def _walk(code: tuple[Instr, ...]) -> list[Instr]:
    out: list[Instr] = []
    for i in code:
        out.append(i)
        if isinstance(i, If):
            out += _walk(i.then) + _walk(i.other)
    return out


def _runs(test: Litmus, spec: ModelSpec, text: str | None) -> tuple[list[list[Trace]], dict[str, object], dict[int, str], bool]:
    """Each thread's runs, the initial values, the machine's address names, and whether the
    runs lack dependencies the model may read."""
    if test.arch in ("AArch64", "X86_64") and text is not None:
        runs = machine_runs if test.arch == "AArch64" else x86_machine_runs
        per_thread, inits, layout = runs(text, test, spec)
        return per_thread, dict(inits), {a: n for n, a in layout.address.items()}, True
    sized = [i for th in test.threads for i in _walk(th.body) if isinstance(i, (Load, Store, Rmw)) and getattr(i, "size", None) is not None]
    if sized:
        raise Unsupported("sized accesses (the IR oracle has no widths)")
    per_thread, inits = thread_traces(test, spec.mapping_for(test.arch, Pos(test.path, 1, 1)))
    return per_thread, dict(inits), {}, False


def _allowed(
    cand: Candidate, spec: ModelSpec, rf: frozenset[tuple[int, int]], co: dict[str, tuple[int, ...]], machine: bool
) -> tuple[bool, bool]:
    models = (*spec.prelude, spec.cat)
    if machine:
        cand.dependent = None
        return cand.allowed(models, rf, co, all_tags()), spec.name not in ("sc", "x86-tso")
    try:
        return cand.allowed(models, rf, co, all_tags()), False
    except Unsupported:
        if cand.dependent is None:
            raise
    cand.dependent = None  # only the dependencies inside RMWs: a necessary condition (see above)
    cand._static.clear()
    cand._memo.clear()
    return cand.allowed(models, rf, co, all_tags()), True


def replay(test: Litmus, spec: ModelSpec, verdict: Verdict, text: str | None = None) -> Replay:
    """Check `verdict.witness` concretely (`text`: the test's source, for the AArch64
    machine); raise `Mismatch` when it is not reproducible, and the oracle's `Unsupported`
    when the oracle cannot run the test."""
    w: Witness | None = verdict.witness
    if w is None:
        raise Mismatch(f"{verdict.observation} without a witness")
    per_thread, inits, names, machine = _runs(test, spec, text)
    tids = [th.tid for th in sorted(test.threads, key=lambda th: th.tid)]
    mine = {tid: sorted((e for e in w.events if e.tid == tid), key=lambda e: e.eid) for tid in tids}
    options = []
    for tid, traces in zip(tids, per_thread, strict=True):
        fit = [t for t in traces if _performs(t, mine[tid], names)]
        if not fit:
            shown = ", ".join(f"{e.kind} {e.loc}={e.value}" for e in mine[tid] if e.kind != "F")
            raise Mismatch(f"no run of P{tid} performs the witness's events ({shown})")
        options.append(fit)
    inits_w = {e.loc: e.eid for e in w.events if e.tid not in tids}
    want_holds = not (test.condition.kind == "forall" and verdict.observation == "Sometimes")
    final = dict(w.final)
    observed = observed_of(test)
    why = "the model does not allow the witness's rf and co"
    for combo in product(*options):
        cand = Candidate(combo, tids, inits)  # type: ignore[arg-type]
        eid: dict[int, int] = {}
        for e in cand.events:
            if e.tid is None and e.loc in inits_w:
                eid[inits_w[e.loc]] = e.eid
        base = {tid: next(e.eid for e in cand.events if e.tid == tid) if mine[tid] else 0 for tid in tids}
        for tid in tids:
            for k, e in enumerate(mine[tid]):
                eid[e.eid] = base[tid] + k
        try:
            rf = frozenset((eid[a], eid[b]) for a, b in w.rf)
            co_w = {loc: tuple(eid[x] for x in ws) for loc, ws in w.co}
        except KeyError as e:
            raise Mismatch(f"witness event {e} has no counterpart in the oracle's execution") from None
        co = {loc: co_w.get(loc, tuple(x.eid for x in cand.writes if x.loc == loc)) for loc in cand.locations}
        for loc, ws in co.items():
            kinds = [cand.events[x] for x in ws]
            if not kinds or kinds[0].tid is not None or any(x.loc != loc or x.kind != "W" for x in kinds):
                raise Mismatch(f"co of {loc} is not its initial write followed by its writes")
            if sorted(ws) != sorted(x.eid for x in cand.writes if x.loc == loc):
                raise Mismatch(f"co of {loc} does not order every write to it")
        reads = [e.eid for e in cand.events if e.kind == "R"]
        for r in reads:
            src = [a for a, b in rf if b == r]
            if len(src) != 1:
                raise Mismatch(f"read e{r} reads from {len(src)} writes")
            wr, rd = cand.events[src[0]], cand.events[r]
            if wr.loc != rd.loc or wr.value != rd.value:
                raise Mismatch(f"read e{r} reads a write of another location or value")
        value = cand.observer(co)
        scalars = [o for o in observed if not isinstance(o, ArrayObs)]
        state = tuple((str(o), format_value(value(o))) for o in scalars)
        typed = {o: _typed(test, o, value, names) for o in scalars}
        if any(str(o) in final and _shown(test, typed[o]) != final[str(o)] for o in scalars):
            why = f"the final state differs: oracle {dict(state)}, witness {final}"
            continue
        if holds(test.condition.prop, lambda o, value=value: _typed(test, o, value, names)) != want_holds:
            why = "the condition's truth on the witness is not what the answer says"
            continue
        ok, loose = _allowed(cand, spec, rf, co, machine)
        if ok:
            return Replay(state, loose)
    raise Mismatch(why)
