"""`explain`: why an unreachable outcome is unreachable, source by source.

The ordering sources of a test are its fences, acquire and release accesses, ordered RMWs
(`encodings/fences.yaml`, `sources:`), and its address, data and control dependencies.  Each
becomes a `keep` knob (on: as written; off: dropped, e.g. `smp_mb()` removed, acquire made
`READ_ONCE`, a dependency no longer counted) and each weaker form a knob of its own; one
encoding holds them all (`choices.Choices`).  Then:

- a source is *needed* when dropping it alone makes the outcome reachable (the witness shows
  how), and *redundant* when the test stays unreachable without it;
- a minimum set of sources that suffices on its own is found by the same implicit-hitting-set
  loop as fence synthesis, every other source dropped at once;
- a source is *weakenable* to a lighter form (smp_mb -> smp_wmb, DMB ISH -> DMB ISHST, a
  fully ordered RMW -> an acquire one) when the test stays unreachable with that change alone.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Literal

from verifier.analyses.check import Witness
from verifier.analyses.choices import Choices, OutOfTime
from verifier.analyses.knobs import Knob, Menu, sources
from verifier.analyses.registry import ModelSpec
from verifier.analyses.synth import min_cost_sets
from verifier.errors import Pos
from verifier.events.graph import Dep, EventGraph
from verifier.events.mapping import Mapping
from verifier.events.sym import SPick, conj
from verifier.program.ast import Litmus
from verifier.program.primitives import primitive_for

Status = Literal["explained", "reachable", "unknown"]
DEP_KINDS = ("addr", "data", "ctrl", "pick_addr", "pick_data")

# What a developer calls each source (by mapping-table class, per dialect).  Kernel C
# fences, loads and stores are named by the table's first primitive of the class
# (`c_label`); an RMW class spans many primitives, so it is named by its ordering.
LABELS = {
    "C": {
        "RMW.mb": "fully ordered RMW", "RMW.acquire": "acquire RMW", "RMW.release": "release RMW",
        "RMW.relaxed": "relaxed RMW", "RMW.lock": "spin_lock() acquire", "W.unlock": "spin_unlock() release",
    },
    "AArch64": {
        "F.dmb.sy": "DMB SY", "F.dmb.ish": "DMB ISH", "F.dmb.ld": "DMB LD", "F.dmb.ishld": "DMB ISHLD",
        "F.dmb.st": "DMB ST", "F.dmb.ishst": "DMB ISHST", "F.isb": "ISB", "R.acquire": "LDAR", "R.acquire-pc": "LDAPR",
        "W.release": "STLR", "R.plain": "LDR", "W.plain": "STR", "RMW.amo-al": "atomic AL",
        "RMW.amo-a": "atomic A", "RMW.amo-l": "atomic L", "RMW.amo": "atomic",
    },
    "X86": {"F.mfence": "MFENCE"},
}


def label(dialect: str, cls: str | None) -> str:
    if cls is None:
        return "nothing"
    known = LABELS.get(dialect, {}).get(cls)
    if known is None and dialect == "C":
        known = c_label(cls)
    return known or cls


def c_label(cls: str) -> str | None:
    """`F.mb` -> `smp_mb()`, `R.acquire` -> `smp_load_acquire()`: the primitive of the table."""
    kind, _, name = cls.partition(".")
    form = {"F": "__fence", "R": "__load", "W": "__store"}.get(kind)
    prim = primitive_for(form, name) if form else None
    return f"{prim}()" if prim else None


@dataclass(frozen=True)
class Weakening:
    source: int  # the keep knob
    knob: int  # the weaker knob
    to: str  # what it becomes


@dataclass(frozen=True)
class Explanation:
    test: Litmus
    model: str
    status: Status
    knobs: tuple[Knob, ...]  # every knob: keep and dep knobs first, then weaker ones
    sources: tuple[int, ...] = ()
    needed: tuple[int, ...] = ()
    redundant: tuple[int, ...] = ()
    minimal: tuple[int, ...] = ()
    weakenings: tuple[Weakening, ...] = ()
    witnesses: tuple[tuple[int, Witness | None], ...] = ()  # per needed source: without it
    witness: Witness | None = None  # status "reachable": the outcome as written
    queries: int = 0
    seconds: float = 0.0
    unknown_reason: str | None = None
    # Ordering sources the model gives no weaker form (spinlocks under lock events): they
    # stay as written in every query (`_meaningful`).
    kept: tuple[Knob, ...] = ()


def explain(test: Litmus, spec: ModelSpec, menu: Menu, *, timeout: float | None = None) -> Explanation:
    start = time.monotonic()
    deadline = None if timeout is None else start + timeout
    ir, kept = _meaningful(sources(test, menu), spec.mapping_for(test.arch, Pos(test.path, 1, 1)))
    choices = Choices(test, spec, ir, deadline, edit=lambda g: _dependency_knobs(g, len(ir)))
    knobs = choices.knobs
    by_index = {k.index: k for k in knobs}
    keeps = [k.index for k in knobs if not _weaker(k)]
    all_on = frozenset(keeps)

    base = Explanation(test, spec.name, "unknown", knobs, sources=tuple(keeps), kept=kept)

    def done(result: Explanation) -> Explanation:
        return dataclasses.replace(result, queries=choices.queries, seconds=time.monotonic() - start)

    try:
        probe = choices.ask(all_on)
        if probe.status == "sat":
            return done(dataclasses.replace(base, status="reachable", witness=probe.witness))
        needed: list[int] = []
        redundant: list[int] = []
        witnesses: list[tuple[int, Witness | None]] = []
        for k in keeps:
            p = choices.ask(all_on - {k})
            if p.status == "sat":
                needed.append(k)
                witnesses.append((k, p.witness))
            else:
                redundant.append(k)
        weakenings = []
        for w in (k for k in knobs if _weaker(k)):
            source = next(s for s in keeps if (by_index[s].tid, by_index[s].slot) == (w.tid, w.slot) and by_index[s].kind == "keep")
            if choices.ask((all_on - {source}) | {w.index}).status == "unsat":
                weakenings.append(Weakening(source, w.index, w.alt or ""))
        found = min_cost_sets(choices, all_on, all_solutions=False)
    except OutOfTime as e:
        return done(dataclasses.replace(base, unknown_reason=e.reason))
    return done(dataclasses.replace(
        base,
        status="explained",
        needed=tuple(needed),
        redundant=tuple(redundant),
        minimal=found.solutions[0],
        weakenings=tuple(weakenings),
        witnesses=tuple(witnesses),
    ))


def _meaningful(knobs: tuple[Knob, ...], mapping: Mapping) -> tuple[tuple[Knob, ...], tuple[Knob, ...]]:
    """The knobs whose change the model can express.  Under a model with herd7's lock events
    (lkmm, the kernel's files) a spinlock is no ordering annotation that can be dropped: its
    events are lock events, and "the same lock without acquire" is no event of the model.
    Turned into a plain access it would be no lock at all (an unlock that is never made, a
    lock nobody can take), and the answer would say "redundant" about a deadlock."""
    def kinds(cls: str | None) -> tuple[str, ...]:
        recipe = mapping.recipe(cls) if cls not in (None, "-") else ()
        return tuple(i.kind for i in recipe or ())

    def expressible(k: Knob) -> bool:
        return kinds(k.cls) == kinds(k.alt) or "L" not in kinds(k.cls) + kinds(k.alt)

    keep = [k for k in knobs if expressible(k)]
    kept = {(k.tid, k.slot): k for k in knobs if not expressible(k) and k.old != "weaker"}
    return tuple(dataclasses.replace(k, index=n) for n, k in enumerate(keep)), tuple(kept.values())


def _dependency_knobs(graph: EventGraph, first: int) -> tuple[EventGraph, tuple[Knob, ...]]:
    """One `dep` knob per (kind, read line, dependent line) of the graph's dependencies; each
    edge then exists only while its knob is on (the superset program holds several copies of
    an upgraded access: they share the knob)."""
    knobs: dict[tuple[str, int, int, int], Knob] = {}
    edited: dict[str, tuple[Dep, ...]] = {}
    for kind in DEP_KINDS:
        out: list[Dep] = []
        for src, dst, cond in getattr(graph, kind):
            a, b = graph.event(src), graph.event(dst)
            if a.pos is None or b.pos is None or a.pos == b.pos:
                # Inside one instruction (an RMW's write on its read): not a source to drop.
                out.append((src, dst, cond))
                continue
            key = (kind, a.tid, a.pos.line, b.pos.line)
            if key not in knobs:
                name = f"{kind.replace('_', '-')} dependency to line {b.pos.line}"
                knobs[key] = Knob(first + len(knobs), "dep", a.tid, a.pos.line, a.pos, kind, 1, name)
            out.append((src, dst, conj(cond, SPick(knobs[key].index))))
        edited[kind] = tuple(out)
    picks = tuple(sorted({*graph.picks, *(k.index for k in knobs.values())}))
    return dataclasses.replace(graph, picks=picks, **edited), tuple(knobs.values())  # type: ignore[arg-type]


def _weaker(k: Knob) -> bool:
    return k.kind == "keep" and k.old == "weaker"
